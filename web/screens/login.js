// web/screens/login.js — the login form (POST /api/v1/login).

import { h, field, replace } from '../dom.js';
import { t } from '../i18n.js';
import { api, setSession, errorText } from '../api.js';

export function render(view, ctx) {
  const user = h('input', {id: 'username', name: 'username', autocomplete: 'username', required: true,
                           autocapitalize: 'none', spellcheck: 'false'});
  const pass = h('input', {id: 'password', name: 'password', type: 'password', autocomplete: 'current-password',
                           required: true});
  const msg = h('p', {class: 'notice error', id: 'login-error', role: 'alert', hidden: true});
  const btn = h('button', {type: 'submit', class: 'primary', id: 'login-submit'}, t('login.submit'));
  const form = h('form', {class: 'card login', onsubmit: submit},
    h('h1', null, t('login.title')),
    h('p', {class: 'muted'}, t('login.intro')),
    field(t('login.username'), user),
    field(t('login.password'), pass),
    msg, btn);
  replace(view, h('div', {class: 'login-page'}, form));
  user.focus();

  async function submit(ev) {
    ev.preventDefault();
    msg.hidden = true;
    if (!user.value.trim() || !pass.value) {
      msg.textContent = t('login.missing');
      msg.hidden = false;
      return;
    }
    btn.disabled = true;
    btn.textContent = t('login.busy');
    try {
      const r = await api('POST', '/api/v1/login', {username: user.value.trim(), password: pass.value},
                          {noAuth: true});
      setSession({token: r.token, role: r.role, username: r.username || user.value.trim(),
                  expires_at: r.expires_at});
      ctx.done();
    } catch (e) {
      msg.textContent = errorText(e, 'login');
      msg.hidden = false;
      pass.value = '';
      pass.focus();
    } finally {
      btn.disabled = false;
      btn.textContent = t('login.submit');
    }
  }
}
