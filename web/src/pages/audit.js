// Audit viewer (admins): the hash-chained log, oldest first, paged with the opaque `next`.
// The coordination center's admins also see each entry's seq and may start after one;
// another partner's entries show only what they may read ("withheld" marks the rest).
import { get, query } from '../api.js';
import { h, utext, status, field } from '../dom.js';

const PAGE = 100;

export function render(root) {
  const after = field('Start after entry', h('input', { type: 'number', min: 0, step: 1,
    name: 'after', value: '0' }));
  const filter = field('Filter (action, object)', h('input', { type: 'search', name: 'filter',
    dir: 'auto' }));
  const msg = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const tbody = h('tbody');
  const more = h('button', { type: 'button' }, 'Next entries');
  const form = h('form', { class: 'filters' }, after.wrap, filter.wrap,
    h('button', { type: 'submit' }, 'Show'));
  root.append(h('h1', {}, 'Audit log'), form, msg,
    h('div', { class: 'scroll' }, h('table', { class: 'data', id: 'audit-table' },
      h('caption', {}, 'Audit entries (append-only, hash-chained)'),
      h('thead', {}, h('tr', {}, ['Seq', 'Time', 'Partner', 'User', 'Action', 'Object', 'Detail']
        .map((c) => h('th', { scope: 'col' }, c)))), tbody)), more);
  let entries = [];
  let next = null;

  function draw() {
    const f = filter.input.value.trim().toLowerCase();
    const shown = entries.filter((e) => !f || `${e.action} ${e.object}`.toLowerCase().includes(f));
    tbody.replaceChildren(...shown.map((e) => h('tr', {}, h('td', {}, e.seq === undefined ? '' : String(e.seq)),
      h('td', { class: 'nowrap' }, e.time), h('td', {}, String(e.partner)),
      h('td', {}, String(e.user)), h('td', {}, e.action), utext('td', e.object, { class: 'nowrap' }),
      utext('td', e.withheld ? '(withheld)' : e.detail ? JSON.stringify(e.detail) : '',
        { class: 'mono wrap' }))));
  }

  async function load(params) {
    status(msg, 'Loading…');
    try {
      const r = await get(`/api/v1/audit${query({ ...params, limit: PAGE })}`);
      entries = r.entries || [];
      next = r.next || null;
      more.disabled = !next;
      status(msg, `${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}.`);
    } catch (e) {
      entries = [];
      status(msg, `Could not load the audit log: ${e.message}`, 'error');
    }
    draw();
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const from = Number(after.input.value) || 0;
    load(from ? { after: from } : {});
  });
  filter.input.addEventListener('input', draw);
  more.addEventListener('click', () => {
    if (next) load({ cursor: next });
  });
  load({});
}
