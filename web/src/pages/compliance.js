// Compliance (S8): tallies of violations by party and zone over time (GET /api/v1/tallies),
// with a daily chart (uPlot, bundled, loaded only here). It opens on the period in its address,
// else where the user's violations are, and keeps the period in the address (F5, links).
// Reports arriving on the live stream are counted in the status line and the tallies counted
// again. Links to the daily report (HTML to print, JSON, CSV). Before the compliance module is
// on the server (404), the page says it arrives with it.
import { get, query, ApiError } from '../api.js';
import { h, utext, field, status } from '../dom.js';
import { sharedNote } from '../shared-note.js';

function day(d) {
  return d.toISOString().slice(0, 10);
}

async function chart(el, daily) {
  const { default: uPlot } = await import('uplot');
  await import('uplot/dist/uPlot.min.css');
  const x = daily.map((d) => Date.parse(`${d.day}T00:00:00Z`) / 1000);
  // eslint-disable-next-line no-new
  new uPlot({
    width: Math.max(320, Math.min(1600, el.clientWidth - 20 || 900)), height: 300,
    title: 'Violations per day (UTC days)',
    // The days are UTC days: the axis in UTC too, whatever the device's time zone.
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'),
    series: [{}, { label: 'all', stroke: '#ef6c00', width: 2 },
      { label: 'confirmed', stroke: '#c62828', width: 2 },
      { label: '7-day rate, confirmed', stroke: '#1f4e79', dash: [6, 4] }],
  }, [x, daily.map((d) => d.all), daily.map((d) => d.confirmed),
    daily.map((d) => d.rate7_confirmed)], el);
}

