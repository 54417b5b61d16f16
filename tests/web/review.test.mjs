// The review queue offers exactly the moves the server accepts (docs/COMPLIANCE.md, the review
// workflow): for a violation in each status, the buttons offered are the server's moves and
// each one offered is accepted when clicked; a violation whose evidence was withdrawn shows it
// ("needs review", "evidence withdrawn") and a reviewer may reopen it even from confirmed; a
// move made stale by another reviewer is refused by the server and the page says so and
// reloads.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Vigil, openBrowser, login, show, GOV, RAFAH } from './harness.mjs';

const AGREEMENT = {
  name: 'Review-test ceasefire (SYNTHETIC, ILLUSTRATIVE zones)',
  description: 'A synthetic agreement for the browser tests; not a real text.',
  effective: '2025-01-01T00:00:00Z',
  marking: 'green',
  parties: [{ name: 'Party A', aliases: ['A forces'] }],
  zones: [{ name: 'Rafah', kind: 'no-fire-area', geometry: GOV.Rafah,
    terms: [{ party: '*', prohibited: ['ASSAULT'] }] }],
};

// The server's moves, written out here from docs/COMPLIANCE.md (not from the page's table).
const ACCEPTED = {
  reported: ['under_review'],
  under_review: ['confirmed', 'disputed', 'not_confirmed'],
  disputed: ['under_review'],
  confirmed: [],
  not_confirmed: [],
  withdrawn: ['under_review'], // confirmed, evidence withdrawn: reopen
};
// How a violation is brought into each case over the API.
const PATH = {
  reported: [],
  under_review: ['under_review'],
  disputed: ['under_review', 'disputed'],
  confirmed: ['under_review', 'confirmed'],
  not_confirmed: ['under_review', 'not_confirmed'],
  withdrawn: ['under_review', 'confirmed'],
};
const COPIES = 3; // a violation per move offered (at most three from one status)

const PW = { carol: 'carol-pass-1' };
let vigil;
let tok;
let b;
const cases = {}; // case → [violation id]
const extra = {}; // reopen: another withdrawn one; stale: an under-review one
let n = 0;

async function violation(withdraw, steps) {
  n += 1;
  const src = `test:review-${n}`;
  const body = { event: 'ASSAULT', mode: 'aerial', location: RAFAH, actors: ['A forces'],
    start: `2025-06-${String(1 + (n % 28)).padStart(2, '0')}T${String(n % 24).padStart(2, '0')}` +
      ':00:00Z', marking: 'green', reliability: 'B', credibility: 2, source_ref: src,
    title: `Air strike ${n} (test)` };
  const r = await vigil.api('POST', '/api/v1/reports', tok.rex, body);
  const all = (await vigil.api('GET', '/api/v1/violations', tok.carol)).violations;
  const id = all.find((x) => x.report === r.id).id;
  for (const to of steps) {
    await vigil.api('POST', `/api/v1/violations/${id}/transition`, tok.carol,
      { to, reason: `set up: ${to}` });
  }
  if (withdraw) {
    // A correction of the report to RED by its reporter withdraws it from the violation.
    const again = await vigil.api('POST', '/api/v1/reports', tok.rex,
      { ...body, marking: 'red' });
    assert.equal(again.id, r.id, 'a correction of the same report');
    const v = await vigil.api('GET', `/api/v1/violations/${id}`, tok.carol);
    assert.equal(v.needs_review, true);
    assert.ok(v.withdrawn);
  }
  return id;
}

before(async () => {
  vigil = new Vigil();
  vigil.run('partner', 'add', 'Beta');
  tok = {
    carol: vigil.user('Coordination Center', 'carol', 'analyst', PW.carol),
    rex: (vigil.run('user', 'add', 'Beta', 'rex', '--role', 'reporter'),
    vigil.run('token', 'create', 'rex')),
  };
  await vigil.start();
  await vigil.api('POST', '/api/v1/agreements', tok.carol, AGREEMENT);
  for (const c of Object.keys(PATH)) {
    cases[c] = [];
    for (let i = 0; i < COPIES; i++) cases[c].push(await violation(c === 'withdrawn', PATH[c]));
  }
  extra.reopen = await violation(true, ['under_review', 'not_confirmed']);
  extra.stale = await violation(false, ['under_review']);
  b = await openBrowser();
  b.page.setDefaultTimeout(30000);
  await login(b.page, vigil.url, 'carol', PW.carol);
});

after(async () => {
  if (b) await b.close();
  if (vigil) await vigil.stop();
});

async function openQueue(page, { flagged = false } = {}) {
  await page.goto(`${vigil.url}/#/operations`); // a fresh queue
  await page.goto(`${vigil.url}/#/review`);
  await page.getByLabel('Status').selectOption('');
  if (flagged) await page.getByLabel('Only those needing re-review').check();
  await show(page, '#violations');
}

async function stored(id) {
  return vigil.api('GET', `/api/v1/violations/${id}`, tok.carol);
}

