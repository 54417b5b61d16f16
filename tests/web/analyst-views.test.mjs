// The analyst's day (issue #23, items 3, 5, 6, 9, 10) in a real browser: alerts filtered and
// explained (why, fired at, evidence links and markings), acknowledged with who and when,
// assigned and commented for the partner only; the operations map's filters, timeline and
// clusters; the reports table sorted over every result with a total, filters, detail and
// exports of the applied filters; admin and audit with names; a phone's layout; and the note
// that counts are what is shared with the reader.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Vigil, openBrowser, login } from './harness.mjs';

const PW = { carol: 'carol-pass-1', alice: 'alice-pass-1', admin: 'admin-pass-1' };
let vigil;
let tok;
let b; // carol, the coordination center's analyst
let alertId;
let warningId;

const day = (i) => `2025-09-${String(1 + (i % 28)).padStart(2, '0')}T08:00:00Z`;

before(async () => {
  vigil = new Vigil();
  vigil.run('partner', 'add', 'Alpha');
  vigil.run('partner', 'add', 'Beta');
  tok = {
    carol: vigil.user('Coordination Center', 'carol', 'analyst', PW.carol),
    alice: vigil.user('Alpha', 'alice', 'analyst', PW.alice),
    admin: vigil.user('Coordination Center', 'admin', 'admin', PW.admin),
    bob: (vigil.run('user', 'add', 'Beta', 'bob', '--role', 'analyst'),
    vigil.run('token', 'create', 'bob')),
  };
  await vigil.start();
  // 56 GREEN reports by Beta, more than a page of 50, in September, by two parties; their titles
  // in an order unrelated to time. The alphabetically first ("Aardvark") is the oldest.
  for (let i = 0; i < 56; i++) {
    await vigil.api('POST', '/api/v1/reports', tok.bob, { event: i % 3 ? 'ASSAULT' : 'COERCE',
      mode: i % 3 ? 'aerial' : 'arrest', start: i === 0 ? '2025-08-01T08:00:00Z' : day(i),
      location: { lat: 31.30 + (i % 4) * 0.002, lon: 34.26 + (i % 4) * 0.002, precision_m: 100 },
      actors: [i % 2 ? 'Party A' : 'Party B'], marking: i === 5 ? 'amber' : 'green',
      reliability: 'C', credibility: 3,
      title: i === 0 ? 'Aardvark seen near the fence' : `Report ${String(99 - i).padStart(3, '0')}` });
  }
  // Alpha's warning and Beta's movement raise planned-attack-corroborated (GREEN).
  warningId = (await vigil.api('POST', '/api/v1/reports', tok.alice, { event: 'ASSAULT',
    future: true, start: '2025-10-14T18:00:00Z', end: '2025-10-14T22:00:00Z',
    location: { lat: 31.52, lon: 34.45, precision_m: 1000 }, marking: 'green', reliability: 'B',
    credibility: 3, targets: ['civilians'], title: 'Planned attack on a shelter (test)' })).id;
  await vigil.api('POST', '/api/v1/reports', tok.bob, { event: 'MOBILIZE', mode: 'troops',
    start: '2025-10-14T09:00:00Z', end: '2025-10-14T10:00:00Z',
    location: { lat: 31.53, lon: 34.46, precision_m: 500 }, marking: 'green', reliability: 'C',
    credibility: 3, title: 'Troops massing (test)' });
  for (let i = 0; i < 50; i++) {
    const { alerts } = await vigil.api('GET', '/api/v1/alerts', tok.carol);
    if (alerts.length) {
      alertId = alerts[0].id;
      break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(alertId, 'the alert was raised');
  b = await openBrowser();
  b.page.setDefaultTimeout(30000); // a shared, loaded machine: generous upper bounds to wait
  await login(b.page, vigil.url, 'carol', PW.carol);
});

after(async () => {
  if (b) await b.close();
  if (vigil) await vigil.stop();
});

// The map pans (animated) to show a popup it opens: a pointer click given while it moves may
// land beside the button (on the map, which closes the popup). Wait for it to be still.
async function mapStill(page) {
  await page.waitForFunction(() => !document.querySelector('.leaflet-pan-anim'));
}

async function openAlert(page) {
  await page.locator(`.feed li[data-id="${alertId}"] button.alert-title`).click();
  const popup = page.locator('.leaflet-popup-content .alert-popup');
  await popup.waitFor();
  await mapStill(page);
  return popup;
}

test('alerts: the feed filters by severity, status and date on the server', async () => {
  const { page } = b;
  await page.goto(`${vigil.url}/#/operations`);
  const item = page.locator(`.feed li[data-id="${alertId}"]`);
  await item.waitFor();
  await page.getByLabel('Severity at least').selectOption('critical');
  await page.getByText('No alerts match the filters.').waitFor();
  assert.equal(await page.locator('.feed li').count(), 0);
  assert.equal(await page.locator('#ops-map .alert-pin').count(), 0);
  await page.getByLabel('Severity at least').selectOption('high');
  await item.waitFor();
  await page.getByLabel('Status').selectOption('acknowledged');
  await page.getByText('No alerts match the filters.').waitFor();
  await page.getByLabel('Status').selectOption('new');
  await item.waitFor();
  await page.getByLabel('Alerts from').fill('2025-11-01');
  await page.getByLabel('Alerts from').dispatchEvent('change');
  await page.getByText('No alerts match the filters.').waitFor();
  await page.getByLabel('Alerts from').fill('2025-10-01');
  await page.getByLabel('Alerts from').dispatchEvent('change');
  await item.waitFor();
  await page.getByLabel('Status').selectOption('');
  await page.getByLabel('Alerts from').fill('');
  await page.getByLabel('Alerts from').dispatchEvent('change');
  await item.waitFor();
});

test('alerts: the popup explains why it fired, when in event time, on what marked evidence',
  async () => {
    const { page } = b;
    const popup = await openAlert(page);
    const text = await popup.innerText();
    assert.match(text, /Why it fired/);
    assert.match(text, /Fires on a warning \(future\) of ASSAULT when .*MOBILIZE.*5 km/);
    assert.match(text, /2 reports you may read, from 2 partners, 1 warning/);
    assert.match(text, /Fired at\s+2025-10-14 \d\d:\d\dZ \(event time\)/);
    assert.match(text, /Marking\s+TLP:GREEN/);
    // Evidence titles are links to the reports, each with its marking.
    const link = popup.locator(`.evidence li[data-report="${warningId}"] a`);
    assert.equal(await link.getAttribute('href'), `#/reports?id=${encodeURIComponent(warningId)}`);
    await popup.locator(`.evidence li[data-report="${warningId}"] .marking`, { hasText: 'TLP:GREEN' })
      .waitFor();
  });

// The popup is redrawn while open (the answer to each change, and its event on the stream):
// it keeps its form, so the fill and click below land whenever the redraws come.
test('alerts: acknowledging records who and when; assignee and comments are the partner\'s own',
  async () => {
    const { page } = b;
    let popup = await openAlert(page);
    await popup.getByRole('button', { name: 'Acknowledge' }).click();
    await popup.getByText(/Status\s*acknowledged by carol, 20\d\d-/).waitFor();
    await popup.getByRole('button', { name: 'Assign to me' }).click();
    await popup.getByText(/Assignee\s*carol/).waitFor();
    await popup.getByLabel('Comment').fill('Asked the field team to check the shelter');
    await popup.getByRole('button', { name: 'Add comment' }).click();
    await popup.getByText('Asked the field team to check the shelter').waitFor();
    const stored = await vigil.api('GET', `/api/v1/alerts/${alertId}`, tok.carol);
    assert.equal(stored.triage.assignee, 'carol');
    assert.equal(stored.triage.status_by, 'carol');
    // Alpha's analyst sees the status, not who of the coordination center set it, nor its triage.
    const a = await openBrowser();
    try {
      a.page.setDefaultTimeout(30000);
      await login(a.page, vigil.url, 'alice', PW.alice);
      await a.page.goto(`${vigil.url}/#/operations`);
      await a.page.locator(`.feed li[data-id="${alertId}"]`).waitFor();
      popup = await openAlert(a.page);
      const text = await popup.innerText();
      assert.match(text, /Status\s*acknowledged by another partner/);
      assert.match(text, /Assignee\s*nobody/);
      assert.doesNotMatch(text, /field team|carol/);
      assert.ok(!(await a.page.content()).includes('field team'));
      assert.deepEqual(a.problems, []);
    } finally {
      await a.close();
    }
    // The evidence link opens the report's detail.
    popup = await openAlert(page);
    // (a DOM click: the popup may still be panning into view under a pointer click)
    await popup.locator(`.evidence li[data-report="${warningId}"] a`).evaluate((el) => el.click());
    const detail = page.locator('#report-detail');
    await detail.waitFor();
    assert.match(await detail.innerText(), /Planned attack on a shelter \(test\)/);
    assert.match(await detail.innerText(), /TLP:GREEN/);
  });

// The popup is redrawn when another user changes the alert (its event on the live stream):
// the comment being typed stays, with the focus, and is sent by the same button.
test('alerts: a comment being typed survives a redraw of the popup by another user\'s change',
  async () => {
    const { page } = b;
    await page.goto(`${vigil.url}/#/operations`);
    const popup = await openAlert(page);
    await popup.getByText(/Status\s*acknowledged by carol/).waitFor();
    const box = popup.getByLabel('Comment');
    const send = popup.getByRole('button', { name: 'Add comment' });
    const sendEl = await send.elementHandle();
    await box.fill('Typed while admin resolves it');
    // The element itself (not only one like it) must survive: mark it.
    await box.evaluate((el) => { el.dataset.mark = 'typed-here'; });
    const resolved = await vigil.api('POST', `/api/v1/alerts/${alertId}/status`, tok.admin,
      { status: 'resolved' });
    assert.equal(resolved.status, 'resolved');
    // The stream brings admin's change into the open popup: its status and buttons change ...
    await popup.getByText(/Status\s*resolved by admin, 20\d\d-/).waitFor();
    assert.equal(await popup.getByRole('button', { name: 'Acknowledge' }).count(), 0);
    assert.equal(await popup.getByRole('button', { name: 'Resolve' }).count(), 0);
    // ... and the form is the same, with what was typed and the focus still in it.
    assert.equal(await box.inputValue(), 'Typed while admin resolves it');
    assert.equal(await box.getAttribute('data-mark'), 'typed-here');
    assert.ok(await box.evaluate((el) => document.activeElement === el), 'focus kept');
    assert.ok(await sendEl.evaluate((el) => el.isConnected), 'the button is the same element');
    await mapStill(page);
    await send.click();
    await popup.locator('.comments li', { hasText: 'Typed while admin resolves it' }).waitFor();
    assert.equal(await box.inputValue(), '');
    const stored = await vigil.api('GET', `/api/v1/alerts/${alertId}`, tok.carol);
    assert.deepEqual(stored.triage.comments.map((c) => c.text),
      ['Asked the field team to check the shelter', 'Typed while admin resolves it']);
    assert.equal(stored.status, 'resolved');
  });

test('operations: time, party and event filters; a timeline by party; clusters as the legend',
  async () => {
    const { page } = b;
    await page.goto(`${vigil.url}/#/incidents`); // a fresh map, whichever page came before
    await page.goto(`${vigil.url}/#/operations`);
    await page.getByText(/58 reports on the map\./).waitFor();
    await page.getByText('what is shared with you').first().waitFor();
    const tl = page.locator('#ops-timeline');
    await tl.locator('.uplot').waitFor();
    assert.ok(Number(await tl.getAttribute('data-days')) > 20);
    assert.match(await tl.getAttribute('data-series'), /Party A\|Party B/);
    await page.getByLabel('Party', { exact: true }).selectOption('Party A');
    await page.getByText('28 of 58 reports on the map (filtered).').waitFor();
    assert.equal(await page.locator('.report-list li:not([hidden])').count(), 28);
    assert.equal(await tl.getAttribute('data-series'), 'Party A');
    await page.getByLabel('Event', { exact: true }).selectOption('COERCE');
    const coerceA = [...Array(56).keys()].filter((i) => i % 2 && !(i % 3)).length;
    await page.getByText(`${coerceA} of 58 reports on the map (filtered).`).waitFor();
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByLabel('From', { exact: true }).fill('2025-10-01');
    await page.getByLabel('From', { exact: true }).dispatchEvent('change');
    await page.getByText('2 of 58 reports on the map (filtered).').waitFor();
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByText('58 reports on the map.').waitFor();
    // Clusters are coloured by event type as the legend is, and an alert never covers a count.
    const clusters = page.locator('#ops-map .cluster');
    await clusters.first().waitFor();
    for (const cls of await clusters.evaluateAll((els) => els.map((e) => e.className))) {
      assert.match(cls, /ev-(ASSAULT|COERCE|MOBILIZE|THREATEN|RETREAT|PROTEST|OTHER)/);
    }
    await page.locator('.legend .legend-cluster').waitFor();
    const covered = await page.evaluate(() => [...document.querySelectorAll('#ops-map .cluster-n')]
      .filter((n) => {
        const r = n.getBoundingClientRect();
        const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
        return !(top && top.closest('.cluster'));
      }).length);
    assert.equal(covered, 0);
    const z = await page.evaluate(() => [getComputedStyle(document.querySelector(
      '#ops-map .leaflet-clusters-pane')).zIndex, getComputedStyle(document.querySelector(
      '#ops-map .leaflet-marker-pane')).zIndex].map(Number));
    assert.ok(z[0] > z[1], `clusters (${z[0]}) above the alerts' pane (${z[1]})`);
  });

test('reports: sorted on the server over every result, a total, filters, detail, export',
  async () => {
    const { page } = b;
    await page.goto(`${vigil.url}/#/reports`);
    await page.getByText('Page 1: 50 reports. 58 in all').waitFor();
    await page.locator('button.sort[data-key="title"]').click();
    await page.locator('caption', { hasText: 'sorted by Title (ascending) over all 58 results' })
      .waitFor();
    // The first row is the first of all 58 (it is the oldest, so not on the newest-first page).
    const firstTitle = page.locator('#reports-table tbody tr').first().locator('td').nth(4);
    await page.waitForFunction(() => document.querySelector('#reports-table tbody tr td:nth-child(5)')
      ?.textContent === 'Aardvark seen near the fence');
    assert.equal(await firstTitle.innerText(), 'Aardvark seen near the fence');
    await page.locator('button.sort[data-key="title"]').click();
    await page.locator('caption', { hasText: 'descending' }).waitFor();
    await page.waitForFunction(() => document.querySelector('#reports-table tbody tr td:nth-child(5)')
      ?.textContent === 'Troops massing (test)');
    // Filters: marking, partner, dates.
    await page.getByLabel('Marking', { exact: true }).selectOption('amber');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('Page 1: 1 report. 1 in all').waitFor();
    await page.getByLabel('Marking', { exact: true }).selectOption('');
    await page.getByLabel('Partner', { exact: true }).selectOption('Alpha');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('Page 1: 1 report. 1 in all').waitFor();
    await page.getByLabel('Partner', { exact: true }).selectOption('');
    await page.getByLabel('From (UTC)').fill('2025-09-01');
    await page.getByLabel('To (UTC)').fill('2025-09-30');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('55 in all').waitFor();
    // Export uses the applied filters, not what is typed and not yet searched.
    await page.getByLabel('Search title and description').fill('no such words at all');
    const [dl] = await Promise.all([page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CSV' }).click()]);
    const csv = readFileSync(await dl.path(), 'utf8').trim().split('\r\n');
    assert.equal(csv.length, 1 + 55);
    // A row opens the report's detail.
    const row = page.locator('#reports-table tbody tr[data-id]').first();
    const id = await row.getAttribute('data-id');
    await row.click();
    await page.locator(`#report-detail[data-id="${id}"]`).waitFor();
    await page.getByRole('button', { name: 'Close' }).click();
    assert.equal(await page.locator('#report-detail').count(), 0);
  });

test('admin and audit: partners of users, members of groups, names, newest first, server filters',
  async () => {
    vigil.run('group', 'add', 'Alpha-Beta', 'Alpha', 'Beta');
    const a = await openBrowser();
    try {
      await login(a.page, vigil.url, 'admin', PW.admin);
      const { page } = a;
      await page.goto(`${vigil.url}/#/admin`);
      const alice = page.locator('#users tr', { hasText: 'alice' });
      await alice.waitFor();
      assert.match(await alice.innerText(), /alice\s+Alpha\s+analyst/);
      const group = page.locator('#groups tr', { hasText: 'Alpha-Beta' });
      await group.waitFor();
      assert.match(await group.innerText(), /Alpha, Beta/);
      await page.goto(`${vigil.url}/#/audit`);
      const rows = page.locator('#audit-table tbody tr');
      await rows.first().waitFor();
      const seqs = (await page.locator('#audit-table tbody tr td:first-child').allInnerTexts())
        .map(Number);
      assert.deepEqual(seqs, seqs.slice().sort((x, y) => y - x));
      assert.equal(seqs.length, 100);
      // alice's entries are older than the last 100: the filter finds them on the server.
      await page.getByLabel('User', { exact: true }).fill('alice');
      await page.getByRole('button', { name: 'Show' }).click();
      await page.getByText(/matching the filters/).waitFor();
      const users = await page.locator('#audit-table tbody tr td:nth-child(4)').allInnerTexts();
      assert.ok(users.length >= 1 && users.every((u) => u === 'alice'), users.join());
      const partners = await page.locator('#audit-table tbody tr td:nth-child(3)').allInnerTexts();
      assert.ok(partners.every((p) => p === 'Alpha'));
      assert.deepEqual(a.problems, []);
    } finally {
      await a.close();
    }
  });

test('a phone (390x844): a compact menu, no sideways scrolling, credits clear of the scale',
  async () => {
    const { page } = b;
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.goto(`${vigil.url}/#/operations`);
      await page.locator('#ops-map .leaflet-control-scale').waitFor();
      const navH = await page.locator('#nav ul').evaluate((el) => el.getBoundingClientRect().height);
      const linkH = await page.locator('#nav a').first().evaluate((el) => el.getBoundingClientRect().height);
      assert.ok(navH < 2 * linkH, `the menu is one line (${navH}px for links of ${linkH}px)`);
      const [att, scale] = await page.evaluate(() => ['.leaflet-control-attribution',
        '.leaflet-control-scale'].map((s) => {
        const r = document.querySelector(`#ops-map ${s}`).getBoundingClientRect();
        return { l: r.left, r: r.right, t: r.top, b: r.bottom };
      }));
      const overlap = att.l < scale.r && scale.l < att.r && att.t < scale.b && scale.t < att.b;
      assert.ok(!overlap, `credits ${JSON.stringify(att)} clear of the scale ${JSON.stringify(scale)}`);
      for (const p of ['reports', 'operations', 'incidents']) {
        await page.goto(`${vigil.url}/#/${p}`);
        if (p === 'reports') await page.getByText(/Page 1:/).waitFor();
        if (p === 'incidents') await page.getByText(/\d+ incidents?\./).waitFor();
        const wide = await page.evaluate(() => [document.documentElement.scrollWidth,
          Math.max(...[...document.querySelectorAll('.scroll')].map((e) => e.scrollWidth
            - e.clientWidth), 0)]);
        assert.ok(wide[0] <= 390 && wide[1] <= 1, `${p}: ${wide}`);
      }
    } finally {
      await page.setViewportSize({ width: 1360, height: 900 });
    }
  });

test('no CSP violations, page errors or requests off this host', () => {
  assert.deepEqual(b.problems, []);
});
