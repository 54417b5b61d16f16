// The analyst's day (issue 23, items 1, 2, 4, 7, 8): a report filed from the form with actors
// becomes a violation; the form's zones, UTC "now" and device location; the review queue with
// evidence links, history, opinions, filters, newest first and a reason required to decide;
// the compliance page opening where the data is, its period in the address, F5 keeping the
// session, a live report counted; the daily report linked, marked and printable; and each role
// offered only what it may do.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { Vigil, openBrowser, login, show, CHROMIUM, GOV, RAFAH } from './harness.mjs';

const AGREEMENT = {
  name: 'Analyst-test ceasefire (SYNTHETIC, ILLUSTRATIVE zones)',
  description: 'A synthetic agreement for the browser tests; not a real text.',
  effective: '2025-01-01T00:00:00Z',
  marking: 'green',
  parties: [{ name: 'Party A', aliases: ['A forces'] },
    { name: 'Party B', aliases: ['B militia'] }],
  zones: [
    { name: 'Rafah', kind: 'no-fire-area', geometry: GOV.Rafah,
      terms: [{ party: '*', prohibited: ['ASSAULT'] }] },
    { name: 'North Gaza buffer', kind: 'buffer-zone', geometry: GOV['North Gaza'].geometry,
      terms: [{ party: 'Party B', prohibited: ['ASSAULT'] }] },
  ],
};

const PW = { carol: 'carol-pass-1', rita: 'rita-pass-1', rex: 'rex-pass-1' };
let vigil;
let tok;
let b; // carol's browser: an analyst of the coordination center
const v = {}; // violation ids: older (Party A, 06-10), newer (Party B, 06-12), form (06-11)

function report(at, start, actor, extra = {}) {
  return { event: 'ASSAULT', mode: 'aerial', start, location: at, actors: [actor],
    marking: 'green', reliability: 'B', credibility: 2, ...extra };
}

async function violationOf(reportId) {
  const all = (await vigil.api('GET', '/api/v1/violations', tok.carol)).violations;
  return all.find((x) => x.report === reportId);
}

before(async () => {
  vigil = new Vigil();
  vigil.run('partner', 'add', 'Alpha');
  vigil.run('partner', 'add', 'Beta');
  tok = {
    carol: vigil.user('Coordination Center', 'carol', 'analyst', PW.carol),
    rita: vigil.user('Alpha', 'rita', 'reader', PW.rita),
    rex: vigil.user('Beta', 'rex', 'reporter', PW.rex),
  };
  await vigil.start();
  await vigil.api('POST', '/api/v1/agreements', tok.carol, AGREEMENT);
  const older = await vigil.api('POST', '/api/v1/reports', tok.rex, report(RAFAH,
    '2025-06-10T08:00:00Z', 'A forces', { title: 'Air strike, older (test)' }));
  const newer = await vigil.api('POST', '/api/v1/reports', tok.rex, report(RAFAH,
    '2025-06-12T09:00:00Z', 'B militia', { title: 'Air strike, newer (test)' }));
  v.older = (await violationOf(older.id)).id;
  v.newer = (await violationOf(newer.id)).id;
  v.olderReport = older.id;
  v.newerReport = newer.id;
  b = await openBrowser();
  await login(b.page, vigil.url, 'carol', PW.carol);
});

after(async () => {
  if (b) await b.close();
  if (vigil) await vigil.stop();
});

