// Alerts (S7) as the dashboard shows them: GET /api/v1/alerts gives the reader's view of each
// alert ({id, rule, severity, status, title, location{lat,lon} | area, start, end, confidence,
// evidence[], created, updated}); the stream sends the same JSON in `alert` events. Analysts and
// admins move an alert new → acknowledged → resolved (or → false_alarm) with
// POST /api/v1/alerts/{id}/status; the server checks the role and the lifecycle. Each view
// also carries why it fired (`why`), when it fired in event time (`fired_at`), the marking of
// its evidence, and the reader's partner's own triage (assignee, comments, who of them changed
// the status: POST /api/v1/alerts/{id}/triage).
import { get, post } from './api.js';
import { h, utext, fmtTime } from './dom.js';
import L from './leaflet-global.js';

export const SEVERITIES = ['critical', 'high', 'medium', 'low'];
export const STATUS_LABEL = { new: 'new', acknowledged: 'acknowledged', resolved: 'resolved',
  false_alarm: 'false alarm' };
// The moves the lifecycle allows from each status (the server has the last word).
const NEXT = {
  new: [['acknowledged', 'Acknowledge'], ['false_alarm', 'False alarm']],
  acknowledged: [['resolved', 'Resolve'], ['false_alarm', 'False alarm']],
};

export function severityOf(a) {
  return SEVERITIES.includes(a.severity) ? a.severity : 'low';
}

export function statusLabel(s) {
  return STATUS_LABEL[s] || s || 'new';
}

export function windowText(a) {
  if (!a.start) return '';
  return a.end && a.end !== a.start ? `${fmtTime(a.start)} – ${fmtTime(a.end)}` : fmtTime(a.start);
}

export function canChange(me) {
  return !!me && (me.role === 'analyst' || me.role === 'admin');
}

export function hasPlace(a) {
  return !!(a.location && Number.isFinite(a.location.lat) && Number.isFinite(a.location.lon));
}

// Sends a status change, decided on the alert's status_version as the user read it (the server
// answers 409 when the status changed since: a compare-and-set); resolves to the alert as the server now shows it.
export function setStatus(a, to) {
  const body = { status: to };
  if (Number.isInteger(a.status_version)) body.status_version = a.status_version;
  return post(`/api/v1/alerts/${encodeURIComponent(a.id)}/status`, body);
}

// The alert's marker: a triangle coloured by severity, distinct from the round report pins.
export function alertIcon(a) {
  const sev = severityOf(a);
  const span = h('span', { class: `alert-pin sev-${sev} st-${a.status || 'new'}`,
    'data-alert-id': String(a.id) }, h('span', { class: 'alert-pin-mark' }, '!'));
  // A flag: the triangle stands on a short pole above its place, so that it does not sit on
  // the count of a cluster there (clusters are drawn above it, operations.js).
  return L.divIcon({ html: span, className: 'pin-wrap alert-wrap', iconSize: [26, 24],
    iconAnchor: [13, 44], popupAnchor: [0, -42] });
}

export function alertTitle(a) {
  return `Alert, ${severityOf(a)}: ${a.title || a.rule || 'alert'} (${statusLabel(a.status)})`;
}

function row(label, value) {
  if (value === undefined || value === null || value === '') return null;
  return h('tr', {}, h('th', { scope: 'row' }, label),
    value instanceof Node ? h('td', {}, value) : utext('td', String(value)));
}

export function markingLabel(m) {
  return m ? `TLP:${String(m).toUpperCase()}` : '';
}

// The evidence reports' titles and markings, read once each (GET /api/v1/reports/{id}: the
// reader's own view; a report they may not read is not in the evidence they are shown).
const evidenceCache = new Map(); // id → Promise<report|null>
function evidenceReport(id) {
  if (!evidenceCache.has(id)) {
    evidenceCache.set(id, get(`/api/v1/reports/${encodeURIComponent(id)}`).catch(() => null));
  }
  return evidenceCache.get(id);
}

// "Why it fired": the rule or detector in words, and the figures of the reader's view.
export function whyText(a) {
  const w = a.why || {};
  const f = w.figures || {};
  const bits = [];
  if (f.evidence !== undefined) {
    bits.push(`${f.evidence} report${f.evidence === 1 ? '' : 's'} you may read`);
  }
  if (f.partners !== undefined) bits.push(`from ${f.partners} partner${f.partners === 1 ? '' : 's'}`);
  if (f.warnings) bits.push(`${f.warnings} warning${f.warnings === 1 ? '' : 's'} of a planned event`);
  if (f.confidence !== undefined) {
    bits.push(`confidence ${f.confidence}%${f.min_confidence ? ` (the rule asks ${f.min_confidence}%)` : ''}`);
  }
  return { text: w.text || '', figures: bits.join(', ') };
}

