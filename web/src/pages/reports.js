// Reports table: search (q) and filters (event, warnings, dates, partner, marking) on the
// server, columns sorted on the server over every result (?sort=, with the total), paging with
// `next`, a row opens the report's detail, exports (GeoJSON from the API; CSV made here from the
// JSON) with the filters last applied.
import { get, query } from '../api.js';
import { h, utext, field, select, download, fmtTime, status, latest } from '../dom.js';
import { reportPopup } from '../map.js';
import { sharedNote } from '../shared-note.js';
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

const MARKINGS = ['clear', 'green', 'amber', 'amber+strict', 'red'];

// Gives each cell the label of its column (data-label), for the one-column layout of narrow
// screens (style.css: tables do not scroll sideways on a phone).
export function labelCells(table) {
  const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent.trim());
  for (const tr of table.querySelectorAll('tbody tr')) {
    [...tr.children].forEach((td, i) => {
      if (heads[i] && !td.hasAttribute('colspan')) td.dataset.label = heads[i];
    });
  }
  table.classList.add('responsive');
}

// The detail of one report (its popup's table, and where it is on the map).
function detail(r, onClose) {
  const close = h('button', { type: 'button', class: 'close', onclick: onClose }, 'Close');
  const sec = h('section', { class: 'card report-detail', id: 'report-detail', tabindex: '-1',
    'aria-label': 'Report detail', 'data-id': r.id },
  h('div', { class: 'detail-head' }, h('h2', {}, 'Report'), close), reportPopup(r));
  return sec;
}

