// Compliance (S8): tallies of violations by party and zone over time (GET /api/v1/tallies),
// with a daily chart (uPlot, bundled, loaded only here). Before the compliance module is on the
// server (404), the page says it arrives with it.
import { get, query, ApiError } from '../api.js';
import { h, utext, field, status } from '../dom.js';

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
    title: 'Violations per day',
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

// The period: ?from=YYYY-MM-DD&to=YYYY-MM-DD in the page's address (#/compliance?from=...),
// else the last 30 days.
function period() {
  const q = new URLSearchParams(location.hash.split('?')[1] || '');
  const ok = (v) => /^\d{4}-\d{2}-\d{2}$/.test(v || '');
  const now = new Date();
  return { from: ok(q.get('from')) ? q.get('from') : day(new Date(now.getTime() - 29 * 86400e3)),
    to: ok(q.get('to')) ? q.get('to') : day(now) };
}

export function render(root) {
  const p = period();
  const from = field('From', h('input', { type: 'date', name: 'from', value: p.from }));
  const to = field('To', h('input', { type: 'date', name: 'to', value: p.to }));
  const msg = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const body = h('div');
  const form = h('form', { class: 'filters' }, from.wrap, to.wrap,
    h('button', { type: 'submit' }, 'Show'));
  root.append(h('h1', {}, 'Compliance'), form, msg, body);

  async function load() {
    status(msg, 'Loading…');
    try {
      const t = await get(`/api/v1/tallies${query({ from: from.input.value, to: to.input.value })}`);
      status(msg, `${t.from} to ${t.to}: ${t.totals.all} violation${t.totals.all === 1 ? '' : 's'}, ${t.totals.confirmed} ` +
        `confirmed (previous period: ${t.previous.all}, ${t.previous.confirmed}).`);
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
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    load();
  });
  load();
}