// Who set the status the reader sees, and when: a user of their own partner by name; another
// partner's decision only as such (the triage is a partner's own, docs/ACCESS.md).
export function statusText(a) {
  const s = statusLabel(a.status);
  if (!a.status || a.status === 'new') return s;
  const t = a.triage || {};
  if (t.status_by && (!a.status_at || t.status_at >= a.status_at)) {
    return `${s} by ${t.status_by}, ${fmtTime(t.status_at)}`;
  }
  return a.status_at ? `${s} by another partner, ${fmtTime(a.status_at)}` : s;
}

// The triage part of the popup, built once and updated in place (the form — assignee input,
// comment text, buttons, focus — is never rebuilt while the popup is open).
function triageView(opts, msg, current) {
  const assignee = h('td', { dir: 'auto' });
  const comments = h('div', { class: 'comments-wrap' });
  const head = h('p', { class: 'evidence-head' }, 'Triage ',
    h('span', { class: 'hint', title: 'Assignee and comments are your partner\'s own: other '
      + 'partners do not see them.' }, '(your partner only)'));
  let form = null;
  let who = null;
  let toMe = null;
  let text = null;
  if (canChange(opts.me)) {
    text = h('textarea', { rows: 2, dir: 'auto', 'aria-label': 'Comment', maxlength: 2000 });
    who = h('input', { dir: 'auto', 'aria-label': 'Assignee (user name)', size: 10 });
    const send = async (body, btn, after) => {
      btn.disabled = true;
      try {
        const updated = await post(`/api/v1/alerts/${encodeURIComponent(current().id)}/triage`,
          body);
        if (after) after();
        msg.textContent = '';
        msg.className = 'status';
        if (opts.onChanged) opts.onChanged(updated);
      } catch (e) {
        msg.textContent = `Not saved: ${e.description || e.message}`;
        msg.className = 'status error';
      } finally {
        btn.disabled = false;
      }
    };
    toMe = h('button', { type: 'button', onclick: (ev) => send({ assignee: opts.me.user },
      ev.currentTarget) }, 'Assign to me');
    form = h('div', { class: 'triage-form' },
      h('div', { class: 'actions' }, who,
        h('button', { type: 'button', onclick: (ev) => send({ assignee: who.value.trim() },
          ev.currentTarget) }, 'Assign'),
        toMe),
      text,
      h('button', { type: 'button', onclick: (ev) => {
        const c = text.value.trim();
        // the text is cleared only once saved, and only if it is still what was sent
        if (c) send({ comment: c }, ev.currentTarget, () => {
          if (text.value.trim() === c) text.value = '';
        });
      } }, 'Add comment'));
  }
  const el = h('div', { class: 'triage' }, head, h('table', {}, h('tr', {},
    h('th', { scope: 'row' }, 'Assignee'), assignee)), comments, form);
  let shownAssignee = null;
  let shownComments = null;
  return {
    el,
    update(a) {
      const t = a.triage;
      el.hidden = !t;
      if (!t) return;
      assignee.textContent = t.assignee || 'nobody';
      const key = JSON.stringify(t.comments || []);
      if (key !== shownComments) {
        shownComments = key;
        comments.replaceChildren((t.comments || []).length
          ? h('ol', { class: 'comments' }, t.comments.map((c) => h('li', {},
            h('span', { class: 'meta' }, `${c.by}, ${fmtTime(c.at)}: `), utext('span', c.text))))
          : h('p', { class: 'hint' }, 'No comments.'));
      }
      if (who) {
        // The field follows the assignee unless the user is editing it.
        if (shownAssignee === null || (document.activeElement !== who
          && who.value === shownAssignee)) who.value = t.assignee || '';
        toMe.hidden = !opts.me || t.assignee === opts.me.user;
      }
      shownAssignee = t.assignee || '';
    },
  };
}

// Sends a status change decided on the version of the alert the user sees (status_version: a
// compare-and-set, the server answers 409 when the status changed since). On 409 the alert is
// read again and shown as it is now.
async function changeStatus(a, to, opts, msg) {
  try {
    const updated = await setStatus(a, to);
    msg.textContent = '';
    msg.className = 'status';
    if (opts.onChanged) opts.onChanged(updated);
    return true;
  } catch (e) {
    if (e.status === 409) {
      let now = null;
      try {
        now = await get(`/api/v1/alerts/${encodeURIComponent(a.id)}`);
      } catch {
        /* shown below as not reloaded */
      }
      if (now && opts.onChanged) opts.onChanged(now);
      msg.textContent = now
        ? `Not changed: someone else changed this alert meanwhile; reloaded, it is now ` +
          `${statusLabel(now.status)}.`
        : `Not changed: ${e.description || e.message}`;
    } else {
      msg.textContent = `Not changed: ${e.description || e.message}`;
    }
    msg.className = 'status error';
    return false;
  }
}