export function render(root) {
  const q = field('Search title and description', h('input', { type: 'search', name: 'q',
    dir: 'auto' }));
  const ev = field('Event', select([['', 'any'], ...EVENTS], { name: 'event' }));
  const fut = field('Warnings only', h('input', { type: 'checkbox', name: 'future' }));
  const from = field('From (UTC)', h('input', { type: 'date', name: 'from' }));
  const to = field('To (UTC)', h('input', { type: 'date', name: 'to' }));
  const partner = field('Partner', select([['', 'any']], { name: 'partner' }));
  const marking = field('Marking', select([['', 'any'], ...MARKINGS.map((m) => [m,
    `TLP:${m.toUpperCase()}`])], { name: 'marking' }));
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
    from.wrap, to.wrap, partner.wrap, marking.wrap, h('button', { type: 'submit' }, 'Search'));
  const detailSlot = h('div');
  root.append(h('h1', {}, 'Reports'), form,
    h('div', { class: 'toolbar' }, expGeo, expCsv, h('span', { class: 'hint' },
      'Exports use the filters applied by the last search.')), msg, detailSlot,
    h('div', { class: 'scroll' }, table), h('div', { class: 'pager' }, prev, next));

  get('/api/v1/partners').then((r) => {
    for (const p of (r && r.partners) || []) {
      partner.input.append(utext('option', p.name, { value: p.name }));
    }
  }).catch(() => {});

  let rows = [];
  let sort = { key: null, dir: 1 };
  let cursors = [undefined];
  let page = 0;
  let nextCursor = null;
  let total = null;
  let applied = {};

  // The filters as the API takes them, read from the form (applied on Search only).
  function readFilters() {
    return { q: q.input.value.trim(), event: ev.input.value,
      future: fut.input.checked ? 'true' : '',
      since: from.input.value ? `${from.input.value}T00:00:00Z` : '',
      until: to.input.value ? `${to.input.value}T23:59:59Z` : '',
      partner: partner.input.value, marking: marking.input.value };
  }

  function sortParam() {
    return sort.key ? `${sort.dir < 0 ? '-' : ''}${sort.key}` : '';
  }

  function showDetail(r) {
    const close = () => {
      detailSlot.replaceChildren();
      if (/[?&]id=/.test(location.hash)) history.replaceState(null, '', '#/reports');
    };
    const d = detail(r, close);
    detailSlot.replaceChildren(d);
    d.focus();
  }

  function header() {
    thead.replaceChildren(h('tr', {}, COLUMNS.map(([key, label]) => {
      const active = sort.key === key;
      return h('th', { scope: 'col',
        'aria-sort': active ? (sort.dir > 0 ? 'ascending' : 'descending') : 'none' },
      h('button', { type: 'button', class: 'sort', 'data-key': key, onclick: () => {
        sort = { key, dir: active ? -sort.dir : 1 };
        tooMany = false;
        cursors = [undefined];
        page = 0;
        load();
      } }, label, h('span', { 'aria-hidden': 'true' }, active ? (sort.dir > 0 ? ' ▲' : ' ▼') : '')));
    })));
  }

  function draw() {
    header();
    const label = sort.key ? COLUMNS.find(([k]) => k === sort.key)[1] : '';
    caption.textContent = sort.key
      ? `Reports sorted by ${label} (${sort.dir > 0 ? 'ascending' : 'descending'}) over all `
        + `${total ?? ''} results, on the server`
      : `Reports, newest event first${total !== null ? `: ${total} in all` : ''}${tooMany
        ? ' (more than 100,000 match: narrow the filters to sort, count or filter them by marking)'
        : ''}`;
    tbody.replaceChildren(...rows.map((r) => h('tr', { 'data-id': r.id, tabindex: '0',
      class: 'clickable', title: 'Open the report',
      onclick: () => showDetail(r),
      onkeydown: (e) => { if (e.key === 'Enter') showDetail(r); } },
    COLUMNS.map(([key]) => (key === 'title' || key === 'partner'
      ? utext('td', value(r, key)) : h('td', {}, key === 'start' ? fmtTime(r.start)
        : value(r, key)))))));
    if (!rows.length) tbody.append(h('tr', {}, h('td', { colspan: COLUMNS.length }, 'No reports.')));
    labelCells(table);
    prev.disabled = page === 0;
    next.disabled = !nextCursor;
  }

  let tooMany = false; // more match than the server sorts or counts: newest first, no total
  async function fetchPage() {
    if (!tooMany) {
      try {
        return await get(`/api/v1/reports${query({ ...applied, sort: sortParam(), total: 'true',
          limit: PAGE, cursor: cursors[page] })}`);
      } catch (e) {
        if (e.status !== 400 || !/narrow the filters/.test(e.description)) throw e;
        tooMany = true;
        sort = { key: null, dir: 1 };
        cursors = [undefined];
        page = 0;
      }
    }
    return get(`/api/v1/reports${query({ ...applied, marking: undefined, limit: PAGE,
      cursor: cursors[page] })}`);
  }

  const load = latest(table, async (stale) => {
    status(msg, 'Loading…');
    try {
      const r = await fetchPage();
      if (stale()) return;
      rows = r.reports || [];
      nextCursor = r.next || null;
      total = r.total ?? null;
      msg.replaceChildren(`Page ${page + 1}: ${rows.length} report${rows.length === 1 ? '' : 's'}. `
        + `${total ?? '?'} in all, `, sharedNote(), '.');
      msg.className = 'status info';
    } catch (e) {
      if (stale()) return;
      rows = [];
      nextCursor = null;
      status(msg, `Could not load reports: ${e.message}`, 'error');
    }
    draw();
  });

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    applied = readFilters();
    tooMany = false;
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
      const r = await get(`/api/v1/reports${query({ ...applied, format, limit: 1000, cursor })}`);
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
  // #/reports?id=ID (an alert's evidence links here): that report's detail.
  const want = new URLSearchParams(location.hash.split('?')[1] || '').get('id');
  if (want) {
    get(`/api/v1/reports/${encodeURIComponent(want)}`).then(showDetail).catch(() => {
      detailSlot.replaceChildren(h('p', { class: 'status error', id: 'report-detail' },
        'No such report (or not one you may read).'));
    });
  }
}
