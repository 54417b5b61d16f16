// The dashboard in a real browser (S9): sign-in, the offline basemap, the report form, the
// table, handling markings (S3) on every part of the page, right-to-left text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Vigil, openBrowser, login } from './harness.mjs';

const PW = { admin: 'admin-pass-1', alice: 'alice-pass-1' };
const AMBER_TITLE = 'Beta amber: convoy seen at the crossing';
const GREEN_TITLE = 'Beta green: shelling reported north';
const ARABIC_TITLE = 'قصف مدفعي على خان يونس';
let vigil;
let bobToken;
let opsGroups; // two groups named "ops", of Alpha and of Beta, the coordination center in both
let b; // the coordination center admin's browser

before(async () => {
  vigil = new Vigil();
  vigil.run('partner', 'add', 'Alpha');
  vigil.run('partner', 'add', 'Beta');
  vigil.user('Coordination Center', 'admin', 'admin', PW.admin);
  vigil.user('Alpha', 'alice', 'analyst', PW.alice);
  vigil.run('user', 'add', 'Beta', 'bob', '--role', 'analyst');
  bobToken = vigil.run('token', 'create', 'bob');
  opsGroups = ['Alpha', 'Beta'].map((o) => vigil.run('group', 'add', 'ops', 'Coordination Center',
    '--owner', o));
  await vigil.start();
  // Beta's reports: AMBER without a group (Beta and the coordination center may read it), and
  // GREEN (every partner may).
  await vigil.api('POST', '/api/v1/reports', bobToken, { event: 'MOBILIZE', mode: 'troops',
    start: '2025-03-17T08:00:00Z', location: { lat: 31.29, lon: 34.25, precision_m: 200 },
    marking: 'amber', reliability: 'B', credibility: 2, title: AMBER_TITLE });
  await vigil.api('POST', '/api/v1/reports', bobToken, { event: 'ASSAULT', mode: 'heavy-weapons',
    start: '2025-03-17T09:00:00Z', location: { lat: 31.53, lon: 34.49, precision_m: 500 },
    marking: 'green', reliability: 'C', credibility: 3, title: GREEN_TITLE });
  b = await openBrowser();
});

after(async () => {
  if (b) await b.close();
  if (vigil) await vigil.stop();
});