function evidenceList(a, opts) {
  return h('ul', { class: 'evidence' }, (a.evidence || []).map((id) => {
    const t = opts.reportTitle ? opts.reportTitle(id) : undefined;
    const mark = h('span', { class: 'marking' });
    const link = h('a', { href: `#/reports?id=${encodeURIComponent(id)}`, class: 'ev-link' },
      t ? utext('span', t) : h('span', { class: 'mono' }, id));
    const li = h('li', { 'data-report': id }, link, ' ', mark,
      t ? h('span', { class: 'mono' }, ` (${id})`) : null);
    evidenceReport(id).then((r) => {
      if (!r) return;
      if (!t && r.title) link.replaceChildren(utext('span', `${r.event}: ${r.title}`));
      mark.textContent = markingLabel(r.marking);
      mark.className = `marking tlp-${String(r.marking || '').replace('+', '-')}`;
    });
    return li;
  }));
}

// What the popup says of an alert (everything but its buttons and triage).
function infoParts(a, opts) {
  const sev = severityOf(a);
  const where = hasPlace(a) ? `${a.location.lat.toFixed(4)}, ${a.location.lon.toFixed(4)}`
    : a.area || '';
  const why = whyText(a);
  return [
    h('p', { class: `sev-badge sev-${sev}` }, `${sev.toUpperCase()} alert`),
    a.marking ? h('p', { class: `marking-banner tlp-${a.marking.replace('+', '-')}`,
      title: 'The most restrictive marking of the evidence this alert rests on' },
    `${markingLabel(a.marking)} evidence`) : null,
    utext('h3', a.title || a.rule || 'Alert'),
    why.text ? h('div', { class: 'why' }, h('p', { class: 'evidence-head' }, 'Why it fired'),
      h('p', { class: 'why-text' }, why.text),
      why.figures ? h('p', { class: 'why-figures' }, `Here: ${why.figures}.`) : null) : null,
    h('table', {},
      row('Rule', a.rule),
      row('Severity', sev),
      row('Status', statusText(a)),
      row('Confidence', a.confidence !== undefined ? `${a.confidence}%` : ''),
      row('Fired at', a.fired_at ? `${fmtTime(a.fired_at)} (event time)` : ''),
      row('Window', windowText(a)),
      row('Where', where),
      row('Marking', a.marking ? `${markingLabel(a.marking)} (its evidence, most restrictive)` : ''),
      row('Raised', fmtTime(a.created)),
      row('Updated', a.updated !== a.created ? fmtTime(a.updated) : ''),
      row('Id', a.id)),
    h('p', { class: 'evidence-head' }, `Evidence (${(a.evidence || []).length} report` +
      `${(a.evidence || []).length === 1 ? '' : 's'} you may read)`),
    evidenceList(a, opts),
  ];
}

// The popup of an alert. opts: { me, reportTitle(id) → string|undefined, onChanged(alert) }.
// Returns { el, update(alert) }: the element is built once and kept; update() redraws only the
// parts that changed (what it says, the status buttons when the status moved, the triage's
// assignee and comments) in place, so that a redraw while the popup is open (the answer to
// the user's own change, the change's event on the live stream, another user's change) never
// drops what the user is typing, where the focus is, or the button they are about to click.
export function alertPopup(a, opts = {}) {
  let cur = a;
  const msg = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const info = h('div', { class: 'alert-info' });
  const actions = h('div', { class: 'actions status-actions' });
  const triage = triageView(opts, msg, () => cur);
  const el = h('div', { class: 'popup alert-popup', 'data-alert-id': String(a.id) }, info,
    actions, triage.el, msg);
  let infoKey = null;
  let actionsFor = null;
  function drawActions(s) {
    const moves = canChange(opts.me) ? NEXT[s] || [] : [];
    actions.hidden = !moves.length;
    actions.replaceChildren(...moves.map(([to, label]) => h('button', { type: 'button',
      'data-to': to, onclick: async () => {
        const btns = [...actions.querySelectorAll('button')];
        btns.forEach((b) => { b.disabled = true; });
        const ok = await changeStatus(cur, to, opts, msg);
        // on success the status moved and its own buttons are drawn; otherwise try again
        if (!ok || actionsFor === s) btns.forEach((b) => { b.disabled = false; });
      } }, label)));
  }
  function update(next) {
    cur = next;
    const t = next.triage || {};
    const key = JSON.stringify([{ ...next, triage: null }, t.status_by, t.status_at]);
    if (key !== infoKey) {
      infoKey = key;
      info.replaceChildren(...infoParts(next, opts).filter(Boolean));
    }
    const s = next.status || 'new';
    if (s !== actionsFor) {
      actionsFor = s;
      drawActions(s);
    }
    triage.update(next);
  }
  update(a);
  return { el, update };
}
