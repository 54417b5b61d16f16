// Reports table: search (q) and filters on the server, sortable columns over the page shown,
// keyset paging with `next`, exports (GeoJSON from the API; CSV made here from the JSON).
import { get, query } from '../api.js';
import { h, utext, field, select, download, fmtTime, status } from '../dom.js';
import { EVENTS } from '../plover.js';

const COLUMNS = [
  ['start', 'Start (UTC)'], ['event', 'Event'], ['mode', 'Mode'], ['future', 'Warning'],
  ['title', 'Title'], ['partner', 'Partner'], ['grading', 'Grading'], ['marking', 'Marking'],
  ['fatalities', 'Fatalities'],
];
const CSV_FIELDS = ['id', 'event', 'mode', 'future', 'start', 'end', 'time_precision', 'lat',
  'lon', 'precision_m', 'area', 'actors', 'targets', 'fatalities', 'injured', 'reliability',
  'credibility', 'marking', 'group', 'partner', 'title', 'description', 'source_ref'];
const PAGE = 50;
const EXPORT_MAX_PAGES = 100;

function value(r, key) {
  if (key === 'grading') return `${r.reliability || 'F'}${r.credibility || 6}`;
  if (key === 'future') return r.future ? 'yes' : '';
  return r[key] ?? '';
}

function csvCell(v) {
  const s = Array.isArray(v) ? v.join('; ') : v === undefined || v === null ? '' : String(v);
  // A leading =, +, - or @ would be run as a formula by spreadsheets: quote it away.
  const safe = /^[=+\-@]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv(reports) {
  const lines = [CSV_FIELDS.join(',')];
  for (const r of reports) {
    const loc = r.location || {};
    const flat = { ...r, lat: loc.lat, lon: loc.lon, precision_m: loc.precision_m,
      area: loc.area };
    lines.push(CSV_FIELDS.map((k) => csvCell(flat[k])).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

export function render(root) {
  const q = field('Search title and description', h('input', { type: 'search', name: 'q',
    dir: 'auto' }));
  const ev = field('Event', select([['', 'any'], ...EVENTS], { name: 'event' }));
  const fut = field('Warnings only', h('input', { type: 'checkbox', name: 'future' }));
  const msg = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const table = h('table', { class: 'data', id: 'reports-table' });
  const caption = h('caption', {}, 'Reports, newest event first');
  const thead = h('thead');
  const tbody = h('tbody');
  table.append(caption, thead, tbody);
  const prev = h('button', { type: 'button', disabled: true }, 'Previous page');
  const next = h('button', { type: 'button', disabled: true }, 'Next page');
  const expGeo = h('button', { type: 'button' }, 'Export GeoJSON');
  const expCsv = h('button', { type: 'button' }, 'Export CSV');
  const form = h('form', { class: 'filters', role: 'search' }, q.wrap, ev.wrap, fut.wrap,
    h('button', { type: 'submit' }, 'Search'));
  root.append(h('h1', {}, 'Reports'), form,
    h('div', { class: 'toolbar' }, expGeo, expCsv), msg, h('div', { class: 'scroll' }, table),
    h('div', { class: 'pager' }, prev, next));

  let rows = [];
  let sort = { key: null, dir: 1 };
  let cursors = [undefined];
  let page = 0;
  let nextCursor = null;

  function filters() {
    return { q: q.input.value.trim(), event: ev.input.value,
      future: fut.input.checked ? 'true' : '' };
  }

  function header() {
    thead.replaceChildren(h('tr', {}, COLUMNS.map(([key, label]) => {
      const active = sort.key === key;
      return h('th', { scope: 'col',
        'aria-sort': active ? (sort.dir > 0 ? 'ascending' : 'descending') : 'none' },
      h('button', { type: 'button', class: 'sort', 'data-key': key, onclick: () => {
        sort = { key, dir: active ? -sort.dir : 1 };
        draw();
      } }, label, h('span', { 'aria-hidden': 'true' }, active ? (sort.dir > 0 ? ' ▲' : ' ▼') : '')));
    })));
  }

  function draw() {
    header();
    const sorted = rows.slice();
    if (sort.key) {
      sorted.sort((a, b) => {
        const x = value(a, sort.key);
        const y = value(b, sort.key);
        const c = typeof x === 'number' && typeof y === 'number' ? x - y
          : String(x).localeCompare(String(y));
        return c * sort.dir;
      });
    }
    tbody.replaceChildren(...sorted.map((r) => h('tr', { 'data-id': r.id },
      COLUMNS.map(([key]) => (key === 'title' || key === 'partner'
        ? utext('td', value(r, key)) : h('td', {}, key === 'start' ? fmtTime(r.start)
          : value(r, key)))))));
    if (!rows.length) tbody.append(h('tr', {}, h('td', { colspan: COLUMNS.length }, 'No reports.')));
    prev.disabled = page === 0;
    next.disabled = !nextCursor;
  }

  async function load() {
    status(msg, 'Loading…');
    try {
      const r = await get(`/api/v1/reports${query({ ...filters(), limit: PAGE,
        cursor: cursors[page] })}`);
      rows = r.reports || [];
      nextCursor = r.next || null;
      status(msg, `Page ${page + 1}: ${rows.length} report${rows.length === 1 ? '' : 's'}.`);
    } catch (e) {
      rows = [];
      nextCursor = null;
      status(msg, `Could not load reports: ${e.message}`, 'error');
    }
    draw();
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    cursors = [undefined];
    page = 0;
    load();
  });
  next.addEventListener('click', () => {
    if (!nextCursor) return;
    cursors[page + 1] = nextCursor;
    page += 1;
    load();
  });
  prev.addEventListener('click', () => {
    if (page === 0) return;
    page -= 1;
    load();
  });

  async function all(format) {
    const out = [];
    let cursor;
    for (let i = 0; i < EXPORT_MAX_PAGES; i++) {
      const r = await get(`/api/v1/reports${query({ ...filters(), format, limit: 1000, cursor })}`);
      out.push(...(format === 'geojson' ? r.features : r.reports));
      if (!r.next) break;
      cursor = r.next;
    }
    return out;
  }
  expGeo.addEventListener('click', async () => {
    status(msg, 'Exporting GeoJSON…');
    try {
      const features = await all('geojson');
      download('vigil-reports.geojson', 'application/geo+json',
        JSON.stringify({ type: 'FeatureCollection', features }));
      status(msg, `Exported ${features.length} reports as GeoJSON.`);
    } catch (e) {
      status(msg, `Export failed: ${e.message}`, 'error');
    }
  });
  expCsv.addEventListener('click', async () => {
    status(msg, 'Exporting CSV…');
    try {
      const reports = await all('json');
      download('vigil-reports.csv', 'text/csv', toCsv(reports));
      status(msg, `Exported ${reports.length} reports as CSV.`);
    } catch (e) {
      status(msg, `Export failed: ${e.message}`, 'error');
    }
  });

  header();
  load();
}
