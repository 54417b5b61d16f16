// Administration (admins): partners, users (with their partner), tokens (create, revoke),
// sharing groups (create, change members; with their members as the reader may see them).
// The server decides what each admin may do; a 403 is shown as the server's reason.
import { get, post, del, patch } from '../api.js';
import { h, utext, field, select, status, setFieldError, fmtTime } from '../dom.js';
import { labelCells } from './reports.js';

// A group's members are added or taken out by its owner's admins; the hub's admins take
// members out of any group (the server says what the caller may: may_add_members,
// may_remove_members).
function changeMembers(g, reload, msg) {
  const f = field(`Members to add to or take out of ${g.name}`, h('input', { dir: 'auto',
    class: 'members-change', placeholder: 'partner or user:NAME, …' }));
  const send = (key) => async () => {
    const list = f.input.value.split(',').map((s) => s.trim()).filter(Boolean);
    if (!list.length) {
      setFieldError(f, 'Name a partner or user:NAME.');
      return;
    }
    try {
      await patch(`/api/v1/groups/${encodeURIComponent(g.marking_id)}`, { [key]: list });
      status(msg, `${g.name}: ${key === 'add' ? 'added' : 'took out'} ${list.join(', ')}.`, 'ok');
      reload();
    } catch (e) {
      status(msg, `${g.name}: ${e.description || e.message}`, 'error');
    }
  };
  return h('div', { class: 'members-form' }, f.wrap,
    g.may_add_members ? h('button', { type: 'button', 'aria-label': `Add members to ${g.name}`,
      onclick: send('add') }, 'Add') : null,
    h('button', { type: 'button', class: 'secondary', 'aria-label': `Take out members of ${g.name}`,
      onclick: send('remove') }, 'Take out'));
}

function table(caption, cols, rows) {
  const t = h('table', { class: 'data' }, h('caption', {}, caption),
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, c[0])))),
    h('tbody', {}, rows.length ? rows.map((r) => h('tr', {}, cols.map((c) => {
      const v = c[1](r);
      return v instanceof Node ? h('td', {}, v) : utext('td', v ?? '');
    }))) : h('tr', {}, h('td', { colspan: cols.length }, 'None.'))));
  labelCells(t);
  return t;
}

// One admin section: a list reloaded by load(), and a create form.
function section(root, { id, title, load, cols, fields, submit }) {
  const list = h('div', { class: 'scroll' });
  const msg = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const form = h('form', { class: 'inline-form', novalidate: true, 'aria-label': `Add: ${title}` },
    fields.map((f) => f.wrap), h('button', { type: 'submit' }, 'Add'), msg);
  const sec = h('section', { id, class: 'card', 'aria-labelledby': `${id}-h` },
    h('h2', { id: `${id}-h` }, title), list, form);
  root.append(sec);
  async function reload() {
    try {
      const rows = await load();
      list.replaceChildren(table(title, cols(reload, msg), rows));
    } catch (e) {
      list.replaceChildren(h('p', { class: 'status error' }, e.message));
    }
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    fields.forEach((f) => setFieldError(f, ''));
    const empty = fields.find((f) => f.required && !f.input.value.trim());
    if (empty) {
      setFieldError(empty, 'Required.');
      empty.input.focus();
      return;
    }
    try {
      const text = await submit();
      status(msg, text || 'Added.', 'ok');
      fields.forEach((f) => {
        if (f.input.type === 'checkbox') f.input.checked = false;
        else if (f.input.tagName !== 'SELECT') f.input.value = '';
      });
      reload();
    } catch (err) {
      status(msg, `${err.title}: ${err.description || err.message}`, 'error');
    }
  });
  reload();
  return reload;
}

function req(f) {
  f.required = true;
  return f;
}

