// The daemon's static routes (src/server/static.c): media types, caching, CSP, the single-page
// fallback, and nothing outside web_root (set here to a directory made by the test).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Vigil } from './harness.mjs';

let vigil;
let root;

before(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'vigil-webroot-'));
  mkdirSync(path.join(root, 'assets'));
  mkdirSync(path.join(root, 'sub'));
  writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>t</title>INDEX');
  writeFileSync(path.join(root, 'assets', 'app-1a2b3c.js'), 'console.log(1);');
  writeFileSync(path.join(root, 'assets', 'app-1a2b3c.css'), 'body{}');
  writeFileSync(path.join(root, 'assets', 'blob.bin'), Buffer.from([0, 1, 2, 255, 0]));
  writeFileSync(path.join(root, 'robots.txt'), 'User-agent: *');
  writeFileSync(path.join(root, '.secret'), 'hidden');
  writeFileSync(path.join(root, 'sub', 'x.txt'), 'nested');
  writeFileSync(path.join(tmpdir(), 'vigil-outside.txt'), 'outside');
  symlinkSync(path.join(tmpdir(), 'vigil-outside.txt'), path.join(root, 'assets', 'link.txt'));
  vigil = new Vigil();
  appendFileSync(path.join(vigil.data, 'vigil.conf'), `\nweb_root = ${root}\n`);
  await vigil.start();
});

after(async () => {
  if (vigil) await vigil.stop();
  rmSync(root, { recursive: true, force: true });
});

const get = (p) => fetch(vigil.url + p);

test('/ is index.html, public, revalidated, with a strict CSP', async () => {
  const r = await get('/');
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(r.headers.get('cache-control'), 'no-cache');
  const csp = r.headers.get('content-security-policy');
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  assert.match(await r.text(), /INDEX/);
});

test('hashed assets: their media type and a year of immutable caching', async () => {
  const js = await get('/assets/app-1a2b3c.js');
  assert.equal(js.status, 200);
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.match(js.headers.get('cache-control'), /max-age=31536000.*immutable/);
  assert.equal((await get('/assets/app-1a2b3c.css')).headers.get('content-type'),
    'text/css; charset=utf-8');
  const bin = await get('/assets/blob.bin');
  assert.equal(bin.headers.get('content-type'), 'application/octet-stream');
  assert.deepEqual([...new Uint8Array(await bin.arrayBuffer())], [0, 1, 2, 255, 0]);
});

test('client-side pages fall back to index.html; top-level files are served', async () => {
  const page = await get('/operations');
  assert.equal(page.status, 200);
  assert.match(await page.text(), /INDEX/);
  const robots = await get('/robots.txt');
  assert.equal(robots.status, 200);
  assert.equal(robots.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal((await get('/missing.js')).status, 404);
  assert.equal((await get('/assets/missing-1.js')).status, 404);
});

test('nothing outside web_root: dot files, "..", encoded slashes, symlinks, subdirectories', async () => {
  for (const p of ['/.secret', '/assets/..%2Findex.html', '/assets/%2e%2e%2f.secret',
    '/..%2F..%2Fetc%2Fpasswd', '/assets/link.txt', '/sub/x.txt',
    '/assets/%00x.js', '/assets/a%5Cb.js']) {
    const r = await get(p);
    assert.ok(r.status === 404 || r.status === 400, `${p}: ${r.status}`);
    const body = await r.text();
    assert.doesNotMatch(body, /hidden|outside|nested|root:/, p);
  }
  // A directory's name is a client-side page like any other name without a dot.
  assert.match(await (await get('/sub')).text(), /INDEX/);
});

test('API routes win over the fallback; writes to pages are refused', async () => {
  assert.equal((await get('/healthz')).headers.get('content-type'), 'application/json');
  assert.equal((await get('/api/v1/reports')).status, 401);
  assert.equal((await fetch(`${vigil.url}/operations`, { method: 'POST' })).status, 405);
});
