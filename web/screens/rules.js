// web/screens/rules.js — the broadcast rules (issue 18; admin, operator): the defaults, for every
// commune without rules of its own, or one commune's own rules, which replace the defaults whole.
// Allowed windows per weekday, limits (empty = no limit), quiet hours, holidays. Also
// ruleDetail(): the server's refusal ("error":"rule") in the staff's language, which the schedule
// screen shares.
// APIs: GET|PUT /api/v1/rules, GET|PUT /api/v1/communes/{id}/rules ({"inherited": true} drops a
// commune's own rules).

import { h, field, replace } from '../dom.js';
import { t, lang } from '../i18n.js';
import { api, get, errorText } from '../api.js';
import { fmtIsoDate } from '../fmt.js';
import { loadCommunes, failure, sectionTitle, dateInput, readDate, timeInput, readTime } from '../common.js';
import { atRoot } from '../org.js';

const WEEK = [1, 2, 3, 4, 5, 6, 7];                 // 1 Monday .. 7 Sunday, as the API counts
const LIMITS = [                                    // [field, input id, largest value the server takes]
  ['max_session_minutes', 'rules-max-session', 240],
  ['max_day_minutes', 'rules-max-day', 1440],
  ['max_sessions_per_day', 'rules-max-sessions', 48],
];

// ---- the server's refusal in words -------------------------------------------------------------