export function render(root, ctx) {
  root.append(h('h1', {}, 'Administration'));
  const nav = h('nav', { 'aria-label': 'Admin sections', class: 'subnav' },
    h('a', { href: '#/admin', 'data-target': 'partners' }, 'Partners'), ' · ',
    h('a', { href: '#/admin', 'data-target': 'users' }, 'Users'), ' · ',
    h('a', { href: '#/admin', 'data-target': 'tokens' }, 'Tokens'), ' · ',
    h('a', { href: '#/admin', 'data-target': 'groups' }, 'Sharing groups'));
  nav.addEventListener('click', (e) => {
    const t = e.target.closest('a');
    if (!t) return;
    e.preventDefault();
    const s = document.getElementById(t.dataset.target);
    if (s) {
      s.scrollIntoView();
      s.querySelector('h2').setAttribute('tabindex', '-1');
      s.querySelector('h2').focus();
    }
  });
  root.append(nav);

  // Partners
  const pName = req(field('Partner name', h('input', { name: 'partner_name', dir: 'auto' })));
  const pCoord = field('Coordination center', h('input', { type: 'checkbox',
    name: 'coordinator' }));
  let partners = [];
  const partnerSelect = select([]);
  section(root, {
    id: 'partners', title: 'Partners',
    load: async () => {
      partners = (await get('/api/v1/partners')).partners || [];
      partnerSelect.replaceChildren(...partners.map((p) => utext('option', p.name,
        { value: p.name })));
      partnerSelect.value = ctx.me.partner.name;
      return partners;
    },
    cols: () => [['Name', (p) => p.name], ['Coordinator', (p) => (p.coordinator ? 'yes' : '')],
      ['Identity', (p) => p.identity]],
    fields: [pName, pCoord],
    submit: async () => {
      const r = await post('/api/v1/partners', { name: pName.input.value.trim(),
        coordinator: pCoord.input.checked });
      return `Added ${r.name} (${r.identity}).`;
    },
  });

  // Users
  const uPartner = field('Partner', partnerSelect);
  const uName = req(field('User name', h('input', { name: 'user_name', dir: 'auto',
    autocomplete: 'off' })));
  const uRole = field('Role', select(['reader', 'reporter', 'analyst', 'admin'], { name: 'role' }));
  const uPass = field('Dashboard password (optional)', h('input', { type: 'password',
    name: 'new_password', autocomplete: 'new-password' }));
  section(root, {
    id: 'users', title: 'Users',
    load: async () => (await get('/api/v1/users')).users || [],
    cols: (reload, msg) => [['Name', (u) => u.name], ['Partner', (u) => u.partner],
      ['Role', (u) => u.role], ['Password', (u) => (u.password ? 'set' : '')],
      ['Disabled', (u) => (u.disabled ? 'yes' : '')],
      // Someone who has left is disabled (docs/ACCESS.md); one's own account is not offered.
      ['Account', (u) => (u.name === ctx.me.user ? '' : h('button', { type: 'button',
        'aria-label': `${u.disabled ? 'Enable' : 'Disable'} user ${u.name}`,
        onclick: async () => {
          if (!u.disabled && !window.confirm(`Disable ${u.name}? Its tokens, sessions and `
            + 'webhooks stop.')) return;
          try {
            await patch(`/api/v1/users/${encodeURIComponent(u.name)}`, { disabled: !u.disabled });
            status(msg, `${u.name} ${u.disabled ? 'enabled' : 'disabled'}.`, 'ok');
            reload();
          } catch (e) {
            status(msg, e.message, 'error');
          }
        } }, u.disabled ? 'Enable' : 'Disable'))]],
    fields: [uPartner, uName, uRole, uPass],
    submit: async () => {
      const body = { partner: uPartner.input.value, name: uName.input.value.trim(),
        role: uRole.input.value };
      if (uPass.input.value) body.password = uPass.input.value;
      await post('/api/v1/users', body);
      return `Added ${body.name}.`;
    },
  });

  // Tokens
  const tUser = req(field('User', h('input', { name: 'token_user', dir: 'auto' })));
  const tLabel = field('Label', h('input', { name: 'label', dir: 'auto' }));
  const tDays = field('Expires after (days, 0 = never)', h('input', { type: 'number', min: 0,
    step: 1, name: 'expires_days', value: '90' }));
  const tRo = field('Read-only', h('input', { type: 'checkbox', name: 'read_only' }));
  const shown = h('div', { class: 'token-once', 'aria-live': 'polite' });
  const reloadTokens = section(root, {
    id: 'tokens', title: 'API tokens',
    load: async () => (await get('/api/v1/tokens')).tokens || [],
    cols: (reload, msg) => [['Id', (t) => String(t.id)], ['User', (t) => t.user],
      ['Label', (t) => t.label], ['Read-only', (t) => (t.read_only ? 'yes' : '')],
      ['Created', (t) => fmtTime(t.created)], ['Expires', (t) => fmtTime(t.expires) || 'never'],
      ['State', (t) => (t.revoked ? 'revoked' : h('button', { type: 'button',
        'aria-label': `Revoke token ${t.id} of ${t.user}`,
        onclick: async () => {
          if (!window.confirm(`Revoke token ${t.id} of ${t.user}?`)) return;
          try {
            await del(`/api/v1/tokens/${encodeURIComponent(t.id)}`);
            status(msg, `Token ${t.id} revoked.`, 'ok');
            reload();
          } catch (e) {
            status(msg, e.message, 'error');
          }
        } }, 'Revoke'))]],
    fields: [tUser, tLabel, tDays, tRo],
    submit: async () => {
      const body = { user: tUser.input.value.trim(), read_only: tRo.input.checked };
      if (tLabel.input.value.trim()) body.label = tLabel.input.value.trim();
      if (tDays.input.value !== '') body.expires_days = Number(tDays.input.value);
      const r = await post('/api/v1/tokens', body);
      shown.replaceChildren(h('p', {}, `New token for ${r.user} — copy it now, it is not shown again:`),
        h('code', { class: 'token' }, r.token));
      return 'Token created.';
    },
  });
  document.getElementById('tokens').append(shown);
  void reloadTokens;

  // Sharing groups
  const gName = req(field('Group name', h('input', { name: 'group_name', dir: 'auto' })));
  const gMembers = req(field('Members', h('input', { name: 'members', dir: 'auto' }),
    { hint: 'Partner names, or user:NAME (for RED), separated by commas.' }));
  section(root, {
    id: 'groups', title: 'Sharing groups',
    load: async () => (await get('/api/v1/groups')).groups || [],
    cols: (reload, msg) => [['Name', (g) => g.name],
      ['Members', (g) => `${(g.members || []).join(', ')}${g.users_withheld
        ? `${(g.members || []).length ? ', ' : ''}${g.users_withheld} user${g.users_withheld === 1
          ? '' : 's'} of other partners` : ''}`],
      ['Marking definition', (g) => g.marking_id],
      ['Change members', (g) => (g.may_remove_members ? changeMembers(g, reload, msg) : '')]],
    fields: [gName, gMembers],
    submit: async () => {
      const members = gMembers.input.value.split(',').map((s) => s.trim()).filter(Boolean);
      const r = await post('/api/v1/groups', { name: gName.input.value.trim(), members });
      return `Created ${r.name}.`;
    },
  });
}