test('the moves offered are exactly those the server accepts, and each is accepted', async () => {
  const { page } = b;
  for (const [c, ids] of Object.entries(cases)) {
    await openQueue(page);
    const row = (id) => page.locator(`#violations-table tr[data-id="${ids[id]}"]`);
    await row(0).waitFor();
    const offered = await row(0).locator('button[data-to]').evaluateAll((bs) =>
      bs.map((x) => x.dataset.to));
    assert.deepEqual(offered.slice().sort(), ACCEPTED[c], `moves offered from ${c}`);
    // Each move offered, clicked on a violation in that case, is accepted by the server.
    for (let i = 0; i < offered.length; i++) {
      const to = offered[i];
      const before = (await stored(ids[i])).status;
      const table = await page.$('#violations-table');
      await row(i).getByLabel(`Reason for ${ids[i]}`).fill(`test: ${c} → ${to}`);
      await row(i).locator(`button[data-to="${to}"]`).click();
      await page.getByText(new RegExp(`^${ids[i]}: ${before} → ${to}`)).waitFor();
      const after = await stored(ids[i]);
      assert.equal(after.status, to, `${c} → ${to} accepted`);
      assert.equal(after.history.at(-1).reason, `test: ${c} → ${to}`);
      // The queue, read again, replaces the table: the next move is made on the new one (a
      // reason typed into the old one just before it was replaced would be lost).
      await table.waitForElementState('hidden');
      await row(i).waitFor();
    }
  }
});

test('a violation whose evidence was withdrawn says so, and a reviewer reopens it', async () => {
  const { page } = b;
  const id = extra.reopen;
  // The default filters leave it out; the page says a violation needs re-review.
  await page.goto(`${vigil.url}/#/operations`);
  await page.goto(`${vigil.url}/#/review`);
  await page.locator('#needs-review-note', { hasText: /need.* re-review/ }).waitFor();
  await openQueue(page, { flagged: true });
  const rows = page.locator('#violations-table tbody tr[data-id]');
  const listed = await rows.evaluateAll((rs) => rs.map((r) => r.dataset.id));
  assert.ok(listed.includes(id), 'listed among the flagged');
  for (const x of listed) assert.equal((await stored(x)).needs_review, true, `${x} is flagged`);
  const row = page.locator(`#violations-table tr[data-id="${id}"]`);
  const cell = await row.locator('td').first().innerText();
  assert.match(cell, /not confirmed/);
  assert.match(cell, /needs review/);
  assert.match(cell, /evidence withdrawn 20\d\d-\d\d-\d\d/);
  // From not_confirmed (a final status) the one move is to reopen it.
  assert.deepEqual(await row.locator('button[data-to]').evaluateAll((bs) =>
    bs.map((x) => [x.dataset.to, x.textContent])), [['under_review', 'reopen']]);
  // Reopening needs a reason, like any decision: none, and nothing changes.
  await row.getByRole('button', { name: 'reopen' }).click();
  await row.getByText(/a decision needs a reason/).waitFor();
  assert.equal((await stored(id)).status, 'not_confirmed');
  await row.getByLabel(`Reason for ${id}`).fill('evidence withdrawn: look again');
  await row.getByRole('button', { name: 'reopen' }).click();
  await page.getByText(`${id}: not_confirmed → under_review (reopened).`).waitFor();
  const v = await stored(id);
  assert.equal(v.status, 'under_review');
  assert.equal(v.needs_review, false);
  assert.equal(v.history.at(-1).reason, 'evidence withdrawn: look again');
  // Reopened, it is reviewed as usual; the withdrawal is still shown, the flag is not.
  await openQueue(page);
  const again = page.locator(`#violations-table tr[data-id="${id}"]`);
  await again.waitFor();
  const text = await again.locator('td').first().innerText();
  assert.match(text, /under review/);
  assert.doesNotMatch(text, /needs review/);
  assert.match(text, /evidence withdrawn/);
  assert.deepEqual((await again.locator('button[data-to]').evaluateAll((bs) =>
    bs.map((x) => x.dataset.to))).sort(), ['confirmed', 'disputed', 'not_confirmed']);
});

test('a move made stale by another reviewer: refused, said so, the queue reloaded', async () => {
  const { page } = b;
  const id = extra.stale;
  await openQueue(page);
  const row = page.locator(`#violations-table tr[data-id="${id}"]`);
  await row.locator('button[data-to="disputed"]').waitFor();
  // Another reviewer confirms it after the page read it.
  await vigil.api('POST', `/api/v1/violations/${id}/transition`, tok.carol,
    { to: 'confirmed', reason: 'decided elsewhere' });
  await row.getByLabel(`Reason for ${id}`).fill('disputed by the other party');
  await row.locator('button[data-to="disputed"]').click();
  await page.getByText(new RegExp(`^Not changed: ${id} was changed by someone else meanwhile` +
    '.*; reloaded\\.$')).waitFor();
  // Reloaded: it shows as confirmed, with no move left.
  await row.locator('td', { hasText: /^confirmed$/ }).first().waitFor();
  assert.equal(await row.locator('button[data-to]').count(), 0);
  const v = await stored(id);
  assert.equal(v.status, 'confirmed');
  assert.equal(v.history.at(-1).reason, 'decided elsewhere');
});

test('no CSP violations, page errors or requests off this host', () => {
  assert.deepEqual(b.problems, []);
});
