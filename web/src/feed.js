// The live alert feed: GET /api/v1/alerts for the current list, then Server-Sent Events from
// /api/v1/stream: an `alert` event carries the alert as this reader sees it (a new id is added
// at the top, a known id is updated in place); `report` events go to onReport. After the
// stream reconnects, the list is fetched again so that nothing missed in between is lost.
import { get, query } from './api.js';
import { h, utext } from './dom.js';
import { severityOf, statusLabel, windowText, hasPlace, SEVERITIES, STATUS_LABEL }
  from './alerts.js';
import { sharedNote } from './shared-note.js';

const RANK = { low: 0, medium: 1, high: 2, critical: 3 };

// The filters of the feed, as the API takes them (GET /api/v1/alerts: status, severity = that
// or higher, since/until = the evidence window overlaps), and the same test for live events.
function alertQuery(f) {
  const q = {};
  if (f.status) q.status = f.status;
  if (f.severity) q.severity = f.severity;
  if (f.from) q.since = `${f.from}T00:00:00Z`;
  if (f.to) q.until = `${f.to}T23:59:59Z`;
  return q;
}

export function alertMatches(a, f) {
  if (f.status && (a.status || 'new') !== f.status) return false;
  if (f.severity && RANK[severityOf(a)] < RANK[f.severity]) return false;
  if (f.from && a.end && a.end < `${f.from}T00:00:00Z`) return false;
  if (f.to && a.start && a.start > `${f.to}T23:59:59Z`) return false;
  return true;
}

function alertItem(a, onSelect) {
  const sev = severityOf(a);
  const status = a.status || 'new';
  const title = a.title || a.rule || 'Alert';
  return h('li', { class: `alert sev-${sev} st-${status}`, 'data-id': String(a.id),
    'data-status': status },
  h('div', { class: 'alert-head' },
    h('span', { class: `sev sev-${sev}` }, sev.toUpperCase()),
    h('span', { class: `st st-${status}` }, statusLabel(status))),
  onSelect && hasPlace(a)
    ? h('button', { type: 'button', class: 'link alert-title', dir: 'auto',
      title: 'Show on the map', onclick: () => onSelect(a) }, title)
    : utext('strong', title, { class: 'alert-title' }),
  h('div', { class: 'meta' },
    windowText(a),
    a.area ? ' · ' : '', a.area ? utext('span', a.area) : '',
    a.confidence !== undefined ? ` · confidence ${a.confidence}%` : '',
    ` · ${(a.evidence || []).length} report${(a.evidence || []).length === 1 ? '' : 's'}`,
    a.rule ? ` · ${a.rule}` : ''));
}

// Fills panel with the feed. onAlert(alert) is called for every alert shown or updated,
// onReport(report) for reports arriving on the stream, onSelect(alert) when an alert's title
// is clicked. Returns { close(), upsert(alert) }.
export function startFeed(panel, { onReport, onAlert, onSelect, onRemove } = {}) {
  const list = h('ul', { class: 'feed', 'aria-live': 'polite', 'aria-relevant': 'additions text',
    'aria-label': 'Alerts' });
  const note = h('p', { class: 'hint' }, 'Loading alerts…');
  const fSev = h('select', { name: 'alert-severity', 'aria-label': 'Severity at least' },
    h('option', { value: '' }, 'any severity'),
    SEVERITIES.slice().reverse().map((s) => h('option', { value: s }, `${s} or higher`)));
  const fStatus = h('select', { name: 'alert-status', 'aria-label': 'Status' },
    h('option', { value: '' }, 'any status'),
    Object.entries(STATUS_LABEL).map(([v, l]) => h('option', { value: v }, l)));
  const fFrom = h('input', { type: 'date', name: 'alert-from', 'aria-label': 'Alerts from' });
  const fTo = h('input', { type: 'date', name: 'alert-to', 'aria-label': 'Alerts to' });
  const filterForm = h('form', { class: 'feed-filters', 'aria-label': 'Filter alerts' },
    fSev, fStatus, h('span', { class: 'dates' }, fFrom, '–', fTo));
  panel.append(h('h2', {}, 'Live alerts ', sharedNote()), filterForm, note, list);
  const seen = new Map(); // id → { item, alert }
  let closed = false;
  let filt = {};
  let generation = 0;

  function upsert(a) {
    if (closed || !a || a.id === undefined) return;
    const key = String(a.id);
    const old = seen.get(key);
    // The stream and a status change's answer can race: keep the newest version.
    if (old && old.alert.updated && a.updated && a.updated < old.alert.updated) return;
    if (!alertMatches(a, filt)) { // no longer (or never) what the filters ask for
      if (old) {
        old.item.remove();
        seen.delete(key);
        if (onRemove) onRemove(a);
      }
      if (!seen.size) note.textContent = 'No alerts match the filters.';
      return;
    }
    const item = alertItem(a, onSelect);
    if (old) old.item.replaceWith(item);
    else list.prepend(item);
    seen.set(key, { item, alert: a });
    note.textContent = '';
    if (onAlert) onAlert(a);
  }

  function load() {
    const gen = ++generation;
    return get(`/api/v1/alerts${query(alertQuery(filt))}`)
      .then((r) => {
        if (gen !== generation) return;
        const alerts = ((r && r.alerts) || []).slice()
          .sort((x, y) => String(x.updated || '').localeCompare(String(y.updated || '')));
        for (const a of alerts) upsert(a); // oldest first: the newest ends on top
        if (!seen.size) {
          note.textContent = Object.values(filt).some(Boolean) ? 'No alerts match the filters.'
            : 'No alerts.';
        }
      })
      .catch((e) => {
        if (!seen.size) note.textContent = `No alerts shown: could not load them (${e.message}).`;
      });
  }
  function refilter() {
    filt = { severity: fSev.value, status: fStatus.value, from: fFrom.value, to: fTo.value };
    for (const [, e] of seen) {
      e.item.remove();
      if (onRemove) onRemove(e.alert);
    }
    seen.clear();
    note.textContent = 'Loading alerts…';
    load();
  }
  filterForm.addEventListener('change', refilter);
  filterForm.addEventListener('submit', (e) => { e.preventDefault(); refilter(); });
  load();

  let es = null;
  let lost = false;
  if (typeof EventSource !== 'undefined') {
    es = new EventSource('/api/v1/stream', { withCredentials: true });
    es.addEventListener('alert', (ev) => {
      try {
        upsert(JSON.parse(ev.data));
      } catch {
        /* not an alert */
      }
    });
    es.addEventListener('report', (ev) => {
      try {
        if (onReport) onReport(JSON.parse(ev.data));
      } catch {
        /* not a report */
      }
    });
    es.onopen = () => {
      if (lost) load();
      lost = false;
    };
    es.onerror = () => {
      lost = true;
      if (es && es.readyState === EventSource.CLOSED) es = null;
    };
  }
  return {
    upsert,
    close() {
      closed = true;
      if (es) es.close();
      es = null;
    },
  };
}
