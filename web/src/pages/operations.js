// Operations: the map with the agreements' zones, every report the user may read (clustered)
// and the alerts (triangles), the live alert feed and the list of reports.
import { get, query } from '../api.js';
import { h, utext, fmtTime } from '../dom.js';
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
    h('span', { class: 'pin ev-OTHER' }), ' other ',
    h('span', { class: 'pin ev-OTHER future' }, '!'), ' warning (future) ',
    h('span', { class: 'alert-pin sev-high legend-alert' }, h('span', { class: 'alert-pin-mark' }, '!')),
    ' alert (colour: severity)');
  root.append(h('h1', { class: 'visually-hidden' }, 'Operations'),
    h('div', { class: 'ops' },
      h('div', { class: 'ops-map' }, mapEl, legend, h('div', { class: 'ops-status' }, count, zoneNote)),
      h('div', { class: 'ops-side' }, feedEl, listEl)));

  const map = createMap(mapEl, { label: 'Operations map: zones, reports and alerts' });
  const cluster = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40,
    spiderfyOnMaxZoom: true });
  map.addLayer(cluster);
  const alertLayer = L.layerGroup().addTo(map);
  const list = h('ul', { class: 'report-list' });
  listEl.append(h('h2', {}, 'Reports'), list);
  const markers = new Map();
  const titles = new Map(); // report id → title, for the alerts' evidence lists
  const seen = new Set();
  let alive = true;

  function add(f) {
    const p = f.properties || {};
    if (!p.id || seen.has(p.id)) return;
    seen.add(p.id);
    titles.set(p.id, `${p.event}${p.future ? ' warning' : ''}${p.title ? `: ${p.title}` : ''}`);
    const g = f.geometry;
    if (g && g.type === 'Point') {
      const m = reportMarker(L, p, [g.coordinates[1], g.coordinates[0]]);
      markers.set(p.id, m);
      cluster.addLayer(m);
    }
    const focus = h('button', { type: 'button', class: 'link', onclick: () => {
      const m = markers.get(p.id);
      if (m) cluster.zoomToShowLayer(m, () => m.openPopup());
    } }, `${p.event}${p.future ? ' (warning)' : ''}`);
    list.append(h('li', { 'data-id': p.id }, focus, ' ', utext('span', p.title || ''),
      h('span', { class: 'meta' }, ` ${fmtTime(p.start)} · ${p.partner || ''}`)));
  }

  // Alerts on the map: one marker per alert with a place, kept current as the feed updates.
  const alertMarkers = new Map(); // id → { marker, alert }
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
      old.alert = a;
      old.marker.setLatLng(latlng);
      old.marker.setIcon(alertIcon(a));
      old.marker.options.title = alertTitle(a);
      const el = old.marker.getElement();
      if (el) {
        el.title = alertTitle(a);
        el.alt = alertTitle(a);
      }
      if (old.marker.isPopupOpen()) old.marker.getPopup().update();
      return;
    }
    const entry = { alert: a, marker: null };
    entry.marker = L.marker(latlng, { icon: alertIcon(a), keyboard: true, title: alertTitle(a),
      alt: alertTitle(a), zIndexOffset: 1000, riseOnHover: true });
    entry.marker.bindPopup(() => alertPopup(entry.alert, {
      me: ctx.me,
      reportTitle: (id) => titles.get(id),
      onChanged: (updated) => feed && feed.upsert(updated),
    }), { maxWidth: 360, className: 'alert-popup-wrap' });
    alertMarkers.set(key, entry);
    alertLayer.addLayer(entry.marker);
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

  loadFeatures().then((features) => {
    if (!alive) return;
    features.forEach(add);
    count.textContent = `${features.length} report${features.length === 1 ? '' : 's'} on the map.`;
  }).catch((e) => {
    if (alive) count.textContent = `Could not load reports: ${e.message}`;
  });

  feed = startFeed(feedEl, {
    onAlert: showAlert,
    onSelect: selectAlert,
    onReport: (r) => add({ type: 'Feature', properties: r,
      geometry: r.location && r.location.lat !== undefined
        ? { type: 'Point', coordinates: [r.location.lon, r.location.lat] } : null }),
  });
  return () => {
    alive = false;
    feed.close();
    map.remove();
  };
}
