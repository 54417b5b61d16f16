// The operations picture against the real alert and compliance services (S7, S8, S9): the
// agreement's zones on the map, an alert raised by two partners' reports arriving live in the
// feed and on the map (and acknowledged from its popup), and a candidate violation confirmed
// through the review queue changing the compliance tallies.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Vigil, openBrowser, login, GOV, RAFAH } from './harness.mjs';

const AGREEMENT = {
  name: 'Browser-test ceasefire (SYNTHETIC, ILLUSTRATIVE zones)',
  description: 'A synthetic agreement for the browser tests; not a real text.',
  effective: '2025-01-01T00:00:00Z',
  marking: 'green',
  parties: [{ name: 'Party A', aliases: ['A forces'] }, { name: 'Party B', aliases: ['B militia'] }],
  phases: [{ name: 'Phase 1', start: '2025-01-01T00:00:00Z', deadline: '2025-02-01T00:00:00Z' }],
  zones: [
    { name: 'Rafah', kind: 'no-fire-area', geometry: GOV.Rafah,
      terms: [{ party: '*', prohibited: ['ASSAULT', 'COERCE'] }] },
    { name: 'North Gaza buffer', kind: 'buffer-zone', geometry: GOV['North Gaza'].geometry,
      terms: [{ party: 'Party B', prohibited: ['ASSAULT'] }] },
    { name: 'Withdrawal line', kind: 'withdrawal-line', distance_m: 1000,
      geometry: { type: 'LineString', coordinates: [[34.40, 31.40], [34.45, 31.45]] },
      terms: [{ party: 'Party A', prohibited: [{ event: 'MOBILIZE', modes: ['troops'] }],
        phase: 'Phase 1', when: 'after-deadline' }] },
    { name: 'Post 4', kind: 'monitoring-post', distance_m: 500,
      geometry: { type: 'Point', coordinates: [34.33, 31.36] },
      terms: [{ party: '*', prohibited: ['ASSAULT'] }] },
  ],
};

const PW = { carol: 'carol-pass-1' };
let vigil;
let tok; // API tokens: carol (coordination-center analyst), alice (Alpha), bob (Beta)
let b;

before(async () => {
  vigil = new Vigil();
  vigil.run('partner', 'add', 'Alpha');
  vigil.run('partner', 'add', 'Beta');
  tok = {
    carol: vigil.user('Coordination Center', 'carol', 'analyst', PW.carol),
    alice: (vigil.run('user', 'add', 'Alpha', 'alice', '--role', 'analyst'),
    vigil.run('token', 'create', 'alice')),
    bob: (vigil.run('user', 'add', 'Beta', 'bob', '--role', 'analyst'),
    vigil.run('token', 'create', 'bob')),
  };
  await vigil.start();
  b = await openBrowser();
  await login(b.page, vigil.url, 'carol', PW.carol);
});

after(async () => {
  if (b) await b.close();
  if (vigil) await vigil.stop();
});

test('before any agreement or alert: no zones, "No alerts."', async () => {
  const { page } = b;
  await page.goto(`${vigil.url}/#/operations`);
  await page.getByText('No alerts.').waitFor();
  await page.getByText('No agreement zones.').waitFor();
  assert.equal(await page.locator('#ops-map path.zone').count(), 0);
  assert.equal(await page.getByText(/not available/).count(), 0);
});

test('zones are on the map after an agreement is loaded, styled by kind, with a legend', async () => {
  const got = await vigil.api('POST', '/api/v1/agreements', tok.carol, AGREEMENT);
  assert.match(got.id, /^grouping--/);
  const { page } = b;
  await page.goto(`${vigil.url}/#/reports`);
  await page.goto(`${vigil.url}/#/operations`);
  await page.getByText('4 zones of 1 agreement (illustrative).').waitFor();
  const map = page.locator('#ops-map');
  for (const kind of ['no-fire-area', 'buffer-zone', 'withdrawal-line', 'monitoring-post']) {
    assert.equal(await map.locator(`path.zone.zone-${kind}`).count(), 1, kind);
  }
  assert.equal(await map.locator('path.zone.illustrative').count(), 4);
  assert.equal(await map.locator('path.zone-band').count(), 1); // the line's 1 km band
  // Different kinds are drawn differently.
  const stroke = (k) => map.locator(`path.zone.zone-${k}`).first().getAttribute('stroke');
  assert.notEqual(await stroke('no-fire-area'), await stroke('buffer-zone'));
  assert.equal(await map.locator('path.zone.zone-withdrawal-line').getAttribute('stroke-dasharray'),
    '10 6');
  const legend = map.locator('.zone-legend');
  assert.match(await legend.innerText(), /Agreement zones \(4\)/);
  for (const label of ['No-fire area', 'Buffer zone', 'Withdrawal line', 'Monitoring post']) {
    await legend.getByText(label).waitFor();
  }
  await legend.getByText(/ILLUSTRATIVE/).waitFor();
  // A zone's popup: its name, kind, agreement and terms, marked illustrative.
  await map.locator('path.zone.zone-monitoring-post').click({ force: true });
  const popup = page.locator('.leaflet-popup-content .zone-popup');
  await popup.getByText('Post 4').waitFor();
  const text = await popup.innerText();
  assert.match(text, /ILLUSTRATIVE/);
  assert.match(text, /Monitoring post/);
  assert.match(text, /500 m/);
  // The legend's checkbox hides and shows them.
  await legend.getByLabel(/Agreement zones/).uncheck();
  assert.equal(await map.locator('path.zone').count(), 0);
  await legend.getByLabel(/Agreement zones/).check();
  assert.equal(await map.locator('path.zone').count(), 4);
});

