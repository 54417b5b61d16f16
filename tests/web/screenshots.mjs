// Takes docs/screenshots/*.png of the main pages from a fresh daemon loaded with the SYNTHETIC
// demo scenario (data/demo/scenario.py, as `make demo` does): the illustrative agreement's
// zones, three weeks of reports, the alerts the rules raise and the violations under review.
// Not a test: run it by hand after visible changes.
//   node tests/web/screenshots.mjs   (VIGIL_BIN: the binary; default build/vigil)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Vigil, openBrowser, login } from './harness.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = path.join(ROOT, 'docs/screenshots');
const PY = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const FROM = '2025-10-01';
const TO = '2025-10-21';

const vigil = new Vigil();
const browsers = [];
try {
  await vigil.start();
  const loginsFile = path.join(vigil.tmp, 'demo-logins.txt');
  const r = spawnSync(PY, [path.join(ROOT, 'data/demo/scenario.py'), '--url', vigil.url,
    '--data', vigil.data, '--logins', loginsFile], { encoding: 'utf8', timeout: 600000 });
  if (r.status !== 0) throw new Error(`scenario.py failed (${r.status}):\n${r.stdout}${r.stderr}`);
  process.stdout.write(r.stdout);
  const pw = {};
  for (const line of readFileSync(loginsFile, 'utf8').split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const [user, , , password] = line.split('\t');
    pw[user] = password;
  }
  mkdirSync(OUT, { recursive: true });

  // A coordination-center analyst in the RED group: sees every report and alert.
  const a = await openBrowser();
  browsers.push(a);
  let page = a.page;
  const shot = (name) => page.screenshot({ path: path.join(OUT, `${name}.png`) });
  await page.goto(`${vigil.url}/`);
  await page.getByLabel('User name').waitFor();
  await shot('login');
  await login(page, vigil.url, 'cc.amina', pw['cc.amina']);
  await page.goto(`${vigil.url}/#/operations`);
  await page.getByText(/\d+ reports? on the map\./).waitFor();
  await page.getByText(/\d+ zones? of \d+ agreements?/).waitFor();
  await page.locator('.feed li.alert').first().waitFor();
  // The planned-attack story (13-15 Oct): open its alert's popup on the whole-strip view.
  const planned = page.locator('.feed li.alert', { hasText: '2025-10-14 19:00Z' }).first();
  const alertId = await planned.getAttribute('data-id');
  await page.locator(`.leaflet-marker-icon:has(.alert-pin[data-alert-id="${alertId}"])`).focus();
  await page.keyboard.press('Enter');
  await page.locator('.leaflet-popup-content .alert-popup').waitFor();
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await page.waitForTimeout(600);
  await shot('operations');

  await page.goto(`${vigil.url}/#/review`);
  await page.locator('#violations-table tbody tr').first().waitFor();
  await page.waitForTimeout(300);
  await shot('review');
  await page.goto(`${vigil.url}/#/compliance?from=${FROM}&to=${TO}`);
  await page.locator('.chart .uplot').waitFor();
  await page.waitForTimeout(400);
  await shot('compliance');
  await page.goto(`${vigil.url}/#/reports`);
  await page.getByText(/Page 1:/).waitFor();
  await shot('reports');
  await page.goto(`${vigil.url}/#/new`);
  await page.getByLabel('Event type (PLOVER)').selectOption('ASSAULT');
  await page.getByLabel('Mode').selectOption('aerial');
  await page.getByLabel('Start (UTC)').fill('2025-10-21T02:00');
  const box = await page.locator('#form-map').boundingBox();
  await page.mouse.click(box.x + box.width * 0.45, box.y + box.height * 0.4);
  await page.getByLabel('Title').fill('SYNTHETIC: air strike reported by a field monitor');
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot('new-report');

  // The coordination center's admin: the admin pages and the audit log.
  const b = await openBrowser();
  browsers.push(b);
  page = b.page;
  await login(page, vigil.url, 'cc.admin', pw['cc.admin']);
  await page.goto(`${vigil.url}/#/admin`);
  await page.locator('#tokens table').waitFor();
  await shot('admin');
  // The audit log opens on its newest entries (the scenario's reviews, opinions and reads).
  await page.goto(`${vigil.url}/#/audit`);
  await page.locator('#audit-table tbody tr').first().waitFor();
  await shot('audit');
  for (const x of browsers) {
    if (x.problems.length) throw new Error(`page problems: ${x.problems.join('; ')}`);
  }
  console.log(`screenshots in ${OUT}`);
} finally {
  for (const x of browsers) await x.close();
  await vigil.stop();
}
