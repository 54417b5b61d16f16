// Small DOM helpers. Text from the server is only ever set as text (never as HTML), and
// user-provided text gets dir="auto" so Arabic and Hebrew read right to left.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// User-provided text: an element with dir="auto".
export function utext(tag, value, attrs = {}) {
  return h(tag, { ...attrs, dir: 'auto' }, value ?? '');
}

let uid = 0;
export function newId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

// A labelled form field; returns { wrap, input, error }.
export function field(label, input, { hint } = {}) {
  if (!input.id) input.id = newId('f');
  const error = h('p', { class: 'field-error', id: `${input.id}-err`, role: 'alert' });
  input.setAttribute('aria-describedby', error.id);
  const wrap = h('div', { class: 'field' }, h('label', { for: input.id }, label), input,
    hint ? h('p', { class: 'hint' }, hint) : null, error);
  return { wrap, input, error };
}

export function setFieldError(f, message) {
  f.error.textContent = message || '';
  if (message) f.input.setAttribute('aria-invalid', 'true');
  else f.input.removeAttribute('aria-invalid');
}

export function select(options, attrs = {}) {
  const s = h('select', attrs);
  for (const o of options) {
    const [value, label] = Array.isArray(o) ? o : [o, o];
    s.append(h('option', { value }, label));
  }
  return s;
}

export function status(el, message, kind = 'info') {
  el.textContent = message || '';
  el.className = `status ${kind}`;
}

export function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function fmtTime(s) {
  return s ? s.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, 'Z') : '';
}

// A view's loads can overlap (the first one, and a search asked for before it answered), and
// their answers can arrive in any order. `latest(region, fn)` returns the view's loader: only
// the newest call may draw, and `region` is aria-busy until that call has drawn. `fn` gets a
// `stale()` check to ask after each await; when it is true, a newer load owns the view.
export function latest(region, fn) {
  let newest = 0;
  return async (...args) => {
    newest += 1;
    const mine = newest;
    region.setAttribute('aria-busy', 'true');
    try {
      await fn(() => mine !== newest, ...args);
    } finally {
      if (mine === newest) region.setAttribute('aria-busy', 'false');
    }
  };
}
