// web/screens/alerts.js — CAP alerts (cảnh báo) received from the warning services: the list with
// their status; an alert shows its communes by name and its text as it will be spoken, and, while
// it awaits, one button for approvers and admins that puts it on air as an emergency.
// API: GET /api/v1/alerts, GET /api/v1/alerts/{id} (with "spoken" and "targets"),
// POST /api/v1/alerts/{id}/confirm (docs/alerts.md).

import { h, replace, table } from '../dom.js';
import { t } from '../i18n.js';
import { get, post, errorText } from '../api.js';
import { fmtDateTime } from '../fmt.js';
import { badge, failure } from '../common.js';

const POLL_MS = 10000;
const KIND = {awaiting: 'warn', on_air: 'ok', cancelled: 'muted'};

export function render(view, ctx) {
  const list = h('div', {id: 'alerts-list'});
  const detail = h('div', {id: 'alert-detail'});
  const mayConfirm = ['admin', 'approver'].includes(ctx.session.role);
  let selected = null;
  let timer = null;
  replace(view, h('div', {class: 'page'},
    h('div', {class: 'page-head'}, h('h1', null, t('nav.alerts'))),
    h('p', {class: 'notice info'}, t('al.intro')),
    list, detail));
  load();
  timer = setInterval(load, POLL_MS);

  async function load() {
    let alerts;
    try {
      alerts = (await get('/api/v1/alerts')).alerts || [];
    } catch (e) {
      failure(list, e);
      return;
    }
    if (!alerts.length) {
      replace(list, h('p', {class: 'muted', id: 'alerts-empty'}, t('al.none')));
      return;
    }
    replace(list, table([t('al.received'), t('al.event'), t('al.severity'), t('al.communes'), t('al.status'), ''],
      alerts.map((a) => h('tr', {dataset: {alertRow: a.id, status: a.status}}, [
        fmtDateTime(a.received_at),
        h('span', null, a.event || a.title, a.msg_type !== 'Alert' ? h('span', {class: 'muted'}, ' (' + t('al.type.' + a.msg_type) + ')') : null),
        t('al.sev.' + (a.severity || 'Unknown')) + ' · ' + t('al.urg.' + (a.urgency || 'Unknown')),
        String(a.communes.length),
        badge(KIND[a.status] || 'muted', t('al.st.' + a.status)),
        h('button', {class: 'link', dataset: {alert: a.id}, onclick: () => open(a.id)}, t('al.open')),
      ].map((c) => h('td', null, c)))),
      {class: 'list', id: 'alerts-table'}));
  }

  async function open(id) {
    selected = id;
    replace(detail, h('p', {class: 'muted'}, t('al.loading')));
    let a;
    try {
      a = await get('/api/v1/alerts/' + id);
    } catch (e) {
      failure(detail, e);
      return;
    }
    if (selected !== id) return;
    show(a, null);
  }

  function show(a, note) {
    const msg = h('p', {class: 'notice error', role: 'alert', hidden: true});
    const btn = a.status === 'awaiting' && mayConfirm
      ? h('button', {class: 'danger big', id: 'alert-confirm', onclick: confirm}, t('al.confirm')) : null;
    replace(detail, h('section', {class: 'card', id: 'alert-card', dataset: {status: a.status}},
      h('h2', null, a.headline || a.title),
      note ? h('p', {class: 'notice ok', id: 'alert-done'}, note) : null,
      h('dl', {class: 'facts'},
        h('dt', null, t('al.status')), h('dd', {id: 'alert-status'}, badge(KIND[a.status] || 'muted', t('al.st.' + a.status))),
        h('dt', null, t('al.sender')), h('dd', null, a.sender),
        h('dt', null, t('al.sent')), h('dd', null, fmtDateTime(a.sent)),
        h('dt', null, t('al.severity')), h('dd', null, t('al.sev.' + (a.severity || 'Unknown')) + ' · ' +
          t('al.urg.' + (a.urgency || 'Unknown')) + ' · ' + t('al.cert.' + (a.certainty || 'Unknown'))),
        a.area ? [h('dt', null, t('al.area')), h('dd', null, a.area)] : null,
        h('dt', null, t('al.communes')), h('dd', {id: 'alert-communes'},
          (a.targets || []).map((c) => c.name).join(', ') || '—'),
        a.expires ? [h('dt', null, t('al.expires')), h('dd', null, fmtDateTime(a.expires))] : null,
        a.confirmed_by ? [h('dt', null, t('al.confirmed_by')), h('dd', null, a.confirmed_by + ' · ' + fmtDateTime(a.confirmed_at))] : null,
        a.bulletin ? [h('dt', null, t('al.bulletin')), h('dd', null, String(a.bulletin))] : null),
      a.spoken ? [h('h3', null, t('al.spoken')), h('p', {class: 'pre', id: 'alert-spoken'}, a.spoken)] : null,
      a.spoken_error ? h('p', {class: 'notice error'}, a.spoken_error) : null,
      a.status === 'awaiting' && !mayConfirm ? h('p', {class: 'muted'}, t('al.needs_approver')) : null,
      msg,
      btn ? h('div', {class: 'actions'}, btn) : null));

    // One click: the card above is what will be broadcast, where.
    async function confirm() {
      btn.disabled = true;
      btn.textContent = t('al.sending');
      try {
        const r = await post('/api/v1/alerts/' + a.id + '/confirm');
        const again = await get('/api/v1/alerts/' + a.id);
        show(again, t('al.on_air_now', {n: (r.emergency && r.emergency.sessions || []).length}));
        ctx.toast(t('al.on_air_now', {n: (r.emergency && r.emergency.sessions || []).length}));
        load();
      } catch (e) {
        btn.disabled = false;
        btn.textContent = t('al.confirm');
        msg.textContent = errorText(e);
        msg.hidden = false;
      }
    }
  }

  return {cleanup() { clearInterval(timer); }};
}
