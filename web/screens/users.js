// web/screens/users.js — staff accounts (admin only): add, change role, set a new password,
// delete. APIs: GET|POST /api/v1/users, PATCH|DELETE /api/v1/users/{name}.

import { h, field, replace } from '../dom.js';
import { t } from '../i18n.js';
import { api, get, post, errorText } from '../api.js';
import { fmtDateTime } from '../fmt.js';
import { failure, confirmDialog, sectionTitle } from '../common.js';
import { loadNodes, nodeOptions, nodeError } from '../org.js';

const ROLES = ['editor', 'approver', 'operator', 'admin'];

export function render(view, ctx) {
  const listEl = h('div');
  const name = h('input', {id: 'u-name', maxlength: 64, autocapitalize: 'none', autocomplete: 'off'});
  const pass = h('input', {id: 'u-password', type: 'password', autocomplete: 'new-password'});
  const role = h('select', {id: 'u-role'}, ROLES.map((r) => h('option', {value: r}, t('role.' + r))));
  const msg = h('p', {class: 'notice error', role: 'alert', hidden: true});
  // issue 19: the staff's unit (hidden on a server without nodes)
  let nodes = [];
  const node = h('select', {id: 'u-node'});
  const nodeField = field(t('org.node'), node, t('org.node_hint'));
  nodeField.hidden = true;

  replace(view, h('div', {class: 'page'},
    h('div', {class: 'page-head'}, h('h1', null, t('nav.users'))),
    h('div', {class: 'split'},
      h('section', {class: 'card list'}, sectionTitle(t('us.list')), listEl),
      h('form', {class: 'card side', id: 'user-form', onsubmit: add},
        sectionTitle(t('us.add')),
        field(t('us.name'), name, t('us.name_hint')),
        field(t('us.password'), pass, t('us.password_hint')),
        field(t('us.role'), role),
        nodeField,
        h('ul', {class: 'muted small roles-help'}, ROLES.map((r) => h('li', null, h('strong', null, t('role.' + r)), ': ', t('us.help.' + r)))),
        msg,
        h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary', id: 'u-save'}, t('us.create')))))));

  load();

  async function load() {
    let users;
    try {
      users = (await get('/api/v1/users')).users || [];
      if (!nodes.length) {
        try { nodes = await loadNodes(); } catch (e) { nodes = []; }
        replace(node, nodeOptions(nodes, ctx.session.node ? ctx.session.node.id : null));
        nodeField.hidden = !nodes.length;
      }
    } catch (e) {
      failure(listEl, e);
      return;
    }
    const rows = users.map((u) => {
      const sel = h('select', {'aria-label': t('us.role')}, ROLES.map((r) => h('option', {value: r, selected: r === u.role}, t('role.' + r))));
      sel.addEventListener('change', () => update(u, {role: sel.value}));
      const nsel = nodes.length ? h('select', {'aria-label': t('org.node'), class: 'u-node'}, nodeOptions(nodes, u.node)) : null;
      if (nsel) nsel.addEventListener('change', () => update(u, {node: Number(nsel.value)}));
      return h('tr', {dataset: {name: u.username}},
        h('td', null, h('strong', null, u.username), u.username === ctx.session.username ? h('span', {class: 'muted'}, ' ' + t('us.you')) : null),
        h('td', null, sel),
        nsel ? h('td', null, nsel) : null,
        h('td', null, fmtDateTime(u.created_at)),
        h('td', {class: 'row-actions'},
          h('button', {class: 'link', onclick: () => newPassword(u)}, t('us.set_password')),
          u.username !== ctx.session.username ? h('button', {class: 'link danger', onclick: () => remove(u)}, t('common.delete')) : null));
    });
    replace(listEl, h('div', {class: 'table-wrap'}, h('table', {id: 'users-table'},
      h('thead', null, h('tr', null, [t('us.name'), t('us.role'), nodes.length ? t('org.node') : null, t('us.created'), '']
        .filter((x) => x !== null).map((x) => h('th', null, x)))),
      h('tbody', null, rows))));
  }

  async function add(ev) {
    ev.preventDefault();
    msg.hidden = true;
    if (!name.value.trim() || !pass.value) { msg.textContent = t('us.need'); msg.hidden = false; return; }
    try {
      const body = {username: name.value.trim(), password: pass.value, role: role.value};
      if (nodes.length) body.node = Number(node.value);
      await post('/api/v1/users', body);
      ctx.toast(t('us.created_ok', {name: name.value.trim()}));
      name.value = '';
      pass.value = '';
      await load();
    } catch (e) {
      msg.textContent = nodeError(e);
      msg.hidden = false;
    }
  }

  async function update(u, body) {
    try {
      await api('PATCH', '/api/v1/users/' + encodeURIComponent(u.username), body);
      ctx.toast(t('common.saved'));
    } catch (e) {
      ctx.toast(e.code === 'conflict' ? t('us.last_admin') : nodeError(e), 'error');
    }
    await load();
  }

  async function newPassword(u) {
    const p = h('input', {type: 'password', id: 'new-password', autocomplete: 'new-password'});
    if (!await confirmDialog(t('us.set_password'), [h('p', null, t('us.password_for', {name: u.username})),
      field(t('us.password'), p, t('us.password_hint'))], t('common.save'))) return;
    if (p.value) await update(u, {password: p.value});
  }

  async function remove(u) {
    if (!await confirmDialog(t('us.delete_title'), h('p', null, t('us.delete_text', {name: u.username})), t('common.delete'), true)) return;
    try {
      await api('DELETE', '/api/v1/users/' + encodeURIComponent(u.username));
      ctx.toast(t('common.deleted'));
    } catch (e) {
      ctx.toast(e.code === 'conflict' ? t('us.last_admin') : errorText(e), 'error');
    }
    await load();
  }
}
