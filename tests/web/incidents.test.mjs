// The incidents page (issue #20): an incident's reports side by side, formed from what the
// signed-in user may read (S3): a report they cannot read is neither shown nor counted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Vigil, openBrowser, login } from './harness.mjs';

const PW = 'alice-pass-1';
let vigil;
let b;

before(async () => {
  vigil = new Vigil();
  for (const p of ['Alpha', 'Beta', 'Gamma']) vigil.run('partner', 'add', p);
  vigil.user('Alpha', 'alice', 'analyst', PW);
  vigil.run('user', 'add', 'Beta', 'bob', '--role', 'analyst');
  vigil.run('user', 'add', 'Gamma', 'gina', '--role', 'analyst');
  const bob = vigil.run('token', 'create', 'bob');
  const gina = vigil.run('token', 'create', 'gina');
  await vigil.start();
  const event = { event: 'ASSAULT', mode: 'heavy-weapons', start: '2025-03-17T09:00:00Z',
    end: '2025-03-17T10:00:00Z', location: { lat: 31.53, lon: 34.49, precision_m: 500 },
    reliability: 'C', credibility: 3 };
  await vigil.api('POST', '/api/v1/reports', bob, { ...event, marking: 'green',
    title: 'Shelling north of the camp' });
  await vigil.api('POST', '/api/v1/reports', gina, { ...event, marking: 'green',
    title: 'Artillery fire, camp north', location: { ...event.location, lat: 31.531 } });
  // Gamma's AMBER report of the same event: Alice (Alpha) may not read it.
  await vigil.api('POST', '/api/v1/reports', gina, { ...event, marking: 'amber',
    title: 'Gamma only: 12 shells counted' });
  b = await openBrowser();
});

after(async () => {
  if (b) await b.close();
  if (vigil) await vigil.stop();
});

test('an incident shows its reports side by side, only those the reader may read', async () => {
  const { page } = b;
  await login(page, vigil.url, 'alice', PW);
  await page.goto(`${vigil.url}/#/incidents`);
  await page.getByText('1 incident.').waitFor();
  const inc = page.locator('#incidents section.incident');
  assert.equal(await inc.count(), 1);
  assert.match(await inc.locator('.incident-head').innerText(), /corroborated: 2 sources/);
  const titles = await inc.locator('tr', { hasText: 'Title' }).locator('td').allInnerTexts();
  assert.deepEqual(titles.sort(), ['Artillery fire, camp north', 'Shelling north of the camp']);
  assert.equal(await page.getByText('Gamma only').count(), 0);
  const partners = await inc.locator('tr', { hasText: 'Partner' }).locator('td').allInnerTexts();
  assert.deepEqual(partners.sort(), ['Beta', 'Gamma']);
  // Filters: not corroborated -> none.
  await page.getByLabel('Corroborated').selectOption('false');
  await page.getByRole('button', { name: 'Show' }).click();
  await page.getByText('0 incidents.').waitFor();
});
