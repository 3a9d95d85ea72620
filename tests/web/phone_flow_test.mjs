// The whole staff flow on a phone (issue 20, point 6): most commune stations have no computer,
// their staff use loacast from a phone. In headless Chromium at 390 × 844 with touch, against a
// real server: an editor writes a bulletin and hears it; an approver, on another phone, hears it
// and approves it, then writes an emergency, hears it before sending ("Nghe thử") and sends it.
// (Recording from the microphone on a phone: web-record.) At every step the page is no wider
// than the screen, and every button pressed is a touch target of at least 44 px (WCAG 2.5.5).
// Screenshots: phone-flow-compose, phone-flow-approve, phone-flow-emergency.

import { check, finish, launch, loadPlaywright, newPage, run, screenshot } from './lib.mjs';

const PHONE = {width: 390, height: 844};
const TEXT = 'Thứ Bảy này, trạm y tế xã tiêm vắc xin sởi cho trẻ từ chín tháng tuổi, mang theo sổ tiêm chủng.';
const EM = 'Nước sông lên nhanh. Đề nghị bà con vùng trũng di chuyển lên chỗ cao ngay.';

// Fails when the page scrolls sideways on the phone.
async function fits(page, where) {
  const w = await page.evaluate(() => document.documentElement.scrollWidth);
  check(w <= PHONE.width, `${where}: the page is ${w} px wide on a ${PHONE.width} px phone`);
}

// Taps a button, checking that a finger can hit it.
async function tap(page, sel) {
  const box = await page.locator(sel).boundingBox();
  check(box && box.height >= 44 && box.width >= 44, `${sel}: a touch target of ${box && box.width}×${box && box.height} px`);
  await page.tap(sel);
}

async function phoneLogin(ctx, problems, server, user) {
  const page = await newPage(ctx, problems);
  await page.goto(server.url + '/');
  await page.fill('#username', user);
  await page.fill('#password', user + '-password');
  await tap(page, '#login-submit');
  await page.waitForSelector('#logout');
  await fits(page, user + ' logged in');
  return page;
}

await run(async (server) => {
  const pw = await loadPlaywright();
  const admin = await server.admin();
  await server.makeUser(admin, 'eva', 'editor');
  await server.makeUser(admin, 'anh', 'approver');
  check((await server.api('POST', '/api/v1/communes', {id: 'quang-phu', name: 'Xã Quảng Phú', population: 9000}, admin)).status === 201, 'commune');

  const problems = [];
  const {ctx, close} = await launch(pw, {context: {viewport: PHONE, isMobile: true, hasTouch: true, deviceScaleFactor: 2}});
  try {
    // ---- the editor writes a bulletin and hears it ----
    const ed = await phoneLogin(ctx, problems, server, 'eva');
    await tap(ed, '#new-bulletin');
    await ed.fill('#b-title', 'Tiêm vắc xin sởi');
    await ed.fill('#b-text', TEXT);
    await ed.check('input[name="b-communes"][value="quang-phu"]');
    await fits(ed, 'the compose form');
    await screenshot(ed, 'phone-flow-compose');
    await tap(ed, '#b-submit');
    await ed.waitForSelector('#side .detail[data-status="pending"]', {timeout: 90000});
    await ed.waitForFunction(() => { const a = document.querySelector('#preview'); return a && a.readyState >= 1 && a.duration > 1; });
    await ed.evaluate(() => document.querySelector('#preview').play());
    await ed.waitForFunction(() => document.querySelector('#preview').currentTime > 0.3);
    await fits(ed, 'the bulletin heard');
    const id = Number(await ed.getAttribute('#side .detail', 'data-id'));
    check(id > 0, 'the bulletin shown');

    // ---- the approver hears it and approves it ----
    const ap = await phoneLogin(ctx, problems, server, 'anh');
    await ap.waitForSelector(`#bulletins-table tr[data-id="${id}"]`);
    await ap.tap(`#bulletins-table tr[data-id="${id}"] .row-open`);
    await ap.waitForSelector('#approve');
    await ap.waitForFunction(() => { const a = document.querySelector('#preview'); return a && a.readyState >= 1; });
    await ap.evaluate(() => document.querySelector('#preview').play());
    await ap.waitForFunction(() => document.querySelector('#preview').currentTime > 0.3);
    await fits(ap, 'the approval');
    await screenshot(ap, 'phone-flow-approve');
    await tap(ap, '#approve');
    await ap.waitForSelector('#side .detail[data-status="approved"]');
    const b = await server.api('GET', `/api/v1/bulletins/${id}`, undefined, admin);
    check(b.json.status === 'approved' && b.json.approved_by === 'anh', b.json);

    // ---- the approver sends an emergency, heard first ----
    await ap.goto(server.url + '/#/emergency');
    await ap.waitForSelector('#em-text');
    await ap.fill('#em-text', EM);
    await ap.check('input[name="em-communes"][value="quang-phu"]');
    await fits(ap, 'the emergency form');
    await tap(ap, '#em-next');
    await ap.waitForSelector('#emergency-confirm');
    await tap(ap, '#em-preview');
    await ap.waitForFunction(() => { const a = document.getElementById('em-preview-audio'); return a && !a.hidden && a.duration > 1 && a.currentTime > 0.3; },
      null, {timeout: 60000});
    await fits(ap, 'the emergency heard before sending');
    await screenshot(ap, 'phone-flow-emergency');
    const before = await server.api('GET', '/api/v1/audit?action=emergency', undefined, admin);
    check(before.json.audit.length === 0, 'sent before the confirmation');
    await tap(ap, '#em-confirm');
    await ap.waitForSelector('#emergency-done', {timeout: 90000});
    await fits(ap, 'the emergency sent');
    const after = await server.api('GET', '/api/v1/audit?action=emergency', undefined, admin);
    check(after.json.audit.length === 1, after.json);
  } finally {
    await close();
  }
  finish(problems);
});
