// CAP alerts in headless Chromium (issue 18, point 4): a warning service's storm alert (a real
// Vietnamese CAP sample, tests/data/cap/bao-polygon.xml) is posted by the gateway account; an
// editor sees it but has no confirm button; an approver opens it, sees its communes by name and
// the text as it will be spoken (numbers in words), clicks "Xác nhận phát khẩn cấp" once and sees
// it on air — and the API agrees (on_air, its emergency bulletin reported by
// GET /api/v1/emergency/{bulletin} in both communes).
// Screenshots: alerts-awaiting, alerts-on-air (1366×768).

import fs from 'node:fs';
import path from 'node:path';

import { ROOT, check, finish, launch, loadPlaywright, loginAs, newPage, run, screenshot, waitFor } from './lib.mjs';

await run(async (server) => {
  const pw = await loadPlaywright();
  const admin = await server.admin();
  await server.makeUser(admin, 'capgw', 'operator');
  await server.makeUser(admin, 'eva', 'editor');
  await server.makeUser(admin, 'anh', 'approver');
  const gw = await server.login('capgw', 'capgw-password');
  for (const [id, name, lat, lon] of [['quang-phu', 'Xã Quảng Phú', 17.55, 106.60], ['quang-thanh', 'Xã Quảng Thanh', 17.50, 106.55],
                                      ['hai-ninh', 'Xã Hải Ninh', 17.20, 106.80]]) {
    check((await server.api('POST', '/api/v1/communes', {id, name}, admin)).status === 201, id);
    check((await server.api('POST', '/api/v1/clusters', {commune: id, name: 'Thôn 1', lat, lon}, admin)).status === 201, id);
  }
  const xml = fs.readFileSync(path.join(ROOT, 'tests/data/cap/bao-polygon.xml'));
  const r = await fetch(server.url + '/api/v1/alerts', {method: 'POST', body: xml,
    headers: {'Content-Type': 'application/cap+xml', Authorization: 'Bearer ' + gw}});
  const alert = await r.json();
  check(r.status === 201 && alert.status === 'awaiting', alert);

  const problems = [];
  const {ctx, close} = await launch(pw);
  try {
    // ---- an editor sees the alert, without a button ----
    const ed = await newPage(ctx, problems);
    await loginAs(ed, server, 'eva');
    await ed.click('a[data-screen="alerts"]');
    await ed.click(`button[data-alert="${alert.id}"]`);
    await ed.waitForSelector('#alert-card');
    check(await ed.locator('#alert-confirm').count() === 0, 'an editor can confirm');
    await ed.close();

    // ---- the approver: communes by name, the spoken text, one click ----
    const page = await newPage(ctx, problems);
    await loginAs(page, server, 'anh');
    await page.click('a[data-screen="alerts"]');
    await page.waitForSelector(`tr[data-alert-row="${alert.id}"][data-status="awaiting"]`);
    check((await page.textContent('#alerts-table')).includes('Chờ xác nhận'), 'status in Vietnamese');
    await page.click(`button[data-alert="${alert.id}"]`);
    await page.waitForSelector('#alert-spoken');
    const communes = await page.textContent('#alert-communes');
    check(communes === 'Xã Quảng Phú, Xã Quảng Thanh', communes);
    const spoken = await page.textContent('#alert-spoken');
    check(spoken.includes('mười bảy phẩy năm') && !spoken.includes('17,5'), spoken);
    check((await page.textContent('#alert-confirm')) === 'Xác nhận phát khẩn cấp', 'the button');
    await screenshot(page, 'alerts-awaiting');
    await page.click('#alert-confirm');
    await page.waitForSelector('#alert-card[data-status="on_air"]', {timeout: 60000});
    check((await page.textContent('#alert-status')).includes('Đã phát'), 'on air in the card');
    check((await page.textContent('#alert-done')).includes('2 xã'), await page.textContent('#alert-done'));
    await waitFor(async () => page.locator(`tr[data-alert-row="${alert.id}"][data-status="on_air"]`).count(), 15000,
                  'the list shows it on air');
    await screenshot(page, 'alerts-on-air');

    // ---- the API agrees ----
    const a = (await server.api('GET', '/api/v1/alerts/' + alert.id, undefined, admin)).json;
    check(a.status === 'on_air' && a.confirmed_by === 'anh' && a.bulletin, a);
    const em = await server.api('GET', '/api/v1/emergency/' + a.bulletin, undefined, admin);
    check(em.status === 200 && em.json.communes.map((c) => c.commune).sort().join() === 'quang-phu,quang-thanh', em.json);
    await page.close();
  } finally {
    await close();
  }
  finish(problems);
});
