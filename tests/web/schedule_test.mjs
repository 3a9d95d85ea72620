// Schedule, emergency and coverage screens in headless Chromium: an operator sees a commune's
// default slots, adds one (an overlapping one is refused in words), adds a session for tomorrow
// and sees what airs in it with each item's time; an approver sends an emergency through the
// explicit confirmation step; an editor has no emergency screen; a screen whose API the server
// lacks says so in words.
// Screenshots: schedule, emergency, emergency-confirm, emergency-done.

import { check, finish, launch, loadPlaywright, loginAs, newPage, run, screenshot } from './lib.mjs';

// "YYYY-MM-DD" and "dd/mm/yyyy" of the station's date n days from now.
function stationDate(n) {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {timeZone: 'Asia/Ho_Chi_Minh', year: 'numeric',
    month: '2-digit', day: '2-digit'}).formatToParts(new Date(Date.now() + n * 86400000)).map((x) => [x.type, x.value]));
  return {iso: `${p.year}-${p.month}-${p.day}`, dmy: `${p.day}/${p.month}/${p.year}`};
}

await run(async (server) => {
  const pw = await loadPlaywright();
  const admin = await server.admin();
  await server.makeUser(admin, 'olga', 'operator');
  await server.makeUser(admin, 'anh', 'approver');
  await server.makeUser(admin, 'eva', 'editor');
  const eva = await server.login('eva', 'eva-password');
  const anh = await server.login('anh', 'anh-password');
  for (const [id, name, population] of [['quang-phu', 'Xã Quảng Phú', 12000], ['quang-an', 'Xã Quảng An', 9000]])
    check((await server.api('POST', '/api/v1/communes', {id, name, population}, admin)).status === 201, id);
  check((await server.api('POST', '/api/v1/clusters', {commune: 'quang-phu', name: 'Thôn Đông', speakers: 2, population: 1500}, admin)).status === 201, 'cluster');
  // an approved bulletin that airs in every session
  const b = await server.api('POST', '/api/v1/bulletins', {title: 'Lịch tiêm phòng gia súc',
    text: 'Sáng mai, xã tổ chức tiêm phòng cho gia súc, gia cầm tại nhà văn hoá các thôn.', communes: ['quang-phu'], repeat: 100}, eva);
  check(b.status === 202, b);
  await server.rendered(b.json.id, eva);
  check((await server.approve(b.json.id, anh)).status === 200, 'approve');

  const problems = [];
  const {ctx, close} = await launch(pw);
  try {
    // ---- the operator's schedule ----
    const op = await newPage(ctx, problems);
    await loginAs(op, server, 'olga');
    await op.click('a[data-screen="schedule"]');
    await op.waitForSelector('#slots-table');
    await op.selectOption('#sched-commune', 'quang-phu');
    await op.waitForSelector('#slots[data-commune="quang-phu"] #slots-table');
    await op.waitForSelector('#programme[data-commune="quang-phu"] .session');
    const slots = await op.textContent('#slots-table tbody');
    check(slots.includes('06:00') && slots.includes('17:00') && slots.includes('60 phút'), slots);
    // add a slot at noon
    await op.fill('#slot-start', '12:00');
    await op.fill('#slot-minutes', '30');
    await op.click('#slot-add');
    await op.waitForFunction(() => document.querySelectorAll('#slots-table tbody tr').length === 3);
    // an overlapping one is refused, in words
    await op.fill('#slot-start', '06:30');
    await op.click('#slot-add');
    await op.waitForFunction(() => /trùng/.test(document.getElementById('toast').textContent));
    check(await op.locator('#slots-table tbody tr').count() === 3, 'overlap saved');
    const put = await server.api('GET', '/api/v1/communes/quang-phu/slots', undefined, admin);
    check(put.json.slots.length === 3 && put.json.slots.some((s) => s.start === '12:00' && s.minutes === 30), put.json);

    // a session for tomorrow evening; tomorrow's programme shows it with the bulletin at 20:00:00
    const tomorrow = stationDate(1);
    await op.fill('#session-date', tomorrow.dmy);
    await op.fill('#session-time', '20:00');
    await op.fill('#session-minutes', '30');
    await op.click('#session-add');
    await op.waitForFunction((iso) => document.getElementById('sched-date').value === iso, tomorrow.dmy);
    // the programme that shows is tomorrow's (an answer for today still in flight is dropped)
    const shown = `#programme[data-date="${tomorrow.iso}"]`;
    await op.waitForSelector(`${shown} .session:has-text("Buổi thêm")`);
    const evening = await op.textContent(`${shown} .session:has-text("Buổi thêm")`);
    check(evening.includes('20:00–20:30') && evening.includes('20:00:00') && evening.includes('Lịch tiêm phòng gia súc'), evening);
    const morning = await op.textContent(`${shown} .session:has-text("06:00–07:00")`);
    check(morning.includes('06:00:00') && morning.includes('Lịch tiêm phòng gia súc') && morning.includes('Sắp phát'), morning);
    // the same session again overlaps
    await op.click('#session-add');
    await op.waitForSelector('#session-form .notice.error:not([hidden])');
    check((await op.textContent('#session-form .notice.error')).includes('trùng'), 'session overlap');
    await op.evaluate(() => { document.querySelector('#session-form .notice.error').hidden = true; });
    // next / previous day
    await op.click('button[aria-label="Ngày sau"]');
    await op.waitForSelector(`#programme[data-date="${stationDate(2).iso}"]`);
    await op.click('button[aria-label="Ngày trước"]');
    await op.waitForSelector(`${shown} .session:has-text("Buổi thêm")`);
    await screenshot(op, 'schedule');
    // the same on a phone: one column, nothing wider than the screen
    await op.setViewportSize({width: 390, height: 844});
    await screenshot(op, 'phone-schedule');
    await op.setViewportSize({width: 1366, height: 768});

    // ---- an editor has no emergency screen ----
    const ed = await newPage(ctx, problems);
    await loginAs(ed, server, 'eva');
    check(await ed.locator('a[data-screen="emergency"]').count() === 0, 'editor sees emergency');
    await ed.goto(server.url + '/#/emergency');
    await ed.waitForSelector('#bulletins-table');
    check(ed.url().endsWith('#/bulletins'), ed.url());
    // the editor reads the schedule but may not change it
    await ed.click('a[data-screen="schedule"]');
    await ed.waitForSelector('#slots-table');
    check(await ed.locator('#slot-add').count() === 0 && await ed.locator('#session-add').count() === 0, 'editor edits slots');

    // ---- the approver sends an emergency, with a confirmation step ----
    const ap = await newPage(ctx, problems);
    await loginAs(ap, server, 'anh');
    await ap.click('a[data-screen="emergency"]');
    await ap.waitForSelector('#em-text');
    const text = 'Bão số 9 sắp đổ bộ. Đề nghị bà con chằng chống nhà cửa, không ra khơi.';
    await ap.fill('#em-text', text);
    await ap.check('input[name="em-communes"][value="quang-phu"]');
    await screenshot(ap, 'emergency');
    await ap.click('#em-next');
    await ap.waitForSelector('#emergency-confirm');
    const conf = await ap.textContent('#emergency-confirm');
    check(conf.includes('KHẨN CẤP tới 1 xã') && conf.includes('Xã Quảng Phú') && conf.includes(text), conf);
    await screenshot(ap, 'emergency-confirm');
    // nothing was sent before the confirmation
    const before = await server.api('GET', '/api/v1/audit?action=emergency', undefined, admin);
    check(before.json.audit.length === 0, before.json);
    await ap.click('#em-back');
    check(await ap.inputValue('#em-text') === text, 'text lost on going back');
    await ap.click('#em-next');
    await ap.click('#em-confirm');
    await ap.waitForSelector('#emergency-done', {timeout: 90000});
    const done = await ap.textContent('#emergency-done');
    check(done.includes('Xã Quảng Phú') && !done.includes('đang phát nội dung này'), done);
    // where it arrived, cluster by cluster (none of this commune's clusters is connected)
    await ap.waitForSelector('#em-report-table');
    const rep = await ap.textContent('#em-report');
    check(/Đã nhận: 0\/\d+ cụm loa/.test(rep), rep);
    await screenshot(ap, 'emergency-done');
    const today = await server.api('GET', '/api/v1/communes/quang-phu/programme', undefined, admin);
    check(today.json.sessions.some((s) => s.kind === 'emergency'), today.json);

    // ---- a screen whose API the server lacks says so in words (the router's 404 is faked here:
    // every route exists now) ----
    await op.bringToFront();
    await op.route('**/api/v1/coverage?*', (route) => route.fulfill({status: 404, contentType: 'application/json',
      body: '{"error":"not_found","message":"no such resource"}'}));
    await op.click('a[data-screen="coverage"]');
    await op.waitForSelector('#cov-chart .notice[data-unavailable="1"]');
    check((await op.textContent('#cov-chart')).includes('Chức năng này chưa có trên máy chủ'), await op.textContent('#cov-chart'));
    await op.waitForSelector('#offline-table tr[data-id="quang-phu-1"]');
    await op.unroute('**/api/v1/coverage?*');
  } finally {
    await close();
  }
  finish(problems);
});
