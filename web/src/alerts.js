// Alerts (S7) as the dashboard shows them: GET /api/v1/alerts gives the reader's view of each
// alert ({id, rule, severity, status, title, location{lat,lon} | area, start, end, confidence,
// evidence[], created, updated}); the stream sends the same JSON in `alert` events. Analysts and
// admins move an alert new → acknowledged → resolved (or → false_alarm) with
// POST /api/v1/alerts/{id}/status; the server checks the role and the lifecycle.
import { post } from './api.js';
import { h, utext, fmtTime } from './dom.js';
import L from './leaflet-global.js';

export const SEVERITIES = ['critical', 'high', 'medium', 'low'];
export const STATUS_LABEL = { new: 'new', acknowledged: 'acknowledged', resolved: 'resolved',
  false_alarm: 'false alarm' };
// The moves the lifecycle allows from each status (the server has the last word).
const NEXT = {
  new: [['acknowledged', 'Acknowledge'], ['false_alarm', 'False alarm']],
  acknowledged: [['resolved', 'Resolve'], ['false_alarm', 'False alarm']],
};

export function severityOf(a) {
  return SEVERITIES.includes(a.severity) ? a.severity : 'low';
}

export function statusLabel(s) {
  return STATUS_LABEL[s] || s || 'new';
}

export function windowText(a) {
  if (!a.start) return '';
  return a.end && a.end !== a.start ? `${fmtTime(a.start)} – ${fmtTime(a.end)}` : fmtTime(a.start);
}

export function canChange(me) {
  return !!me && (me.role === 'analyst' || me.role === 'admin');
}

export function hasPlace(a) {
  return !!(a.location && Number.isFinite(a.location.lat) && Number.isFinite(a.location.lon));
}

// Sends a status change; resolves to the alert as the server now shows it.
export function setStatus(a, to) {
  return post(`/api/v1/alerts/${encodeURIComponent(a.id)}/status`, { status: to });
}

// The alert's marker: a triangle coloured by severity, distinct from the round report pins.
export function alertIcon(a) {
  const sev = severityOf(a);
  const span = h('span', { class: `alert-pin sev-${sev} st-${a.status || 'new'}`,
    'data-alert-id': String(a.id) }, h('span', { class: 'alert-pin-mark' }, '!'));
  return L.divIcon({ html: span, className: 'pin-wrap alert-wrap', iconSize: [26, 24],
    iconAnchor: [13, 20], popupAnchor: [0, -18] });
}

export function alertTitle(a) {
  return `Alert, ${severityOf(a)}: ${a.title || a.rule || 'alert'} (${statusLabel(a.status)})`;
}

function row(label, value) {
  if (value === undefined || value === null || value === '') return null;
  return h('tr', {}, h('th', { scope: 'row' }, label),
    value instanceof Node ? h('td', {}, value) : utext('td', String(value)));
}

// The popup of an alert. opts: { me, reportTitle(id) → string|undefined, onChanged(alert),
// onError(message) }.
export function alertPopup(a, opts = {}) {
  const sev = severityOf(a);
  const msg = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const evidence = h('ul', { class: 'evidence' }, (a.evidence || []).map((id) => {
    const t = opts.reportTitle ? opts.reportTitle(id) : undefined;
    return h('li', { 'data-report': id }, t ? utext('span', t) : null,
      h('span', { class: 'mono' }, t ? ` (${id})` : id));
  }));
  const where = hasPlace(a) ? `${a.location.lat.toFixed(4)}, ${a.location.lon.toFixed(4)}`
    : a.area || '';
  let actions = null;
  if (canChange(opts.me) && NEXT[a.status || 'new']) {
    actions = h('div', { class: 'actions' }, NEXT[a.status || 'new'].map(([to, label]) =>
      h('button', { type: 'button', 'data-to': to, onclick: async (ev) => {
        const btns = ev.currentTarget.parentElement.querySelectorAll('button');
        btns.forEach((b) => { b.disabled = true; });
        try {
          const updated = await setStatus(a, to);
          if (opts.onChanged) opts.onChanged(updated);
        } catch (e) {
          msg.textContent = `Not changed: ${e.description || e.message}`;
          msg.className = 'status error';
          btns.forEach((b) => { b.disabled = false; });
        }
      } }, label)));
  }
  return h('div', { class: 'popup alert-popup', 'data-alert-id': String(a.id) },
    h('p', { class: `sev-badge sev-${sev}` }, `${sev.toUpperCase()} alert`),
    utext('h3', a.title || a.rule || 'Alert'),
    h('table', {},
      row('Rule', a.rule),
      row('Severity', sev),
      row('Status', statusLabel(a.status)),
      row('Confidence', a.confidence !== undefined ? `${a.confidence}%` : ''),
      row('Window', windowText(a)),
      row('Where', where),
      row('Raised', fmtTime(a.created)),
      row('Updated', a.updated !== a.created ? fmtTime(a.updated) : ''),
      row('Id', a.id)),
    h('p', { class: 'evidence-head' }, `Evidence (${(a.evidence || []).length} report` +
      `${(a.evidence || []).length === 1 ? '' : 's'} you may read)`),
    evidence, actions, msg);
}