test('the page is public, the data is not: the login form comes first', async () => {
  const r = await fetch(`${vigil.url}/`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-security-policy'), /default-src 'self'/);
  assert.equal((await fetch(`${vigil.url}/api/v1/reports`)).status, 401);
  await b.page.goto(`${vigil.url}/#/reports`);
  await b.page.getByRole('heading', { name: 'Sign in to Vigil' }).waitFor();
  assert.equal(await b.page.locator('#reports-table').count(), 0);
});

test('a wrong password is refused with a message', async () => {
  await b.page.getByLabel('User name').fill('admin');
  await b.page.getByLabel('Password').fill('wrong');
  await b.page.getByRole('button', { name: 'Sign in' }).click();
  await b.page.getByText('Wrong user name or password.').waitFor();
});

test('log in: the nav shows the pages and the user', async () => {
  await login(b.page, vigil.url, 'admin', PW.admin);
  const nav = await b.page.locator('#nav').innerText();
  for (const p of ['Operations', 'New report', 'Reports', 'Admin', 'Audit']) {
    assert.ok(nav.includes(p), `${p} in nav: ${nav}`);
  }
  assert.match(await b.page.locator('#who').innerText(), /admin/);
});

test('the basemap: governorates and countries are SVG paths, attributed, no tiles', async () => {
  await b.page.goto(`${vigil.url}/#/operations`);
  await b.page.locator('#ops-map svg path.governorate').first().waitFor();
  assert.equal(await b.page.locator('#ops-map svg path.governorate').count(), 5);
  assert.ok(await b.page.locator('#ops-map svg path.country').count() > 0);
  assert.equal(await b.page.locator('#ops-map img.leaflet-tile').count(), 0);
  const attribution = await b.page.locator('#ops-map .leaflet-control-attribution').innerText();
  assert.match(attribution, /geoBoundaries/);
  assert.match(attribution, /CC BY 4\.0/);
  assert.match(attribution, /Natural Earth/);
});

test('the alert feed says "No alerts." while there is none', async () => {
  await b.page.locator('.feed').waitFor({ state: 'attached' });
  await b.page.getByText('No alerts.').waitFor();
  assert.equal(await b.page.locator('.feed').getAttribute('aria-live'), 'polite');
});

test('the form: client-side checks, then the server\'s reason next to its field', async () => {
  await b.page.goto(`${vigil.url}/#/new`);
  await b.page.getByRole('button', { name: 'Submit report' }).click();
  const eventErr = b.page.locator(`#${await b.page.getByLabel('Event type (PLOVER)').getAttribute('id')}-err`);
  assert.match(await eventErr.innerText(), /Choose an event type/);
  assert.equal(await b.page.getByLabel('Latitude').getAttribute('aria-invalid'), 'true');
  // A year the server refuses: its 400 names `start`, shown under Start.
  await b.page.getByLabel('Event type (PLOVER)').selectOption('ASSAULT');
  await b.page.getByLabel('Start (UTC)').fill('0999-03-18T02:00');
  await b.page.getByLabel('Latitude').fill('31.45');
  await b.page.getByLabel('Longitude').fill('34.4');
  await b.page.getByRole('button', { name: 'Submit report' }).click();
  const startId = await b.page.getByLabel('Start (UTC)').getAttribute('id');
  await b.page.locator(`#${startId}-err`).getByText(/start: outside the years/).waitFor();
  // Names are unique per owner only: two groups of one name are offered by their marking ids.
  const ops = b.page.getByLabel('Sharing group').locator('option', { hasText: 'ops' });
  await ops.first().waitFor({ state: 'attached' });
  assert.deepEqual((await ops.evaluateAll((o) => o.map((e) => e.value))).sort(),
    [...opsGroups].sort());
  // A group with GREEN is refused in the page, as the server refuses it (its name would reach
  // every partner): the reason is shown next to the group.
  await b.page.getByLabel('Start (UTC)').fill('2025-03-18T02:00');
  await b.page.getByLabel('Marking').selectOption('green');
  await b.page.getByLabel('Sharing group').selectOption(opsGroups[0]);
  await b.page.getByRole('button', { name: 'Submit report' }).click();
  const groupId = await b.page.getByLabel('Sharing group').getAttribute('id');
  await b.page.locator(`#${groupId}-err`).getByText(/A sharing group is for AMBER or RED/)
    .waitFor();
  await b.page.getByLabel('Sharing group').selectOption('');
});

test('submit a report by clicking the map; it is on the map and in the table', async () => {
  const { page } = b;
  await page.goto(`${vigil.url}/#/new`);
  await page.getByLabel('Event type (PLOVER)').selectOption('ASSAULT');
  await page.getByLabel('Mode').selectOption('aerial');
  await page.getByLabel('Warning of a planned event (future)').check();
  await page.getByLabel('Start (UTC)').fill('2025-03-18T02:00');
  await page.getByLabel('End (UTC)').fill('2025-03-18T03:30');
  await page.getByLabel('Marking').selectOption('green');
  await page.getByLabel('Title').fill('Planned air strike, Deir al-Balah');
  await page.getByLabel('Source reference').fill('liaison:T-1');
  const box = await page.locator('#form-map').boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  const lat = Number(await page.getByLabel('Latitude').inputValue());
  const lon = Number(await page.getByLabel('Longitude').inputValue());
  assert.ok(lat > 31.2 && lat < 31.6, `lat ${lat}`);
  assert.ok(lon > 34.2 && lon < 34.6, `lon ${lon}`);
  await page.getByRole('button', { name: 'Submit report' }).click();
  const ok = page.locator('.status.ok');
  await ok.getByText(/Report stored/).waitFor();
  const id = await ok.getAttribute('data-report-id');
  assert.match(id, /^report--/);
  const stored = await vigil.api('GET', `/api/v1/reports/${id}`, vigil.adminToken);
  assert.equal(stored.mode, 'aerial');
  assert.equal(stored.future, true);
  assert.equal(stored.end, '2025-03-18T03:30:00Z');

  await page.getByRole('link', { name: 'See it on the map' }).click();
  const pin = page.locator(`#ops-map .pin[data-id="${id}"]`);
  await pin.waitFor();
  assert.match(await pin.getAttribute('class'), /future/);
  assert.match(await pin.getAttribute('class'), /ev-ASSAULT/);
  await pin.click();
  const popup = page.locator('.leaflet-popup-content');
  await popup.getByText('Planned air strike, Deir al-Balah').waitFor();
  const text = await popup.innerText();
  assert.match(text, /ASSAULT \/ aerial/);
  assert.match(text, /liaison:T-1/);
  assert.match(text, /Coordination Center/);
  assert.match(text, /TLP:GREEN/);

  await page.goto(`${vigil.url}/#/reports`);
  await page.locator(`#reports-table tr[data-id="${id}"]`).waitFor();
});

test('the reports table: search, sort', async () => {
  const { page } = b;
  await page.getByLabel('Search title and description').fill('air strike');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText('Page 1: 1 report.').waitFor();
  await page.getByLabel('Search title and description').fill('');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText('Page 1: 3 reports.').waitFor();
  await page.locator('button.sort[data-key="title"]').click();
  // sorted on the server: the caption changes when the sorted page has arrived
  await page.locator('#reports-table caption', { hasText: 'sorted by Title (ascending)' }).waitFor();
  const titles = await page.locator('#reports-table tbody tr td:nth-child(5)').allInnerTexts();
  assert.deepEqual(titles, titles.slice().sort((x, y) => x.localeCompare(y)));
  assert.equal(await page.locator('th[aria-sort="ascending"]').count(), 1);
});

test('an Arabic title renders right to left (dir=auto) in the table and the popup', async () => {
  const r = await vigil.api('POST', '/api/v1/reports', vigil.adminToken, { event: 'ASSAULT',
    mode: 'heavy-weapons', start: '2025-03-19T10:00:00Z', marking: 'green',
    location: { lat: 31.34, lon: 34.30 }, title: ARABIC_TITLE });
  const { page } = b;
  await page.goto(`${vigil.url}/#/operations`);
  await page.goto(`${vigil.url}/#/reports`);
  const cell = page.locator(`#reports-table tr[data-id="${r.id}"] td`, { hasText: ARABIC_TITLE });
  await cell.waitFor();
  assert.equal(await cell.getAttribute('dir'), 'auto');
  assert.equal(await cell.evaluate((el) => getComputedStyle(el).direction), 'rtl');
  await page.goto(`${vigil.url}/#/operations`);
  await page.locator(`#ops-map .pin[data-id="${r.id}"]`).click();
  const h = page.locator('.leaflet-popup-content h3');
  await h.waitFor();
  assert.equal(await h.innerText(), ARABIC_TITLE);
  assert.equal(await h.evaluate((el) => getComputedStyle(el).direction), 'rtl');
});

test('a partner without rights sees no trace of an AMBER report anywhere', async () => {
  // The coordination center does read it (so the page could show it)...
  await b.page.goto(`${vigil.url}/#/operations`);
  await b.page.goto(`${vigil.url}/#/reports`);
  await b.page.getByText(AMBER_TITLE).first().waitFor();
  // ...Alpha's analyst does not: not on the map, the list, the table or the exports.
  const a = await openBrowser();
  try {
    await login(a.page, vigil.url, 'alice', PW.alice);
    await a.page.goto(`${vigil.url}/#/operations`);
    await a.page.getByText(/reports? on the map\./).waitFor();
    await a.page.getByText(GREEN_TITLE).first().waitFor(); // the control: GREEN is there
    let html = await a.page.content();
    assert.ok(!html.includes(AMBER_TITLE), 'AMBER title on the operations page');
    const pins = await a.page.locator('#ops-map .pin[data-id]').count();
    const list = await a.page.locator('.report-list li').count();
    assert.equal(list, 3); // GREEN from Beta, the form's report, the Arabic one
    assert.ok(pins <= list);
    await a.page.goto(`${vigil.url}/#/reports`);
    await a.page.getByText(/Page 1: \d+ reports?\./).waitFor();
    html = await a.page.content();
    assert.ok(!html.includes(AMBER_TITLE), 'AMBER title in the reports table');
    assert.equal(await a.page.locator('#reports-table tbody tr[data-id]').count(), 3);
    const [download] = await Promise.all([a.page.waitForEvent('download'),
      a.page.getByRole('button', { name: 'Export CSV' }).click()]);
    const csv = await (await import('node:fs/promises')).readFile(await download.path(), 'utf8');
    assert.ok(csv.includes(GREEN_TITLE));
    assert.ok(!csv.includes(AMBER_TITLE), 'AMBER title in the CSV export');
    assert.equal(await a.page.locator('#nav a', { hasText: 'Admin' }).count(), 0);
    assert.deepEqual(a.problems, []);
  } finally {
    await a.close();
  }
});

test('admin pages: create a token, see it listed, revoke it; a sharing group made and changed; disable a user', async () => {
  const { page } = b;
  page.on('dialog', (d) => d.accept());
  await page.goto(`${vigil.url}/#/admin`);
  const tokens = page.locator('#tokens');
  await tokens.getByLabel('User', { exact: true }).fill('alice');
  await tokens.getByLabel('Label').fill('browser-test');
  await tokens.getByRole('button', { name: 'Add' }).click();
  await tokens.locator('code.token').waitFor();
  assert.match(await tokens.locator('code.token').innerText(), /^vgl_/);
  const row = tokens.locator('tr', { hasText: 'browser-test' });
  await row.getByRole('button', { name: /Revoke/ }).click();
  await row.getByText('revoked').waitFor();
  const groups = page.locator('#groups');
  await groups.getByLabel('Group name').fill('ops-cell');
  await groups.getByLabel('Members', { exact: true }).fill('Alpha, Beta');
  await groups.getByRole('button', { name: 'Add', exact: true }).click();
  await groups.locator('td[data-label="Name"]', { hasText: 'ops-cell' }).waitFor();
  // Beta is taken out of it: the table and the server say so.
  const cell = groups.locator('tr', { hasText: 'ops-cell' });
  await cell.getByLabel('Members to add to or take out of ops-cell').fill('Beta');
  await cell.getByRole('button', { name: 'Take out members of ops-cell' }).click();
  await groups.getByText('ops-cell: took out Beta.').waitFor();
  await groups.locator('tr', { hasText: 'ops-cell' }).locator('td[data-label="Members"]',
    { hasText: /^Alpha$/ }).waitFor();
  const opsCell = (await vigil.api('GET', '/api/v1/groups', vigil.adminToken)).groups
    .find((g) => g.name === 'ops-cell');
  assert.deepEqual(opsCell.members, ['Alpha']);
  // Alpha's own group: the hub's admin may take members out of it, not add any.
  const alphas = groups.locator('tr', { hasText: opsGroups[0] });
  assert.equal(await alphas.getByRole('button', { name: 'Take out members of ops' }).count(), 1);
  assert.equal(await alphas.getByRole('button', { name: 'Add members to ops' }).count(), 0);
  // bob has left Beta: disabled, his token is refused; enabled again, it works.
  const bob = page.locator('#users tr', { hasText: 'bob' });
  await bob.getByRole('button', { name: 'Disable user bob' }).click();
  await bob.getByRole('button', { name: 'Enable user bob' }).waitFor();
  await assert.rejects(vigil.api('GET', '/api/v1/me', bobToken), /401/);
  await bob.getByRole('button', { name: 'Enable user bob' }).click();
  await bob.getByRole('button', { name: 'Disable user bob' }).waitFor();
  assert.equal((await vigil.api('GET', '/api/v1/me', bobToken)).user, 'bob');
  assert.equal(await page.locator('#users tr', { hasText: 'admin' }).first()
    .getByRole('button', { name: /able user admin/ }).count(), 0);
  await page.goto(`${vigil.url}/#/audit`);
  await page.locator('#audit-table tbody tr').first().waitFor();
});

test('keyboard: a skip link, the nav and the map markers are reached with Tab', async () => {
  const { page } = b;
  const active = () => page.evaluate(() => {
    const el = document.activeElement;
    if (el.closest('#nav')) return 'nav';
    if (el.classList.contains('leaflet-marker-icon')) return 'marker';
    return el.id || el.tagName;
  });
  await page.goto(`${vigil.url}/#/operations`);
  await page.locator('#ops-map .pin[data-id]').first().waitFor();
  await page.locator('.brand').click(); // sets the focus navigation starting point
  await page.keyboard.press('Tab');
  assert.equal(await active(), 'nav');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none'); // focus is visible
  await page.locator('.brand').click();
  await page.keyboard.press('Shift+Tab');
  assert.equal(await active(), 'skip');
  await page.keyboard.press('Enter');
  assert.equal(await active(), 'main');
  const reached = new Set();
  for (let i = 0; i < 40 && !reached.has('marker'); i++) {
    await page.keyboard.press('Tab');
    reached.add(await active());
  }
  assert.ok(reached.has('marker'), [...reached].join(','));
  await page.keyboard.press('Enter'); // a focused marker opens its popup
  await page.locator('.leaflet-popup-content h3').waitFor();
});

test('no CSP violations, page errors or requests off this host in the whole session', () => {
  assert.deepEqual(b.problems, []);
});
