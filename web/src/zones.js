// The zones of the ceasefire agreements the reader may read (GET /api/v1/agreements, S8):
// polygons, lines and posts styled by kind, with a legend. Lines and posts count within
// distance_m of their geometry, so that band is drawn too (its width follows the zoom).
// An agreement whose name or description says "illustrative" (the demo's) is labelled so on
// every zone and in the legend.
import { get } from './api.js';
import { h, utext, fmtTime } from './dom.js';
import L from './leaflet-global.js';

export const KINDS = {
  'no-fire-area': { label: 'No-fire area', color: '#b71c1c', fill: '#e57373', fillOpacity: 0.28,
    weight: 2 },
  'buffer-zone': { label: 'Buffer zone', color: '#e65100', fill: '#ffb74d', fillOpacity: 0.3,
    weight: 1.5, dashArray: '5 4' },
  'humanitarian-corridor': { label: 'Humanitarian corridor', color: '#2e7d32', fill: '#81c784',
    fillOpacity: 0.3, weight: 4 },
  'withdrawal-line': { label: 'Withdrawal line', color: '#4a148c', fill: '#b39ddb',
    fillOpacity: 0.25, weight: 3, dashArray: '10 6' },
  'monitoring-post': { label: 'Monitoring post', color: '#0d47a1', fill: '#64b5f6',
    fillOpacity: 0.35, weight: 2 },
};
const OTHER = { label: 'Other zone', color: '#37474f', fill: '#90a4ae', fillOpacity: 0.25,
  weight: 2 };

export function kindStyle(kind) {
  return KINDS[kind] || OTHER;
}

export function isIllustrative(agreement, zone) {
  const re = /illustrative/i;
  return re.test(agreement.name || '') || re.test(agreement.description || '') ||
    (!!zone && re.test(zone.name || ''));
}

function kindClass(kind) {
  return String(kind || 'other').replace(/[^a-z-]/g, '');
}

function act(a) {
  if (typeof a === 'string') return a;
  if (a && a.event) return `${a.event}${a.modes && a.modes.length ? ` (${a.modes.join(', ')})` : ''}`;
  return '';
}

function termText(t) {
  const parts = [`${t.party === '*' ? 'every party' : t.party}: `];
  if (t.prohibited && t.prohibited.length) parts.push(`no ${t.prohibited.map(act).join(', ')}`);
  if (t.permitted && t.permitted.length) parts.push(`; allowed: ${t.permitted.map(act).join(', ')}`);
  if (t.phase) parts.push(` (${t.when === 'after-deadline' ? 'after the deadline of' : 'during'} ${t.phase})`);
  if (t.from) parts.push(` from ${fmtTime(t.from)}`);
  if (t.until) parts.push(` until ${fmtTime(t.until)}`);
  return parts.join('');
}

export function zonePopup(agreement, z) {
  const st = kindStyle(z.kind);
  return h('div', { class: 'popup zone-popup' },
    isIllustrative(agreement, z)
      ? h('p', { class: 'badge illustrative' }, 'ILLUSTRATIVE — not a real line or area') : null,
    utext('h3', z.name),
    h('table', {},
      h('tr', {}, h('th', { scope: 'row' }, 'Kind'), h('td', {}, st.label)),
      h('tr', {}, h('th', { scope: 'row' }, 'Agreement'), utext('td', agreement.name)),
      z.distance_m ? h('tr', {}, h('th', { scope: 'row' }, 'Counts within'),
        h('td', {}, `${z.distance_m} m`)) : null),
    (z.terms || []).length ? h('ul', { class: 'terms' },
      z.terms.map((t) => utext('li', termText(t)))) : null);
}

// Metres per CSS pixel at a latitude and zoom (Web Mercator, 256-pixel tiles).
function metresPerPixel(map, lat) {
  return (40075016.686 * Math.cos((lat * Math.PI) / 180)) / 2 ** (map.getZoom() + 8);
}

function unwrap(geometry) {
  return geometry && geometry.type === 'Feature' ? geometry.geometry : geometry;
}

