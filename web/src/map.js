// The offline basemap: Natural Earth countries (world-atlas, public domain) and the Gaza
// governorates (geoBoundaries, CC BY 4.0), drawn as SVG vectors; no tiles are fetched.
import L from './leaflet-global.js';
import 'leaflet.markercluster';
import 'leaflet/dist/leaflet.css';
import 'leaflet.markercluster/dist/MarkerCluster.css';
import 'leaflet.markercluster/dist/MarkerCluster.Default.css';
import { feature } from 'topojson-client';
import countriesTopo from 'world-atlas/countries-50m.json';
import govRaw from '../../data/geo/gaza_governorates.geojson?raw';
import { h, utext, fmtTime } from './dom.js';

export const ATTRIBUTION =
  'Countries: Natural Earth (public domain), via world-atlas · ' +
  'Governorates: geoBoundaries, CC BY 4.0 (Runfola et al. 2020)';

let countries = null;
let governorates = null;

function basemapData() {
  if (!countries) {
    countries = feature(countriesTopo, countriesTopo.objects.countries);
    governorates = JSON.parse(govRaw);
  }
  return { countries, governorates };
}

export function governorateNames() {
  return basemapData().governorates.features.map((f) => f.properties.shapeName);
}

// Creates a map in el showing the basemap, framed on the governorates.
export function createMap(el, { label = 'Map' } = {}) {
  const { countries: c, governorates: g } = basemapData();
  el.setAttribute('role', 'region');
  el.setAttribute('aria-label', label);
  const map = L.map(el, {
    preferCanvas: false,
    zoomSnap: 0.5,
    minZoom: 3,
    maxZoom: 16,
    worldCopyJump: false,
    attributionControl: false,
  });
  L.control.attribution({ prefix: 'Leaflet' }).addAttribution(ATTRIBUTION).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);
  L.geoJSON(c, {
    interactive: false,
    style: { className: 'country', weight: 0.8, color: '#8a8f98', fillColor: '#eceae4',
      fillOpacity: 1 },
  }).addTo(map);
  const gov = L.geoJSON(g, {
    style: { className: 'governorate', weight: 1.5, color: '#1f4e79', fillColor: '#dde8f3',
      fillOpacity: 0.6 },
    onEachFeature: (f, layer) => {
      layer.bindTooltip(utext('span', f.properties.shapeName), { sticky: true,
        className: 'gov-tip' });
    },
  }).addTo(map);
  map.fitBounds(gov.getBounds(), { padding: [10, 10] });
  return map;
}

// The marker of one report: coloured by event type, a "!" for future warnings.
export function reportMarker(L_, props, latlng) {
  const future = !!props.future;
  const span = h('span', {
    class: `pin ev-${String(props.event || 'OTHER').replace(/[^A-Z]/g, '')}${future ? ' future' : ''}`,
    'data-id': props.id,
  }, future ? '!' : '');
  const icon = L.divIcon({ html: span, className: 'pin-wrap', iconSize: [18, 18],
    iconAnchor: [9, 9], popupAnchor: [0, -8] });
  const title = `${props.event}${props.mode ? ` / ${props.mode}` : ''}${future ? ' (warning)' : ''}` +
    `${props.title ? `: ${props.title}` : ''}`;
  const m = L.marker(latlng, { icon, keyboard: true, title, alt: title });
  m.bindPopup(() => reportPopup(props), { maxWidth: 320 });
  return m;
}

function row(label, value) {
  if (value === undefined || value === null || value === '') return null;
  return h('tr', {}, h('th', { scope: 'row' }, label), utext('td', String(value)));
}

export function reportPopup(p) {
  const loc = p.location || {};
  const where = loc.area ? loc.area : (loc.lat !== undefined
    ? `${loc.lat}, ${loc.lon}${loc.precision_m ? ` ±${loc.precision_m} m` : ''}` : '');
  return h('div', { class: 'popup' },
    utext('h3', p.title || `${p.event} report`),
    p.future ? h('p', { class: 'badge warn' }, 'Warning of a planned event (future)') : null,
    h('table', {},
      row('Event', `${p.event}${p.mode ? ` / ${p.mode}` : ''}`),
      row('When', p.start === p.end || !p.end ? fmtTime(p.start)
        : `${fmtTime(p.start)} – ${fmtTime(p.end)}`),
      row('Where', where),
      row('Grading', `${p.reliability || 'F'}${p.credibility || 6}`),
      row('Marking', p.marking ? `TLP:${String(p.marking).toUpperCase()}` : ''),
      row('Group', p.group),
      row('Partner', p.partner),
      row('Fatalities', p.fatalities),
      row('Injured', p.injured),
      row('Actors', (p.actors || []).join(', ')),
      row('Targets', (p.targets || []).join(', ')),
      row('Source', p.source_ref),
      row('Id', p.id)),
    p.description ? utext('p', p.description, { class: 'desc' }) : null);
}

export { L };