test('F5 keeps the user signed in, and the page can still write', async () => {
  const { page } = b;
  await page.goto(`${vigil.url}/#/reports`);
  await page.reload();
  await page.locator('#nav a', { hasText: 'Operations' }).waitFor();
  assert.match(await page.locator('#who').innerText(), /carol/);
  assert.equal(await page.getByRole('heading', { name: 'Sign in to Vigil' }).count(), 0);
  assert.match(page.url(), /#\/reports$/);
  // A write after the reload carries the CSRF token the page got back from /api/v1/me.
  await page.goto(`${vigil.url}/#/review`);
  await page.reload();
  const row = page.locator(`#violations-table tr[data-id="${v.newer}"]`);
  await row.getByLabel(`Reason for ${v.newer}`).fill('taking it');
  await row.getByRole('button', { name: 'under review', exact: true }).click();
  await page.getByText(`${v.newer}: reported → under_review.`).waitFor();
  // Signing out ends it: a reload then shows the sign-in form.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in to Vigil' }).waitFor();
  await page.reload();
  await page.getByRole('heading', { name: 'Sign in to Vigil' }).waitFor();
  await login(page, vigil.url, 'carol', PW.carol);
});

test('the form: zones on its map, parties as actors, UTC times; its report becomes a violation',
  async () => {
    const { page } = b;
    await page.goto(`${vigil.url}/#/new`);
    await page.locator('#form-map path.zone.zone-no-fire-area').waitFor();
    assert.equal(await page.locator('#form-map path.zone').count(), 2);
    await page.getByText(/2 agreement zones on the map/).waitFor();
    // "now" by default, in UTC; the labels say UTC.
    const start = await page.getByLabel('Start (UTC)').inputValue();
    const now = Date.now();
    const diff = Math.abs(Date.parse(`${start}:00Z`) - now);
    assert.ok(diff < 3 * 60e3, `start ${start} is now in UTC`);
    await page.getByText(/Coordinated Universal Time \(UTC\), not your local time/).waitFor();
    // The parties of the agreement are offered as actors.
    await page.locator('button.chip[data-party="Party A"]').click();
    assert.equal(await page.getByLabel('Actors (who acted)').inputValue(), 'Party A');
    await page.getByLabel('Targets (who or what was acted on)').fill('civilians, a school');
    await page.getByLabel('Event type (PLOVER)').selectOption('ASSAULT');
    await page.getByLabel('Mode').selectOption('aerial');
    await page.getByLabel('Start (UTC)').fill('2025-06-11T10:30');
    // A click inside a drawn zone still places the report (and names the zone).
    const zbox = await page.locator('#form-map path.zone.zone-no-fire-area').boundingBox();
    await page.mouse.click(zbox.x + zbox.width * 0.5, zbox.y + zbox.height * 0.5);
    await page.locator('.leaflet-popup-content .zone-popup').getByText('Rafah').waitFor();
    const lat = Number(await page.getByLabel('Latitude').inputValue());
    assert.ok(lat > 31.2 && lat < 31.4, `lat ${lat} in Rafah`);
    assert.equal(await page.locator('#form-map .pin.placed').count(), 1);
    await page.getByLabel('Latitude').fill(String(RAFAH.lat));
    await page.getByLabel('Longitude').fill(String(RAFAH.lon));
    await page.getByLabel('Marking').selectOption('green');
    await page.getByLabel('Title', { exact: true }).fill('Air strike from the form (test)');
    await page.getByRole('button', { name: 'Submit report' }).click();
    const ok = page.locator('.status.ok');
    await ok.getByText(/Report stored/).waitFor();
    const id = await ok.getAttribute('data-report-id');
    const stored = await vigil.api('GET', `/api/v1/reports/${id}`, tok.carol);
    assert.deepEqual(stored.actors, ['Party A']);
    assert.deepEqual(stored.targets, ['civilians', 'a school']);
    assert.equal(stored.start, '2025-06-11T10:30:00Z');
    const viol = await violationOf(id);
    assert.ok(viol, 'the form\'s report is a candidate violation');
    assert.equal(viol.party, 'Party A');
    assert.equal(viol.zone.name, 'Rafah');
    v.form = viol.id;
    // After submitting, the form is ready for the next one: start is now again.
    const again = await page.getByLabel('Start (UTC)').inputValue();
    assert.ok(Math.abs(Date.parse(`${again}:00Z`) - Date.now()) < 3 * 60e3);
  });

test('on a device far from UTC: "now" is UTC; my location, granted then refused', async () => {
  const profile = mkdtempSync(path.join(tmpdir(), 'vigil-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    viewport: { width: 1360, height: 900 }, locale: 'en-GB',
    timezoneId: 'Pacific/Kiritimati', // UTC+14
    geolocation: { latitude: 31.35, longitude: 34.31, accuracy: 40 },
    permissions: ['geolocation'],
  });
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.setDefaultTimeout(15000);
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await login(page, vigil.url, 'carol', PW.carol);
    await page.goto(`${vigil.url}/#/new`);
    const offset = await page.evaluate(() => new Date().getTimezoneOffset());
    assert.equal(offset, -840); // the device really is 14 hours ahead
    const start = await page.getByLabel('Start (UTC)').inputValue();
    assert.ok(Math.abs(Date.parse(`${start}:00Z`) - Date.now()) < 3 * 60e3, start);
    await page.getByText(/UTC \(your device: /).waitFor();
    await page.getByRole('button', { name: 'Use my location' }).click();
    await page.getByText(/Placed at your location \(±40 m\)/).waitFor();
    assert.equal(await page.getByLabel('Latitude').inputValue(), '31.35000');
    assert.equal(await page.getByLabel('Longitude').inputValue(), '34.31000');
    assert.equal(await page.getByLabel('Precision (metres)').inputValue(), '40');
    assert.equal(await page.locator('#form-map .pin.placed').count(), 1);
    // Refused: said so, nothing else changes, the form still works by hand.
    await context.clearPermissions();
    await page.getByLabel('Latitude').fill('');
    await page.getByRole('button', { name: 'Use my location' }).click();
    await page.getByText(/Your location is not available \(permission was refused\)/).waitFor();
    assert.equal(await page.getByLabel('Latitude').inputValue(), '');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

test('review queue: newest first, evidence links, history, opinions, filters', async () => {
  const { page } = b;
  await page.goto(`${vigil.url}/#/review`);
  await page.getByLabel('Status').selectOption('');
  await show(page, '#violations');
  await page.getByText('3 violations, newest first').waitFor();
  const order = await page.locator('#violations-table tbody tr[data-id]')
    .evaluateAll((rows) => rows.map((r) => r.dataset.id));
  assert.deepEqual(order, [v.newer, v.form, v.older]); // 06-12, 06-11, 06-10
  assert.match(await page.locator('#violations-table caption').innerText(),
    /newest first, what is shared with you/);
  // Evidence: a link to each report.
  const row = page.locator(`#violations-table tr[data-id="${v.older}"]`);
  const link = row.locator(`a.evidence-link[data-report="${v.olderReport}"]`);
  assert.equal(await link.getAttribute('href'), `#/reports?id=${v.olderReport}`);
  // Details: the evidence reports described, the history, the opinions; add one.
  await row.getByRole('button', { name: 'Details' }).click();
  const details = page.locator('.violation-details');
  await details.getByText('Air strike, older (test)').waitFor();
  await details.locator('.history li', { hasText: 'reported' }).first().waitFor();
  await details.getByText('No opinion yet.').waitFor();
  await details
    .getByText(/ASSAULT \/ aerial, 2025-06-10 08:00Z · Beta · TLP:GREEN · actors: A forces/)
    .waitFor();
  assert.doesNotMatch(await page.locator('main').innerText(), /\bnull\b|\[object /);
  await details.getByLabel('Your opinion').selectOption('strongly-agree');
  await details.getByLabel('Explanation').fill('our observers saw the strike');
  await details.getByRole('button', { name: 'Add opinion' }).click();
  await details.locator('.opinions li[data-opinion="strongly-agree"]',
    { hasText: 'our observers saw the strike' }).waitFor();
  const ops = (await vigil.api('GET', `/api/v1/violations/${v.older}/opinions`, tok.carol))
    .opinions;
  assert.deepEqual(ops.map((o) => [o.opinion, o.explanation]),
    [['strongly-agree', 'our observers saw the strike']]);
  // Filters: party, zone, dates (UTC days, both included).
  const shown = () => page.locator('#violations-table tbody tr[data-id]')
    .evaluateAll((rows) => rows.map((r) => r.dataset.id));
  await page.getByLabel('Party').selectOption('Party B');
  await show(page, '#violations');
  await page.getByText('1 violation, newest first').waitFor();
  assert.deepEqual(await shown(), [v.newer]);
  await page.getByLabel('Party').selectOption('');
  await page.getByLabel('Zone').selectOption('North Gaza buffer');
  await show(page, '#violations');
  await page.getByText('No violations match.').waitFor();
  await page.getByLabel('Zone').selectOption('Rafah');
  await page.getByLabel('From (UTC day)').fill('2025-06-10');
  await page.getByLabel('To (UTC day)').fill('2025-06-11');
  await show(page, '#violations');
  await page.getByText('2 violations, newest first').waitFor();
  assert.deepEqual(await shown(), [v.form, v.older]);
  // Following an evidence link opens that report's detail in the dashboard.
  await page.locator(`a.evidence-link[data-report="${v.olderReport}"]`).first()
    .evaluate((el) => el.click());
  const detail = page.locator('#report-detail');
  await detail.waitFor();
  assert.match(await detail.innerText(), /Air strike, older \(test\)/);
});

test('a slow answer to the first load never replaces the list asked for after it', async () => {
  const { page } = b;
  // The queue's first load (status "reported": 2 violations) is held back until the list
  // asked for next (all: 3) has been drawn; then it is let through.
  const first = (url) => url.pathname === '/api/v1/violations'
    && url.searchParams.get('status') === 'reported';
  let release;
  const drawn = new Promise((resolve) => { release = resolve; });
  await page.route(first, async (route) => {
    await drawn;
    await route.continue();
  });
  try {
    await page.goto(`${vigil.url}/#/operations`);
    await page.goto(`${vigil.url}/#/review`);
    await page.getByLabel('Status').selectOption('');
    await page.getByRole('button', { name: 'Show', exact: true }).click();
    await page.getByText('3 violations, newest first').waitFor();
    const late = page.waitForEvent('requestfinished', (req) => first(new URL(req.url())));
    release();
    await late;
    // The late answer has arrived; a view that drew it would do so within this pause.
    await page.waitForTimeout(500);
    assert.match(await page.locator('#violations-table caption').innerText(), /^3 violations/);
    assert.equal(await page.locator('#violations').getAttribute('aria-busy'), 'false');
  } finally {
    await page.unroute(first);
  }
});

test('a decision needs a reason: refused in the page, nothing changed', async () => {
  const { page } = b;
  await page.goto(`${vigil.url}/#/operations`); // a fresh queue, without the filters set above
  await page.goto(`${vigil.url}/#/review`);
  await page.getByLabel('Status').selectOption('under_review');
  await show(page, '#violations');
  const row = page.locator(`#violations-table tr[data-id="${v.newer}"]`);
  await row.waitFor();
  await row.getByRole('button', { name: 'confirmed', exact: true }).click();
  const reason = row.getByLabel(`Reason for ${v.newer}`);
  await row.getByText(/a decision needs a reason/).waitFor();
  assert.equal(await reason.getAttribute('aria-invalid'), 'true');
  await reason.fill('   ');
  await row.getByRole('button', { name: 'not confirmed', exact: true }).click();
  await page.getByText(`Not changed: ${v.newer} needs a reason to be not confirmed.`).waitFor();
  assert.equal((await vigil.api('GET', `/api/v1/violations/${v.newer}`, tok.carol)).status,
    'under_review');
  await reason.fill('imagery confirms it');
  await row.getByRole('button', { name: 'confirmed', exact: true }).click();
  await page.getByText(`${v.newer}: under_review → confirmed.`).waitFor();
  const stored = await vigil.api('GET', `/api/v1/violations/${v.newer}`, tok.carol);
  assert.equal(stored.status, 'confirmed');
  assert.equal(stored.history.at(-1).reason, 'imagery confirms it');
});

test('each role sees what it may do: no "New report" for a reader, no review for a reporter',
  async () => {
    const r = await openBrowser();
    try {
      await login(r.page, vigil.url, 'rita', PW.rita);
      const nav = await r.page.locator('#nav').innerText();
      assert.ok(!nav.includes('New report'), nav);
      assert.ok(nav.includes('Review queue'), nav);
      await r.page.goto(`${vigil.url}/#/new`); // typed by hand: not offered either
      await r.page.locator('#ops-map').waitFor();
      assert.equal(await r.page.getByRole('button', { name: 'Submit report' }).count(), 0);
      await r.page.goto(`${vigil.url}/#/review`);
      await r.page.getByLabel('Status').selectOption('');
      await show(r.page, '#violations');
      const row = r.page.locator(`#violations-table tr[data-id="${v.older}"]`);
      await row.waitFor();
      assert.equal(await r.page.locator('#violations-table button[data-to]').count(), 0);
      await row.getByRole('button', { name: 'Details' }).click();
      await r.page.locator('.violation-details .history').waitFor();
      assert.equal(await r.page.getByRole('button', { name: 'Add opinion' }).count(), 0);
      assert.deepEqual(r.problems, []);
    } finally {
      await r.close();
    }
    const x = await openBrowser();
    try {
      await login(x.page, vigil.url, 'rex', PW.rex);
      assert.ok((await x.page.locator('#nav').innerText()).includes('New report'));
      await x.page.goto(`${vigil.url}/#/review`);
      await x.page.getByText(/decisions are taken by the coordination center/).waitFor();
      await x.page.getByLabel('Status').selectOption('');
      await show(x.page, '#violations');
      const row = x.page.locator(`#violations-table tr[data-id="${v.older}"]`);
      await row.waitFor();
      assert.equal(await x.page.locator('#violations-table button[data-to]').count(), 0);
      assert.equal(await x.page.locator('#violations-table input.reason').count(), 0);
      await row.getByRole('button', { name: 'Details' }).click();
      await x.page.getByRole('button', { name: 'Add opinion' }).waitFor(); // a reporter may opine
      assert.deepEqual(x.problems, []);
    } finally {
      await x.close();
    }
  });

test('compliance opens where the data is, keeps the period in the address, counts live reports',
  async () => {
    const { page } = b;
    await page.goto(`${vigil.url}/#/operations`);
    await page.goto(`${vigil.url}/#/compliance`);
    const status = page.locator('#tally-status');
    await status.getByText(/^2025-06-10 to 2025-06-12: 3 violations, 1 confirmed/).waitFor();
    assert.match(page.url(), /#\/compliance\?from=2025-06-10&to=2025-06-12$/);
    await page.locator('h1 .shared-note').waitFor(); // counts differ between partners
    // F5: the same period, still signed in.
    await page.reload();
    await status.getByText(/^2025-06-10 to 2025-06-12: 3 violations/).waitFor();
    // Another period typed in goes into the address too.
    await page.getByLabel('From (UTC day)').fill('2025-06-11');
    await page.getByRole('button', { name: 'Show' }).click();
    await status.getByText(/^2025-06-11 to 2025-06-12: 2 violations/).waitFor();
    assert.match(page.url(), /#\/compliance\?from=2025-06-11&to=2025-06-12$/);
    await page.reload();
    await status.getByText(/^2025-06-11 to 2025-06-12: 2 violations/).waitFor();
    // "All data" goes back to the whole of it.
    await page.getByRole('button', { name: 'All data' }).click();
    await status.getByText(/^2025-06-10 to 2025-06-12: 3 violations/).waitFor();
    // A report arriving live is counted (here it makes a violation on 06-12).
    await vigil.api('POST', '/api/v1/reports', tok.rex, report(RAFAH, '2025-06-12T15:00:00Z',
      'A forces', { title: 'Arrived live (test)' }));
    await status.getByText(new RegExp('^2025-06-10 to 2025-06-12: 4 violations, 1 confirmed .*' +
      'Live: 1 report arrived since the page opened')).waitFor();
    assert.equal(await page.locator('#tally-tiles [data-tile="all"] .n').innerText(), '4');
  });

test('the daily report: linked, under its TLP banner, whose view it is, printable', async () => {
  const { page, context } = b;
  // An AMBER report (Beta's, no group: the coordination center reads it) on 06-12.
  await vigil.api('POST', '/api/v1/reports', tok.rex, report(RAFAH, '2025-06-12T16:00:00Z',
    'B militia', { marking: 'amber', title: 'Amber evidence (test)' }));
  await page.goto(`${vigil.url}/#/operations`);
  await page.goto(`${vigil.url}/#/compliance?from=2025-06-10&to=2025-06-12`);
  const link = page.locator('#daily-html');
  await link.waitFor();
  assert.equal(await page.getByLabel('Day (UTC)').inputValue(), '2025-06-12');
  const href = await link.getAttribute('href');
  assert.equal(href, '/api/v1/compliance/daily?date=2025-06-12');
  assert.equal(await link.getAttribute('target'), '_blank');
  const [daily] = await Promise.all([context.waitForEvent('page'), link.click()]);
  await daily.waitForLoadState();
  assert.match(await daily.title(), /^TLP:AMBER Daily compliance report 2025-06-12/);
  assert.equal(await daily.locator('.tlp.top').innerText(), 'TLP:AMBER');
  assert.equal(await daily.locator('.tlp.bottom').innerText(), 'TLP:AMBER');
  const view = await daily.locator('.view').innerText();
  assert.match(view, /The view of carol \(Coordination Center\)/);
  assert.match(view, /Generated \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
  // Print: the banner is on every page (fixed), the colours kept; Chromium prints a PDF.
  await daily.emulateMedia({ media: 'print' });
  assert.equal(await daily.locator('.tlp.top').evaluate((el) => getComputedStyle(el).position),
    'fixed');
  assert.equal(await daily.locator('.tlp.top').evaluate((el) =>
    getComputedStyle(el).printColorAdjust), 'exact');
  const pdf = await daily.pdf({ format: 'A4' });
  assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
  await daily.close();
  // A partner who cannot read the AMBER report gets a GREEN report, as its own view.
  const d = await vigil.api('GET', '/api/v1/compliance/daily?date=2025-06-12&format=json',
    tok.rita);
  assert.equal(d.marking, 'green');
  assert.deepEqual(d.view, { user: 'rita', partner: 'Alpha' });
});

test('no CSP violations, page errors or requests off this host', () => {
  assert.deepEqual(b.problems, []);
});
