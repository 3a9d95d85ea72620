// web/screens/coverage.js — who heard what: coverage per session and per bulletin, a chart of the
// last 30 days (SVG), the clusters of a session, offline clusters, CSV and XLSX downloads.
// APIs: GET /api/v1/coverage?from=&to=&commune= (JSON, and ?format=csv|xlsx), GET /api/v1/deliveries
// ?commune=&date=, GET /api/v1/clusters (last_seen; ?status=offline when the server has it),
// GET /api/v1/bulletins (titles).

import { h, svg, field, replace } from '../dom.js';
import { t } from '../i18n.js';
import { get, blob, errorText } from '../api.js';
import { fmtDateTime, fmtTime, fmtNumber, fmtPercent, fmtDuration, fmtIsoDate, isoDate, addDays } from '../fmt.js';
import { loadCommunes, failure, sectionTitle, badge, dateInput, readDate } from '../common.js';
import { isOnline, seenText } from './communes.js';

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

const pct = (a, b) => (b > 0 ? (100 * a) / b : null);

// A receiver's last report ({"volume": 80, "signal": -71, ...}) in one short line.
function statusText(st) {
  return Object.entries(st).slice(0, 4).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' · ');
}

export function render(view, ctx) {
  let communes = [];
  let titles = new Map();
  const today = isoDate();
  const commune = h('select', {id: 'cov-commune', onchange: load});
  const from = dateInput({id: 'cov-from', onchange: load}, addDays(today, -29));
  const to = dateInput({id: 'cov-to', onchange: load}, today);
  const range = () => {
    const f = readDate(from), tt = readDate(to);
    return {from: f || addDays(today, -29), to: tt || today};
  };
  const csv = h('button', {id: 'cov-csv', onclick: () => download('csv')}, t('cv.csv'));
  const xlsx = h('button', {id: 'cov-xlsx', onclick: () => download('xlsx')}, t('cv.xlsx'));
  const summaryEl = h('div', {class: 'summary'});
  const chartEl = h('div', {class: 'chart', id: 'cov-chart'});
  const sessionsEl = h('div', {id: 'cov-sessions'});
  const bulletinsEl = h('div', {id: 'cov-bulletins'});
  const communesEl = h('div', {id: 'cov-communes'});
  const deliveriesEl = h('div', {id: 'cov-deliveries'});
  const offlineEl = h('div', {id: 'cov-offline'});

  replace(view, h('div', {class: 'page'},
    h('div', {class: 'page-head'}, h('h1', null, t('nav.coverage')),
      h('div', {class: 'toolbar'}, field(t('co.commune'), commune), field(t('cv.from'), from), field(t('cv.to'), to), csv, xlsx)),
    summaryEl,
    h('section', {class: 'card'}, sectionTitle(t('cv.chart')), chartEl),
    h('div', {class: 'split even'},
      h('section', {class: 'card'}, sectionTitle(t('cv.sessions')), sessionsEl, deliveriesEl),
      h('div', {class: 'stack'},
        h('section', {class: 'card'}, sectionTitle(t('cv.by_commune')), communesEl),
        h('section', {class: 'card'}, sectionTitle(t('cv.bulletins')), bulletinsEl),
        h('section', {class: 'card'}, sectionTitle(t('cv.offline')), offlineEl)))));

  let lastSessions = null;
  const onResize = () => { if (lastSessions) drawChart(lastSessions); };
  window.addEventListener('resize', onResize);
  start();

  async function start() {
    try {
      communes = await loadCommunes();
    } catch (e) {
      failure(sessionsEl, e);
      return;
    }
    replace(commune, h('option', {value: ''}, t('common.all_communes')), communes.map((c) => h('option', {value: c.id}, c.name)));
    try {
      const bs = (await get('/api/v1/bulletins?limit=1000')).bulletins || [];
      titles = new Map(bs.map((b) => [b.id, b.title]));
    } catch (e) { /* ids stand in for titles */ }
    load();
    loadOffline();
  }

  const communeName = (id) => (communes.find((c) => c.id === id) || {}).name || id;

  function query(extra) {
    const q = new URLSearchParams(range());
    if (commune.value) q.set('commune', commune.value);
    for (const [k, v] of Object.entries(extra || {})) q.set(k, v);
    return q.toString();
  }

  async function load() {
    replace(deliveriesEl);
    let sessions;
    try {
      sessions = (await get('/api/v1/coverage?' + query())).sessions || [];
    } catch (e) {
      for (const el of [chartEl, sessionsEl, bulletinsEl]) failure(el, e);
      replace(summaryEl);
      csv.disabled = xlsx.disabled = true;
      return;
    }
    csv.disabled = xlsx.disabled = false;
    drawSummary(sessions);
    lastSessions = sessions;
    drawChart(sessions);
    drawSessions(sessions);
    drawBulletins(sessions);
    loadSummary();
  }

  // The district's summary by commune: sessions aired, mean and worst coverage.
  async function loadSummary() {
    let sum;
    try {
      const q = new URLSearchParams(range());
      sum = await get('/api/v1/coverage/summary?' + q);
    } catch (e) {
      failure(communesEl, e);
      return;
    }
    const rows = (sum.communes || []).filter((c) => !commune.value || c.commune === commune.value);
    if (!rows.length) { replace(communesEl, h('p', {class: 'muted empty'}, t('cv.none'))); return; }
    replace(communesEl, h('div', {class: 'table-wrap'}, h('table', {id: 'coverage-communes'},
      h('thead', null, h('tr', null, [t('co.commune'), t('cv.sessions_n'), t('cv.mean_pop'), t('cv.mean_clusters'), t('cv.worst_clusters')]
        .map((x) => h('th', null, x)))),
      h('tbody', null, rows.map((c) => h('tr', {dataset: {commune: c.commune}},
        h('td', null, c.name || communeName(c.commune)),
        h('td', {class: 'num'}, fmtNumber(c.sessions)),
        h('td', {class: 'num'}, h('strong', null, fmtPercent(c.mean_percent_population))),
        h('td', {class: 'num'}, fmtPercent(c.mean_percent_clusters)),
        h('td', {class: 'num'}, fmtPercent(c.worst_percent_clusters),
          c.worst_session_start ? h('div', {class: 'muted small'}, fmtDateTime(c.worst_session_start)) : null)))))));
  }

  function drawSummary(sessions) {
    const vals = sessions.map((s) => s.percent_population).filter((x) => x !== null && x !== undefined);
    const mean = vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : null;
    const worst = vals.length ? Math.min(...vals) : null;
    const tile = (label, value, id) => h('div', {class: 'tile card', id}, h('div', {class: 'tile-value'}, value), h('div', {class: 'muted'}, label));
    replace(summaryEl,
      tile(t('cv.sessions_aired'), fmtNumber(sessions.length), 'cov-count'),
      tile(t('cv.mean'), fmtPercent(mean), 'cov-mean'),
      tile(t('cv.worst'), fmtPercent(worst), 'cov-worst'));
  }

  // One bar per day: the mean share of the population reached over that day's sessions.
  function drawChart(sessions) {
    const days = [];
    const {from: f, to: tt} = range();
    for (let d = f; d <= tt && days.length < 400; d = addDays(d, 1)) days.push(d);
    const byDay = new Map(days.map((d) => [d, []]));
    for (const s of sessions) {
      const d = isoDate(s.session_start);
      if (byDay.has(d) && s.percent_population !== null && s.percent_population !== undefined) byDay.get(d).push(s.percent_population);
    }
    // drawn at the panel's own width (1 unit = 1 px), so text keeps its size on any screen
    const W = Math.max(300, Math.round(chartEl.clientWidth || 900)), H = 240, L = 44, R = 10, T = 12, B = 36;
    const bw = (W - L - R) / Math.max(days.length, 1);
    const y = (p) => T + (H - T - B) * (1 - p / 100);
    const g = [];
    for (const p of [0, 25, 50, 75, 100]) {
      g.push(svg('line', {x1: L, x2: W - R, y1: y(p), y2: y(p), class: 'grid'}));
      g.push(svg('text', {x: L - 6, y: y(p) + 4, class: 'axis', 'text-anchor': 'end'}, `${p}%`));
    }
    // Date labels ("dd/mm", 11 px) never overlap: every step-th day gets one, step chosen from
    // the room a label needs (measured on the page once) and the width of a day; on a phone's
    // 390 px a month gets a label every 5 or 7 days, on a desktop every 2 or 3.
    const step = labelStep(days.length, bw);
    days.forEach((d, i) => {
      const v = byDay.get(d);
      const x = L + i * bw;
      if (v.length) {
        const m = v.reduce((a, b) => a + b, 0) / v.length;
        g.push(svg('rect', {x: x + bw * 0.15, width: Math.max(1, bw * 0.7), y: y(m), height: Math.max(0, y(0) - y(m)),
                            class: m >= 80 ? 'bar good' : m >= 50 ? 'bar fair' : 'bar poor', 'data-day': d},
          svg('title', null, `${fmtIsoDate(d)}: ${fmtPercent(m)} (${t('cv.n_sessions', {n: v.length})})`)));
      } else {
        g.push(svg('circle', {cx: x + bw / 2, cy: y(0) - 3, r: 2, class: 'nodata'}, svg('title', null, `${fmtIsoDate(d)}: ${t('cv.no_data')}`)));
      }
      if (i % step === 0) g.push(svg('text', {x: x + bw / 2, y: H - B + 16, class: 'axis day-label', 'text-anchor': 'middle'}, fmtIsoDate(d).slice(0, 5)));
    });
    const chart = svg('svg', {viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': t('cv.chart_label'), preserveAspectRatio: 'xMidYMid meet'}, g);
    replace(chartEl, chart, h('p', {class: 'muted small legend'},
      h('span', {class: 'key good'}), ' ≥ 80 %  ', h('span', {class: 'key fair'}), ' 50–80 %  ', h('span', {class: 'key poor'}), ' < 50 %  · ',
      t('cv.chart_note')));
  }

  // The smallest "nice" step (1, 2, 3, 5, 7, 10, 14, then weeks) whose labels fit side by side.
  function labelStep(n, bw) {
    const need = labelWidth() + 8;
    for (const k of [1, 2, 3, 5, 7, 10, 14]) if (k * bw >= need) return k;
    return Math.max(1, Math.ceil(need / bw / 7) * 7);
  }

  // The width of a date label as the browser draws it (an SVG text of the chart's class).
  let labelPx = 0;
  function labelWidth() {
    if (labelPx) return labelPx;
    const probe = svg('svg', {width: 200, height: 20, class: 'probe'}, svg('text', {x: 0, y: 15, class: 'axis'}, '30/12'));
    chartEl.appendChild(probe);
    try {
      labelPx = probe.firstChild.getBBox().width || 0;
    } catch (e) {
      labelPx = 0;
    }
    probe.remove();
    return labelPx || 32; // 0: not laid out (a hidden tab); an estimate, measured again next time
  }

  function drawSessions(sessions) {
    if (!sessions.length) { replace(sessionsEl, h('p', {class: 'muted empty'}, t('cv.none'))); return; }
    const rows = sessions.slice().reverse().map((s) => h('tr', {dataset: {commune: s.commune, start: s.session_start}},
      h('td', {class: 'nowrap'}, h('button', {class: 'link', onclick: () => deliveries(s)}, fmtDateTime(s.session_start))),
      h('td', null, communeName(s.commune)),
      h('td', {class: 'num'}, `${s.clusters_reached}/${s.clusters_total}`),
      h('td', {class: 'num'}, fmtPercent(s.percent_clusters)),
      h('td', {class: 'num'}, `${fmtNumber(s.population_reached)}/${fmtNumber(s.population_total)}`),
      h('td', {class: 'num'}, h('strong', null, fmtPercent(s.percent_population)))));
    replace(sessionsEl, h('div', {class: 'table-wrap'}, h('table', {id: 'coverage-table'},
      h('thead', null, h('tr', null, [t('cv.session'), t('co.commune'), t('cv.clusters'), '%', t('co.population'), '%'].map((x) => h('th', null, x)))),
      h('tbody', null, rows))));
  }

  function drawBulletins(sessions) {
    const agg = new Map();
    for (const s of sessions) {
      for (const b of s.bulletins || []) {
        const a = agg.get(b.id) || {id: b.id, title: b.title, sessions: 0, clusters: 0, clusters_total: 0, pop: 0, pop_total: 0};
        a.sessions++;
        a.clusters += b.clusters_reached || 0;
        a.clusters_total += s.clusters_total || 0;
        a.pop += b.population_reached || 0;
        a.pop_total += s.population_total || 0;
        agg.set(b.id, a);
      }
    }
    if (!agg.size) { replace(bulletinsEl, h('p', {class: 'muted empty'}, t('cv.no_bulletins'))); return; }
    const rows = [...agg.values()].map((a) => h('tr', {dataset: {id: a.id}},
      h('td', null, a.title || titles.get(a.id) || '#' + a.id),
      h('td', {class: 'num'}, fmtNumber(a.sessions)),
      h('td', {class: 'num'}, `${a.clusters}/${a.clusters_total}`),
      h('td', {class: 'num'}, `${fmtNumber(a.pop)}/${fmtNumber(a.pop_total)}`),
      h('td', {class: 'num'}, h('strong', null, fmtPercent(pct(a.pop, a.pop_total))))));
    replace(bulletinsEl, h('div', {class: 'table-wrap'}, h('table', {id: 'coverage-bulletins'},
      h('thead', null, h('tr', null, [t('bul.title'), t('cv.sessions_n'), t('cv.clusters_whole'), t('cv.population_whole'), '%'].map((x) => h('th', null, x)))),
      h('tbody', null, rows))));
  }

  // The clusters of one session: what each received.
  async function deliveries(s) {
    let rows;
    try {
      const q = new URLSearchParams({commune: s.commune, date: isoDate(s.session_start)});
      rows = ((await get('/api/v1/deliveries?' + q)).deliveries || []).filter((d) => d.session_start === s.session_start);
    } catch (e) {
      failure(deliveriesEl, e);
      return;
    }
    replace(deliveriesEl, h('h3', null, t('cv.deliveries_of', {commune: communeName(s.commune), when: fmtDateTime(s.session_start)})),
      rows.length ? h('div', {class: 'table-wrap'}, h('table', {id: 'deliveries-table'},
        h('thead', null, h('tr', null, [t('cl.name'), t('cv.connected'), t('cv.heard'), t('cv.reached')].map((x) => h('th', null, x)))),
        h('tbody', null, rows.map((d) => h('tr', null,
          h('td', null, d.cluster),
          h('td', {class: 'nowrap'}, d.connected_at ? `${fmtTime(d.connected_at)}–${d.disconnected_at ? fmtTime(d.disconnected_at) : '…'}` : '—'),
          h('td', {class: 'num'}, `${fmtDuration(d.audio_s)} / ${fmtDuration(d.programme_s)}`),
          h('td', null, d.reached ? badge('ok', t('cv.yes')) : badge('bad', t('cv.no'))))))))
        : h('p', {class: 'muted'}, t('cv.no_deliveries')));
  }

  async function loadOffline() {
    let list;
    try {
      list = (await get('/api/v1/clusters?status=offline')).clusters || [];
    } catch (e) {
      try { list = (await get('/api/v1/clusters')).clusters || []; } catch (e2) { failure(offlineEl, e2); return; }
    }
    // The server's own verdict when it gives one; otherwise the SPEC's default of 24 hours.
    const offline = list.filter((c) => !isOnline(c));
    if (!offline.length) { replace(offlineEl, h('p', {class: 'notice ok'}, t('cv.all_online'))); return; }
    replace(offlineEl, h('div', {class: 'table-wrap'}, h('table', {id: 'offline-table'},
      h('thead', null, h('tr', null, [t('cl.name'), t('co.commune'), t('cl.last_seen')].map((x) => h('th', null, x)))),
      h('tbody', null, offline.map((c) => h('tr', {dataset: {id: c.id}},
        h('td', null, c.name, h('div', {class: 'muted small'}, c.id)),
        h('td', null, communeName(c.commune)),
        h('td', null, c.last_seen ? h('span', {title: fmtDateTime(c.last_seen)}, seenText(c)) : badge('off', t('cl.never')),
          c.status && typeof c.status === 'object' ? h('div', {class: 'muted small'}, statusText(c.status)) : null)))))));
  }

  // format: 'csv' (machine columns) or 'xlsx' (the office workbook: Vietnamese headers, dates, names)
  async function download(format) {
    try {
      const data = await blob('/api/v1/coverage?' + query({format}), format === 'xlsx' ? XLSX_TYPE : 'text/csv');
      const url = URL.createObjectURL(data);
      const a = h('a', {href: url, download: `loacast-coverage-${range().from}-${range().to}.${format}`, hidden: true});
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      ctx.toast(errorText(e), 'error');
    }
  }

  return {cleanup() { window.removeEventListener('resize', onResize); }};
}
