// The console reads like an office, in headless Chromium against one real server (issue 20,
// point 6b): the audit log in Vietnamese sentences (no "[object Object]", no action codes, no
// English — also for an entry the console does not know and a nested detail); statuses that
// follow the clock (the page's clock faked with Playwright's page.clock: the 06:00 session at
// 09:24 is "Đã qua", the 17:00 one turns "Đến giờ phát" then "Đã qua" as time passes, without a
// reload); a receiver last seen two hours ago is "Mất kết nối" with "Lần cuối: 2 giờ trước
// (HH:MM dd/mm)" from the server's own verdict ([coverage] offline_after_s = 1 here); the coverage
// chart's date labels do not overlap at 390 px (their bounding boxes are measured).
// Screenshots: audit-sentences, audit-sentences-phone, schedule-clock, clusters-offline-phone,
// coverage-chart-phone.

import { check, finish, launch, loadPlaywright, loginAs, newPage, run, screenshot, waitFor } from './lib.mjs';

const ZONE = 'Asia/Ho_Chi_Minh';

// The station's calendar date n days from now: {iso, y, mo, d}.
function stationDate(n) {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {timeZone: ZONE, year: 'numeric', month: '2-digit',
    day: '2-digit'}).formatToParts(new Date(Date.now() + n * 86400000)).map((x) => [x.type, x.value]));
  return {iso: `${p.year}-${p.month}-${p.day}`, y: +p.year, mo: +p.month, d: +p.day};
}

// An instant (ms) of the station's wall clock (UTC+7, no daylight saving).
const stationAt = (day, hh, mm) => Date.UTC(day.y, day.mo - 1, day.d, hh, mm) - 7 * 3600 * 1000;

// "HH:MM dd/mm" of an instant on the station's clock.
function shortStation(ms) {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {timeZone: ZONE, hour: '2-digit', minute: '2-digit',
    day: '2-digit', month: '2-digit', hourCycle: 'h23'}).formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return `${p.hour}:${p.minute} ${p.day}/${p.month}`;
}

// Words that must not show in a Vietnamese audit row: codes, JavaScript's leftovers, English.
const ENGLISH = /\b(the|and|from|to|of|by|pending|approved|rejected|created|rotated|bulletin|cluster|commune|user|login|logout|update|true|false|null|undefined|session|slots|rules)\b/i;

