// Communes, clusters, users and the audit log in headless Chromium: an operator adds a commune
// and a cluster and sees the receiver token once (it works for the receiver; it is never shown
// again), rotates it (the old one stops working), sees online/offline; an admin adds a user and
// reads the audit log; an editor has neither users nor audit in the menu.
// Screenshots: communes, cluster-token, users, audit.

import { check, finish, launch, loadPlaywright, loginAs, newPage, run, screenshot } from './lib.mjs';

await run(async (server) => {
  const pw = await loadPlaywright();
  const admin = await server.admin();
  await server.makeUser(admin, 'olga', 'operator');
  await server.makeUser(admin, 'eva', 'editor');
  for (const [id, name, population] of [['quang-an', 'Xã Quảng An', 9000], ['quang-tho', 'Xã Quảng Thọ', 10500]])
    check((await server.api('POST', '/api/v1/communes', {id, name, population}, admin)).status === 201, id);
  // two clusters made through the API: one heard from just now (online), one never
  const c1 = await server.api('POST', '/api/v1/clusters', {commune: 'quang-an', name: 'Thôn Đông', speakers: 3, population: 1800}, admin);
  check(c1.status === 201, c1);
  await server.api('POST', '/api/v1/clusters', {commune: 'quang-an', name: 'Chợ Quảng An', speakers: 2, population: 2500}, admin);
  const seen = await fetch(`${server.url}/api/v1/receivers/${c1.json.id}/status?token=${c1.json.token}`,
    {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({volume: 80})});
  check(seen.status < 300, 'receiver status ' + seen.status);

  const problems = [];
  const {ctx, close} = await launch(pw);
  try {
    const op = await newPage(ctx, problems);
    await loginAs(op, server, 'olga');
    await op.click('a[data-screen="communes"]');
    await op.waitForSelector('#clusters-table');
    check(await op.locator('a[data-screen="users"]').count() === 0, 'operator sees users');
    check(await op.locator('a[data-screen="audit"]').count() === 1, 'operator has no audit');

    // add a commune: the id is made from the Vietnamese name
    await op.click('#add-commune');
    await op.fill('#co-name', 'Xã Quảng Phú');
    check(await op.inputValue('#co-id') === 'quang-phu', await op.inputValue('#co-id'));
    await op.fill('#co-population', '12000');
    await op.click('#co-save');
    await op.waitForSelector('#communes-table tr[data-id="quang-phu"]');
    // a duplicate id is refused in words
    await op.click('#add-commune');
    await op.fill('#co-name', 'Quảng Phú');
    await op.click('#co-save');
    await op.waitForSelector('#commune-form .notice.error:not([hidden])');
    const dup = await op.textContent('#commune-form .notice.error');
    check(dup.includes('đã được dùng'), dup);
    await op.click('#commune-form button[type="button"]');

    // add a cluster: the token is shown once, in a dialog
    await op.click('#add-cluster');
    await op.selectOption('#cl-commune', 'quang-phu');
    await op.fill('#cl-name', 'Nhà văn hoá thôn Bắc');
    await op.fill('#cl-speakers', '4');
    await op.fill('#cl-population', '2200');
    await op.click('#cl-save');
    await op.waitForSelector('#token-value');
    const token = await op.inputValue('#token-value');
    const url = await op.inputValue('#token-url');
    check(/^[A-Za-z0-9_-]{43}$/.test(token), token);
    check(url.includes('/stream/quang-phu-1.opus?token=' + token), url);
    check((await op.textContent('dialog')).includes('chỉ hiện MỘT LẦN'), 'no once-only warning');
    // a storing receiver is provisioned with the station's public key, in one INI file
    const station = (await server.api('GET', '/api/v1/station')).json;
    check(await op.inputValue('#station-key') === station.public_key, 'station key');
    const ini = await op.inputValue('#receiver-ini');
    check(ini.includes('cluster = quang-phu-1') && ini.includes('token = ' + token) &&
          ini.includes('station_key = ' + station.public_key) && /^sink = alsa:/m.test(ini), ini);
    await screenshot(op, 'cluster-token');
    // the token works for the receiver
    const st = await fetch(`${server.url}/api/v1/receivers/quang-phu-1/status`, {method: 'POST',
      headers: {Authorization: 'Bearer ' + token, 'Content-Type': 'application/json'}, body: '{"volume": 70}'});
    check(st.status < 300, 'new token refused: ' + st.status);
    await op.click('#dialog-close');
    await op.waitForSelector('#clusters-table tr[data-id="quang-phu-1"]');
    // never shown again: not in the page, not in the API
    check(!(await op.content()).includes(token), 'token still in the page');
    const list = await server.api('GET', '/api/v1/clusters', undefined, admin);
    check(!list.text.includes(token), 'token in the list');
    // online / offline
    const row1 = await op.textContent(`#clusters-table tr[data-id="${c1.json.id}"]`);
    check(row1.includes('Hoạt động') && row1.includes('Lần cuối:'), row1);
    const row2 = await op.textContent('#clusters-table tr[data-id="quang-an-2"]');
    check(row2.includes('Chưa kết nối'), row2);
    await screenshot(op, 'communes');
    await op.setViewportSize({width: 390, height: 844});
    await screenshot(op, 'phone-communes');
    await op.setViewportSize({width: 1366, height: 768});

    // rotate: a new token, once; the old one stops working
    await op.click('#clusters-table tr[data-id="quang-phu-1"] button:text("Cấp mã mới")');
    await op.click('#dialog-ok');
    await op.waitForSelector('#token-value');
    const token2 = await op.inputValue('#token-value');
    check(token2 !== token && token2.length === 43, 'rotation');
    await op.click('#dialog-close');
    const old = await fetch(`${server.url}/api/v1/receivers/quang-phu-1/status?token=${token}`, {method: 'POST',
      headers: {'Content-Type': 'application/json'}, body: '{}'});
    check(old.status === 401, 'old token still works: ' + old.status);

    // edit the cluster
    await op.click('#clusters-table tr[data-id="quang-phu-1"] button:text("Sửa")');
    await op.fill('#cl-speakers', '5');
    await op.fill('#cl-volume', '40');
    await op.check('#cl-muted');
    await op.click('#cl-save');
    await op.waitForFunction(() => /5/.test(document.querySelector('#clusters-table tr[data-id="quang-phu-1"] td:nth-child(3)').textContent));
    const edited = (await server.api('GET', '/api/v1/clusters/quang-phu-1', undefined, admin)).json;
    check(edited.volume === 40 && edited.muted === true, JSON.stringify(edited));
    // what a storing receiver reports is shown with its cluster, and a next session not fully
    // fetched is flagged
    const rep = await fetch(`${server.url}/api/v1/receivers/quang-phu-1/status`, {method: 'POST',
      headers: {Authorization: 'Bearer ' + token2, 'Content-Type': 'application/json'},
      body: JSON.stringify({version: 'loacast-receiver 0.1', clock_offset_ms: 12, cache_bytes: 52428800,
                            next_session: {fetched_percent: 60,
                                           start: new Date(Date.now() + 5 * 60000).toISOString()}})});
    check(rep.status === 204, 'status report: ' + rep.status);
    await op.reload();
    await op.waitForFunction(() => {
      const r = document.querySelector('#clusters-table tr[data-id="quang-phu-1"]');
      return r && r.textContent.includes('loacast-receiver 0.1') && r.textContent.includes('60%');
    });
    const row = await op.textContent('#clusters-table tr[data-id="quang-phu-1"]');
    check(row.includes('Chưa tải đủ buổi phát tới') && row.includes('Đang tắt tiếng'), row);

    // ---- admin: users and the audit log ----
    const ad = await newPage(ctx, problems);
    await loginAs(ad, server, 'admin', 'admin-pass-123');
    await ad.click('a[data-screen="users"]');
    await ad.waitForSelector('#users-table tr[data-name="olga"]');
    await ad.fill('#u-name', 'binh');
    await ad.fill('#u-password', 'binh-password');
    await ad.selectOption('#u-role', 'approver');
    await ad.click('#u-save');
    await ad.waitForSelector('#users-table tr[data-name="binh"]');
    const u = await server.api('GET', '/api/v1/users', undefined, admin);
    check(u.json.users.some((x) => x.username === 'binh' && x.role === 'approver'), u.json);
    await screenshot(ad, 'users');
    // a short password is refused in words
    await ad.fill('#u-name', 'cuong');
    await ad.fill('#u-password', '123');
    await ad.click('#u-save');
    await ad.waitForSelector('#user-form .notice.error:not([hidden])');
    check((await ad.textContent('#user-form .notice.error')).includes('ít nhất 8 ký tự'), 'short password');

    await ad.click('a[data-screen="audit"]');
    await ad.waitForSelector('#audit-table tbody tr');
    const audit = await ad.textContent('#audit-table');
    for (const w of ['đã thêm cụm loa', 'đã cấp mã kết nối', 'đã thêm Xã', 'đã tạo tài khoản', 'olga'])
      check(audit.includes(w), 'audit lacks ' + w);
    check(!audit.includes(token) && !audit.includes(token2), 'a token in the audit log');
    await ad.selectOption('#audit-action', 'cluster_token');
    await ad.waitForFunction(() => [...document.querySelectorAll('#audit-table tbody tr')]
      .every((tr) => tr.dataset.action === 'cluster_token' && /mã kết nối/.test(tr.textContent)));
    await ad.selectOption('#audit-action', '');
    await ad.waitForFunction(() => document.querySelectorAll('#audit-table tbody tr').length > 5);
    await screenshot(ad, 'audit');

    // ---- an editor: no users, no audit; communes read-only ----
    const ed = await newPage(ctx, problems);
    await loginAs(ed, server, 'eva');
    check(await ed.locator('a[data-screen="users"]').count() === 0, 'editor sees users');
    check(await ed.locator('a[data-screen="audit"]').count() === 0, 'editor sees audit');
    await ed.click('a[data-screen="communes"]');
    await ed.waitForSelector('#clusters-table');
    check(await ed.locator('#add-cluster').count() === 0, 'editor may add clusters');
    await ed.goto(server.url + '/#/users');
    await ed.waitForSelector('#bulletins-table, .list-body .empty');
    check(ed.url().endsWith('#/bulletins'), 'editor reached users: ' + ed.url());
  } finally {
    await close();
  }
  finish(problems);
});
