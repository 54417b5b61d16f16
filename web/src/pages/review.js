// The violation review queue (S8): candidate violations by status, moved through
// reported → under_review → confirmed | not_confirmed | disputed (the server checks roles).
// Before the compliance module is on the server (404), the page says it arrives with it.
import { get, post, query, ApiError } from '../api.js';
import { h, utext, fmtTime, field, select, status } from '../dom.js';

const STATUSES = ['reported', 'under_review', 'confirmed', 'not_confirmed', 'disputed'];
const NEXT = {
  reported: ['under_review'],
  under_review: ['confirmed', 'not_confirmed', 'disputed'],
  disputed: ['under_review', 'confirmed', 'not_confirmed'],
  confirmed: ['disputed'],
  not_confirmed: ['under_review'],
};

function placeholder(e) {
  return h('div', { class: 'placeholder' },
    h('p', {}, h('strong', {}, 'Arrives with the compliance module.')),
    h('p', {}, 'Candidate violations (reported → under review → confirmed, not confirmed or ',
      'disputed) are reviewed here once the server offers /api/v1/violations.'),
    e instanceof ApiError && e.status === 404 ? null : h('p', { class: 'hint' }, e.message));
}

export function render(root) {
  const st = field('Status', select([['reported', 'reported'], ['under_review', 'under review'],
    ['', 'all'], ...STATUSES.slice(2).map((s) => [s, s.replace('_', ' ')])], { name: 'status' }));
  const msg = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const body = h('div', {}, 'Loading…');
  const form = h('form', { class: 'filters' }, st.wrap, h('button', { type: 'submit' }, 'Show'));
  root.append(h('h1', {}, 'Violation review queue'), form, msg, body);

  async function move(v, to, reason) {
    try {
      await post(`/api/v1/violations/${encodeURIComponent(v.id)}/transition`, { to, reason });
      status(msg, `${v.id}: ${v.status} → ${to}.`, 'ok');
      load();
    } catch (e) {
      status(msg, `Not changed: ${e.description || e.message}`, 'error');
    }
  }

  function actions(v) {
    const reason = h('input', { 'aria-label': `Reason for ${v.id}`, placeholder: 'reason',
      dir: 'auto', class: 'reason' });
    return h('div', { class: 'actions' }, reason, (NEXT[v.status] || []).map((to) => h('button',
      { type: 'button', onclick: () => move(v, to, reason.value.trim() || `set to ${to}`) },
      to.replace('_', ' '))));
  }

  async function load() {
    try {
      const r = await get(`/api/v1/violations${query({ status: st.input.value })}`);
      const items = r.violations || [];
      if (!items.length) {
        body.replaceChildren(h('p', {}, 'No violations with this status.'));
        return;
      }
      body.replaceChildren(h('div', { class: 'scroll' }, h('table', { class: 'data',
        id: 'violations-table' },
      h('caption', {}, `${items.length} violation${items.length === 1 ? '' : 's'}`),
      h('thead', {}, h('tr', {}, ['Status', 'Party', 'Zone', 'Agreement', 'Act', 'When',
        'Evidence', 'Review'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, items.map((v) => h('tr', { 'data-id': v.id },
        h('td', {}, v.status.replace('_', ' ')), utext('td', v.party),
        utext('td', v.zone ? `${v.zone.name} (${v.zone.kind})` : ''),
        utext('td', v.agreement ? v.agreement.name : ''),
        h('td', {}, `${v.event}${v.mode ? ` / ${v.mode}` : ''}`),
        h('td', {}, fmtTime(v.time)),
        h('td', {}, String((v.evidence || []).length)),
        h('td', {}, actions(v))))))));
    } catch (e) {
      body.replaceChildren(placeholder(e));
    }
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    load();
  });
  load();
}