const EN_DAYS = {Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7};
const DAY_KEYS = ['', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

// The server writes why a slot, a session or a set of rules was refused in English, from a small
// set of sentences (schedules/rules.c, server/scheduler/rules_check.c, rules_api.c). Vietnamese
// staff get them translated, commune ids become names; a sentence not known here passes through
// as the server wrote it, so a detail is never lost.
export function ruleDetail(message, communes) {
  let m = String(message || '').trim();
  if (lang() === 'en') return m;
  const name = (id) => {
    const c = (communes || []).find((x) => x.id === id);
    return c ? c.name : id;
  };
  const shortDays = (s) => s.replace(/\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b/g, (d) => t('ru.d' + EN_DAYS[d]));
  const longDay = (d) => t('day.' + DAY_KEYS[EN_DAYS[d]]);
  let tail = '';
  if (/; change the slots first$/.test(m)) {
    m = m.replace(/; change the slots first$/, '');
    tail = '; ' + t('ru.why.fix_slots');
  }
  const steps = [
    [/^the broadcast rules refuse this session: /, () => ''],
    [/^the broadcast rules refuse /, () => ''],
    [/^these rules would refuse the slots of commune ([^:]+): /, (x, c) => t('ru.why.own', {commune: name(c)}) + ' — '],
    [/^the default rules would refuse the slots of commune ([^:]+): /, (x, c) => t('ru.why.defaults', {commune: name(c)}) + ' — '],
    [/slot \d+ \((\d\d:\d\d), (\d+) min\) on (Mon|Tue|Wed|Thu|Fri|Sat|Sun): /,
      (x, st, n, d) => t('ru.why.slot', {start: st, n, day: longDay(d)}) + ': '],
    [/the slots of (Mon|Tue|Wed|Thu|Fri|Sat|Sun): /, (x, d) => t('ru.why.day', {day: longDay(d)}) + ': '],
    [/a session may last at most (\d+) minutes \(max_session_minutes\); this one lasts (\d+)/,
      (x, max, n) => t('ru.why.session_len', {max, n})],
    [/it falls in the quiet hours (\S+) \(quiet\)/, (x, span) => t('ru.why.quiet', {span})],
    [/it lies outside the allowed windows \(windows\):(.*)$/, (x, list) => t('ru.why.windows') + shortDays(list)],
    [/at most (\d+) sessions a day \(max_sessions_per_day\); this would be session (\d+) of the day/,
      (x, max, n) => t('ru.why.day_sessions', {max, n})],
    [/at most (\d+) minutes of sessions a day \(max_day_minutes\); this would make (\d+)/,
      (x, max, n) => t('ru.why.day_minutes', {max, n})],
  ];
  for (const [re, fn] of steps) m = m.replace(re, fn);
  return m + tail;
}

// ---- the screen --------------------------------------------------------------------------------

export function render(view, ctx) {
  let communes = [];
  let loadSeq = 0;                      // a slow answer for an earlier choice is dropped
  const scope = h('select', {id: 'rules-scope', onchange: load});
  const body = h('div', {id: 'rules-body'}, h('p', {class: 'loading'}, t('ru.loading')));

  replace(view, h('div', {class: 'page'},
    h('div', {class: 'page-head'}, h('h1', null, t('nav.rules')), field(t('ru.scope'), scope)),
    h('p', {class: 'muted'}, t('ru.help')),
    body));

  start();

  async function start() {
    try {
      communes = await loadCommunes();
    } catch (e) {
      failure(body, e);
      return;
    }
    replace(scope, h('option', {value: '*'}, t('ru.defaults')),
      communes.map((c) => h('option', {value: c.id}, c.name)));
    load();
  }

  const path = (id) => (id === '*' ? '/api/v1/rules' : `/api/v1/communes/${encodeURIComponent(id)}/rules`);

  async function load() {
    const id = scope.value;
    const seq = ++loadSeq;
    let rules, defaults;
    try {
      [rules, defaults] = await Promise.all([get(path(id)), id === '*' ? null : get(path('*'))]);
    } catch (e) {
      if (seq === loadSeq) failure(body, e);
      return;
    }
    if (seq === loadSeq) draw(id, rules || {}, defaults || rules || {});
  }

  // One scope's form. For a commune, "use the defaults" shows the defaults, read-only; unticking
  // it starts its own rules from what is shown.
  function draw(id, rules, defaults) {
    const isCommune = id !== '*';
    const inherited = isCommune && rules.inherited === true;
    const own = isCommune && !inherited ? rules : null;
    const msg = h('p', {class: 'notice error', id: 'rules-msg', role: 'alert', hidden: true});
    const editor = h('fieldset', {class: 'plain', id: 'rules-editor'});
    let form = null;                     // the fields drawn now: {read()}
    const fill = (r, disabled) => { form = fields(r); replace(editor, form.el); editor.disabled = disabled; };
    const inh = isCommune ? h('input', {type: 'checkbox', id: 'rules-inherited', checked: inherited,
      onchange: () => { msg.hidden = true; fill(inh.checked ? defaults : (own || defaults), inh.checked); }}) : null;
    const state = !isCommune ? t('ru.state_defaults')
      : inherited ? t('ru.state_inherited') : t('ru.state_own');
    const locked = !isCommune && !atRoot(ctx.session);   // issue 19: the defaults are the province's
    fill(inherited ? defaults : rules, inherited || locked);

    replace(body, h('form', {id: 'rules-form', onsubmit: save, novalidate: true},
      h('div', {class: 'notice info', id: 'rules-state'}, state),
      locked ? h('p', {class: 'notice warn', id: 'rules-locked'}, t('org.station_wide')) : null,
      inh ? h('label', {class: 'check inherit'}, inh, t('ru.inherited')) : null,
      inh ? h('p', {class: 'hint'}, t('ru.own_hint')) : null,
      editor,
      msg,
      locked ? null : h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary', id: 'rules-save'}, t('ru.save')))));

    async function save(ev) {
      ev.preventDefault();
      msg.hidden = true;
      let payload;
      if (inh && inh.checked) {
        payload = {inherited: true};
      } else {
        payload = form.read();
        if (typeof payload === 'string') { show(payload); return; }
      }
      try {
        const r = await api('PUT', path(id), payload);
        ctx.toast(t('ru.saved'));
        draw(id, r || {}, id === '*' ? (r || {}) : defaults);
      } catch (e) {
        show(e.code === 'rule' ? t('ru.refused', {detail: ruleDetail(e.serverMessage, communes)}) : errorText(e));
      }
    }

    function show(text) {
      msg.textContent = text;
      msg.hidden = false;
      msg.scrollIntoView({block: 'nearest'});
    }
  }

  // The editable fields for rules r; read() → the body of a PUT, or a sentence saying what to fix.
  function fields(r) {
    const windows = spanList('rules-windows', (r.windows || []), true);
    const quiet = spanList('rules-quiet', (r.quiet || []), false);
    const limits = LIMITS.map(([key, id, max]) => ({key, max, input: h('input', {type: 'number', id, min: 1, max, step: 1,
      inputmode: 'numeric', placeholder: t('ru.no_limit'), value: r[key] ? String(r[key]) : ''})}));
    const holidays = holidayList(r.holidays || []);

    const el = h('div', {class: 'split even'},
      h('div', {class: 'stack'},
        h('section', {class: 'card'}, sectionTitle(t('ru.windows')),
          h('p', {class: 'hint'}, t('ru.windows_hint')), windows.el,
          h('div', {class: 'actions start'}, h('button', {type: 'button', id: 'rules-add-window', onclick: () => windows.add()}, t('ru.add_window')))),
        h('section', {class: 'card'}, sectionTitle(t('ru.limits')),
          h('div', {class: 'grid3'}, limits.map((x) => field(t('ru.' + x.key), x.input))),
          h('p', {class: 'hint'}, t('ru.limits_hint')))),
      h('div', {class: 'stack'},
        h('section', {class: 'card'}, sectionTitle(t('ru.quiet')),
          h('p', {class: 'hint'}, t('ru.quiet_hint')), quiet.el,
          h('div', {class: 'actions start'}, h('button', {type: 'button', id: 'rules-add-quiet', onclick: () => quiet.add()}, t('ru.add_quiet')))),
        h('section', {class: 'card'}, sectionTitle(t('ru.holidays')),
          h('p', {class: 'hint'}, t('ru.holidays_hint')), holidays.el)));

    function read() {
      const out = {};
      const w = windows.read();
      if (typeof w === 'string') return w;
      if (w.length) out.windows = w;
      for (const x of limits) {
        const v = x.input.value.trim();
        if (!v) continue;
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > x.max) return t('ru.bad_number', {what: t('ru.' + x.key), max: x.max});
        out[x.key] = n;
      }
      const q = quiet.read();
      if (typeof q === 'string') return q;
      if (q.length) out.quiet = q;
      const hd = holidays.read();
      if (typeof hd === 'string') return hd;
      if (hd.length) out.holidays = hd;
      return out;
    }
    return {el, read};
  }

  // Rows of spans (from, to; with weekdays for the windows). read() → [{days?, from, to}] or a
  // sentence.
  function spanList(id, spans, withDays) {
    const rows = [];
    const list = h('div', {class: 'span-list', id});
    const empty = h('p', {class: 'muted empty'}, withDays ? t('ru.no_windows') : t('ru.no_quiet'));
    const sync = () => { empty.hidden = rows.length > 0; };
    function add(span) {
      const s = span || {from: '', to: '', days: WEEK.slice(0, 5)};
      const days = new Set(s.days && s.days.length ? s.days : WEEK);
      const boxes = withDays ? WEEK.map((d) => h('input', {type: 'checkbox', value: String(d), checked: days.has(d)})) : [];
      const from = timeInput({'aria-label': t('ru.from'), dataset: {role: 'from'}}, s.from);
      const to = timeInput({'aria-label': t('ru.to'), dataset: {role: 'to'}}, s.to);
      const row = {};
      row.el = h('div', {class: 'span-row'},
        withDays ? h('div', {class: 'days-pick', role: 'group', 'aria-label': t('sc.days')},
          WEEK.map((d, i) => h('label', {class: 'check', title: t('day.' + DAY_KEYS[d])}, boxes[i], t('ru.d' + d)))) : null,
        h('div', {class: 'times'}, h('span', {class: 'muted small'}, t('ru.from')), from,
          h('span', {class: 'muted small'}, t('ru.to')), to),
        h('button', {type: 'button', class: 'link danger', onclick: () => {
          rows.splice(rows.indexOf(row), 1);
          row.el.remove();
          sync();
        }}, t('common.delete')));
      row.read = (n) => {
        const f = readTime(from), tt = readTime(to);
        if (!f || !tt) return t('ru.bad_time', {n});
        if (f === tt) return t('ru.same_time', {n});
        const o = {from: f, to: tt};
        if (withDays) {
          o.days = WEEK.filter((d, i) => boxes[i].checked);
          if (!o.days.length) return t('ru.need_day', {n});
        }
        return o;
      };
      rows.push(row);
      list.appendChild(row.el);
      sync();
      if (!span) from.focus();
    }
    for (const s of spans) add(s);
    sync();
    return {
      el: h('div', null, empty, list),
      add: () => add(null),
      read() {
        const out = [];
        for (const [i, r] of rows.entries()) {
          const o = r.read(`${withDays ? t('ru.window_n') : t('ru.quiet_n')} ${i + 1}`);
          if (typeof o === 'string') return o;
          out.push(o);
        }
        return out;
      },
    };
  }

  // Holidays: a sorted list of dates, each with its delete button, and a date field to add one.
  function holidayList(dates) {
    const set = new Set(dates);
    const list = h('ul', {class: 'chips', id: 'rules-holidays'});
    const input = dateInput({id: 'rules-holiday-date', 'aria-label': t('ru.holiday_date')});
    const note = h('p', {class: 'notice error small', role: 'alert', hidden: true});
    function draw() {
      const sorted = [...set].sort();
      replace(list, sorted.length ? sorted.map((d) => h('li', {class: 'chip', dataset: {date: d}}, fmtIsoDate(d),
        h('button', {type: 'button', class: 'link danger', 'aria-label': t('ru.remove_holiday', {date: fmtIsoDate(d)}),
          onclick: () => { set.delete(d); draw(); }}, '×')))
        : h('li', {class: 'muted'}, t('ru.no_holidays')));
    }
    function add() {
      const d = readDate(input);
      note.hidden = true;
      if (!d) { note.textContent = t('ru.bad_date'); note.hidden = false; return; }
      set.add(d);
      input.value = '';
      draw();
    }
    input.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') { ev.preventDefault(); add(); } });
    draw();
    return {
      el: h('div', null, list,
        h('div', {class: 'add-row'}, field(t('ru.holiday_date'), input),
          h('button', {type: 'button', id: 'rules-add-holiday', onclick: add}, t('ru.add_holiday'))), note),
      read() {
        // a date typed but not added yet counts: the person meant it
        if (input.value.trim()) {
          const d = readDate(input);
          if (!d) return t('ru.bad_date');
          set.add(d);
          input.value = '';
          draw();
        }
        return [...set].sort();
      },
    };
  }
}
