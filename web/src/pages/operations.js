// Operations: the map with every report the user may read (clustered), and the live feed.
import { get, query } from '../api.js';
import { h, utext, fmtTime } from '../dom.js';
import { createMap, reportMarker, L } from '../map.js';
import { startFeed } from '../feed.js';

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

export function render(root) {
  const mapEl = h('div', { class: 'map', id: 'ops-map' });
  const feedEl = h('section', { class: 'panel', 'aria-label': 'Live alerts' });
  const listEl = h('section', { class: 'panel', 'aria-label': 'Reports on the map' });
  const count = h('p', { class: 'hint', role: 'status' }, 'Loading reports…');
  const legend = h('p', { class: 'legend' },
    h('span', { class: 'pin ev-ASSAULT' }), ' assault ',
    h('span', { class: 'pin ev-COERCE' }), ' coerce ',
    h('span', { class: 'pin ev-MOBILIZE' }), ' mobilize ',
    h('span', { class: 'pin ev-THREATEN' }), ' threaten ',
    h('span', { class: 'pin ev-RETREAT' }), ' retreat ',
    h('span', { class: 'pin ev-OTHER' }), ' other ',
    h('span', { class: 'pin ev-OTHER future' }, '!'), ' warning (future)');
  root.append(h('h1', { class: 'visually-hidden' }, 'Operations'),
    h('div', { class: 'ops' },
      h('div', { class: 'ops-map' }, mapEl, legend, count),
      h('div', { class: 'ops-side' }, feedEl, listEl)));

  const map = createMap(mapEl, { label: 'Operations map: reports and alerts' });
  const cluster = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40,
    spiderfyOnMaxZoom: true });
  map.addLayer(cluster);
  const list = h('ul', { class: 'report-list' });
  listEl.append(h('h2', {}, 'Reports'), list);
  const markers = new Map();
  const seen = new Set();

  function add(f) {
    const p = f.properties || {};
    if (!p.id || seen.has(p.id)) return;
    seen.add(p.id);
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

  loadFeatures().then((features) => {
    features.forEach(add);
    count.textContent = `${features.length} report${features.length === 1 ? '' : 's'} on the map.`;
  }).catch((e) => {
    count.textContent = `Could not load reports: ${e.message}`;
  });

  const stop = startFeed(feedEl, {
    onReport: (r) => add({ type: 'Feature', properties: r,
      geometry: r.location && r.location.lat !== undefined
        ? { type: 'Point', coordinates: [r.location.lon, r.location.lat] } : null }),
  });
  return () => {
    stop();
    map.remove();
  };
}