function groups(caption, rows, name) {
  return h('table', { class: 'data' }, h('caption', {}, caption),
    h('thead', {}, h('tr', {}, [name, 'All', 'Confirmed', 'Previous period (all)', 'Change']
      .map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.length ? rows.map((g) => h('tr', {}, utext('td', g.party || g.zone_name || g.zone),
      h('td', {}, String(g.all)), h('td', {}, String(g.confirmed)),
      h('td', {}, String(g.previous_all)),
      h('td', {}, `${g.change_all > 0 ? '+' : ''}${g.change_all}`)))
      : h('tr', {}, h('td', { colspan: 5 }, 'None.'))));
}

function tile(cls, label, n, change, pct) {
  const sign = change > 0 ? '+' : '';
  return h('div', { class: `tile ${cls}`, 'data-tile': cls },
    h('span', { class: 'n' }, String(n)), h('span', { class: 'l' }, label),
    change === undefined ? null : h('span', { class: 'd' },
      ` ${sign}${change} vs previous period${pct === null || pct === undefined ? '' : ` (${sign}${pct}%)`}`));
}

// The period in the page's address: #/compliance?from=YYYY-MM-DD&to=YYYY-MM-DD, or null.
function periodInUrl() {
  const q = new URLSearchParams(location.hash.split('?')[1] || '');
  const ok = (v) => /^\d{4}-\d{2}-\d{2}$/.test(v || '');
  return ok(q.get('from')) && ok(q.get('to')) ? { from: q.get('from'), to: q.get('to') } : null;
}

function setPeriodInUrl(p) {
  // replaceState: no hashchange, so the page is not rendered again, and F5 reopens the range.
  if (!/^#\/compliance(\?|$)/.test(location.hash) || !p.from || !p.to) return;
  history.replaceState(null, '', `#/compliance?from=${p.from}&to=${p.to}`);
}

const MAX_DAYS = 366; // the longest period /api/v1/tallies counts

// Where the data is: the days of the first and last violations the user may see (at most the
// last 366 days of them); null when there is none.
export function dataPeriod(violations) {
  const days = violations.map((v) => (v.time || '').slice(0, 10)).filter(Boolean).sort();
  if (!days.length) return null;
  const to = days[days.length - 1];
  const earliest = day(new Date(Date.parse(`${to}T00:00:00Z`) - (MAX_DAYS - 1) * 86400e3));
  return { from: days[0] < earliest ? earliest : days[0], to };
}

export function render(root) {
  // Disabled until the period is known (typing into them before would be overwritten).
  const from = field('From (UTC day)', h('input', { type: 'date', name: 'from', disabled: true }));
  const to = field('To (UTC day)', h('input', { type: 'date', name: 'to', disabled: true }));
  const msg = h('p', { class: 'status', role: 'status', 'aria-live': 'polite',
    id: 'tally-status' });
  const body = h('div');
  const allBtn = h('button', { type: 'button', class: 'secondary', id: 'period-all' },
    'All data');
  const form = h('form', { class: 'filters' }, from.wrap, to.wrap,
    h('button', { type: 'submit' }, 'Show'), allBtn);
  // The daily report (HTML to read and print, JSON, CSV), as the server makes it for this user.
  const dayF = field('Day (UTC)', h('input', { type: 'date', name: 'day', id: 'daily-day' }));
  const links = h('span', { class: 'daily-links' });
  function dailyLinks() {
    const d = dayF.input.value;
    links.replaceChildren();
    if (!d) return;
    const u = (fmt) => `/api/v1/compliance/daily?date=${d}${fmt ? `&format=${fmt}` : ''}`;
    links.append(h('a', { href: u(''), target: '_blank', rel: 'noopener', id: 'daily-html' },
      `Daily report ${d} (printable)`), ' · ',
    h('a', { href: u('json'), target: '_blank', rel: 'noopener' }, 'JSON'), ' · ',
    h('a', { href: u('csv'), download: `vigil-daily-${d}.csv` }, 'CSV'));
  }
  dayF.input.addEventListener('change', dailyLinks);
  const daily = h('section', { class: 'daily', 'aria-label': 'Daily report' },
    h('h2', {}, 'Daily report'),
    h('p', { class: 'hint' }, 'The day\'s violations, counts by party and zone and a map, as ' +
      'shared with you, under a TLP banner (the strictest marking of what it contains) with ' +
      'your name and when it was made. Open it and print it from the browser.'),
    h('div', { class: 'filters' }, dayF.wrap, links));
  root.append(h('h1', {}, 'Compliance ', sharedNote()), form, msg, body, daily);

  let arrived = 0; // reports that arrived live since the page opened
  let loading = null;
  let closed = false;

  function say(t) {
    const n = t.totals.all;
    status(msg, `${t.from} to ${t.to}: ${n} violation${n === 1 ? '' : 's'}, ` +
      `${t.totals.confirmed} confirmed (previous period: ${t.previous.all}, ` +
      `${t.previous.confirmed}).${arrived ? ` Live: ${arrived} report${arrived === 1 ? '' : 's'} ` +
        'arrived since the page opened, counted.' : ''}`);
  }

  async function load() {
    if (closed) return;
    status(msg, 'Loading…');
    setPeriodInUrl({ from: from.input.value, to: to.input.value });
    try {
      const t = await get(`/api/v1/tallies${query({ from: from.input.value,
        to: to.input.value })}`);
      if (closed) return;
      say(t);
      const el = h('div', { class: 'chart', role: 'img',
        'aria-label': 'Violations per day: all, confirmed, and the 7-day confirmed rate' });
      const tiles = h('div', { class: 'tiles', id: 'tally-tiles' },
        tile('all', 'violations recorded', t.totals.all, t.change && t.change.all,
          t.change && t.change.all_pct),
        tile('confirmed', 'confirmed', t.totals.confirmed, t.change && t.change.confirmed,
          t.change && t.change.confirmed_pct));
      body.replaceChildren(tiles, el, h('div', { class: 'two' },
        groups('By party', t.by_party || [], 'Party'), groups('By zone', t.by_zone || [], 'Zone')));
      await chart(el, t.daily || []);
    } catch (e) {
      status(msg, '');
      if (e instanceof ApiError && e.status === 400) {
        status(msg, e.description || e.message, 'error');
        return;
      }
      body.replaceChildren(h('div', { class: 'placeholder' },
        h('p', {}, h('strong', {}, 'Arrives with the compliance module.')),
        h('p', {}, 'Counts of violations by party × zone × day (all and confirmed), rolling ',
          'rates and trends are charted here once the server offers /api/v1/tallies.'),
        e instanceof ApiError && e.status === 404 ? null : h('p', { class: 'hint' }, e.message)));
    }
  }

  // Opens on the address's period, else on where the data is, else on the last 30 days.
  async function start() {
    let p = periodInUrl();
    let all = null;
    if (!p) {
      status(msg, 'Finding where the data is…');
      try {
        all = dataPeriod((await get('/api/v1/violations')).violations || []);
      } catch {
        /* the tallies say what is wrong */
      }
      const now = new Date();
      p = all || { from: day(new Date(now.getTime() - 29 * 86400e3)), to: day(now) };
    }
    if (closed) return;
    from.input.value = p.from;
    to.input.value = p.to;
    from.input.disabled = false;
    to.input.disabled = false;
    dayF.input.value = p.to;
    dailyLinks();
    await load();
  }

  allBtn.addEventListener('click', async () => {
    try {
      const all = dataPeriod((await get('/api/v1/violations')).violations || []);
      if (!all) {
        status(msg, 'No violation shared with you yet.');
        return;
      }
      from.input.value = all.from;
      to.input.value = all.to;
      load();
    } catch (e) {
      status(msg, `Could not find the data's period: ${e.message}`, 'error');
    }
  });

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    load();
  });

  // Reports arriving live: counted in the status line, and the tallies counted again (a
  // report may make a violation); so are they when a violation's status changes (a review
  // elsewhere confirms one).
  let es = null;
  let timer = null;
  const again = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      loading = (loading || Promise.resolve()).then(() => load());
    }, 300);
  };
  if (typeof EventSource !== 'undefined') {
    es = new EventSource('/api/v1/stream', { withCredentials: true });
    es.addEventListener('report', () => {
      arrived += 1;
      again();
    });
    es.addEventListener('violation', again);
  }

  loading = start();
  return () => {
    closed = true;
    clearTimeout(timer);
    if (es) es.close();
    es = null;
  };
}
