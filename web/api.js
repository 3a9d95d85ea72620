// web/api.js — talking to loacast: the bearer token, JSON in and out, and errors turned into
// plain words for staff (never a stack or a raw code).

import { t } from './i18n.js';

const KEY = 'loacast.session';

export function session() {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) || 'null');
    if (s && s.expires_at && Date.parse(s.expires_at) <= Date.now()) {
      sessionStorage.removeItem(KEY);
      return null;
    }
    return s;
  } catch (e) {
    return null;
  }
}

export function setSession(s) {
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message || code || String(status));
    this.status = status;
    this.code = code;
    this.serverMessage = message || '';
    this.retryAfter = retryAfter;
  }

  // The route itself does not exist on this server (a feature not built yet), as opposed to an
  // object that does not exist: the router's 404 says "no such resource".
  get unavailable() {
    return this.status === 404 && /no such resource/.test(this.serverMessage);
  }
}

let onExpired = () => {};
export function onSessionExpired(fn) { onExpired = fn; }

async function send(method, path, body, opts = {}) {
  const headers = {};
  const s = session();
  if (s && !opts.noAuth) headers.Authorization = 'Bearer ' + s.token;
  let payload;
  if (body instanceof Blob) {
    payload = body;
    if (body.type) headers['Content-Type'] = body.type;
  } else if (body !== undefined && body !== null) {
    payload = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  if (opts.accept) headers.Accept = opts.accept;
  let r;
  try {
    r = await fetch(path, {method, headers, body: payload, cache: 'no-store'});
  } catch (e) {
    throw new ApiError(0, 'network', '');
  }
  if (r.ok) return r;
  let code = '', message = '';
  try {
    const j = await r.json();
    code = j.error || '';
    message = j.message || '';
  } catch (e) { /* not JSON: keep the status alone */ }
  const err = new ApiError(r.status, code, message, r.headers.get('Retry-After'));
  if (r.status === 401 && !opts.noAuth) {
    setSession(null);
    onExpired();
  }
  throw err;
}

// JSON answer (or null for 204).
export async function api(method, path, body, opts) {
  const r = await send(method, path, body, opts);
  if (r.status === 204) return null;
  const text = await r.text();
  return text ? JSON.parse(text) : null;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);

// A binary answer (audio preview, CSV) as a Blob.
export async function blob(path, accept) {
  const r = await send('GET', path, null, {accept});
  return r.blob();
}

// An error in words for staff, in the current language.
export function errorText(err, context) {
  if (!(err instanceof ApiError)) return t('err.unexpected');
  const c = err.code, s = err.status;
  if (s === 0) return t('err.network');
  if (err.unavailable) return t('err.unavailable');
  if (context === 'login' && s === 401) return t('err.login');
  if (s === 429) {
    const min = Math.max(1, Math.ceil((+err.retryAfter || 60) / 60));
    return t('err.rate_limited', {min});
  }
  const known = {
    unauthorized: 'err.expired', forbidden: 'err.forbidden', not_found: 'err.not_found',
    exists: 'err.exists', conflict: 'err.conflict', bad_state: 'err.bad_state',
    audio_changed: 'err.audio_changed',
    body_too_large: 'err.too_large', unsupported_media: 'err.not_audio', invalid: 'err.invalid',
    bad_field: 'err.invalid', unknown_field: 'err.invalid', bad_json: 'err.invalid',
    bad_query: 'err.invalid', busy: 'err.busy', shutting_down: 'err.busy', timeout: 'err.network',
  };
  // A refused value, in words: the server's sentence names the field; the common ones have their
  // own Vietnamese sentence.
  if (c === 'invalid' || c === 'bad_field') {
    const m = err.serverMessage;
    const hints = [[/expires is in the past/, 'err.expires_past'], [/expires must be after/, 'err.expires_order'],
      [/unknown commune/, 'err.unknown_commune'], [/password must have at least/, 'err.password_short'],
      [/must be a slug/, 'err.slug'], [/must not be empty/, 'err.empty'], [/needs a reason/, 'err.reason'],
      [/would be over already/, 'err.past_session'], [/overlap/, 'err.overlap'], [/unknown voice/, 'err.voice']];
    for (const [re, key] of hints) if (re.test(m)) return t(key);
  }
  let text = t(known[c] || (s >= 500 ? 'err.server' : 'err.unexpected'));
  // In English the server's own sentence adds the detail (which field, which commune); in
  // Vietnamese we do not show English text to staff.
  const detailed = ['invalid', 'bad_field', 'conflict', 'bad_state', 'exists'];
  if (t.lang() === 'en' && err.serverMessage && detailed.includes(c)) text += ' (' + err.serverMessage + ')';
  return text;
}
