// web/screens/audit.js — who did what, when (admins and operators), each entry as a sentence
// ("anh đã duyệt bản tin «Lịch tiêm phòng» (#12).") with its details in words below it.
// API: GET /api/v1/audit?action=&actor=&before=ID&limit=N (newest first); names of bulletins,
// communes and clusters from GET /api/v1/bulletins, /communes, /clusters (ids when they fail).
// The action strings are the server's (grep lc_audit in server/); one this page does not know
// still reads as a sentence (aud.generic / aud.unknown), the raw action only in the row's title.

import { h, field, replace } from '../dom.js';
import { t, has, lang } from '../i18n.js';
import { get } from '../api.js';
import { fmtDateTime, fmtDuration, fmtNumber, fmtIsoDate } from '../fmt.js';
import { failure, loadCommunes } from '../common.js';
import { ruleDetail } from './rules.js';

const PAGE = 100;
const ACTIONS = ['login', 'login_failed', 'login_limited', 'logout', 'user_create', 'user_update', 'user_delete',
  'user_unlock', 'commune_create', 'commune_update', 'commune_delete', 'commune_retire', 'cluster_create',
  'cluster_update', 'cluster_delete', 'cluster_retire', 'cluster_token', 'bulletin_create', 'bulletin_rendered',
  'bulletin_failed', 'bulletin_audio', 'bulletin_approve', 'bulletin_reject', 'bulletin_withdraw', 'bulletin_expire',
  'bulletin_expired', 'bulletin_done', 'emergency', 'emergency_rule_break', 'slots_update', 'session_create',
  'rules_update', 'selftest_run', 'selftest_schedule', 'alert_received', 'alert_duplicate', 'alert_updated',
  'alert_cancelled', 'alert_confirmed', 'alert_on_air', 'alert_failed'];

const DAY_KEYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

export function actionText(a) {
  return has('act.' + a) ? t('act.' + a) : a;
}

// Names the sentences use; filled from the APIs and from the entries themselves.
function nameBook() {
  return {bulletins: new Map(), communes: new Map(), clusters: new Map()};
}

const isTime = (v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v);
const isDay = (v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v);

// One value of a detail, in words. k is its key (it says how to read the value).
function value(k, v, N) {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'boolean') return has(`det.${k}.${v}`) ? t(`det.${k}.${v}`) : t(v ? 'aud.yes' : 'aud.no');
  if (Array.isArray(v)) {
    if (!v.length) return '—';
    if (k === 'communes' && v.includes('*')) return t('aud.all_communes');
    const one = k === 'communes' ? 'commune' : k === 'days' ? 'day' : k === 'holidays' ? 'holiday' : k;
    // objects read with commas inside: a semicolon between them
    return v.map((x) => value(one, x, N)).join(v.some((x) => x && typeof x === 'object') ? '; ' : ', ');
  }
  if (typeof v === 'object') return objectText(k, v, N);
  if (k === 'duration_s') return fmtDuration(v);
  if (k === 'upload_bytes') return `${fmtNumber(Math.round(v / 1024))} KB`;
  if (k === 'role' && has('role.' + v)) return t('role.' + v);
  if (k === 'commune') return N.communes.get(v) || String(v);
  if (k === 'cluster') return N.clusters.get(v) || String(v);
  if (k === 'bulletin') return N.bulletins.has(Number(v)) ? `«${N.bulletins.get(Number(v))}» (#${v})` : '#' + v;
  if (k === 'rule') return ruleDetail(v, [...N.communes].map(([id, name]) => ({id, name})));
  if (k === 'day' && typeof v === 'number' && v >= 1 && v <= 7) return t('day.' + DAY_KEYS[v - 1]);
  if (k === 'day' && has('day.' + v)) return t('day.' + v);
  if (k === 'reason' && has('st.skip.' + v)) return t('st.skip.' + v);
  if (has(`det.${k}.${v}`)) return t(`det.${k}.${v}`);
  if (isTime(v)) return fmtDateTime(v);
  if (isDay(v)) return fmtIsoDate(v);
  if (typeof v === 'number') return fmtNumber(v);
  return String(v);
}

