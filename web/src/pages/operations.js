// Operations: the map with the agreements' zones, every report the user may read (clustered)
// and the alerts (triangles), the live alert feed and the list of reports. Time, party and
// event filters apply to the map, the list and the timeline (reports per day, by party; uPlot),
// whose drag-selection sets the time filter. Clusters are drawn in their own pane above the
// alerts, so that an alert never hides a cluster's count, and coloured as the legend says.
import { get, query } from '../api.js';
import { h, utext, fmtTime, select } from '../dom.js';
import { EVENTS } from '../plover.js';
import { sharedNote } from '../shared-note.js';
import { createMap, reportMarker, L } from '../map.js';
import { startFeed } from '../feed.js';
import { loadZones } from '../zones.js';
import { alertIcon, alertPopup, alertTitle, hasPlace } from '../alerts.js';

const PAGE = 1000;
const MAX_PAGES = 10;

// Every readable report as GeoJSON features, following `next` (up to MAX_PAGES pages).
export async function loadFeatures(params = {}) {
  const out = [];
  let cursor;
  for (let i = 0; i < MAX_PAGES; i++) {
    const r = await get(`/api/v1/reports${query({ ...params, format: 'geojson', limit: PAGE, cursor })}`);
    out.push(...(r.features || []));
    if (!r.next) break;
    cursor = r.next;
  }
  return out;
}

const COLOURED = ['ASSAULT', 'COERCE', 'MOBILIZE', 'THREATEN', 'RETREAT', 'PROTEST'];
const TOP_PARTIES = 5;
const PARTY_COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#7f7f7f', '#bcbd22'];

export function eventClass(ev) {
  return COLOURED.includes(ev) ? ev : 'OTHER';
}

// The parties a report names (its actors); "" when it names none.
export function partiesOf(p) {
  const a = (p.actors || []).filter(Boolean);
  return a.length ? a : [''];
}

// A cluster's icon: the colour of its most frequent event type (the legend's), and its count.
function clusterIcon(c) {
  const by = {};
  for (const m of c.getAllChildMarkers()) {
    const k = eventClass(m.options.vigilEvent);
    by[k] = (by[k] || 0) + 1;
  }
  const top = Object.entries(by).sort((x, y) => y[1] - x[1])[0];
  const n = c.getChildCount();
  const span = h('span', { class: `cluster ev-${top ? top[0] : 'OTHER'}`,
    title: `${n} reports, mostly ${top ? top[0] : 'OTHER'}` }, h('span', { class: 'cluster-n' }, String(n)));
  const size = n < 10 ? 30 : n < 100 ? 36 : 42;
  return L.divIcon({ html: span, className: 'cluster-wrap', iconSize: [size, size] });
}

// Reports per UTC day and party: { days: [unix s], series: [{ label, counts }] }.
export function timelineData(features) {
  const byParty = new Map();
  const days = new Map();
  for (const f of features) {
    const p = f.properties || {};
    if (!p.start) continue;
    const day = Date.parse(`${p.start.slice(0, 10)}T00:00:00Z`) / 1000;
    if (!Number.isFinite(day)) continue;
    days.set(day, true);
    for (const party of partiesOf(p)) {
      if (!byParty.has(party)) byParty.set(party, new Map());
      const m = byParty.get(party);
      m.set(day, (m.get(day) || 0) + 1);
    }
  }
  const sortedDays = [...days.keys()].sort((a, b) => a - b);
  const total = (m) => [...m.values()].reduce((x, y) => x + y, 0);
  const parties = [...byParty.entries()].sort((x, y) => total(y[1]) - total(x[1]));
  const named = parties.filter(([k]) => k).slice(0, TOP_PARTIES);
  const rest = parties.filter((e) => !named.includes(e));
  const series = named.map(([k, m]) => ({ label: k, counts: sortedDays.map((d) => m.get(d) || 0) }));
  if (rest.length) {
    series.push({ label: rest.every(([k]) => !k) ? 'no party named' : 'other parties',
      counts: sortedDays.map((d) => rest.reduce((n, [, m]) => n + (m.get(d) || 0), 0)) });
  }
  return { days: sortedDays, series };
}