test('an alert arrives live: feed and map, no reload; acknowledged from its popup', async () => {
  const { page } = b;
  await page.goto(`${vigil.url}/#/reports`);
  await page.goto(`${vigil.url}/#/operations`);
  await page.getByText('No alerts.').waitFor();
  await page.evaluate(() => { window.__sameDocument = true; });
  // Partner A's warning of a planned attack; partner B's troops 1.5 km away within 24 h.
  const warning = await vigil.api('POST', '/api/v1/reports', tok.alice, { event: 'ASSAULT',
    future: true, start: '2025-10-14T18:00:00Z', end: '2025-10-14T22:00:00Z',
    location: { lat: 31.52, lon: 34.45, precision_m: 1000 }, marking: 'green', reliability: 'B',
    credibility: 3, targets: ['civilians'], title: 'Planned attack on a shelter (test)' });
  await page.waitForTimeout(500);
  assert.equal(await page.locator('.feed li').count(), 0); // one source only: no alert
  const movement = await vigil.api('POST', '/api/v1/reports', tok.bob, { event: 'MOBILIZE',
    mode: 'troops', start: '2025-10-14T09:00:00Z', end: '2025-10-14T10:00:00Z',
    location: { lat: 31.53, lon: 34.46, precision_m: 500 }, marking: 'green', reliability: 'C',
    credibility: 3, title: 'Troops massing (test)' });

  const item = page.locator('.feed li.alert');
  await item.waitFor();
  assert.equal(await item.count(), 1);
  const id = await item.getAttribute('data-id');
  const [alert] = (await vigil.api('GET', '/api/v1/alerts', tok.carol)).alerts;
  assert.equal(String(alert.id), id);
  assert.equal(alert.rule, 'planned-attack-corroborated');
  const feedText = await item.innerText();
  assert.match(feedText, /HIGH/);
  assert.match(feedText, /new/);
  assert.match(feedText, /planned-attack-corroborated/);
  assert.equal(await page.getByText('No alerts.').count(), 0);
  // The reports arrived on the stream too.
  await page.locator(`.report-list li[data-id="${movement.id}"]`).waitFor();

  // On the map: a triangle (not a report pin) where the alert is.
  const pin = page.locator(`#ops-map .alert-pin[data-alert-id="${id}"]`);
  await pin.waitFor();
  assert.match(await pin.getAttribute('class'), /sev-high/);
  assert.equal(await page.evaluate(() => window.__sameDocument), true); // never reloaded
  await item.locator('button.alert-title').click(); // the feed shows it on the map
  const popup = page.locator('.leaflet-popup-content .alert-popup');
  await popup.waitFor();
  let text = await popup.innerText();
  assert.match(text, /HIGH alert/);
  assert.match(text, /Rule\s+planned-attack-corroborated/);
  assert.match(text, /Severity\s+high/);
  assert.match(text, /Status\s+new/);
  assert.match(text, new RegExp(`Confidence\\s+${alert.confidence}%`));
  assert.match(text, /Window\s+2025-10-14 \d\d:\d\dZ – 2025-10-14 \d\d:\d\dZ/);
  assert.match(text, /Evidence \(2 reports/);
  for (const r of [warning.id, movement.id]) {
    await popup.locator(`.evidence li[data-report="${r}"]`).waitFor();
  }
  await popup.getByText(/Planned attack on a shelter \(test\)/).waitFor();

  // Acknowledge: the popup, the marker and the feed item change in place.
  await popup.getByRole('button', { name: 'Acknowledge' }).click();
  await page.locator(`.feed li[data-id="${id}"][data-status="acknowledged"]`).waitFor();
  await popup.getByText(/Status\s*acknowledged/).waitFor();
  await popup.getByRole('button', { name: 'Resolve' }).waitFor();
  assert.match(await pin.getAttribute('class'), /st-acknowledged/);
  assert.equal(await page.locator('.feed li.alert').count(), 1);
  assert.equal((await vigil.api('GET', `/api/v1/alerts/${id}`, tok.carol)).status, 'acknowledged');

  // A change made elsewhere (over the API) arrives on the stream and updates the same item.
  await vigil.api('POST', `/api/v1/alerts/${id}/status`, tok.carol, { status: 'resolved' });
  await page.locator(`.feed li[data-id="${id}"][data-status="resolved"]`).waitFor();
  assert.equal(await page.locator('.feed li.alert').count(), 1);
  await popup.getByText(/Status\s*resolved/).waitFor();
  // no status change left to make (the triage, assignee and comments, stays open)
  assert.equal(await popup.locator('button[data-to]').count(), 0);
  text = await popup.innerText();
  assert.doesNotMatch(text, /Not changed/);
  assert.equal(await page.evaluate(() => window.__sameDocument), true);
});

test('a reporter-only view: no status buttons for a partner who may not change alerts', async () => {
  vigil.run('user', 'add', 'Beta', 'dave', '--role', 'reporter');
  vigil.run('user', 'passwd', 'dave', { input: 'dave-pass-1\n' });
  const d = await openBrowser();
  try {
    await login(d.page, vigil.url, 'dave', 'dave-pass-1');
    await d.page.goto(`${vigil.url}/#/operations`);
    const pin = d.page.locator('#ops-map .alert-pin').first();
    await pin.waitFor();
    await pin.click();
    const popup = d.page.locator('.leaflet-popup-content .alert-popup');
    await popup.waitFor();
    assert.equal(await popup.getByRole('button').count(), 0);
    assert.deepEqual(d.problems, []);
  } finally {
    await d.close();
  }
});

test('confirm a violation in the review queue; the confirmed tally changes', async () => {
  const { page } = b;
  // An observed attack by Party A in the Rafah no-fire area: a candidate violation.
  const r = await vigil.api('POST', '/api/v1/reports', tok.bob, { event: 'ASSAULT',
    mode: 'aerial', start: '2025-06-10T08:00:00Z', location: RAFAH, actors: ['A forces'],
    marking: 'green', reliability: 'B', credibility: 2, title: 'Air strike in Rafah (test)' });
  const [v] = (await vigil.api('GET', '/api/v1/violations', tok.carol)).violations
    .filter((x) => x.report === r.id);
  assert.ok(v, 'a candidate violation');
  assert.equal(v.status, 'reported');

  const showTallies = async () => {
    await page.goto(`${vigil.url}/#/compliance`);
    await page.getByLabel('From').fill('2025-06-01');
    await page.getByLabel('To').fill('2025-06-30');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByText(/2025-06-01 to 2025-06-30:/).waitFor();
    await page.locator('#tally-tiles').waitFor();
  };
  await showTallies();
  const confirmedTile = page.locator('#tally-tiles [data-tile="confirmed"] .n');
  assert.equal(await page.locator('#tally-tiles [data-tile="all"] .n').innerText(), '1');
  assert.equal(await confirmedTile.innerText(), '0');
  assert.match(await page.locator('.status').first().innerText(), /1 violation, 0 confirmed/);

  await page.goto(`${vigil.url}/#/review`);
  let row = page.locator(`#violations-table tr[data-id="${v.id}"]`);
  await row.waitFor();
  assert.match(await row.innerText(), /Party A/);
  assert.match(await row.innerText(), /Rafah \(no-fire-area\)/);
  await row.getByLabel(`Reason for ${v.id}`).fill('two sources; checking imagery');
  await row.getByRole('button', { name: 'under review', exact: true }).click();
  await page.getByText(`${v.id}: reported → under_review.`).waitFor();
  await page.getByLabel('Status').selectOption('under_review');
  await page.getByRole('button', { name: 'Show' }).click();
  row = page.locator(`#violations-table tr[data-id="${v.id}"]`);
  await row.getByText('under review', { exact: true }).waitFor();
  await row.getByLabel(`Reason for ${v.id}`).fill('imagery confirms the strike');
  await row.getByRole('button', { name: 'confirmed', exact: true }).click();
  await page.getByText(`${v.id}: under_review → confirmed.`).waitFor();

  const stored = await vigil.api('GET', `/api/v1/violations/${v.id}`, tok.carol);
  assert.equal(stored.status, 'confirmed');
  assert.deepEqual(stored.history.slice(1).map((s) => [s.to, s.reason, s.by]), [
    ['under_review', 'two sources; checking imagery', 'carol'],
    ['confirmed', 'imagery confirms the strike', 'carol']]);

  await showTallies();
  await page.getByText(/1 violation, 1 confirmed/).waitFor();
  assert.equal(await confirmedTile.innerText(), '1');
  const byParty = page.locator('table.data', { hasText: 'By party' });
  assert.match(await byParty.locator('tbody tr', { hasText: 'Party A' }).innerText(),
    /Party A\s+1\s+1/);
  await page.locator('.chart .uplot').waitFor();
});

test('no CSP violations, page errors or requests off this host', () => {
  assert.deepEqual(b.problems, []);
});
