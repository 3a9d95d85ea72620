// The self-test screen in headless Chromium, from a real test: an operator sets the weekly
// schedule (days, time, text, communes), presses "Phát thử ngay" and confirms; one receiver
// pulls the test from the stream, the other never connects. The screen then lists the silent
// cluster under its commune with "Không kết nối" and since when it fails (not the one that heard
// the test), the recent test with "1 tốt, 1 hỏng", and the CSV download. A time in the quiet
// hours is refused in words.
// Screenshot: selftest.

import { check, finish, launch, loadPlaywright, loginAs, metrics, newPage, run, screenshot, waitFor } from './lib.mjs';

// The station's hour now (Asia/Ho_Chi_Minh) plus n, as "HH:MM" with the given minutes.
function stationHour(n, minutes = '00') {
  const h = Number(new Intl.DateTimeFormat('en-GB', {timeZone: 'Asia/Ho_Chi_Minh', hour: '2-digit', hourCycle: 'h23'})
    .format(new Date()));
  return `${String((h + n + 24) % 24).padStart(2, '0')}:${minutes}`;
}

await run(async (server) => {
  const pw = await loadPlaywright();
  const admin = await server.admin();
  await server.makeUser(admin, 'olga', 'operator');
  check((await server.api('POST', '/api/v1/communes', {id: 'quang-phu', name: 'Xã Quảng Phú', population: 12000}, admin)).status === 201, 'commune');
  // no slots: the test's session never meets one, whatever the time of day
  check((await server.api('PUT', '/api/v1/communes/quang-phu/slots', [], admin)).status === 200, 'slots');
  const heard = await server.api('POST', '/api/v1/clusters', {id: 'thon-dong', commune: 'quang-phu', name: 'Thôn Đông', population: 3000}, admin);
  const silent = await server.api('POST', '/api/v1/clusters', {id: 'thon-tay', commune: 'quang-phu', name: 'Thôn Tây', population: 1000}, admin);
  check(heard.status === 201 && silent.status === 201, 'clusters');
  // quiet hours by default, 3 to 5 hours from now: never now (the test "now" below must air,
  // whatever the time of day the test runs at — fixed 23:00–04:00 hours failed it between 23:00
  // and 04:00), and the weekly time below, 12 hours from now, keeps out of them too
  const quiet = {from: stationHour(3), to: stationHour(5)};
  const inQuiet = stationHour(4, '30'), weekly = stationHour(12, '30');
  check((await server.api('PUT', '/api/v1/rules', {quiet: [quiet]}, admin)).status === 200, 'rules');

  const problems = [];
  const {ctx, close} = await launch(pw);
  try {
    const op = await newPage(ctx, problems);
    await loginAs(op, server, 'olga');
    await op.click('a[data-screen="selftest"]');
    await op.waitForSelector('#st-none');
    await op.waitForSelector('#st-form');

    // a time in the quiet hours: refused in words, nothing saved
    await op.fill('#st-time', inQuiet);
    await op.click('#st-save');
    await op.waitForSelector('#st-form .notice.error:not([hidden])');
    check((await op.textContent('#st-form .notice.error')).includes('giờ yên tĩnh'), await op.textContent('#st-form .notice.error'));
    check(!(await server.api('GET', '/api/v1/selftest/schedule', undefined, admin)).json.enabled, 'saved anyway');

    // the weekly schedule: Monday and Thursday at `weekly`, the commune, on
    await op.fill('#st-time', weekly);
    await op.check('input[name="st-day"][value="4"]');
    await op.check('#st-enabled');
    await op.uncheck('input[name="st-communes-all"]');
    await op.check('input[name="st-communes"][value="quang-phu"]');
    await op.fill('#st-text', 'Đây là buổi phát thử nghiệm hệ thống truyền thanh.');
    await op.click('#st-save');
    await waitFor(async () => (await op.textContent('#st-next')).includes('Lần tới'), 10000, 'the next run shown');
    const sc = (await server.api('GET', '/api/v1/selftest/schedule', undefined, admin)).json;
    check(sc.enabled && sc.time === weekly && JSON.stringify(sc.days) === '[1,4]' &&
          JSON.stringify(sc.communes) === '["quang-phu"]' && sc.next_run, sc);

    // a test now: confirmed, then one receiver takes it from the stream
    await op.click('#st-run');
    await op.click('#dialog-ok');
    await waitFor(async () => (await metrics(server)).loacast_sessions_on_air >= 1, 30000, 'the test held (PREPARE)');
    const r = await fetch(`${server.url}/stream/thon-dong.opus?token=${heard.json.token}`);
    check(r.status === 200, 'stream ' + r.status);
    check((await r.arrayBuffer()).byteLength > 1000, 'stream bytes');
    await waitFor(async () => {
      const rep = (await server.api('GET', '/api/v1/selftest/report', undefined, admin)).json;
      return rep.runs.length && rep.runs[0].communes.every((c) => c.state !== 'pending');
    }, 40000, 'the test judged', 200);

    // the screen polls every 5 s while a test waits: the verdict shows without a reload
    await op.waitForSelector('#st-broken-table tr[data-cluster="thon-tay"]', {timeout: 20000});
    check(await op.locator('#st-broken-table tr[data-cluster="thon-dong"]').count() === 0, 'the cluster that heard it is listed');
    const row = await op.textContent('#st-broken-table tr[data-cluster="thon-tay"]');
    check(row.includes('Thôn Tây') && row.includes('Không kết nối') && /\d\d\/\d\d\/\d{4}/.test(row), row);
    check((await op.textContent('#st-broken-table tr.group')).includes('Xã Quảng Phú'), 'commune group');
    check((await op.textContent('#st-runs-list')).includes('1 tốt, 1 hỏng'), await op.textContent('#st-runs-list'));
    const [download] = await Promise.all([op.waitForEvent('download'), op.click('#st-csv')]);
    const csv = (await import('node:fs')).readFileSync(await download.path(), 'utf8');
    check(csv.includes('thon-tay') && csv.includes('failing_since') && !csv.includes('thon-dong'), csv.slice(0, 400));
    await screenshot(op, 'selftest');
  } finally {
    await close();
  }
  finish(problems);
}, '[schedules]\nhold_s = 3\n[stream]\nhold_audio = false\nlead_ms = 0\nsend_ms = 200\npage_ms = 200\n[selftest]\nplays_wait_s = 1\n');
