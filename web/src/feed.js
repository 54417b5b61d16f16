// The live alert feed: GET /api/v1/alerts for the current list, then Server-Sent Events from
// /api/v1/stream: an `alert` event carries the alert as this reader sees it (a new id is added
// at the top, a known id is updated in place); `report` events go to onReport. After the
// stream reconnects, the list is fetched again so that nothing missed in between is lost.
import { get } from './api.js';
import { h, utext } from './dom.js';
import { severityOf, statusLabel, windowText, hasPlace } from './alerts.js';

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
export function startFeed(panel, { onReport, onAlert, onSelect } = {}) {
  const list = h('ul', { class: 'feed', 'aria-live': 'polite', 'aria-relevant': 'additions text',
    'aria-label': 'Alerts' });
  const note = h('p', { class: 'hint' }, 'Loading alerts…');
  panel.append(h('h2', {}, 'Live alerts'), note, list);
  const seen = new Map(); // id → { item, alert }
  let closed = false;

  function upsert(a) {
    if (closed || !a || a.id === undefined) return;
    const key = String(a.id);
    const old = seen.get(key);
    // The stream and a status change's answer can race: keep the newest version.
    if (old && old.alert.updated && a.updated && a.updated < old.alert.updated) return;
    const item = alertItem(a, onSelect);
    if (old) old.item.replaceWith(item);
    else list.prepend(item);
    seen.set(key, { item, alert: a });
    note.textContent = '';
    if (onAlert) onAlert(a);
  }

  function load() {
    return get('/api/v1/alerts')
      .then((r) => {
        const alerts = ((r && r.alerts) || []).slice()
          .sort((x, y) => String(x.updated || '').localeCompare(String(y.updated || '')));
        for (const a of alerts) upsert(a); // oldest first: the newest ends on top
        if (!seen.size) note.textContent = 'No alerts.';
      })
      .catch((e) => {
        if (!seen.size) note.textContent = `No alerts shown: could not load them (${e.message}).`;
      });
  }
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
