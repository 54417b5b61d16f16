// The authenticated REST API (docs/openapi.yaml). The session cookie is HttpOnly and sent by
// the browser; the CSRF token lives only in this module's memory and goes with every non-GET.

let csrf = null;
let onUnauthorized = () => {};

export function setCsrf(token) {
  csrf = token;
}

export function hasSession() {
  return csrf !== null;
}

export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

export class ApiError extends Error {
  constructor(status, body) {
    const b = body || {};
    super(b.description || b.title || `HTTP ${status}`);
    this.status = status;
    this.title = b.title || `HTTP ${status}`;
    this.description = b.description || '';
  }
}

// Calls the API; resolves to the parsed JSON body, rejects with an ApiError.
export async function api(method, path, body, { quiet401 = false } = {}) {
  // X-Requested-With: the server then answers 401 without a Basic challenge (which would make
  // the browser ask for a password itself instead of the page showing its sign-in form).
  const headers = { Accept: 'application/json', 'X-Requested-With': 'XMLHttpRequest' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  const r = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { title: text.slice(0, 200) };
  }
  if (!r.ok) {
    if (r.status === 401 && !quiet401) onUnauthorized();
    throw new ApiError(r.status, data);
  }
  return data;
}

export const get = (path, opts) => api('GET', path, undefined, opts);
export const post = (path, body) => api('POST', path, body);
export const del = (path) => api('DELETE', path);
export const patch = (path, body) => api('PATCH', path, body);

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
