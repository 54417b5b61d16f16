// A hostile partner's data in the dashboard (issue #18, item 12): a zone's name is data, and
// the map's tooltip must show it as text, never parse it as HTML.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Vigil, openBrowser, login } from './harness.mjs';

const NAME = '<img src="x" id="injected" onerror="window.__pwned = 1"><b>Rafah</b>';
const AGREEMENT = {
  name: 'Hostile-name test (SYNTHETIC, ILLUSTRATIVE zone)',
  effective: '2025-01-01T00:00:00Z',
  marking: 'green',
  parties: [{ name: 'Party A' }, { name: 'Party B' }],
  zones: [{ name: NAME, kind: 'no-fire-area',
    geometry: { type: 'Polygon', coordinates: [[[34.2, 31.2], [34.4, 31.2], [34.4, 31.4],
      [34.2, 31.4], [34.2, 31.2]]] },
    terms: [{ party: '*', prohibited: ['ASSAULT'] }] }],
};

let vigil;
let b;
let tok;

before(async () => {
  vigil = new Vigil();
  tok = vigil.user('Coordination Center', 'carol', 'analyst', 'carol-pass-1');
  await vigil.start();
  b = await openBrowser();
  await login(b.page, vigil.url, 'carol', 'carol-pass-1');
});

after(async () => {
  if (b) await b.close();
  if (vigil) await vigil.stop();
});

test('a zone named with HTML is shown as text in its map tooltip', async () => {
  await vigil.api('POST', '/api/v1/agreements', tok, AGREEMENT);
  const { page } = b;
  await page.goto(`${vigil.url}/#/operations`);
  const zone = page.locator('#ops-map path.zone');
  await zone.waitFor();
  await zone.hover({ force: true });
  const tip = page.locator('.leaflet-tooltip.zone-tip');
  await tip.waitFor();
  assert.equal(await tip.textContent(), `${NAME} (illustrative)`);
  assert.equal(await tip.locator('img, b').count(), 0);
  assert.equal(await page.locator('#injected').count(), 0);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
});
