// web/screens/selftest.js — the weekly self-test (admins, operators): the broken clusters by
// commune with "hỏng từ" (failing since), the recent tests, "Phát thử ngay" (a test now), the
// weekly schedule, the CSV.
// APIs: GET /api/v1/selftest/report (JSON; ?format=csv|xlsx), GET|PUT /api/v1/selftest/schedule,
// POST /api/v1/selftest {"communes","text"}.

import { h, field, replace } from '../dom.js';
import { t } from '../i18n.js';
import { api, get, post, blob, errorText } from '../api.js';
import { fmtDateTime, fmtNumber, isoDate } from '../fmt.js';
import { loadCommunes, communePicker, failure, sectionTitle, badge, confirmDialog, timeInput, readTime } from '../common.js';
import { atRoot } from '../org.js';

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];   // 1 (Monday) .. 7 (Sunday)
const HOLD_S = 60;   // the server's default hold: what the confirmation says

// A skipped commune's reason (the server's words, in English) in the console's language.
function skipText(reason) {
  if (/quiet/i.test(reason || '')) return t('st.skip.quiet');
  if (/on air/i.test(reason || '')) return t('st.skip.on_air');
  return t('st.skip.busy');
}

export function render(view, ctx) {
  let communes = [];
  let timer = null;
  const runBtn = h('button', {class: 'primary', id: 'st-run', onclick: runNow}, t('st.run_now'));
  const csvBtn = h('button', {id: 'st-csv', onclick: () => download('csv')}, t('st.csv'));
  const xlsxBtn = h('button', {id: 'st-xlsx', onclick: () => download('xlsx')}, t('st.xlsx'));
  const brokenEl = h('div', {id: 'st-broken'});
  const runsEl = h('div', {id: 'st-runs'});
  const formEl = h('div', {id: 'st-schedule'});
  const countEl = h('span', {class: 'muted', id: 'st-count'});

  replace(view, h('div', {class: 'page'},
    h('div', {class: 'page-head'}, h('h1', null, t('nav.selftest')), h('div', {class: 'toolbar'}, runBtn, csvBtn, xlsxBtn)),
    h('p', {class: 'notice info'}, t('st.intro')),
    h('div', {class: 'split even'},
      h('section', {class: 'card'}, sectionTitle(t('st.broken'), countEl), brokenEl),
      h('div', {class: 'stack'},
        h('section', {class: 'card'}, sectionTitle(t('st.schedule')), formEl),
        h('section', {class: 'card'}, sectionTitle(t('st.runs')), runsEl)))));
  let form = null;
  start();

  async function start() {
    try {
      communes = await loadCommunes();
    } catch (e) {
      failure(brokenEl, e);
      return;
    }
    loadSchedule();
    loadReport();
  }

  const communeName = (id) => (communes.find((c) => c.id === id) || {}).name || id;

  async function loadReport() {
    clearTimeout(timer);
    let rep;
    try {
      rep = await get('/api/v1/selftest/report');
    } catch (e) {
      failure(brokenEl, e);
      return;
    }
    drawBroken(rep.clusters || []);
    drawRuns(rep.runs || []);
    // a test waiting for its verdict: look again in a few seconds
    if ((rep.runs || []).some((r) => r.communes.some((c) => c.state === 'pending'))) timer = setTimeout(loadReport, 5000);
  }

  // The broken clusters, one group per commune.
  function drawBroken(rows) {
    replace(countEl, rows.length ? t('st.n_broken', {n: fmtNumber(rows.length)}) : '');
    if (!rows.length) { replace(brokenEl, h('p', {class: 'muted empty', id: 'st-none'}, t('st.none_broken'))); return; }
    const groups = new Map();
    for (const r of rows) {
      if (!groups.has(r.commune)) groups.set(r.commune, []);
      groups.get(r.commune).push(r);
    }
    const body = [];
    for (const [commune, list] of groups) {
      body.push(h('tr', {class: 'group', dataset: {commune}},
        h('th', {colspan: 5, scope: 'rowgroup'}, list[0].commune_name || communeName(commune), ' ',
          h('span', {class: 'muted small'}, t('st.n_broken', {n: fmtNumber(list.length)})))));
      for (const r of list) {
        body.push(h('tr', {dataset: {cluster: r.cluster, reason: r.reason}},
          h('td', null, r.cluster_name || r.cluster, h('div', {class: 'muted small'}, r.cluster)),
          h('td', null, badge('off', t('st.reason.' + r.reason))),
          h('td', null, h('strong', null, fmtDateTime(r.failing_since))),
          h('td', null, fmtDateTime(r.last_test)),
          h('td', {class: 'num'}, fmtNumber(r.failed_tests))));
      }
    }
    replace(brokenEl, h('div', {class: 'table-wrap'}, h('table', {id: 'st-broken-table'},
      h('thead', null, h('tr', null, [t('st.cluster'), t('st.reason'), t('st.since'), t('st.last_test'), t('st.failed_tests')]
        .map((x) => h('th', null, x)))),
      h('tbody', null, body))));
  }

  function drawRuns(runs) {
    if (!runs.length) { replace(runsEl, h('p', {class: 'muted empty'}, t('st.no_runs'))); return; }
    replace(runsEl, h('ul', {class: 'plain', id: 'st-runs-list'}, runs.map((r) => h('li', {dataset: {run: r.run}},
      h('div', null, h('strong', null, fmtDateTime(r.started_at)), ' · ', r.scheduled ? t('st.by_schedule') : r.started_by),
      h('ul', {class: 'plain small'}, r.communes.map((c) => h('li', {dataset: {commune: c.commune, state: c.state}},
        communeName(c.commune), ': ',
        c.state === 'judged' ? t('st.state.judged', {ok: c.passed, bad: c.failed})
          : c.state === 'skipped' ? `${t('st.state.skipped')} (${skipText(c.reason)})`
            : t('st.state.' + c.state))))))));
  }

  async function loadSchedule() {
    let sc;
    try {
      sc = await get('/api/v1/selftest/schedule');
    } catch (e) {
      failure(formEl, e);
      return;
    }
    drawForm(sc);
  }

  function drawForm(sc) {
    const enabled = h('input', {type: 'checkbox', id: 'st-enabled', checked: !!sc.enabled});
    const days = DAYS.map((d, i) => h('input', {type: 'checkbox', name: 'st-day', value: String(i + 1), checked: sc.days.includes(i + 1)}));
    const time = timeInput({id: 'st-time'}, sc.time);
    const text = h('textarea', {id: 'st-text', rows: 3, maxlength: 300, value: sc.text});
    const pick = communePicker(communes, 'st-communes', sc.communes);
    const msg = h('p', {class: 'notice error', role: 'alert', hidden: true});
    const next = h('p', {class: 'muted', id: 'st-next'}, sc.enabled && sc.next_run ? t('st.next_run', {when: fmtDateTime(sc.next_run)}) : t('st.off'));
    form = {pick, text, msg};
    const locked = !atRoot(ctx.session);   // issue 19: the schedule is the province's
    replace(formEl, h('form', {id: 'st-form', onsubmit: save},
      h('label', {class: 'check'}, enabled, t('st.enabled')), next,
      h('fieldset', {class: 'days'}, h('legend', null, t('st.days')),
        h('div', {class: 'checks'}, days.map((b, i) => h('label', {class: 'check'}, b, t('day.' + DAYS[i]))))),
      field(t('st.time'), time, t('st.time_hint')),
      field(t('st.text'), text, t('st.text_hint')),
      pick.el, msg,
      locked ? h('p', {class: 'notice warn', id: 'st-locked'}, t('org.station_wide'))
        : h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary', id: 'st-save'}, t('common.save')))));
    // the text and communes stay: "Phát thử ngay" (within one's own communes) uses them
    if (locked) for (const el of [enabled, time, ...days]) el.disabled = true;

    async function save(ev) {
      ev.preventDefault();
      msg.hidden = true;
      const body = {days: days.filter((b) => b.checked).map((b) => Number(b.value)), time: readTime(time),
                    text: text.value.trim(), communes: pick.value(), enabled: enabled.checked};
      const problems = [];
      if (!body.days.length) problems.push(t('st.need_days'));
      if (!body.time) problems.push(t('st.need_time'));
      if (!body.text) problems.push(t('st.need_text'));
      if (!body.communes.length) problems.push(t('bul.need_communes'));
      if (problems.length) { msg.textContent = problems.join(' '); msg.hidden = false; return; }
      try {
        drawForm(await api('PUT', '/api/v1/selftest/schedule', body));
        ctx.toast(t('common.saved'));
      } catch (e) {
        msg.textContent = /quiet hours/.test(e.serverMessage || '') ? t('st.err_quiet') : errorText(e);
        msg.hidden = false;
      }
    }
  }

  async function runNow() {
    if (!form) return;
    const targets = form.pick.value();
    const text = form.text.value.trim();
    if (!targets.length || !text) {
      form.msg.textContent = !text ? t('st.need_text') : t('bul.need_communes');
      form.msg.hidden = false;
      return;
    }
    const n = targets.includes('*') ? communes.length : targets.length;
    if (!await confirmDialog(t('st.run_title'), h('p', null, t('st.run_text', {s: HOLD_S, n})), t('st.run_now'))) return;
    runBtn.disabled = true;
    try {
      const r = await post('/api/v1/selftest', {communes: targets, text});
      const skipped = r.communes.filter((c) => c.skipped).length;
      const on = r.communes.length - skipped;
      ctx.toast(skipped ? t('st.started_skipped', {n: on, k: skipped}) : t('st.started', {n: on}));
      loadReport();
    } catch (e) {
      ctx.toast(errorText(e), 'error');
    } finally {
      runBtn.disabled = false;
    }
  }

  // format: 'csv' (machine columns) or 'xlsx' (the office workbook)
  async function download(format) {
    try {
      const data = await blob('/api/v1/selftest/report?format=' + format, format === 'xlsx' ? XLSX_TYPE : 'text/csv');
      const url = URL.createObjectURL(data);
      const a = h('a', {href: url, download: `loacast-selftest-${isoDate()}.${format}`, hidden: true});
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      ctx.toast(errorText(e), 'error');
    }
  }

  return {cleanup() { clearTimeout(timer); }};
}
