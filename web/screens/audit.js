// web/screens/audit.js — who did what, when (admins and operators).
// API: GET /api/v1/audit?action=&actor=&before=ID&limit=N (newest first).

import { h, field, replace } from '../dom.js';
import { t, has } from '../i18n.js';
import { get } from '../api.js';
import { fmtDateTime } from '../fmt.js';
import { failure } from '../common.js';

const PAGE = 100;
const ACTIONS = ['login', 'login_failed', 'login_limited', 'logout', 'user_create', 'user_update', 'user_delete',
  'commune_create', 'commune_update', 'commune_delete', 'cluster_create', 'cluster_update', 'cluster_delete',
  'cluster_token', 'bulletin_create', 'bulletin_rendered', 'bulletin_failed', 'bulletin_audio', 'bulletin_approve',
  'bulletin_reject', 'bulletin_withdraw', 'bulletin_expire', 'emergency', 'emergency_rule_break',
  'slots_update', 'session_create', 'rules_update', 'selftest_run', 'selftest_schedule',
  'alert_received', 'alert_duplicate', 'alert_updated', 'alert_cancelled', 'alert_confirmed',
  'alert_on_air', 'alert_failed'];

export function actionText(a) {
  return has('act.' + a) ? t('act.' + a) : a;
}

function detailText(d) {
  if (d === null || d === undefined) return '';
  if (typeof d !== 'object') return String(d);
  const value = (k, v) => {
    if (Array.isArray(v)) return v.join(', ');
    if (v && typeof v === 'object') return JSON.stringify(v);
    if (v === true) return '✓';
    if (k === 'role' && has('role.' + v)) return t('role.' + v);
    if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v)) return fmtDateTime(v);
    if (has(`det.${k}.${v}`)) return t(`det.${k}.${v}`);
    return v;
  };
  return Object.entries(d).map(([k, v]) => `${has('det.' + k) ? t('det.' + k) : k}: ${value(k, v)}`).join(' · ');
}

export function render(view) {
  const action = h('select', {id: 'audit-action', onchange: () => load(false)},
    h('option', {value: ''}, t('au.all_actions')), ACTIONS.map((a) => h('option', {value: a}, actionText(a))));
  const actor = h('input', {id: 'audit-actor', placeholder: t('au.actor_ph'), autocapitalize: 'none'});
  actor.addEventListener('change', () => load(false));
  const body = h('tbody');
  const more = h('button', {id: 'audit-more', hidden: true, onclick: () => load(true)}, t('au.more'));
  const status = h('div');
  let last = null;

  replace(view, h('div', {class: 'page'},
    h('div', {class: 'page-head'}, h('h1', null, t('nav.audit'))),
    h('section', {class: 'card'},
      h('div', {class: 'toolbar'}, field(t('au.action'), action), field(t('au.actor'), actor)),
      status,
      h('div', {class: 'table-wrap'}, h('table', {id: 'audit-table'},
        h('thead', null, h('tr', null, [t('au.when'), t('au.who'), t('au.what'), t('au.target'), t('au.detail'), t('au.address')]
          .map((x) => h('th', null, x)))), body)),
      h('div', {class: 'actions'}, more))));

  load(false);

  async function load(append) {
    const q = new URLSearchParams({limit: String(PAGE)});
    if (action.value) q.set('action', action.value);
    if (actor.value.trim()) q.set('actor', actor.value.trim());
    if (append && last !== null) q.set('before', String(last));
    let rows;
    try {
      rows = (await get('/api/v1/audit?' + q)).audit || [];
    } catch (e) {
      failure(status, e);
      return;
    }
    replace(status);
    if (!append) replace(body);
    for (const r of rows) {
      body.appendChild(h('tr', null,
        h('td', {class: 'nowrap'}, fmtDateTime(r.at)),
        h('td', null, r.actor),
        h('td', null, actionText(r.action)),
        h('td', null, r.target || ''),
        h('td', {class: 'wrap small'}, detailText(r.detail)),
        h('td', {class: 'muted small'}, r.address || '')));
    }
    if (!append && !rows.length) replace(status, h('p', {class: 'muted empty'}, t('au.none')));
    last = rows.length ? rows[rows.length - 1].id : last;
    more.hidden = rows.length < PAGE;
  }
}
