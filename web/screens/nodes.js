// web/screens/nodes.js — "Tổ chức", the organisation tree (issue 19): the caller's subtree,
// indented, each unit with the communes and staff in it and below it; admins add a unit under a
// chosen parent, rename, move (only to parents the tree allows) and delete one. What the server
// refuses (a circle, 409; a parent outside one's subtree, 422; a unit still in use, 409) is said in
// words. Other roles see the tree only.
// APIs: GET|POST /api/v1/nodes, PATCH|DELETE /api/v1/nodes/{id}, GET /api/v1/communes, GET
// /api/v1/users (admins: the staff counts).

import { h, field, replace } from '../dom.js';
import { t } from '../i18n.js';
import { api, get, post } from '../api.js';
import { failure, confirmDialog, sectionTitle } from '../common.js';
import { loadNodes, loadScope, nodeTree, nodeOptions, nodeError } from '../org.js';

export function render(view, ctx) {
  const admin = ctx.session.role === 'admin';
  const own = ctx.session.node ? ctx.session.node.id : null;
  let nodes = [];
  const treeEl = h('div', {id: 'nodes-tree'});
  const formSlot = h('div', {class: 'form-slot'});
  const name = h('input', {id: 'node-name', maxlength: 200, autocomplete: 'off'});
  const parent = h('select', {id: 'node-parent'});
  const msg = h('p', {class: 'notice error', role: 'alert', id: 'node-add-error', hidden: true});

  replace(view, h('div', {class: 'page'},
    h('div', {class: 'page-head'}, h('h1', null, t('nav.nodes'))),
    h('p', {class: 'muted'}, t('org.intro')),
    admin ? null : h('p', {class: 'notice info', id: 'nodes-readonly'}, t('org.readonly')),
    formSlot,
    h('div', {class: admin ? 'split' : ''},
      h('section', {class: 'card list'}, sectionTitle(t('org.tree')), treeEl),
      admin ? h('form', {class: 'card side', id: 'node-form', onsubmit: add},
        sectionTitle(t('org.add')),
        field(t('org.name'), name, t('org.name_hint')),
        field(t('org.parent'), parent),
        msg,
        h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary', id: 'node-save'}, t('org.create'))))
        : null)));

  load();

  async function load() {
    let communes = [], users = null;
    try {
      [nodes, communes, users] = await Promise.all([loadNodes(), get('/api/v1/communes'),
        admin ? get('/api/v1/users') : null]);
    } catch (e) {
      failure(treeEl, e);
      return;
    }
    const keep = parent.value ? Number(parent.value) : own;
    replace(parent, nodeOptions(nodes, keep));
    draw((communes && communes.communes) || [], users ? users.users || [] : null);
  }

  // Counts per unit, its subtree included (the tree is in order: a unit's subtree follows it).
  function draw(communes, users) {
    const tree = nodeTree(nodes);
    const direct = (list, id) => list.filter((x) => x.node === id).length;
    const rows = tree.map(({node, depth}, i) => {
      let end = i + 1;
      while (end < tree.length && tree[end].depth > depth) end++;
      const sub = tree.slice(i, end).map((x) => x.node.id);
      const count = (list) => sub.reduce((s, id) => s + direct(list, id), 0);
      const nameCell = h('td', {class: 'node-name'}, h('strong', null, node.name),
        node.id === own ? h('span', {class: 'muted'}, ' ' + t('org.yours')) : null);
      nameCell.style.paddingLeft = (0.5 + depth * 1.75) + 'rem';   // CSSOM: allowed by the CSP
      return h('tr', {dataset: {id: String(node.id), depth: String(depth)}},
        nameCell,
        h('td', {class: 'num', dataset: {k: 'communes'}}, String(count(communes))),
        h('td', {class: 'num', dataset: {k: 'staff'}}, users ? String(count(users)) : '—'),
        admin ? h('td', {class: 'row-actions'},
          h('button', {class: 'link', onclick: () => editForm(node)}, t('common.edit')),
          node.id !== own && depth > 0
            ? h('button', {class: 'link danger', onclick: () => remove(node)}, t('common.delete')) : null) : null);
    });
    replace(treeEl, h('div', {class: 'table-wrap'}, h('table', {id: 'nodes-table'},
      h('thead', null, h('tr', null, h('th', null, t('org.name')), h('th', null, t('org.communes')),
        h('th', null, t('org.staff')), admin ? h('th', null, '') : null)),
      h('tbody', null, rows))),
    h('p', {class: 'hint'}, t('org.counts_hint')));
  }

  async function add(ev) {
    ev.preventDefault();
    msg.hidden = true;
    const n = name.value.trim();
    if (!n) { msg.textContent = t('org.need_name'); msg.hidden = false; return; }
    try {
      await post('/api/v1/nodes', {name: n, parent: Number(parent.value)});
      ctx.toast(t('org.created', {name: n}));
      name.value = '';
      await load();
    } catch (e) {
      msg.textContent = nodeError(e);
      msg.hidden = false;
    }
  }

  function closeForm() { replace(formSlot); }

  // Rename and move. The parents offered leave out the unit and its subtree; the caller's own
  // unit (the top of the tree shown) cannot move, as the server says too.
  function editForm(node) {
    const top = !nodes.some((x) => x.id === node.parent);
    const nm = h('input', {id: 'node-edit-name', value: node.name, maxlength: 200});
    const par = top ? null : h('select', {id: 'node-edit-parent'}, nodeOptions(nodes, node.parent, node.id));
    const err = h('p', {class: 'notice error', role: 'alert', id: 'node-edit-error', hidden: true});
    replace(formSlot, h('form', {class: 'card form', id: 'node-edit-form', onsubmit: save},
      sectionTitle(t('org.edit', {name: node.name})),
      h('div', {class: 'grid3'}, field(t('org.name'), nm),
        par ? field(t('org.parent'), par, t('org.move_hint')) : h('p', {class: 'hint'}, t('org.top_fixed'))),
      err,
      h('div', {class: 'actions'}, h('button', {type: 'button', onclick: closeForm}, t('common.cancel')),
        h('button', {type: 'submit', class: 'primary', id: 'node-edit-save'}, t('common.save')))));
    nm.focus();

    async function save(ev) {
      ev.preventDefault();
      err.hidden = true;
      const body = {};
      if (nm.value.trim() !== node.name) body.name = nm.value.trim();
      if (par && Number(par.value) !== node.parent) body.parent = Number(par.value);
      if (body.name === '') { err.textContent = t('org.need_name'); err.hidden = false; return; }
      try {
        if (Object.keys(body).length) await api('PATCH', '/api/v1/nodes/' + node.id, body);
        ctx.toast(t('common.saved'));
        closeForm();
        if (node.id === own && body.name) {          // the name in the header
          await loadScope();
          ctx.navigate('nodes');
          return;
        }
        await load();
      } catch (e) {
        err.textContent = nodeError(e);
        err.hidden = false;
      }
    }
  }

  async function remove(node) {
    if (!await confirmDialog(t('org.delete_title'), h('p', null, t('org.delete_text', {name: node.name})),
      t('common.delete'), true)) return;
    try {
      await api('DELETE', '/api/v1/nodes/' + node.id);
      ctx.toast(t('common.deleted'));
    } catch (e) {
      ctx.toast(nodeError(e), 'error');
    }
    await load();
  }
}
