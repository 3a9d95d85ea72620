// web/screens/schedule.js — a commune's daily slots (edit: admin, operator), an extra session
// for one day, and what airs in the sessions of a day with each item's time. A slot or a session
// may relay an upstream stream ("relay": its URL) instead of airing bulletins; one that breaks the
// broadcast rules is refused (422 "rule") and the reason is shown (ruleDetail(), rules.js).
// APIs: GET|PUT /api/v1/communes/{id}/slots, POST /api/v1/communes/{id}/sessions,
// GET /api/v1/communes/{id}/programme?date=YYYY-MM-DD.

import { h, field, replace } from '../dom.js';
import { t } from '../i18n.js';
import { api, get, post, errorText } from '../api.js';
import { fmtTime, fmtDuration, fmtIsoDate, isoDate, addDays, stationInputToRfc3339 } from '../fmt.js';
import { can, loadCommunes, failure, sectionTitle, badge, dateInput, setDate, readDate, timeInput, readTime } from '../common.js';
import { ruleDetail } from './rules.js';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

const slotList = (r) => (Array.isArray(r) ? r : (r && r.slots) || []);

// An upstream stream's address as the server takes it: http(s)://host..., no spaces.
function relayValid(v) {
  if (/[\s\u0000-\u001f\u007f]/.test(v)) return false;
  try {
    const u = new URL(v);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.host !== '';
  } catch (e) {
    return false;
  }
}

// What a session is at the instant now (ms), from the server's status read at load time and the
// clock: a session whose end has passed is never "planned" — it keeps what the server said
// happened (aired, interrupted, missed) or, when the server never touched it (a slot nobody
// aired, an answer older than its end), is "past"; a planned one whose start has come is "due"
// until the next load says whether it went on air.
export function sessionState(s, now) {
  const st = s.status || 'scheduled';
  const start = Date.parse(s.start), end = Date.parse(s.end);
  if (st !== 'scheduled' && st !== 'on_air') return st;
  if (now >= end) return st === 'on_air' ? 'done' : 'past';
  if (st === 'on_air') return 'on_air';
  return now >= start ? 'due' : 'scheduled';
}

const STATE_KIND = {on_air: 'ok', done: 'ok', missed: 'bad', interrupted: 'bad', due: 'warn'};

// The badge (and "expected" for a programme not frozen yet) of a session at now.
function stateBadge(s, now) {
  const k = sessionState(s, now);
  return [badge(STATE_KIND[k] || 'off', t('sc.state.' + k)),
    s.frozen === false && k === 'scheduled' ? [' ', h('span', {class: 'muted small'}, t('sc.predicted'))] : null];
}

// How often the statuses are checked against the clock; a change also reloads the programme.
const TICK_MS = 15 * 1000;

// A URL shown as text that may wrap anywhere (a long address must not widen a phone's page).
const relayUrl = (url) => h('span', {class: 'relay-url'}, url);