// Draws the zones of the given agreements into a new layer group on map; returns
// { layer, kinds: Set, illustrative: bool, count }.
export function drawZones(map, agreements) {
  if (!map.getPane('zones')) {
    map.createPane('zones');
    map.getPane('zones').style.zIndex = 420; // above the basemap, below markers and popups
  }
  const layer = L.layerGroup();
  const kinds = new Set();
  const bands = [];
  let illustrative = false;
  let count = 0;
  for (const ag of agreements) {
    for (const z of ag.zones || []) {
      const g = unwrap(z.geometry);
      if (!g || !g.type) continue;
      const st = kindStyle(z.kind);
      const ill = isIllustrative(ag, z);
      illustrative = illustrative || ill;
      kinds.add(z.kind);
      count += 1;
      const cls = `zone zone-${kindClass(z.kind)}${ill ? ' illustrative' : ''}`;
      const style = { pane: 'zones', className: cls, color: st.color, weight: st.weight,
        dashArray: st.dashArray, fillColor: st.fill, fillOpacity: st.fillOpacity, opacity: 0.9 };
      // A DOM node, not a string: Leaflet puts a string tooltip in as HTML, and a zone's
      // name is a partner's data.
      const tip = utext('span', `${z.name}${ill ? ' (illustrative)' : ''}`);
      const isLine = g.type === 'LineString' || g.type === 'MultiLineString';
      if (isLine && z.distance_m > 0) {
        // The band in which events count: a wide, faint stroke, resized on zoom.
        const band = L.geoJSON(g, { interactive: false, pane: 'zones',
          style: { className: `zone-band zone-${kindClass(z.kind)}`, color: st.fill, opacity: 0.3,
            lineCap: 'round', lineJoin: 'round', weight: 1 } });
        bands.push({ band, distance: z.distance_m });
        layer.addLayer(band);
      }
      const shape = L.geoJSON(g, {
        style: () => style,
        pointToLayer: (f, latlng) => L.circle(latlng, { ...style, radius: z.distance_m || 100 }),
      });
      shape.bindTooltip(tip, { sticky: true, className: 'zone-tip' });
      shape.bindPopup(() => zonePopup(ag, z), { maxWidth: 340 });
      layer.addLayer(shape);
    }
  }
  function resize() {
    for (const { band, distance } of bands) {
      const c = band.getBounds().getCenter();
      const px = (2 * distance) / metresPerPixel(map, c.lat);
      band.setStyle({ weight: Math.max(2, Math.min(px, 400)) });
    }
  }
  map.on('zoomend', resize);
  layer.addTo(map);
  if (bands.length) resize();
  return { layer, kinds, illustrative, count };
}

// The legend of the zones drawn: a Leaflet control with a checkbox to hide them.
export function zoneLegend(map, drawn) {
  const ctl = L.control({ position: 'topright' });
  ctl.onAdd = () => {
    const toggle = h('input', { type: 'checkbox', checked: true, id: 'zones-toggle' });
    toggle.addEventListener('change', () => {
      if (toggle.checked) drawn.layer.addTo(map);
      else drawn.layer.remove();
    });
    const box = h('div', { class: 'map-legend zone-legend', role: 'group',
      'aria-label': 'Agreement zones' },
    h('div', { class: 'legend-title' }, toggle, h('label', { for: 'zones-toggle' },
      `Agreement zones (${drawn.count})`)),
    h('ul', {}, [...drawn.kinds].map((k) => {
      const st = kindStyle(k);
      const line = k === 'withdrawal-line' || k === 'humanitarian-corridor';
      return h('li', { 'data-kind': k },
        h('span', { class: `swatch ${line ? 'line' : 'area'} zone-${kindClass(k)}` }), st.label);
    })),
    drawn.illustrative
      ? h('p', { class: 'illustrative-note' }, 'ILLUSTRATIVE zones (synthetic agreement)') : null);
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    return box;
  };
  ctl.addTo(map);
  return ctl;
}

// Loads the agreements and draws their zones with a legend. Resolves to the drawn summary
// (count 0 when there is no agreement); a server without the compliance module (404) draws
// nothing.
export async function loadZones(map) {
  let agreements = [];
  try {
    const r = await get('/api/v1/agreements');
    agreements = (r && r.agreements) || [];
  } catch (e) {
    if (e.status === 404) return { count: 0, agreements: [] };
    throw e;
  }
  const drawn = drawZones(map, agreements);
  if (drawn.count) zoneLegend(map, drawn);
  return { ...drawn, agreements };
}
