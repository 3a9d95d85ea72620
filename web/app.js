// web/app.js — the console's shell: station settings, the session, the menu, the language
// switch, and a hash router (#/bulletins, #/schedule, ...) that draws one screen at a time.

import { h, replace } from './dom.js';
import { t, lang, setLang } from './i18n.js';
import { setZone } from './fmt.js';
import { api, session, setSession, onSessionExpired } from './api.js';
import * as login from './screens/login.js';
import * as bulletins from './screens/bulletins.js';
import * as schedule from './screens/schedule.js';
import * as onair from './screens/onair.js';  // issue 20: on air now
import * as rules from './screens/rules.js';
import * as emergency from './screens/emergency.js';
import * as alerts from './screens/alerts.js';
import * as communes from './screens/communes.js';
import * as coverage from './screens/coverage.js';
import * as selftest from './screens/selftest.js';
import * as lexicon from './screens/lexicon.js';  // issue 20: the station lexicon
import * as map from './screens/map.js';  // issue 19: the cluster map
import * as users from './screens/users.js';
import * as nodes from './screens/nodes.js';  // issue 19: the organisation tree
import { loadScope } from './org.js';
import * as audit from './screens/audit.js';

// Which roles see which screen (the server enforces the same; hiding only spares staff a 403).
const SCREENS = [
  {id: 'bulletins', mod: bulletins, roles: ['admin', 'editor', 'approver', 'operator']},
  {id: 'schedule', mod: schedule, roles: ['admin', 'editor', 'approver', 'operator']},
  {id: 'onair', mod: onair, roles: ['admin', 'editor', 'approver', 'operator']},
  {id: 'rules', mod: rules, roles: ['admin', 'operator']},
  {id: 'emergency', mod: emergency, roles: ['admin', 'approver']},
  {id: 'alerts', mod: alerts, roles: ['admin', 'editor', 'approver', 'operator']},
  {id: 'communes', mod: communes, roles: ['admin', 'editor', 'approver', 'operator']},
  {id: 'coverage', mod: coverage, roles: ['admin', 'operator']},
  {id: 'selftest', mod: selftest, roles: ['admin', 'operator']},
  {id: 'map', mod: map, roles: ['admin', 'editor', 'approver', 'operator']},  // issue 19
  {id: 'lexicon', mod: lexicon, roles: ['admin', 'editor', 'approver', 'operator']},
  {id: 'nodes', mod: nodes, roles: ['admin', 'editor', 'approver', 'operator']},  // issue 19 (changes: admin)
  {id: 'users', mod: users, roles: ['admin']},
  {id: 'audit', mod: audit, roles: ['admin', 'operator']},
];

const view = document.getElementById('view');
const top = document.getElementById('top');
let toastTimer = null;
let current = null;     // the screen drawn now; its cleanup() runs before the next

export function toast(text, kind) {
  const el = document.getElementById('toast');
  el.textContent = text;
  el.className = 'toast ' + (kind || 'ok');
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, kind === 'error' ? 8000 : 4000);
}

function navigate(path) {
  if (location.hash === '#/' + path) route();
  else location.hash = '#/' + path;
}

function allowed(s) {
  const sess = session();
  return SCREENS.filter((x) => sess && x.roles.includes(sess.role)).some((x) => x.id === s);
}

function drawTop(active) {
  const sess = session();
  if (!sess) {
    replace(top, h('div', {class: 'brand'}, h('span', {class: 'logo', 'aria-hidden': 'true'}), 'loacast'),
            h('div', {class: 'spacer'}), langButton());
    top.hidden = false;
    return;
  }
  const links = SCREENS.filter((x) => x.roles.includes(sess.role)).map((x) =>
    h('a', {href: '#/' + x.id, class: x.id === active ? 'active' : null, 'aria-current': x.id === active ? 'page' : null,
            dataset: {screen: x.id}}, t('nav.' + x.id)));
  replace(top,
    h('div', {class: 'brand'}, h('span', {class: 'logo', 'aria-hidden': 'true'}), 'loacast'),
    h('nav', {class: 'menu', 'aria-label': t('nav.label')}, links),
    h('div', {class: 'spacer'}),
    h('div', {class: 'who'}, h('strong', null, sess.username), ' · ', t('role.' + sess.role)),
    sess.node ? h('div', {class: 'who-node', id: 'who-node', title: t('org.scope')}, sess.node.name) : null,  // issue 19
    langButton(),
    h('button', {class: 'link', id: 'logout', onclick: logout}, t('nav.logout')));
  top.hidden = false;
}

function langButton() {
  return h('button', {class: 'lang', id: 'lang', title: t('lang.title'),
    onclick: () => { setLang(lang() === 'vi' ? 'en' : 'vi'); route(); }}, t('lang.other'));
}

async function logout() {
  try { await api('POST', '/api/v1/logout'); } catch (e) { /* the token may be gone already */ }
  setSession(null);
  navigate('login');
}

function route() {
  if (current && current.cleanup) current.cleanup();
  current = null;
  document.documentElement.lang = lang();
  const name = (location.hash.replace(/^#\/?/, '').split('?')[0]) || '';
  const sess = session();
  if (!sess || name === 'login') {
    if (sess && name === 'login') setSession(null);
    drawTop(null);
    document.title = t('login.title') + ' — loacast';
    current = login.render(view, {toast, navigate, done: async () => { await loadScope(); navigate(firstScreen()); }}) || null;
    return;
  }
  const target = allowed(name) ? name : firstScreen();
  if (target !== name) { navigate(target); return; }
  const s = SCREENS.find((x) => x.id === target);
  drawTop(target);
  document.title = t('nav.' + target) + ' — loacast';
  replace(view);
  current = s.mod.render(view, {toast, navigate, session: sess}) || null;
  // issue 19: a session from before the organisation tree learns its node (the header shows it)
  if (sess.node === undefined) loadScope().then(() => { if (session() && session().node !== undefined && location.hash.startsWith('#/' + target)) drawTop(target); });
}

function firstScreen() {
  const sess = session();
  const s = SCREENS.find((x) => sess && x.roles.includes(sess.role));
  return s ? s.id : 'login';
}

async function boot() {
  try {
    const st = await api('GET', '/web/station.json', null, {noAuth: true});
    setZone(st.timezone);
  } catch (e) { /* keep the default zone */ }
  onSessionExpired(() => {
    toast(t('err.expired'), 'error');
    navigate('login');
  });
  window.addEventListener('hashchange', route);
  route();
}

boot();