await run(async (server) => {
  const pw = await loadPlaywright();
  const admin = await server.admin();
  await server.makeUser(admin, 'olga', 'operator');
  await server.makeUser(admin, 'eva', 'editor');
  await server.makeUser(admin, 'anh', 'approver');
  const eva = await server.login('eva', 'eva-password');
  const anh = await server.login('anh', 'anh-password');
  const olga = await server.login('olga', 'olga-password');
  check((await server.api('POST', '/api/v1/login', {username: 'eva', password: 'wrong-password'})).status === 401, 'a failed login');
  check((await server.api('POST', '/api/v1/communes', {id: 'quang-phu', name: 'Xã Quảng Phú', population: 12000}, admin)).status === 201, 'commune');
  const box = await server.api('POST', '/api/v1/clusters', {commune: 'quang-phu', name: 'Thôn Đông', speakers: 2, population: 3000}, olga);
  check(box.status === 201, box);
  check((await server.api('PATCH', '/api/v1/clusters/' + box.json.id, {speakers: 3}, olga)).status === 200, 'cluster edit');
  check((await server.api('PUT', '/api/v1/rules', {max_session_minutes: 90, quiet: [{from: '22:00', to: '05:00'}]}, olga)).status === 200, 'rules');
  // bulletins: one approved (created, rendered, approved), one rejected with its reason
  const b1 = await server.api('POST', '/api/v1/bulletins', {title: 'Lịch tiêm phòng', text: 'Sáng mai tiêm phòng gia súc.', communes: ['quang-phu']}, eva);
  const b2 = await server.api('POST', '/api/v1/bulletins', {title: 'Thông báo họp dân', text: 'Tối nay họp dân.', communes: ['quang-phu']}, eva);
  check(b1.status === 202 && b2.status === 202, 'bulletins');
  await server.rendered(b1.json.id, eva);
  await server.rendered(b2.json.id, eva);
  check((await server.approve(b1.json.id, anh)).status === 200, 'approve');
  check((await server.api('POST', `/api/v1/bulletins/${b2.json.id}/reject`, {reason: 'Thiếu địa điểm họp'}, anh)).status === 200, 'reject');
  // the receiver's one sign of life; with offline_after_s = 1 the server soon says offline
  const st = await fetch(`${server.url}/api/v1/receivers/${box.json.id}/status`, {method: 'POST',
    headers: {Authorization: 'Bearer ' + box.json.token, 'Content-Type': 'application/json'}, body: '{"volume": 70}'});
  check(st.status < 300, 'status report ' + st.status);
  const seen = await waitFor(async () => {
    const c = (await server.api('GET', '/api/v1/clusters', undefined, admin)).json.clusters.find((x) => x.id === box.json.id);
    return c.last_seen && c.online === false && c;
  }, 15000, 'the server calling the box offline', 100);
  const lastSeen = Date.parse(seen.last_seen);

  const problems = [];
  const {ctx, close} = await launch(pw);
  try {
    const page = await newPage(ctx, problems);
    // the page's clock: two hours and five minutes after the box's last sign of life
    await page.clock.install({time: lastSeen + (2 * 60 + 5) * 60000});

    // ---- the audit log, with two entries the console cannot know (faked into the answer) ----
    await page.route('**/api/v1/audit?*', async (route) => {
      const r = await route.fetch();
      const j = await r.json();
      const q = new URL(route.request().url()).searchParams;
      if (!q.get('before') && !q.get('action')) {
        j.audit.unshift({id: 999999, at: new Date(lastSeen).toISOString(), actor: 'olga', action: 'lexicon_update', target: 'PTNT',
          detail: {text: 'phát triển nông thôn', sessions: {enabled: true, days: [1, 2]}}, address: '127.0.0.1'},
        {id: 999998, at: new Date(lastSeen).toISOString(), actor: 'system', action: 'something_new', target: null, detail: null, address: null});
      }
      await route.fulfill({response: r, json: j});
    });
    await loginAs(page, server, 'admin', 'admin-pass-123');
    await page.click('a[data-screen="audit"]');
    await page.waitForSelector('#audit-table tbody tr[data-action="bulletin_approve"]');
    const rows = await page.$$eval('#audit-table tbody tr', (trs) => trs.map((tr) => ({action: tr.dataset.action,
      text: [...tr.querySelectorAll('td')].slice(0, 3).map((td) => td.textContent).join(' | ')})));
    for (const r of rows) {
      check(!r.text.includes('[object Object]'), r);
      check(!/\w_\w/.test(r.text), r);
      check(!ENGLISH.test(r.text), r);
      check(!r.text.includes('{'), r);
    }
    const sentenceOf = (action) => rows.filter((r) => r.action === action).map((r) => r.text).join('\n');
    const want = {
      bulletin_approve: `anh đã duyệt bản tin «Lịch tiêm phòng» (#${b1.json.id}).`,
      bulletin_rendered: `Hệ thống đã đọc xong bản tin «Thông báo họp dân» (#${b2.json.id}) thành âm thanh.`,
      bulletin_reject: 'Lý do: Thiếu địa điểm họp',
      bulletin_create: `eva đã viết bản tin «Thông báo họp dân» (#${b2.json.id}).`,
      cluster_create: `olga đã thêm cụm loa «Thôn Đông» (${box.json.id}) vào Xã Quảng Phú.`,
      cluster_token: `olga đã cấp mã kết nối cho cụm loa «Thôn Đông» (${box.json.id}) mới.`,
      cluster_update: 'Số loa: 3',
      commune_create: 'admin đã thêm Xã Quảng Phú.',
      rules_update: 'olga đã sửa quy định phát sóng mặc định (mọi xã).',
      login_failed: 'Có người đăng nhập sai với tên «eva».',
      user_create: 'Vai trò: Người duyệt tin',
      lexicon_update: 'olga đã sửa từ điển cách đọc «PTNT».',
      something_new: 'Hệ thống đã thực hiện một thao tác khác của hệ thống.',
    };
    for (const [action, text] of Object.entries(want)) check(sentenceOf(action).includes(text), {action, want: text, got: sentenceOf(action)});
    check(sentenceOf('rules_update').includes('Giờ yên tĩnh: 22:00–05:00'), sentenceOf('rules_update'));
    check(sentenceOf('lexicon_update').includes('Các buổi phát: (Bật: bật; Các ngày: Thứ Hai, Thứ Ba)'), sentenceOf('lexicon_update'));
    // the filter still works on the server's action names
    await page.selectOption('#audit-action', 'cluster_token');
    await page.waitForFunction(() => [...document.querySelectorAll('#audit-table tbody tr')].every((tr) => tr.dataset.action === 'cluster_token'));
    await page.selectOption('#audit-action', '');
    await page.waitForSelector('#audit-table tbody tr[data-action="something_new"]');
    await screenshot(page, 'audit-sentences');
    await page.setViewportSize({width: 390, height: 844});
    await screenshot(page, 'audit-sentences-phone');

    // ---- a box last seen two hours ago: offline, with when ----
    await page.click('a[data-screen="communes"]');
    await page.waitForSelector(`#clusters-table tr[data-id="${box.json.id}"]`);
    const state = await page.textContent(`#clusters-table tr[data-id="${box.json.id}"]`);
    check(state.includes('Mất kết nối') && !state.includes('Hoạt động'), state);
    check(state.includes(`Lần cuối: 2 giờ trước (${shortStation(lastSeen)})`), state);
    await page.evaluate(() => { document.getElementById('clusters-table').closest('.table-wrap').scrollLeft = 10000; });
    await screenshot(page, 'clusters-offline-phone');

    // ---- the coverage chart at 390 px: date labels side by side, none overlapping ----
    await page.click('a[data-screen="coverage"]');
    await page.waitForSelector('#cov-chart text.day-label');
    const overlaps = async () => page.$$eval('#cov-chart text.day-label', (ts) => {
      const b = ts.map((x) => x.getBoundingClientRect()).sort((p, q) => p.left - q.left);
      const bad = [];
      for (let i = 1; i < b.length; i++) if (b[i].left < b[i - 1].right + 1) bad.push([b[i - 1].right, b[i].left]);
      return {n: b.length, bad};
    });
    const phone = await overlaps();
    check(phone.n >= 4 && phone.bad.length === 0, phone);
    await page.evaluate(() => document.getElementById('cov-chart').scrollIntoView({block: 'center'}));
    await screenshot(page, 'coverage-chart-phone');
    await page.setViewportSize({width: 1366, height: 768});
    await waitFor(() => page.evaluate(() => document.querySelector('#cov-chart svg').getBoundingClientRect().width > 800),
      10000, 'the chart at the desktop width');
    const desk = await overlaps();
    check(desk.n >= 8 && desk.bad.length === 0, desk);

    // ---- statuses that follow the clock: tomorrow at 09:24, then 17:05, then 18:05 ----
    const tomorrow = stationDate(1);
    await page.clock.setSystemTime(stationAt(tomorrow, 9, 24));
    await page.click('a[data-screen="schedule"]');
    await page.selectOption('#sched-commune', 'quang-phu');
    const prog = `#programme[data-commune="quang-phu"][data-date="${tomorrow.iso}"]`;
    await page.waitForSelector(`${prog} .session`);
    const stateOf = (hhmm) => page.textContent(`${prog} .session:has(h3:text-matches("^${hhmm}")) .session-state`);
    const morning = await stateOf('06:00');
    check(morning.includes('Đã qua') && !morning.includes('Sắp phát') && !morning.includes('dự kiến'), morning);
    const evening = await stateOf('17:00');
    check(evening.includes('Sắp phát') && evening.includes('dự kiến'), evening);
    await screenshot(page, 'schedule-clock');
    await page.clock.fastForward(stationAt(tomorrow, 17, 5) - stationAt(tomorrow, 9, 24));
    await page.waitForFunction((sel) => [...document.querySelectorAll(sel)].some((el) =>
      el.querySelector('h3').textContent.startsWith('17:00') && /Đến giờ phát/.test(el.querySelector('.session-state').textContent)),
    `${prog} .session`);
    await page.clock.fastForward('01:00:00');
    await page.waitForFunction((sel) => [...document.querySelectorAll(sel)].every((el) => el.dataset.state === 'past'),
      `${prog} .session-state`);
    const all = await page.textContent(prog);
    check(!all.includes('Sắp phát') && !all.includes('dự kiến'), all);
  } finally {
    await close();
  }
  finish(problems);
  // a login lasts a week here: the page's clock runs up to a day and a half ahead of the server's
}, '[coverage]\noffline_after_s = 1\n[auth]\ntoken_ttl_s = 604800\n');
