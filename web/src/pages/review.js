// The violation review queue (S8): candidate violations, newest first, filtered by status,
// party, zone and date (UTC days), each with its evidence (links to the reports), its history
// and the partners' opinions, moved reported → under_review → confirmed | not_confirmed |
// disputed (and disputed → under_review). A decision needs a reason (the server refuses a blank
// one too); the decision buttons are shown only to those who may review (admins and analysts
// of the coordination center), and only the moves the server accepts (violations.js); a
// violation whose evidence was withdrawn shows it and is flagged "needs review", and a reviewer
// may reopen it. The opinion form is for every role but reader. Before the compliance module
// is on the server (404), the page says it arrives with it.
import { get, post, query, ApiError } from '../api.js';
import { h, utext, fmtTime, field, select, status, setFieldError, latest } from '../dom.js';
import { sharedNote } from '../shared-note.js';
import { STATUSES, allowedMoves } from '../violations.js';

// Taking a violation under review may go without a reason; a decision may not, nor a reopening.
const DEFAULT_REASON = { under_review: 'taken under review' };
const OPINIONS = ['strongly-agree', 'agree', 'neutral', 'disagree', 'strongly-disagree'];

const label = (s) => String(s || '').replace(/_/g, ' ');

function placeholder(e) {
  return h('div', { class: 'placeholder' },
    h('p', {}, h('strong', {}, 'Arrives with the compliance module.')),
    h('p', {}, 'Candidate violations (reported → under review → confirmed, not confirmed or ',
      'disputed) are reviewed here once the server offers /api/v1/violations.'),
    e instanceof ApiError && e.status === 404 ? null : h('p', { class: 'hint' }, e.message));
}

// The UTC day after a YYYY-MM-DD (the API's `until` is exclusive), or ''.
function nextDay(d) {
  return d ? new Date(Date.parse(`${d}T00:00:00Z`) + 86400e3).toISOString().slice(0, 10) : '';
}

// Newest first (by event time, then by when it was recorded).
export function newestFirst(items) {
  return items.slice().sort((a, b) => (b.time || '').localeCompare(a.time || '') ||
    (b.created || '').localeCompare(a.created || ''));
}

function reportLink(id) {
  return h('a', { href: `#/reports?id=${encodeURIComponent(id)}`, class: 'evidence-link',
    'data-report': id }, id); // the report's detail in the dashboard
}