export function render(root, ctx = {}) {
  const mapEl = h('div', { class: 'map', id: 'ops-map' });
  const feedEl = h('section', { class: 'panel', 'aria-label': 'Live alerts' });
  const listEl = h('section', { class: 'panel', 'aria-label': 'Reports on the map' });
  const count = h('p', { class: 'hint', role: 'status' }, 'Loading reports…');
  const zoneNote = h('p', { class: 'hint', id: 'zones-status' });
  const legend = h('p', { class: 'legend' },
    h('span', { class: 'pin ev-ASSAULT' }), ' assault ',
    h('span', { class: 'pin ev-COERCE' }), ' coerce ',
    h('span', { class: 'pin ev-MOBILIZE' }), ' mobilize ',
    h('span', { class: 'pin ev-THREATEN' }), ' threaten ',
    h('span', { class: 'pin ev-RETREAT' }), ' retreat ',
    h('span', { class: 'pin ev-PROTEST' }), ' protest ',
    h('span', { class: 'pin ev-OTHER' }), ' other ',
    h('span', { class: 'pin ev-OTHER future' }, '!'), ' warning (future) ',
    h('span', { class: 'cluster legend-cluster ev-ASSAULT' }, h('span', { class: 'cluster-n' }, '5')),
    ' cluster (colour: its most frequent event; number: its reports) ',
    h('span', { class: 'alert-pin sev-high legend-alert' }, h('span', { class: 'alert-pin-mark' }, '!')),
    ' alert (colour: severity)');
  const fFrom = h('input', { type: 'date', name: 'ops-from' });
  const fTo = h('input', { type: 'date', name: 'ops-to' });
  const fParty = select([['', 'any party']], { name: 'ops-party' });
  const fEvent = select([['', 'any event'], ...EVENTS], { name: 'ops-event' });
  const lab = (text, input) => {
    input.id = `${input.name}-f`;
    return h('span', { class: 'ops-filter' }, h('label', { for: input.id }, text), ' ', input);
  };
  const reset = h('button', { type: 'button' }, 'Clear filters');
  const filterBar = h('form', { class: 'ops-filters', 'aria-label': 'Filter the map' },
    lab('From', fFrom), lab('To', fTo), lab('Party', fParty), lab('Event', fEvent), reset);
  const timelineEl = h('div', { class: 'timeline chart', id: 'ops-timeline',
    'aria-label': 'Reports per day, by party' });
  const timelineNote = h('p', { class: 'hint' }, 'Timeline: reports per day, by party named ',
    '(drag across it to choose the period).');
  root.append(h('h1', { class: 'visually-hidden' }, 'Operations'),
    h('div', { class: 'ops' },
      h('div', { class: 'ops-map' }, filterBar, mapEl, legend,
        h('div', { class: 'ops-status' }, count, zoneNote), timelineNote, timelineEl),
      h('div', { class: 'ops-side' }, feedEl, listEl)));

  const map = createMap(mapEl, { label: 'Operations map: zones, reports and alerts' });
  // Clusters above the alerts (markerPane, 600), so an alert never hides a cluster's count.
  map.createPane('clusters').style.zIndex = 650;
  const cluster = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40,
    spiderfyOnMaxZoom: true, clusterPane: 'clusters', iconCreateFunction: clusterIcon });
  map.addLayer(cluster);
  const alertLayer = L.layerGroup().addTo(map);
  const list = h('ul', { class: 'report-list' });
  listEl.append(h('h2', {}, 'Reports'), list);
  const markers = new Map();
  const titles = new Map(); // report id → title, for the alerts' evidence lists
  const seen = new Set();
  let alive = true;

  const features = []; // every report loaded, in order
  const items = new Map(); // id → list item
  let filt = {};
  let total = 0;

  function passes(p) {
    if (filt.event && p.event !== filt.event) return false;
    if (filt.party && !partiesOf(p).includes(filt.party)) return false;
    if (filt.from && (p.end || p.start) < `${filt.from}T00:00:00Z`) return false;
    if (filt.to && p.start > `${filt.to}T23:59:59Z`) return false;
    return true;
  }

  function showCount() {
    const shown = features.filter((f) => passes(f.properties)).length;
    count.replaceChildren(Object.values(filt).some(Boolean)
      ? `${shown} of ${total} report${total === 1 ? '' : 's'} on the map (filtered). `
      : `${total} report${total === 1 ? '' : 's'} on the map. `, sharedNote());
  }

  function add(f, { quiet = false } = {}) {
    const p = f.properties || {};
    if (!p.id || seen.has(p.id)) return;
    seen.add(p.id);
    features.push(f);
    total += 1;
    titles.set(p.id, `${p.event}${p.future ? ' warning' : ''}${p.title ? `: ${p.title}` : ''}`);
    const g = f.geometry;
    const ok = passes(p);
    if (g && g.type === 'Point') {
      const m = reportMarker(L, p, [g.coordinates[1], g.coordinates[0]]);
      m.options.vigilEvent = p.event;
      markers.set(p.id, m);
      if (ok) cluster.addLayer(m);
    }
    const focus = h('button', { type: 'button', class: 'link', onclick: () => {
      const m = markers.get(p.id);
      if (m && cluster.hasLayer(m)) cluster.zoomToShowLayer(m, () => m.openPopup());
    } }, `${p.event}${p.future ? ' (warning)' : ''}`);
    const li = h('li', { 'data-id': p.id, hidden: !ok }, focus, ' ', utext('span', p.title || ''),
      h('span', { class: 'meta' }, ` ${fmtTime(p.start)} · ${p.partner || ''}`));
    items.set(p.id, li);
    list.append(li);
    for (const party of partiesOf(p)) {
      if (party && ![...fParty.options].some((o) => o.value === party)) {
        fParty.append(utext('option', party, { value: party }));
      }
    }
    if (!quiet) {
      showCount();
      drawTimeline();
    }
  }

  function applyFilters() {
    filt = { from: fFrom.value, to: fTo.value, party: fParty.value, event: fEvent.value };
    const keep = [];
    for (const f of features) {
      const p = f.properties;
      const ok = passes(p);
      const li = items.get(p.id);
      if (li) li.hidden = !ok;
      const m = markers.get(p.id);
      if (m && ok) keep.push(m);
    }
    cluster.clearLayers();
    cluster.addLayers(keep);
    showCount();
    drawTimeline();
  }
  filterBar.addEventListener('change', applyFilters);
  filterBar.addEventListener('submit', (e) => { e.preventDefault(); applyFilters(); });
  reset.addEventListener('click', () => {
    fFrom.value = '';
    fTo.value = '';
    fParty.value = '';
    fEvent.value = '';
    applyFilters();
  });

  // The timeline: the reports that pass the party and event filters, per day and party; the
  // time filter is shown as the selection, and set by dragging.
  let uplot = null;
  let drawing = Promise.resolve();
  function drawTimeline() {
    drawing = drawing.then(async () => {
      if (!alive) return;
      const { default: UPlot } = await import('uplot');
      await import('uplot/dist/uPlot.min.css');
      if (!alive) return;
      const t = timelineData(features.filter((f) => (!filt.event || f.properties.event === filt.event)
        && (!filt.party || partiesOf(f.properties).includes(filt.party))));
      if (uplot) {
        uplot.destroy();
        uplot = null;
      }
      timelineEl.replaceChildren();
      timelineEl.dataset.days = String(t.days.length);
      timelineEl.dataset.series = t.series.map((x) => x.label).join('|');
      if (!t.days.length) {
        timelineEl.append(h('p', { class: 'hint' }, 'No reports to draw.'));
        return;
      }
      const width = Math.max(260, timelineEl.clientWidth - 20);
      uplot = new UPlot({
        width,
        height: 170,
        scales: { x: { time: true } },
        legend: { live: false },
        cursor: { drag: { x: true, y: false, setScale: false } },
        series: [{}, ...t.series.map((x, i) => ({ label: x.label || 'no party named',
          stroke: PARTY_COLOURS[i % PARTY_COLOURS.length], width: 1.5,
          points: { show: t.days.length < 60 } }))],
        axes: [{}, { label: 'reports', size: 40 }],
        hooks: { setSelect: [(u) => {
          if (u.select.width < 2) return;
          const day = (x) => new Date(u.posToVal(x, 'x') * 1000).toISOString().slice(0, 10);
          fFrom.value = day(u.select.left);
          fTo.value = day(u.select.left + u.select.width);
          u.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false);
          applyFilters();
        }] },
      }, [t.days, ...t.series.map((x) => x.counts)], timelineEl);
    }).catch(() => {});
    return drawing;
  }

  // Alerts on the map: one marker per alert with a place, kept current as the feed updates.
  const alertMarkers = new Map(); // id → { marker, alert, view (its popup, once opened) }
  let feed = null;
  function showAlert(a) {
    const key = String(a.id);
    const old = alertMarkers.get(key);
    if (!hasPlace(a)) {
      if (old) {
        alertLayer.removeLayer(old.marker);
        alertMarkers.delete(key);
      }
      return;
    }
    const latlng = [a.location.lat, a.location.lon];
    if (old) {
      // The same version again (a change's answer and its event on the stream): nothing to do.
      if (JSON.stringify(old.alert) === JSON.stringify(a)) return;
      old.alert = a;
      // (moving an open popup may pan the map: only when the place did change)
      if (!old.marker.getLatLng().equals(latlng)) old.marker.setLatLng(latlng);
      old.marker.setIcon(alertIcon(a));
      old.marker.options.title = alertTitle(a);
      const el = old.marker.getElement();
      if (el) {
        el.title = alertTitle(a);
        el.alt = alertTitle(a);
      }
      // The popup's element is kept and updated in place (alerts.js, alertPopup): never
      // rebuilt while open, so the form in it keeps its text, focus and buttons.
      if (old.view) old.view.update(a);
      return;
    }
    const entry = { alert: a, marker: null, view: null };
    entry.marker = L.marker(latlng, { icon: alertIcon(a), keyboard: true, title: alertTitle(a),
      alt: alertTitle(a), zIndexOffset: 1000 });
    entry.marker.bindPopup(() => {
      if (!entry.view) {
        entry.view = alertPopup(entry.alert, {
          me: ctx.me,
          reportTitle: (id) => titles.get(id),
          onChanged: (updated) => feed && feed.upsert(updated),
        });
      }
      return entry.view.el;
    }, { maxWidth: 360, className: 'alert-popup-wrap' });
    alertMarkers.set(key, entry);
    alertLayer.addLayer(entry.marker);
  }
  function hideAlert(a) {
    const old = alertMarkers.get(String(a.id));
    if (old) {
      alertLayer.removeLayer(old.marker);
      alertMarkers.delete(String(a.id));
    }
  }
  function selectAlert(a) {
    const e = alertMarkers.get(String(a.id));
    if (!e) return;
    map.setView(e.marker.getLatLng(), Math.max(map.getZoom(), 12), { animate: false });
    e.marker.openPopup();
  }

  loadZones(map).then((z) => {
    if (!alive) return;
    zoneNote.textContent = z.count
      ? `${z.count} zone${z.count === 1 ? '' : 's'} of ${z.agreements.length} agreement` +
        `${z.agreements.length === 1 ? '' : 's'}${z.illustrative ? ' (illustrative)' : ''}.`
      : 'No agreement zones.';
  }).catch((e) => {
    if (alive) zoneNote.textContent = `Could not load the agreement zones: ${e.message}`;
  });

  loadFeatures().then((loaded) => {
    if (!alive) return;
    loaded.forEach((f) => add(f, { quiet: true }));
    showCount();
    drawTimeline();
  }).catch((e) => {
    if (alive) count.textContent = `Could not load reports: ${e.message}`;
  });

  feed = startFeed(feedEl, {
    onAlert: showAlert,
    onRemove: hideAlert,
    onSelect: selectAlert,
    onReport: (r) => add({ type: 'Feature', properties: r,
      geometry: r.location && r.location.lat !== undefined
        ? { type: 'Point', coordinates: [r.location.lon, r.location.lat] } : null }),
  });
  return () => {
    alive = false;
    feed.close();
    if (uplot) uplot.destroy();
    map.remove();
  };
}
