// The dashboard: a single-page app with hash routes (#/operations, #/reports, ...).
import './style.css';
import { get, post, setCsrf, hasSession, setUnauthorizedHandler } from './api.js';
import { h, utext } from './dom.js';
import * as login from './pages/login.js';
import * as operations from './pages/operations.js';
import * as newReport from './pages/new-report.js';
import * as reports from './pages/reports.js';
import * as incidents from './pages/incidents.js';
import * as review from './pages/review.js';
import * as compliance from './pages/compliance.js';
import * as admin from './pages/admin.js';
import * as audit from './pages/audit.js';
import { abilities } from './roles.js';

const PAGES = [
  { path: 'operations', label: 'Operations', page: operations },
  { path: 'new', label: 'New report', page: newReport, can: 'report' },
  { path: 'reports', label: 'Reports', page: reports },
  { path: 'incidents', label: 'Incidents', page: incidents },
  { path: 'review', label: 'Review queue', page: review },
  { path: 'compliance', label: 'Compliance', page: compliance },
  { path: 'admin', label: 'Admin', page: admin, admin: true },
  { path: 'audit', label: 'Audit', page: audit, admin: true },
];

const ctx = { me: null, can: abilities(null) };
const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
let cleanup = null;

document.getElementById('skip').addEventListener('click', () => main.focus());

function currentPath() {
  return (location.hash.replace(/^#\/?/, '').split('?')[0]) || 'operations';
}

function renderNav() {
  nav.replaceChildren();
  who.replaceChildren();
  if (!ctx.me) return;
  const ul = h('ul');
  const here = currentPath();
  for (const p of PAGES) {
    if (p.admin && ctx.me.role !== 'admin') continue;
    if (p.can && !ctx.can[p.can]) continue; // what the role may not do is not offered
    ul.append(h('li', {}, h('a', { href: `#/${p.path}`,
      'aria-current': p.path === here ? 'page' : false }, p.label)));
  }
  nav.append(ul);
  who.append(utext('span', `${ctx.me.user}`), ' · ', utext('span', ctx.me.partner.name),
    ` · ${ctx.me.role} `,
    h('button', { type: 'button', class: 'link', onclick: logout }, 'Sign out'));
}

async function logout() {
  try {
    await post('/api/v1/logout', {});
  } catch {
    /* the session is gone either way */
  }
  setCsrf(null);
  ctx.me = null;
  location.hash = '#/login';
  route();
}

async function route() {
  if (cleanup) {
    try {
      cleanup();
    } catch {
      /* a page's cleanup must not stop navigation */
    }
    cleanup = null;
  }
  main.replaceChildren();
  const path = currentPath();
  if (!ctx.me || !hasSession()) {
    renderNav();
    document.title = 'Sign in — Vigil';
    cleanup = login.render(main, {
      onLogin: async (csrf) => {
        setCsrf(csrf);
        signedIn(await get('/api/v1/me'));
        if (currentPath() === 'login') location.hash = '#/operations';
        else route();
      },
    });
    return;
  }
  let entry = PAGES.find((p) => p.path === path);
  if (!entry || (entry.admin && ctx.me.role !== 'admin') || (entry.can && !ctx.can[entry.can])) {
    entry = PAGES[0];
  }
  renderNav();
  document.title = `${entry.label} — Vigil`;
  cleanup = entry.page.render(main, ctx) || null;
}

setUnauthorizedHandler(() => {
  if (!ctx.me) return;
  setCsrf(null);
  ctx.me = null;
  route();
});

function signedIn(me) {
  ctx.me = me;
  ctx.can = abilities(me);
}

// A reload (F5) keeps the session: the HttpOnly cookie is still there, and /api/v1/me gives
// the session's CSRF token back (never to a token or another site: docs/DASHBOARD.md).
async function resume() {
  try {
    const me = await get('/api/v1/me', { quiet401: true });
    if (me && me.csrf_token) {
      setCsrf(me.csrf_token);
      signedIn(me);
    }
  } catch {
    /* no session: the sign-in form */
  }
}

window.addEventListener('hashchange', route);
resume().finally(route);
