// The live alert feed: GET /api/v1/alerts for the current list, then Server-Sent Events from
// /api/v1/stream (alerts, new reports). Until the alert service exists (404), it says so and
// stays quiet; EventSource gives up by itself on a 404.
import { get, ApiError } from './api.js';
import { h, utext, fmtTime } from './dom.js';

const SEVERITY = ['critical', 'high', 'medium', 'low'];

function alertItem(a) {
  const sev = SEVERITY.includes(a.severity) ? a.severity : 'low';
  return h('li', { class: `alert sev-${sev}`, 'data-id': a.id },
    h('span', { class: `sev sev-${sev}` }, sev.toUpperCase()), ' ',
    utext('strong', a.title || a.rule || 'Alert'),
    h('div', { class: 'meta' },
      `${a.status || 'new'} · ${fmtTime(a.start)}${a.end && a.end !== a.start ? ` – ${fmtTime(a.end)}` : ''}`,
      a.area ? ' · ' : '', a.area ? utext('span', a.area) : '',
      a.confidence !== undefined ? ` · confidence ${a.confidence}` : '',
      a.rule ? ` · rule ${a.rule}` : ''));
}

// Fills panel with the feed; onReport(report) is called for reports arriving on the stream.
// Returns a function that closes the stream.
export function startFeed(panel, { onReport } = {}) {
  const list = h('ul', { class: 'feed', 'aria-live': 'polite', 'aria-relevant': 'additions',
    'aria-label': 'Alerts' });
  const note = h('p', { class: 'hint' });
  panel.append(h('h2', {}, 'Live alerts'), note, list);
  const seen = new Map();

  function upsert(a) {
    const item = alertItem(a);
    const old = seen.get(a.id);
    if (old) old.replaceWith(item);
    else list.prepend(item);
    seen.set(a.id, item);
    note.textContent = '';
  }

  get('/api/v1/alerts?status=new')
    .catch((e) => (e instanceof ApiError && e.status === 400 ? get('/api/v1/alerts') : Promise.reject(e)))
    .then((r) => {
      const alerts = (r && r.alerts) || [];
      for (const a of alerts.slice().reverse()) upsert(a);
      if (!alerts.length) note.textContent = 'No alerts.';
    })
    .catch((e) => {
      note.textContent = e instanceof ApiError && e.status === 404
        ? 'No alerts: the alert service is not available on this server yet.'
        : `No alerts (could not load them: ${e.message}).`;
    });

  let es = null;
  if (typeof EventSource !== 'undefined') {
    es = new EventSource('/api/v1/stream', { withCredentials: true });
    const onAlert = (ev) => {
      try {
        upsert(JSON.parse(ev.data));
      } catch {
        /* not an alert */
      }
    };
    es.addEventListener('alert', onAlert);
    es.addEventListener('report', (ev) => {
      try {
        if (onReport) onReport(JSON.parse(ev.data));
      } catch {
        /* not a report */
      }
    });
    es.onmessage = onAlert;
    es.onerror = () => {
      if (es && es.readyState === EventSource.CLOSED) {
        es = null;
      }
    };
  }
  return () => {
    if (es) es.close();
    es = null;
  };
}