export function render(root, ctx = {}) {
  const can = ctx.can || {};
  const st = field('Status', select([['reported', 'reported'], ['under_review', 'under review'],
    ['', 'all'], ...STATUSES.slice(2).map((s) => [s, label(s)])], { name: 'status' }));
  const party = field('Party', select([['', 'all']], { name: 'party' }));
  const zone = field('Zone', select([['', 'all']], { name: 'zone' }));
  const since = field('From (UTC day)', h('input', { type: 'date', name: 'since' }));
  const until = field('To (UTC day)', h('input', { type: 'date', name: 'until' }));
  const flagged = h('input', { type: 'checkbox', name: 'needs_review' });
  const flaggedWrap = h('div', { class: 'field' }, h('label', {}, flagged,
    ' Only those needing re-review'));
  const msg = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const body = h('div', { id: 'violations' }, 'Loading…');
  const form = h('form', { class: 'filters', 'aria-label': 'Filter violations' }, st.wrap,
    party.wrap, zone.wrap, since.wrap, until.wrap, flaggedWrap,
    h('button', { type: 'submit' }, 'Show'));
  const flaggedNote = h('p', { class: 'hint', id: 'needs-review-note', hidden: true });
  root.append(h('h1', {}, 'Violation review queue'));
  if (!can.review) {
    root.append(h('p', { class: 'hint', id: 'review-readonly' },
      'You may read the queue; decisions are taken by the coordination center\'s analysts.'));
  }
  root.append(form, flaggedNote, msg, body);

  // The parties and zones of the agreements the user may read, for the filters.
  get('/api/v1/agreements').then((r) => {
    const parties = new Set();
    const zones = new Set();
    for (const ag of r.agreements || []) {
      for (const p of ag.parties || []) parties.add(p.name);
      for (const z of ag.zones || []) zones.add(z.name);
    }
    party.input.append(...[...parties].sort().map((n) => utext('option', n, { value: n })));
    zone.input.append(...[...zones].sort().map((n) => utext('option', n, { value: n })));
  }).catch(() => {});

  async function move(v, { to, reopen }, reasonF) {
    const reason = reasonF.input.value.trim() || (reopen ? '' : DEFAULT_REASON[to] || '');
    setFieldError(reasonF, '');
    if (!reason) {
      const what = reopen ? 'reopened' : label(to);
      setFieldError(reasonF, `Say why it is ${what}: a decision needs a reason.`);
      reasonF.input.focus();
      status(msg, `Not changed: ${v.id} needs a reason to be ${what}.`, 'error');
      return;
    }
    try {
      await post(`/api/v1/violations/${encodeURIComponent(v.id)}/transition`, { to, reason });
      status(msg, `${v.id}: ${v.status} → ${to}${reopen ? ' (reopened)' : ''}.`, 'ok');
      load();
    } catch (e) {
      if (e instanceof ApiError && /^reason:/.test(e.description)) {
        setFieldError(reasonF, e.description);
      }
      if (e instanceof ApiError && e.status === 409) {
        // Only moves the server accepts are offered: a 409 means the violation changed since
        // the page read it (another reviewer). The queue is read again to show it as it is.
        status(msg, `Not changed: ${v.id} was changed by someone else meanwhile ` +
          `(${e.description || e.message}); reloaded.`, 'error');
        load();
        return;
      }
      status(msg, `Not changed: ${e.description || e.message}`, 'error');
    }
  }

  function actions(v) {
    if (!can.review) return null;
    const reasonF = field(`Reason for ${v.id}`, h('input', { dir: 'auto', class: 'reason',
      placeholder: 'why (required to decide)' }));
    reasonF.wrap.classList.add('reason-field');
    const moves = allowedMoves(v);
    if (!moves.length) return h('span', { class: 'hint' }, 'final');
    return h('div', { class: 'actions' }, reasonF.wrap, moves.map((m) =>
      h('button', { type: 'button', 'data-to': m.to, 'data-reopen': m.reopen || null,
        title: m.reopen ? 'Its evidence was withdrawn: take it back under review' : null,
        onclick: () => move(v, m, reasonF) }, m.reopen ? 'reopen' : label(m.to))));
  }

  // The status, and whether its evidence was withdrawn and it needs re-review.
  function statusCell(v) {
    return h('td', { class: 'status-cell' }, label(v.status),
      v.needs_review ? [h('br'), h('span', { class: 'flag needs-review',
        title: 'Its evidence was withdrawn and no reviewer has moved it since' },
      'needs review')] : null,
      v.withdrawn ? [h('br'), h('span', { class: 'flag withdrawn' },
        `evidence withdrawn ${fmtTime(v.withdrawn)}`)] : null);
  }

  // The evidence reports, the history and the opinions of one violation.
  async function details(v, cell) {
    cell.replaceChildren(h('p', {}, 'Loading…'));
    let full;
    try {
      full = await get(`/api/v1/violations/${encodeURIComponent(v.id)}`);
    } catch (e) {
      cell.replaceChildren(h('p', { class: 'status error' }, `Could not load it: ${e.message}`));
      return;
    }
    const evidence = h('ol', { class: 'evidence' });
    for (const id of full.evidence || []) {
      const li = h('li', { 'data-report': id }, reportLink(id),
        id === full.report ? ' (the report it was found in)' : null);
      evidence.append(li);
      get(`/api/v1/reports/${encodeURIComponent(id)}`).then((r) => {
        li.append(h('br'), h('span', { class: 'ev-summary' },
          utext('span', r.title || '(no title)', { class: 'ev-title' }),
          ` — ${r.event}${r.mode ? ` / ${r.mode}` : ''}, ${fmtTime(r.start)}`,
          r.partner ? [' · ', utext('span', r.partner)] : null,
          r.marking ? ` · TLP:${String(r.marking).toUpperCase()}` : null,
          r.actors && r.actors.length ? [' · actors: ', utext('span', r.actors.join(', '))]
            : null));
      }).catch(() => {});
    }
    const history = h('ol', { class: 'history' }, (full.history || []).map((s) => h('li', {},
      h('time', { datetime: s.at }, fmtTime(s.at)), ' ',
      s.note ? 'note' : `${s.from ? `${label(s.from)} → ` : ''}${label(s.to)}`,
      ' by ', utext('span', s.by), ': ', utext('q', s.reason))));
    const opinions = h('ul', { class: 'opinions' });
    const showOpinions = (list) => opinions.replaceChildren(...(list.length ? list.map((o) =>
      h('li', { 'data-opinion': o.opinion }, h('strong', {}, label(o.opinion).replace(/-/g, ' ')),
        ' — ', utext('span', (o.authors || []).join(', ')), ` (${fmtTime(o.created)})`,
        o.explanation ? [': ', utext('q', o.explanation)] : null))
      : [h('li', {}, 'No opinion yet.')]));
    showOpinions(full.opinions || []);
    let opinionForm = null;
    if (can.opine) {
      const op = field('Your opinion', select(OPINIONS.map((o) => [o, o.replace(/-/g, ' ')]),
        { name: 'opinion' }));
      op.input.value = 'agree';
      const ex = field('Explanation', h('input', { name: 'explanation', dir: 'auto' }));
      const omsg = h('span', { class: 'status', role: 'status' });
      opinionForm = h('form', { class: 'filters opinion-form' }, op.wrap, ex.wrap,
        h('button', { type: 'submit' }, 'Add opinion'), omsg);
      opinionForm.addEventListener('submit', async (e) => {
        e.preventDefault();
        try {
          const r = await post(`/api/v1/violations/${encodeURIComponent(v.id)}/opinions`,
            { opinion: op.input.value, explanation: ex.input.value.trim() || null });
          showOpinions(r.opinions || []);
          ex.input.value = '';
          status(omsg, 'Opinion added.', 'ok');
        } catch (err) {
          status(omsg, `Not added: ${err.description || err.message}`, 'error');
        }
      });
    }
    cell.replaceChildren(h('div', { class: 'violation-details' },
      h('section', {}, h('h3', {}, `Evidence (${(full.evidence || []).length})`), evidence),
      h('section', {}, h('h3', {}, 'History'), history),
      h('section', {}, h('h3', {}, 'Opinions'), opinions, opinionForm)));
  }

  function row(v) {
    const detailRow = h('tr', { class: 'details-row', hidden: true },
      h('td', { colspan: 9 }));
    const toggle = h('button', { type: 'button', class: 'link', 'aria-expanded': 'false',
      onclick: () => {
        const open = detailRow.hidden;
        detailRow.hidden = !open;
        toggle.setAttribute('aria-expanded', String(open));
        toggle.textContent = open ? 'Hide' : 'Details';
        if (open) details(v, detailRow.firstChild);
      } }, 'Details');
    const ev = v.evidence || [];
    return [h('tr', { 'data-id': v.id, class: v.needs_review ? 'needs-review' : null },
      statusCell(v), utext('td', v.party),
      utext('td', v.zone ? `${v.zone.name} (${v.zone.kind})` : ''),
      utext('td', v.agreement ? v.agreement.name : ''),
      h('td', {}, `${v.event}${v.mode ? ` / ${v.mode}` : ''}`),
      h('td', {}, fmtTime(v.time)),
      h('td', { class: 'evidence-cell' }, `${ev.length}: `, ev.flatMap((id, i) =>
        [i ? ', ' : null, reportLink(id)])),
      h('td', {}, toggle),
      h('td', {}, actions(v))), detailRow];
  }

  const load = latest(body, async (stale) => {
    try {
      const r = await get(`/api/v1/violations${query({ status: st.input.value,
        party: party.input.value, zone: zone.input.value, since: since.input.value,
        until: nextDay(until.input.value), needs_review: flagged.checked ? 'true' : '' })}`);
      if (stale()) return;
      noteFlagged();
      const items = newestFirst(r.violations || []);
      if (!items.length) {
        body.replaceChildren(h('p', {}, 'No violations match.'));
        return;
      }
      body.replaceChildren(h('div', { class: 'scroll' }, h('table', { class: 'data',
        id: 'violations-table' },
      h('caption', {}, `${items.length} violation${items.length === 1 ? '' : 's'}, newest first, `,
        sharedNote()),
      h('thead', {}, h('tr', {}, ['Status', 'Party', 'Zone', 'Agreement', 'Act', 'When (UTC)',
        'Evidence', 'Details', can.review ? 'Review' : ''].map((c) => h('th', { scope: 'col' },
        c)))),
      h('tbody', {}, items.flatMap(row)))));
    } catch (e) {
      if (stale()) return;
      if (e instanceof ApiError && e.status === 400) {
        status(msg, e.description || e.message, 'error');
        return;
      }
      body.replaceChildren(placeholder(e));
    }
  });
  // Reviewers are told of violations flagged for re-review that the filters leave out.
  function noteFlagged() {
    if (!can.review || flagged.checked) {
      flaggedNote.hidden = true;
      return;
    }
    get('/api/v1/violations?needs_review=true').then((r) => {
      const n = (r.violations || []).length;
      flaggedNote.hidden = !n;
      flaggedNote.textContent = n ? `${n} violation${n === 1 ? ' needs' : 's need'} re-review ` +
        '(evidence withdrawn): tick "Only those needing re-review" to list them.' : '';
    }).catch(() => { flaggedNote.hidden = true; });
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    status(msg, '');
    load();
  });
  load();
}
