// Incidents: the reports that describe one real event, fused on the server (GET
// /api/v1/incidents, docs/FUSION.md) from what this reader may read; each incident's reports
// side by side, one column per report.
import { get, query } from '../api.js';
import { h, utext, field, select, fmtTime, status, latest } from '../dom.js';
import { EVENTS } from '../plover.js';
import { sharedNote } from '../shared-note.js';

const ROWS = [
  ['Partner', (r) => r.partner],
  ['Title', (r) => r.title],
  ['Start (UTC)', (r) => fmtTime(r.start)],
  ['End (UTC)', (r) => fmtTime(r.end)],
  ['Mode', (r) => r.mode],
  ['Place', (r) => (r.location && r.location.lat !== undefined
    ? `${r.location.lat.toFixed(4)}, ${r.location.lon.toFixed(4)} ±${r.location.precision_m} m`
    : (r.location && r.location.area) || '')],
  ['Grading', (r) => `${r.reliability || 'F'}${r.credibility || 6}`],
  ['Fatalities', (r) => r.fatalities ?? ''],
  ['Source', (r) => r.source_ref],
];
const USER_TEXT = new Set(['Partner', 'Title', 'Source']);

function place(p) {
  if (!p) return '';
  return p.lat !== undefined ? `${p.lat.toFixed(4)}, ${p.lon.toFixed(4)}` : (p.area || '');
}

function incident(inc) {
  const head = h('p', { class: 'incident-head' },
    h('strong', {}, `${inc.event}${inc.future ? ' (warning)' : ''}`),
    ` ${fmtTime(inc.start)} – ${fmtTime(inc.end)} · ${place(inc.place)} · `,
    h('span', { class: inc.corroborated ? 'badge corroborated' : 'badge' },
      inc.corroborated ? `corroborated: ${inc.sources} sources` : '1 source'),
    ` · confidence ${inc.confidence}`);
  const table = h('table', { class: 'data incident-reports' },
    h('caption', {}, `${inc.reports.length} report${inc.reports.length === 1 ? '' : 's'}`),
    h('tbody', {}, ROWS.map(([label, get1]) => h('tr', {}, h('th', { scope: 'row' }, label),
      inc.reports.map((r) => (USER_TEXT.has(label) ? utext('td', get1(r), { 'data-report': r.id })
        : h('td', { 'data-report': r.id }, get1(r))))))));
  return h('section', { class: 'incident', 'data-id': inc.id }, head,
    h('div', { class: 'scroll' }, table));
}

export function render(root) {
  const ev = field('Event', select([['', 'any'], ...EVENTS], { name: 'event' }));
  const cor = field('Corroborated', select([['', 'any'], ['true', 'yes'], ['false', 'no']],
    { name: 'corroborated' }));
  const fut = field('Warnings only', h('input', { type: 'checkbox', name: 'future' }));
  const msg = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const list = h('div', { id: 'incidents' });
  const form = h('form', { class: 'filters', role: 'search' }, ev.wrap, cor.wrap, fut.wrap,
    h('button', { type: 'submit' }, 'Show'));
  root.append(h('h1', {}, 'Incidents'),
    h('p', { class: 'hint' }, 'Reports that describe one event, fused from the reports you may read.'),
    form, msg, list);

  const load = latest(list, async (stale) => {
    status(msg, 'Loading…');
    try {
      const r = await get(`/api/v1/incidents${query({ event: ev.input.value,
        corroborated: cor.input.value, future: fut.input.checked ? 'true' : '', limit: 100 })}`);
      if (stale()) return;
      const incs = r.incidents || [];
      list.replaceChildren(...incs.map(incident));
      status(msg, `${incs.length} incident${incs.length === 1 ? '' : 's'}. `);
      msg.append(sharedNote()); // counts differ between partners by design
    } catch (e) {
      if (stale()) return;
      list.replaceChildren();
      status(msg, `Could not load incidents: ${e.message}`, 'error');
    }
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    load();
  });
  load();
}
