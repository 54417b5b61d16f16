// Audit viewer (admins): the hash-chained log, newest first (?order=newest), paged with the
// opaque `next`, with partner and user names. The filters (action, user, text) run on the
// server over the whole log, not over the page loaded. Another partner's entries show only
// what the admin may read ("withheld" marks the rest); the text filter never searches it.
import { get, query } from '../api.js';
import { h, utext, status, field, select, latest } from '../dom.js';
import { labelCells } from './reports.js';

const PAGE = 100;
const ACTIONS = ['read', 'write', 'delete', 'admin', 'alert'];

export function render(root) {
  const action = field('Action', select([['', 'any'], ...ACTIONS], { name: 'action' }));
  const user = field('User', h('input', { type: 'search', name: 'user', dir: 'auto',
    autocomplete: 'off' }));
  const text = field('Contains (action, object, user, partner)', h('input', { type: 'search',
    name: 'filter', dir: 'auto' }));
  const msg = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const tbody = h('tbody');
  const more = h('button', { type: 'button', disabled: true }, 'Older entries');
  const first = h('button', { type: 'button', disabled: true }, 'Newest');
  const form = h('form', { class: 'filters', role: 'search' }, action.wrap, user.wrap, text.wrap,
    h('button', { type: 'submit' }, 'Show'));
  const table = h('table', { class: 'data', id: 'audit-table' },
    h('caption', {}, 'Audit entries, newest first (append-only, hash-chained)'),
    h('thead', {}, h('tr', {}, ['Seq', 'Time', 'Partner', 'User', 'Action', 'Object', 'Detail']
      .map((c) => h('th', { scope: 'col' }, c)))), tbody);
  root.append(h('h1', {}, 'Audit log'), form, msg, h('div', { class: 'scroll' }, table),
    h('div', { class: 'pager' }, first, more));
  let filters = {};
  let next = null;

  function draw(entries) {
    tbody.replaceChildren(...entries.map((e) => h('tr', {},
      h('td', {}, e.seq === undefined ? '' : String(e.seq)),
      h('td', { class: 'nowrap' }, e.time),
      utext('td', e.partner_name || String(e.partner)),
      utext('td', e.user_name || String(e.user)),
      h('td', {}, e.action), utext('td', e.object, { class: 'nowrap' }),
      utext('td', e.withheld ? '(withheld)' : e.detail ? JSON.stringify(e.detail) : '',
        { class: 'mono wrap' }))));
    if (!entries.length) tbody.append(h('tr', {}, h('td', { colspan: 7 }, 'No entries.')));
    labelCells(table);
  }

  const load = latest(table, async (stale, cursor) => {
    status(msg, 'Loading…');
    try {
      const r = await get(`/api/v1/audit${query({ order: 'newest', ...filters, cursor,
        limit: PAGE })}`);
      if (stale()) return;
      const entries = r.entries || [];
      next = r.next || null;
      more.disabled = !next;
      first.disabled = !cursor;
      const any = Object.values(filters).some(Boolean);
      status(msg, `${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}`
        + `${any ? ' matching the filters (searched on the server)' : ''}.`);
      draw(entries);
    } catch (e) {
      if (stale()) return;
      status(msg, `Could not load the audit log: ${e.message}`, 'error');
      draw([]);
    }
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    filters = { action: action.input.value, user: user.input.value.trim(),
      q: text.input.value.trim() };
    load();
  });
  more.addEventListener('click', () => {
    if (next) load(next);
  });
  first.addEventListener('click', () => load());
  load();
}