export function render(view, ctx) {
  const manage = can.manage(ctx.session.role);
  let communes = [];
  let slots = [];
  const commune = h('select', {id: 'sched-commune', onchange: () => { loadSlots(); loadProgramme(); }});
  const date = dateInput({id: 'sched-date', onchange: loadProgramme, 'aria-label': t('sc.date')}, isoDate());
  const day = () => readDate(date) || isoDate();
  const slotsEl = h('div', {id: 'slots'});
  const sessionEl = h('div');
  const progEl = h('div', {id: 'programme'});
  // A refusal of the slots that names a rule stays on screen (a toast would go before it is read).
  const slotMsg = h('p', {class: 'notice error', id: 'slot-msg', role: 'alert', hidden: true});

  replace(view, h('div', {class: 'page'},
    h('div', {class: 'page-head'}, h('h1', null, t('nav.schedule')), field(t('co.commune'), commune)),
    h('div', {class: 'split even'},
      h('div', {class: 'stack'},
        h('section', {class: 'card'}, sectionTitle(t('sc.slots')), slotsEl),
        manage ? h('section', {class: 'card'}, sectionTitle(t('sc.add_session')), sessionEl) : null),
      h('section', {class: 'card'},
        sectionTitle(t('sc.programme'), h('div', {class: 'date-nav'},
          h('button', {class: 'link', 'aria-label': t('sc.prev_day'), onclick: () => shift(-1)}, '‹'),
          date,
          h('button', {class: 'link', 'aria-label': t('sc.next_day'), onclick: () => shift(1)}, '›'))),
        progEl))));

  // statuses follow the clock: each tick redraws the badges whose state moved, then asks the
  // server what really happened (a cheap GET, only when something moved)
  const shown = new WeakMap();   // .session-state element → its session
  const clock = setInterval(tick, TICK_MS);
  start();

  function tick() {
    let moved = false;
    const now = Date.now();
    for (const el of progEl.querySelectorAll('.session-state')) {
      const s = shown.get(el);
      if (!s || el.dataset.state === sessionState(s, now)) continue;
      replace(el, stateBadge(s, now));
      el.dataset.state = sessionState(s, now);
      moved = true;
    }
    if (moved) loadProgramme();
  }

  function shift(n) {
    setDate(date, addDays(day(), n));
    loadProgramme();
  }

  async function start() {
    try {
      communes = await loadCommunes();
    } catch (e) {
      failure(slotsEl, e);
      return;
    }
    if (!communes.length) {
      replace(slotsEl, h('p', {class: 'muted empty'}, t('common.no_communes')));
      replace(progEl);
      return;
    }
    replace(commune, communes.map((c) => h('option', {value: c.id}, c.name)));
    if (manage) drawSessionForm();
    loadSlots();
    loadProgramme();
  }

  const cid = () => encodeURIComponent(commune.value);
  // Only the newest load of each kind draws: an answer for the commune or day the user has
  // already left (a slow request overtaken by a later one) is dropped.
  let slotsSeq = 0, progSeq = 0;

  async function loadSlots() {
    const seq = ++slotsSeq, id = commune.value;
    let r;
    try {
      r = await get(`/api/v1/communes/${cid()}/slots`);
    } catch (e) {
      if (seq === slotsSeq) failure(slotsEl, e);
      return;
    }
    if (seq !== slotsSeq) return;
    slots = slotList(r);
    slotsEl.dataset.commune = id;
    drawSlots();
  }

  function drawSlots() {
    // the content column only when a slot relays: the usual table stays as it was
    const relays = slots.some((s) => s.relay);
    const rows = slots.map((s, i) => {
      const days = s.days && s.days.length && s.days.length < 7 ? s.days.map((d) => t('day.' + d)).join(', ') : t('sc.every_day');
      return h('tr', {dataset: s.relay ? {relay: s.relay} : null},
        h('td', null, h('strong', null, String(s.start).slice(0, 5))),
        h('td', null, t('sc.minutes', {n: s.minutes})),
        h('td', null, days),
        relays ? h('td', {class: 'relay-cell'}, s.relay ? [badge('wait', t('sc.kind_relay')), ' ', relayUrl(s.relay)]
          : h('span', {class: 'muted'}, t('sc.bulletins'))) : null,
        manage ? h('td', {class: 'row-actions'}, h('button', {class: 'link danger', onclick: () => removeSlot(i)}, t('common.delete'))) : null);
    });
    const list = slots.length
      ? h('div', {class: 'table-wrap'}, h('table', {id: 'slots-table'},
          h('thead', null, h('tr', null, h('th', null, t('sc.start')), h('th', null, t('sc.length')), h('th', null, t('sc.days')),
            relays ? h('th', null, t('sc.content')) : null,
            manage ? h('th', null, '') : null)), h('tbody', null, rows)))
      : h('p', {class: 'muted empty'}, t('sc.no_slots'));
    if (!manage) { replace(slotsEl, list); return; }
    const startIn = timeInput({id: 'slot-start'}, '06:00');
    const minutes = h('input', {type: 'number', id: 'slot-minutes', min: 1, max: 240, value: 60});
    const relay = h('input', {type: 'url', id: 'slot-relay', placeholder: 'http://…', autocomplete: 'off', spellcheck: 'false'});
    const dayBoxes = DAYS.map((d) => h('input', {type: 'checkbox', value: d, checked: true}));
    slotMsg.hidden = true;
    replace(slotsEl, list,
      h('form', {class: 'inline-form', id: 'slot-form', novalidate: true, onsubmit: (ev) => { ev.preventDefault(); addSlot(); }},
        h('div', {class: 'grid2'}, field(t('sc.start'), startIn), field(t('sc.length_min'), minutes)),
        h('fieldset', {class: 'days'}, h('legend', null, t('sc.days')),
          DAYS.map((d, i) => h('label', {class: 'check'}, dayBoxes[i], t('day.' + d)))),
        field(t('sc.relay'), relay, t('sc.relay_hint')),
        slotMsg,
        h('div', {class: 'actions'}, h('button', {type: 'submit', id: 'slot-add'}, t('sc.add_slot')))));

    async function addSlot() {
      slotMsg.hidden = true;
      const days = dayBoxes.filter((b) => b.checked).map((b) => b.value);
      if (!days.length) { ctx.toast(t('sc.need_day'), 'error'); return; }
      const st = readTime(startIn);
      if (!st) { ctx.toast(t('sc.bad_time'), 'error'); return; }
      const r = relay.value.trim();
      if (r && !relayValid(r)) { showSlotMsg(t('sc.bad_relay')); return; }
      const s = {start: st, minutes: Number(minutes.value)};
      if (days.length < 7) s.days = days;
      if (r) s.relay = r;
      await saveSlots(slots.concat([s]));
    }
  }

  function showSlotMsg(text) {
    slotMsg.textContent = text;
    slotMsg.hidden = false;
  }

  async function removeSlot(i) {
    await saveSlots(slots.filter((_, k) => k !== i));
  }

  async function saveSlots(next) {
    const body = next.map((s) => {
      const o = {start: String(s.start), minutes: Number(s.minutes)};
      if (s.days && s.days.length && s.days.length < 7) o.days = s.days;
      if (s.relay) o.relay = s.relay;
      return o;
    });
    let refused = null;
    try {
      await api('PUT', `/api/v1/communes/${cid()}/slots`, {slots: body});
      ctx.toast(t('common.saved'));
    } catch (e) {
      if (e.code === 'rule') refused = t('sc.rule_refused', {detail: ruleDetail(e.serverMessage, communes)});
      else if (e.code === 'invalid' && /relay/.test(e.serverMessage)) refused = t('sc.bad_relay');
      else ctx.toast(e.status === 409 || e.code === 'conflict' ? t('sc.overlap') : errorText(e), 'error');
    }
    await loadSlots();
    if (refused) showSlotMsg(refused);
    await loadProgramme();
  }

  function drawSessionForm() {
    const d = dateInput({id: 'session-date'}, isoDate());
    const tm = timeInput({id: 'session-time'}, '19:00');
    const minutes = h('input', {type: 'number', id: 'session-minutes', min: 1, max: 240, value: 30});
    const relay = h('input', {type: 'url', id: 'session-relay', placeholder: 'http://…', autocomplete: 'off', spellcheck: 'false'});
    const msg = h('p', {class: 'notice error', role: 'alert', hidden: true});
    replace(sessionEl, h('form', {id: 'session-form', onsubmit: add, novalidate: true},
      h('p', {class: 'muted'}, t('sc.session_help')),
      h('div', {class: 'grid3'}, field(t('sc.date'), d), field(t('sc.start'), tm), field(t('sc.length_min'), minutes)),
      field(t('sc.relay'), relay, t('sc.relay_hint')),
      msg,
      h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary', id: 'session-add'}, t('sc.add_session')))));

    async function add(ev) {
      ev.preventDefault();
      msg.hidden = true;
      const dv = readDate(d), tv = readTime(tm);
      const start = dv && tv ? stationInputToRfc3339(`${dv}T${tv}`) : null;
      if (!start) { msg.textContent = t('sc.bad_time'); msg.hidden = false; return; }
      const r = relay.value.trim();
      if (r && !relayValid(r)) { msg.textContent = t('sc.bad_relay'); msg.hidden = false; return; }
      const body = {start, minutes: Number(minutes.value)};
      if (r) body.relay = r;
      try {
        await post(`/api/v1/communes/${cid()}/sessions`, body);
        ctx.toast(t('sc.session_added'));
        setDate(date, dv);
        await loadProgramme();
      } catch (e) {
        msg.textContent = e.status === 409 ? t('sc.session_overlap')
          : e.code === 'rule' ? t('sc.rule_refused', {detail: ruleDetail(e.serverMessage, communes)})
            : e.code === 'invalid' && /relay/.test(e.serverMessage) ? t('sc.bad_relay') : errorText(e);
        msg.hidden = false;
      }
    }
  }

  async function loadProgramme() {
    if (!commune.value) return;
    const seq = ++progSeq, id = commune.value, dd = day();
    let r;
    try {
      r = await get(`/api/v1/communes/${cid()}/programme?date=${encodeURIComponent(dd)}`);
    } catch (e) {
      if (seq === progSeq) failure(progEl, e);
      return;
    }
    if (seq !== progSeq) return;
    // what the list shows, for whoever reads the page (and the tests)
    progEl.dataset.commune = id;
    progEl.dataset.date = dd;
    const sessions = (r && r.sessions) || [];
    if (!sessions.length) {
      replace(progEl, h('p', {class: 'muted empty'}, t('sc.no_sessions', {date: fmtIsoDate(dd)})));
      return;
    }
    replace(progEl, sessions.map((s) => drawSession(s)));
  }

  function drawSession(s) {
    const start = Date.parse(s.start);
    const items = s.items || [];
    const waiting = s.not_fitting || s.not_fitted || s.waiting || [];
    const kind = s.kind === 'emergency' ? badge('bad', t('sc.kind_emergency'))
      : s.kind === 'adhoc' || s.adhoc ? badge('warn', t('sc.kind_adhoc')) : badge('off', t('sc.kind_slot'));
    const now = Date.now();
    const stateEl = h('span', {class: 'session-state', dataset: {state: sessionState(s, now)}}, stateBadge(s, now));
    shown.set(stateEl, s);
    const total = s.length_s ?? items.reduce((a, it) => Math.max(a, (it.offset_s || 0) + (it.duration_s || 0)), 0);
    // a relay session is one upstream stream for its whole window: its URL, not bulletin items
    const relay = s.relay || (items.length === 1 && items[0].relay) || null;
    return h('div', {class: 'session', dataset: relay ? {start: s.start, relay} : {start: s.start}},
      h('div', {class: 'session-head'},
        h('h3', null, `${fmtTime(s.start)}–${fmtTime(s.end)}`), kind,
        relay ? badge('wait', t('sc.kind_relay')) : null,
        stateEl,
        relay ? null : h('span', {class: 'muted small'}, t('sc.fill', {used: fmtDuration(total), n: items.length}))),
      s.rule_broken ? h('p', {class: 'notice warn small rule-broken'}, t('sc.rule_broken', {detail: ruleDetail(s.rule_broken, communes)})) : null,
      relay ? h('p', {class: 'relay-line'}, h('span', {class: 'muted'}, t('sc.relay_of')), ' ', relayUrl(relay))
      : items.length ? h('div', {class: 'table-wrap'}, h('table', {class: 'programme'},
        h('thead', null, h('tr', null, [t('sc.at'), t('bul.title'), t('bul.duration')].map((x) => h('th', null, x)))),
        h('tbody', null, items.map((it) => h('tr', null,
          h('td', {class: 'nowrap'}, fmtTime(start + (it.offset_s || 0) * 1000, true)),
          h('td', null, it.title || ('#' + it.bulletin)),
          h('td', {class: 'num'}, fmtDuration(it.duration_s)))))))
        : h('p', {class: 'muted'}, t('sc.empty_session')),
      waiting.length ? h('p', {class: 'notice warn small'}, t('sc.waiting'), ' ',
        waiting.map((w) => (typeof w === 'object' ? (w.title || '#' + (w.bulletin || w.id)) : '#' + w)).join(', ')) : null);
  }

  return {cleanup() { clearInterval(clock); }};
}