// An object inside a detail: a time span ("T2, T3: 05:30–06:30"), a slot ("06:00, 60 phút, mọi
// ngày"), a commune's part of an emergency or a self-test ("Xã A (bỏ qua: …)"), else key: value.
function objectText(k, o, N) {
  if (typeof o.from === 'string' && typeof o.to === 'string' && /^\d\d:\d\d/.test(o.from)) {
    const span = `${o.from}–${o.to}`;
    return Array.isArray(o.days) ? `${value('days', o.days, N)}: ${span}` : span;
  }
  if (typeof o.start === 'string' && typeof o.minutes === 'number' && !o.commune) {
    const days = Array.isArray(o.days) && o.days.length && o.days.length < 7 ? value('days', o.days, N) : t('det.every_day');
    const parts = [o.start.slice(0, 5), t('sc.minutes', {n: o.minutes}), days];
    if (o.relay) parts.push(`${t('det.relay')}: ${o.relay}`);
    return parts.join(', ');
  }
  if (typeof o.commune === 'string') {
    const name = value('commune', o.commune, N);
    const notes = [];
    if (o.skipped) notes.push(`${t('det.skipped')}${o.reason ? ': ' + value('reason', o.reason, N) : ''}`);
    if (o.interrupted) notes.push(t('det.interrupted'));
    return notes.length ? `${name} (${notes.join('; ')})` : name;
  }
  return `(${pairs(o, [], N).join('; ')})`;
}

function label(k) {
  if (has('det.' + k)) return t('det.' + k);
  return k.replace(/_/g, ' ');  // a key added to the server since: readable, if not translated
}

// "Label: value" for each key of d not in skip.
function pairs(d, skip, N) {
  return Object.entries(d).filter(([k]) => !skip.includes(k)).map(([k, v]) => `${label(k)}: ${value(k, v, N)}`);
}

function bulletinText(id, N) {
  const title = N.bulletins.get(Number(id));
  return title ? t('aud.bulletin', {title, id}) : t('aud.bulletin_id', {id});
}

function clusterText(id, N) {
  const name = N.clusters.get(id);
  return name ? t('aud.cluster', {name, id}) : t('aud.cluster', {name: id, id}).replace(/ \([^)]*\)$/, '');
}

// The sentence of an entry and the detail keys it already says (not repeated below it).
function sentence(r, N) {
  const d = r.detail && typeof r.detail === 'object' && !Array.isArray(r.detail) ? r.detail : {};
  const who = r.actor === 'system' || !r.actor ? t('aud.system') : r.actor;
  const target = r.target || '';
  const commune = (id) => N.communes.get(id) || id || '—';
  const v = {who, target, bulletin: bulletinText(target, N), commune: commune(target), cluster: clusterText(target, N)};
  const a = r.action;
  switch (a) {
    case 'cluster_create':
      return [t('aud.cluster_create', Object.assign(v, {commune: commune(d.commune)})), ['commune']];
    case 'cluster_token':
      return [t(d.reason === 'rotated' ? 'aud.cluster_token.rotated' : 'aud.cluster_token.created', v), ['reason']];
    case 'bulletin_create': {
      const kind = d.priority === 'emergency' ? 'emergency' : d.kind === 'audio' ? 'audio' : d.kind === 'selftest' ? 'selftest' : 'text';
      return [t('aud.bulletin_create.' + kind, v), ['title', 'kind', 'priority']];
    }
    case 'bulletin_approve': case 'bulletin_reject': case 'bulletin_withdraw': case 'bulletin_rendered':
    case 'bulletin_failed': case 'bulletin_audio': case 'bulletin_expire': case 'bulletin_expired': case 'bulletin_done':
      return [t('aud.' + a, v), ['from', 'to']];
    case 'emergency': {
      const where = d.all ? t('aud.all_communes')
        : value('communes', (d.sessions || []).map((s) => s.commune), N);
      return [t('aud.emergency', Object.assign(v, {communes: where})), ['all']];
    }
    case 'emergency_rule_break':
      return [t('aud.emergency_rule_break', Object.assign(v, {commune: commune(d.commune)})), ['commune']];
    case 'session_create':
      return [t('aud.session_create', Object.assign(v, {commune: commune(d.commune)})), ['commune']];
    case 'rules_update':
      if (d.inherited) return [t('aud.rules_update.inherited', v), ['inherited']];
      return [t(target === '*' ? 'aud.rules_update.defaults' : 'aud.rules_update', v), []];
    case 'selftest_run':
      return [t(d.scheduled ? 'aud.selftest_run.scheduled' : 'aud.selftest_run', v), ['scheduled']];
    case 'alert_updated': case 'alert_cancelled':
      return [t('aud.' + a, Object.assign(v, {by: d.by})), ['by']];
    case 'alert_on_air':
      return [t('aud.alert_on_air', Object.assign(v, {bulletin: bulletinText(d.bulletin, N)})), ['bulletin']];
    case 'login_limited':
      return [t('aud.login_limited', v), []];
    default:
      if (has('aud.' + a)) return [t('aud.' + a, v), []];
  }
  // not known here: "<noun>_<verb>" in words when both are, else a plain sentence
  const on = target ? t('aud.on', {target}) : '';
  const m = /^([a-z]+)_([a-z]+)$/.exec(a || '');
  if (m && has('aud.noun.' + m[1]) && has('aud.verb.' + m[2]))
    return [t('aud.generic', {who, verb: t('aud.verb.' + m[2]), noun: t('aud.noun.' + m[1]), on}), []];
  return [t('aud.unknown', {who, on}), []];
}

