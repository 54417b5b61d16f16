// Takes docs/screenshots/*.png of the main pages, from a fresh daemon with a few synthetic,
// clearly labelled reports. Not a test: run it by hand after visible changes.
//   node tests/web/screenshots.mjs   (VIGIL_BIN: the binary; default build/vigil)
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Vigil, openBrowser, login } from './harness.mjs';

const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/screenshots');
const SYNTH = [
  ['ASSAULT', 'aerial', false, 31.52, 34.45, 'green', 'B', 2, 'SYNTHETIC: air strike, Gaza City'],
  ['ASSAULT', 'heavy-weapons', false, 31.35, 34.30, 'green', 'C', 3, 'SYNTHETIC: shelling east of Khan Yunis'],
  ['MOBILIZE', 'troops', false, 31.30, 34.27, 'amber', 'B', 3, 'SYNTHETIC: armour moving towards Rafah'],
  ['ASSAULT', 'drone', true, 31.42, 34.36, 'amber', 'B', 2, 'SYNTHETIC: planned drone strike (warning)'],
  ['THREATEN', 'violence', false, 31.55, 34.50, 'green', 'C', 4, 'SYNTHETIC: threat against a monitoring post'],
  ['COERCE', 'restrict', false, 31.45, 34.40, 'green', 'A', 2, 'SYNTHETIC: corridor closed'],
  ['RETREAT', 'withdraw', false, 31.33, 34.33, 'green', 'B', 2, 'SYNTHETIC: withdrawal from the buffer zone'],
  ['ASSAULT', 'firearms', false, 31.51, 34.46, 'green', 'D', 3, 'SYNTHETIC: gunfire near the crossing'],
  ['ASSAULT', 'heavy-weapons', false, 31.36, 34.31, 'green', 'B', 3, 'قصف مدفعي شرق خان يونس (اصطناعي)'],
];

const vigil = new Vigil();
let b;
try {
  vigil.run('partner', 'add', 'Alpha Mission');
  vigil.user('Coordination Center', 'admin', 'admin', 'screenshot-pass');
  await vigil.start();
  let day = 10;
  for (const [event, mode, future, lat, lon, marking, rel, cred, title] of SYNTH) {
    day += 1;
    await vigil.api('POST', '/api/v1/reports', vigil.adminToken, { event, mode, future,
      start: `2025-03-${day}T06:00:00Z`, location: { lat, lon, precision_m: 500 }, marking,
      reliability: rel, credibility: cred, title, source_ref: `synthetic:${day}` });
  }
  mkdirSync(OUT, { recursive: true });
  b = await openBrowser();
  const { page } = b;
  const shot = (name) => page.screenshot({ path: path.join(OUT, `${name}.png`) });
  await page.goto(`${vigil.url}/`);
  await page.getByLabel('User name').waitFor();
  await shot('login');
  await login(page, vigil.url, 'admin', 'screenshot-pass');
  await page.goto(`${vigil.url}/#/operations`);
  await page.getByText(/reports? on the map\./).waitFor();
  await page.locator('#ops-map .pin[data-id]').first().click();
  await page.locator('.leaflet-popup-content').waitFor();
  await page.waitForTimeout(400);
  await shot('operations');
  await page.goto(`${vigil.url}/#/new`);
  await page.getByLabel('Event type (PLOVER)').selectOption('ASSAULT');
  await page.getByLabel('Mode').selectOption('aerial');
  await page.getByLabel('Start (UTC)').fill('2025-03-20T02:00');
  const box = await page.locator('#form-map').boundingBox();
  await page.mouse.click(box.x + box.width * 0.45, box.y + box.height * 0.4);
  await page.getByLabel('Title').fill('Air strike reported by a field monitor (synthetic)');
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot('new-report');
  await page.getByRole('button', { name: 'Submit report' }).click();
  await page.getByText(/Report stored/).waitFor();
  await page.goto(`${vigil.url}/#/reports`);
  await page.getByText(/Page 1:/).waitFor();
  await shot('reports');
  await page.goto(`${vigil.url}/#/admin`);
  await page.locator('#tokens table').waitFor();
  await shot('admin');
  await page.goto(`${vigil.url}/#/audit`);
  await page.locator('#audit-table tbody tr').first().waitFor();
  await shot('audit');
  await page.goto(`${vigil.url}/#/review`);
  await page.getByText(/Arrives with the compliance module|violation/).first().waitFor();
  await page.waitForTimeout(300);
  await shot('review');
  await page.goto(`${vigil.url}/#/compliance`);
  await page.getByText(/Arrives with the compliance module|violations,|tallies/).first().waitFor();
  await page.waitForTimeout(300);
  await shot('compliance');
  console.log(`screenshots in ${OUT}`);
} finally {
  if (b) await b.close();
  await vigil.stop();
}
