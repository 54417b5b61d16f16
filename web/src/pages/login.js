import { api, ApiError } from '../api.js';
import { h, field, status } from '../dom.js';

export function render(root, { onLogin }) {
  const user = field('User name', h('input', { name: 'user', autocomplete: 'username',
    required: true }));
  const pass = field('Password', h('input', { name: 'password', type: 'password',
    autocomplete: 'current-password', required: true }));
  const msg = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const form = h('form', { class: 'card login', novalidate: true },
    h('h1', {}, 'Sign in to Vigil'),
    h('p', { class: 'hint' }, 'Coordination-center dashboard. Use your dashboard password.'),
    user.wrap, pass.wrap,
    h('button', { type: 'submit' }, 'Sign in'), msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!user.input.value || !pass.input.value) {
      status(msg, 'Enter your user name and password.', 'error');
      return;
    }
    status(msg, 'Signing in…');
    try {
      const r = await api('POST', '/api/v1/login', { user: user.input.value,
        password: pass.input.value }, { quiet401: true });
      pass.input.value = '';
      status(msg, '');
      await onLogin(r.csrf_token);
    } catch (e) {
      const text = e instanceof ApiError && e.status === 401
        ? 'Wrong user name or password.' : `Sign-in failed: ${e.message}`;
      status(msg, text, 'error');
    }
  });
  root.append(form);
  user.input.focus();
}