// The entry's details in words, one line; '' when there are none.
export function detailText(r, N, skip) {
  const d = r.detail;
  if (d === null || d === undefined) return '';
  if (typeof d !== 'object' || Array.isArray(d)) return value('detail', d, N);
  return pairs(d, skip, N).join(' · ');
}

export function render(view) {
  const action = h('select', {id: 'audit-action', onchange: () => load(false)},
    h('option', {value: ''}, t('au.all_actions')), ACTIONS.map((a) => h('option', {value: a}, actionText(a))));
  const actor = h('input', {id: 'audit-actor', placeholder: t('au.actor_ph'), autocapitalize: 'none'});
  actor.addEventListener('change', () => load(false));
  const body = h('tbody');
  const more = h('button', {id: 'audit-more', hidden: true, onclick: () => load(true)}, t('au.more'));
  const status = h('div');
  const N = nameBook();
  let last = null;
  let named = null;

  replace(view, h('div', {class: 'page'},
    h('div', {class: 'page-head'}, h('h1', null, t('nav.audit'))),
    h('section', {class: 'card'},
      h('div', {class: 'toolbar'}, field(t('au.action'), action), field(t('au.actor'), actor)),
      status,
      h('div', {class: 'table-wrap'}, h('table', {id: 'audit-table'},
        h('thead', null, h('tr', null, [t('au.when'), t('au.sentence'), t('au.who'), t('au.address')]
          .map((x) => h('th', null, x)))), body)),
      h('div', {class: 'actions'}, more))));

  load(false);

  // Names of what the entries talk about; each list is optional (ids stand in for names).
  function names() {
    named = named || Promise.all([
      loadCommunes().then((cs) => { for (const c of cs) N.communes.set(c.id, c.name); }, () => {}),
      get('/api/v1/clusters').then((r) => { for (const c of r.clusters || []) N.clusters.set(c.id, c.name); }, () => {}),
      get('/api/v1/bulletins?limit=1000').then((r) => { for (const b of r.bulletins || []) N.bulletins.set(b.id, b.title); }, () => {}),
    ]);
    return named;
  }

  async function load(append) {
    const q = new URLSearchParams({limit: String(PAGE)});
    if (action.value) q.set('action', action.value);
    if (actor.value.trim()) q.set('actor', actor.value.trim());
    if (append && last !== null) q.set('before', String(last));
    let rows;
    try {
      [rows] = await Promise.all([get('/api/v1/audit?' + q).then((r) => r.audit || []), names()]);
    } catch (e) {
      failure(status, e);
      return;
    }
    // a bulletin's own entries carry its title (also one deleted since, or past the list's 1000)
    for (const r of rows)
      if (r.action === 'bulletin_create' && r.detail && r.detail.title && !N.bulletins.has(Number(r.target)))
        N.bulletins.set(Number(r.target), r.detail.title);
    replace(status);
    if (!append) replace(body);
    for (const r of rows) {
      const [text, skip] = sentence(r, N);
      const details = detailText(r, N, skip);
      body.appendChild(h('tr', {dataset: {action: r.action, id: r.id}, title: lang() === 'en' ? r.action : null},
        h('td', {class: 'nowrap'}, fmtDateTime(r.at)),
        h('td', {class: 'wrap audit-sentence'}, h('div', null, text), details ? h('div', {class: 'muted small audit-detail'}, details) : null),
        h('td', null, r.actor === 'system' ? t('aud.system') : r.actor),
        h('td', {class: 'muted small'}, r.address || '')));
    }
    if (!append && !rows.length) replace(status, h('p', {class: 'muted empty'}, t('au.none')));
    last = rows.length ? rows[rows.length - 1].id : last;
    more.hidden = rows.length < PAGE;
  }
}
