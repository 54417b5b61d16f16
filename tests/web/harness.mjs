// Browser-test harness: a real `vigil serve` on a free loopback port with a fresh data
// directory, and Debian's chromium driven by playwright-core (never a downloaded browser).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = process.env.VIGIL_BIN || path.join(ROOT, 'build', 'vigil');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// Gaza's governorates by name (the agreements of the tests draw their zones from them).
export const GOV = Object.fromEntries(JSON.parse(readFileSync(
  path.join(ROOT, 'data/geo/gaza_governorates.geojson'), 'utf8')).features
  .map((f) => [f.properties.shapeName, f]));
export const RAFAH = { lat: 31.29, lon: 34.25 }; // inside the Rafah governorate

export class Vigil {
  constructor() {
    this.tmp = mkdtempSync(path.join(tmpdir(), 'vigil-web-'));
    this.data = path.join(this.tmp, 'data');
    this.proc = null;
    this.log = '';
    this.run('init');
    this.adminToken = readFileSync(path.join(this.data, 'admin.token'), 'utf8').trim();
  }

  // Runs a CLI subcommand against the data directory; returns its stdout.
  run(...args) {
    let input;
    if (args.length && typeof args[args.length - 1] === 'object') input = args.pop().input;
    const r = spawnSync(BIN, ['--data', this.data, ...args], { input, encoding: 'utf8',
      timeout: 60000 });
    if (r.status !== 0) {
      throw new Error(`vigil ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    }
    return r.stdout.trim();
  }

  // A user with a dashboard password; returns an API token for it too.
  user(partner, name, role, password) {
    if (name !== 'admin') this.run('user', 'add', partner, name, '--role', role);
    this.run('user', 'passwd', name, { input: `${password}\n` });
    return this.run('token', 'create', name);
  }

  start() {
    return new Promise((resolve, reject) => {
      this.proc = spawn(BIN, ['--data', this.data, 'serve', '--listen', '127.0.0.1:0'],
        { stdio: ['ignore', 'ignore', 'pipe'] });
      const timer = setTimeout(() => reject(new Error(`vigil serve did not start:\n${this.log}`)),
        30000);
      this.proc.stderr.setEncoding('utf8');
      this.proc.stderr.on('data', (chunk) => {
        this.log += chunk; // keep draining, or the daemon would block on a full pipe
        const m = /listening on (http:\/\/127\.0\.0\.1:(\d+)\/)/.exec(this.log);
        if (m && !this.url) {
          clearTimeout(timer);
          this.url = m[1].replace(/\/$/, '');
          resolve(this);
        }
      });
      this.proc.on('exit', (code) => {
        if (!this.url) {
          clearTimeout(timer);
          reject(new Error(`vigil serve exited (${code}):\n${this.log}`));
        }
      });
    });
  }

  async api(method, p, token, body) {
    const r = await fetch(this.url + p, {
      method,
      headers: { Authorization: `Bearer ${token}`,
        ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await r.json();
    if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${JSON.stringify(data)}`);
    return data;
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null) {
      const done = new Promise((res) => this.proc.once('exit', res));
      this.proc.kill('SIGTERM');
      await Promise.race([done, new Promise((res) => setTimeout(res, 10000))]);
      if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
    }
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

// A fresh browser (its own user-data-dir, so its own cookies). Close with close().
export async function openBrowser() {
  const profile = mkdtempSync(path.join(tmpdir(), 'vigil-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    viewport: { width: 1360, height: 900 },
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(15000);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) {
      problems.push(`csp: ${m.text()}`);
    }
  });
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (!['127.0.0.1', 'localhost'].includes(u.hostname) && !['data:', 'blob:'].includes(u.protocol)) {
      problems.push(`external request: ${r.url()}`);
    }
  });
  return {
    context,
    page,
    problems,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function login(page, url, user, password) {
  await page.goto(`${url}/`);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#nav a', { hasText: 'Operations' }).waitFor();
}

// Press a view's "Show"/"Search" button and wait until the load it asked for has drawn: the
// view's region (the selector) is aria-busy from the click until its newest load is on screen.
export async function show(page, region, button = 'Show') {
  await page.getByRole('button', { name: button, exact: true }).click();
  await page.locator(`${region}[aria-busy="false"]`).waitFor();
}
