// The bulletin screens in headless Chromium: a wrong password gives a Vietnamese error; an editor
// writes a text bulletin and hears the rendered preview load in the page's <audio>; the editor
// never sees "approve"; an approver approves it; a recording is uploaded and previewed, a file
// that is not audio is refused in words; a rejection's reason reaches the editor; the English
// switch; the layout on a phone.
// Screenshots: login, login-error, bulletin-compose, bulletin-preview, bulletin-approve,
// bulletins-en, phone-bulletins.

import { check, finish, launch, loadPlaywright, loginAs, newPage, run, screenshot, wav } from './lib.mjs';

const TEXT = 'UBND xã Quảng Phú thông báo: từ ngày 5/12/2026, trạm y tế tổ chức tiêm chủng cho trẻ em ' +
  'dưới 5 tuổi, từ 7 giờ 30 đến 11 giờ. Đề nghị bà con đưa trẻ đến đúng giờ.';

await run(async (server) => {
  const pw = await loadPlaywright();
  const admin = await server.admin();
  await server.makeUser(admin, 'eva', 'editor');
  await server.makeUser(admin, 'anh', 'approver');
  for (const [id, name, population] of [['quang-phu', 'Xã Quảng Phú', 12000], ['quang-an', 'Xã Quảng An', 9000],
                                        ['quang-tho', 'Xã Quảng Thọ', 10500]])
    check((await server.api('POST', '/api/v1/communes', {id, name, population}, admin)).status === 201, id);
  // an older bulletin, already approved, so that the list is not a single row
  const old = await server.api('POST', '/api/v1/bulletins', {title: 'Lịch cắt điện tuần này', text: 'Điện lực thông báo lịch cắt điện.',
    communes: ['*']}, admin);
  check(old.status === 202, old);

  const problems = [];
  const {ctx, close} = await launch(pw);
  try {
    // ---- login: a wrong password in plain Vietnamese ----
    const ed = await newPage(ctx, problems);
    await ed.goto(server.url + '/');
    await ed.waitForSelector('#login-submit');
    check(await ed.title() === 'Đăng nhập — loacast', await ed.title());
    await screenshot(ed, 'login');
    await ed.fill('#username', 'eva');
    await ed.fill('#password', 'not-the-password');
    await ed.click('#login-submit');
    await ed.waitForSelector('#login-error:not([hidden])');
    const err = await ed.textContent('#login-error');
    check(err.includes('Sai tên đăng nhập hoặc mật khẩu'), err);
    check(!/401|unauthorized|error/i.test(err), 'raw code shown: ' + err);
    await screenshot(ed, 'login-error');

    // ---- the editor writes a bulletin ----
    await ed.fill('#username', 'eva');
    await ed.fill('#password', 'eva-password');
    await ed.click('#login-submit');
    await ed.waitForSelector('#new-bulletin');
    check(await ed.textContent('.who') === 'eva · Biên tập viên', await ed.textContent('.who'));
    await ed.click('#new-bulletin');
    await ed.fill('#b-title', 'Tiêm chủng cho trẻ em');
    await ed.fill('#b-text', TEXT);
    await ed.selectOption('#b-voice', 'vi-vn-x-central');
    await ed.check('input[name="b-communes"][value="quang-phu"]');
    await ed.check('input[name="b-communes"][value="quang-an"]');
    await ed.selectOption('#b-priority', 'high');
    await ed.fill('#b-repeat', '2');
    await ed.fill('#b-expires-date', '31/12/2099');
    await ed.fill('#b-expires-time', '17:00');
    await screenshot(ed, 'bulletin-compose');
    await ed.click('#b-submit');
    // rendering → pending, then the preview loads in the <audio> element
    await ed.waitForSelector('#side .detail[data-status="pending"]', {timeout: 90000});
    await ed.waitForFunction(() => {
      const a = document.querySelector('#preview');
      return a && a.src.startsWith('blob:') && a.readyState >= 1 && Number.isFinite(a.duration) && a.duration > 0;
    }, null, {timeout: 30000});
    const dur = await ed.evaluate(() => document.querySelector('#preview').duration);
    const id = Number(await ed.getAttribute('#side .detail', 'data-id'));
    const b = (await server.api('GET', '/api/v1/bulletins/' + id, undefined, admin)).json;
    check(b.title === 'Tiêm chủng cho trẻ em' && b.voice === 'vi-vn-x-central' && b.priority === 'high' && b.repeat === 2, b);
    check(JSON.stringify(b.communes.slice().sort()) === '["quang-an","quang-phu"]', b.communes);
    check(b.expires && b.expires.startsWith('2099-12-31T17:00:00+07:00'), 'expires read in the station zone: ' + b.expires);
    check(Math.abs(dur - b.duration_s) < 0.5, `preview ${dur} s, bulletin ${b.duration_s} s`);
    // the editor sees no approve (nor reject) button, on the detail or anywhere
    check(await ed.locator('#approve').count() === 0, 'editor sees approve');
    check(await ed.locator('#reject').count() === 0, 'editor sees reject');
    check(await ed.locator('#withdraw').count() === 1, 'editor cannot withdraw own bulletin');
    const status = await ed.textContent('#side .detail .badge');
    check(status === 'Chờ duyệt', status);
    await ed.evaluate(() => document.activeElement && document.activeElement.blur());
    await screenshot(ed, 'bulletin-preview');

    // ---- the approver approves ----
    const ap = await newPage(ctx, problems);
    await loginAs(ap, server, 'anh');
    await ap.waitForSelector(`#bulletins-table tr[data-id="${id}"]`);
    await ap.click(`#bulletins-table tr[data-id="${id}"] .row-open`);
    await ap.waitForSelector('#approve');
    check(await ap.locator('#reject').count() === 1, 'approver has no reject');
    await ap.waitForFunction(() => { const a = document.querySelector('#preview'); return a && a.readyState >= 1; });
    await screenshot(ap, 'bulletin-approve');
    await ap.click('#approve');
    await ap.waitForSelector('#side .detail[data-status="approved"]');
    check((await ap.textContent('#toast')).includes('Đã duyệt'), await ap.textContent('#toast'));
    const after = (await server.api('GET', '/api/v1/bulletins/' + id, undefined, admin)).json;
    check(after.status === 'approved' && after.approved_by === 'anh', after);

    // the editor's view follows; still no approve button
    await ed.bringToFront();
    await ed.reload();
    await ed.waitForSelector(`#bulletins-table tr[data-id="${id}"]`);
    await ed.click(`#bulletins-table tr[data-id="${id}"] .row-open`);
    await ed.waitForSelector('#side .detail[data-status="approved"]');
    check(await ed.locator('#approve').count() === 0, 'editor sees approve on an approved bulletin');
    // the status filter
    await ed.selectOption('#status-filter', 'pending');
    await ed.waitForFunction((bid) => !document.querySelector(`#bulletins-table tr[data-id="${bid}"]`), id);

    // ---- a recording: upload, preview; a file that is not audio is refused in words ----
    await ed.click('#new-bulletin');
    await ed.check('#kind-audio');
    await ed.fill('#b-title', 'Ghi âm: lịch họp thôn');
    await ed.setInputFiles('#b-file', {name: 'hop-thon.wav', mimeType: 'audio/wav', buffer: wav(2.0)});
    await ed.check('input[name="b-communes"][value="quang-tho"]');
    await ed.click('#b-submit');
    await ed.waitForSelector('#side .detail[data-status="pending"]', {timeout: 60000});
    await ed.waitForFunction(() => { const a = document.querySelector('#preview'); return a && a.readyState >= 1 && Math.abs(a.duration - 2) < 0.3; });
    const rec = Number(await ed.getAttribute('#side .detail', 'data-id'));
    check((await ed.textContent('#side .detail')).includes('Bản ghi âm'), 'kind');
    await ed.click('#new-bulletin');
    await ed.check('#kind-audio');
    await ed.fill('#b-title', 'Tệp sai');
    await ed.setInputFiles('#b-file', {name: 'ghi-chu.wav', mimeType: 'audio/wav', buffer: Buffer.from('đây không phải âm thanh')});
    await ed.check('input[name="b-communes"][value="quang-tho"]');
    await ed.click('#b-submit');
    await ed.waitForSelector('#side .detail[data-status="draft"]');
    check((await ed.textContent('#toast')).includes('không phải âm thanh'), await ed.textContent('#toast'));
    check(await ed.locator('#reupload').count() === 1, 'no second chance to upload');

    // ---- the approver rejects the recording with a reason; the editor reads it ----
    await ap.bringToFront();
    await ap.reload();
    await ap.waitForSelector(`#bulletins-table tr[data-id="${rec}"]`);
    await ap.click(`#bulletins-table tr[data-id="${rec}"] .row-open`);
    await ap.click('#reject');
    await ap.fill('#reject-reason', 'Thiếu giờ họp cụ thể');
    await ap.click('#dialog-ok');
    await ap.waitForSelector('#side .detail[data-status="rejected"]');
    await ed.bringToFront();
    await ed.reload();
    await ed.waitForSelector(`#bulletins-table tr[data-id="${rec}"]`);
    await ed.click(`#bulletins-table tr[data-id="${rec}"] .row-open`);
    await ed.waitForSelector('#reason');
    check((await ed.textContent('#reason')).includes('Bị từ chối. Lý do: Thiếu giờ họp cụ thể'), await ed.textContent('#reason'));

    // ---- English, and back ----
    await ed.selectOption('#status-filter', '');
    await ed.click('#lang');
    await ed.waitForSelector('a[data-screen="bulletins"]:text("Bulletins")');
    await ed.waitForSelector('#bulletins-table');
    check((await ed.textContent('#bulletins-table thead')).includes('Status'), 'English headers');
    await screenshot(ed, 'bulletins-en');
    await ed.click('#lang');
    await ed.waitForSelector('a[data-screen="bulletins"]:text("Bản tin")');

    // ---- a phone ----
    await ed.setViewportSize({width: 390, height: 844});
    await ed.waitForSelector('#bulletins-table');
    await screenshot(ed, 'phone-bulletins');
  } finally {
    await close();
  }
  finish(problems);
});
