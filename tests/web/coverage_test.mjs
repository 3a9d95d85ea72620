// Coverage in headless Chromium, from a real session: an approved bulletin, an ad-hoc session a
// few seconds ahead, one receiver pulling /stream/{cluster}.opus through the whole programme and
// one that never connects. The operator's coverage screen then shows that session (1 of 2
// clusters reached, 75 % of the population), the bulletin, a bar in the 30-day chart, the
// clusters of the session, the offline cluster, and the CSV download; the receiver shows up as
// online with its last sign of life.
// Screenshot: coverage.

import { check, finish, launch, loadPlaywright, loginAs, newPage, run, screenshot, waitFor } from './lib.mjs';

await run(async (server) => {
  const pw = await loadPlaywright();
  const admin = await server.admin();
  await server.makeUser(admin, 'olga', 'operator');
  await server.makeUser(admin, 'eva', 'editor');
  await server.makeUser(admin, 'anh', 'approver');
  const eva = await server.login('eva', 'eva-password');
  const anh = await server.login('anh', 'anh-password');
  check((await server.api('POST', '/api/v1/communes', {id: 'quang-phu', name: 'Xã Quảng Phú', population: 12000}, admin)).status === 201, 'commune');
  // no slots: the ad-hoc session below never overlaps one (409), whatever the time of day
  check((await server.api('PUT', '/api/v1/communes/quang-phu/slots', [], admin)).status === 200, 'slots');
  const heard = await server.api('POST', '/api/v1/clusters', {commune: 'quang-phu', name: 'Thôn Đông', speakers: 2, population: 3000}, admin);
  const silent = await server.api('POST', '/api/v1/clusters', {commune: 'quang-phu', name: 'Thôn Tây', speakers: 2, population: 1000}, admin);
  check(heard.status === 201 && silent.status === 201, 'clusters');
  const b = await server.api('POST', '/api/v1/bulletins', {title: 'Thông báo họp dân', text: 'Tối nay họp dân tại nhà văn hoá.',
    communes: ['quang-phu']}, eva);
  check(b.status === 202, b);
  await server.rendered(b.json.id, eva);
  check((await server.approve(b.json.id, anh)).status === 200, 'approve');

  // a session 3 s ahead; the receiver connects now (held until the start) and reads to the end
  const start = new Date(Math.ceil(Date.now() / 1000) * 1000 + 3000).toISOString();
  const sess = await server.api('POST', '/api/v1/communes/quang-phu/sessions', {start, minutes: 1}, admin);
  check(sess.status === 201, sess);
  const r = await fetch(`${server.url}/stream/${heard.json.id}.opus?token=${heard.json.token}`);
  check(r.status === 200 && r.headers.get('content-type') === 'audio/ogg', 'stream ' + r.status);
  const bytes = (await r.arrayBuffer()).byteLength;
  check(bytes > 1000, 'stream bytes ' + bytes);

  const problems = [];
  const {ctx, close} = await launch(pw);
  try {
    const op = await newPage(ctx, problems);
    await loginAs(op, server, 'olga');
    await op.click('a[data-screen="coverage"]');
    await op.waitForSelector(`#offline-table tr[data-id="${silent.json.id}"]`);
    check(await op.locator(`#offline-table tr[data-id="${heard.json.id}"]`).count() === 0, 'the receiver is listed offline');
    // wait for the session's delivery to be written (batched), then reload the screen
    await waitFor(async () => {
      const c = await server.api('GET', '/api/v1/coverage?commune=quang-phu', undefined, admin);
      check(c.status === 200, c);
      return c.json.sessions.length > 0;
    }, 30000, 'the session in the coverage report', 100);
    await op.reload();
    await op.waitForSelector('#coverage-table tbody tr');
    const row = await op.textContent('#coverage-table tbody tr');
    check(row.includes('Xã Quảng Phú') && row.includes('1/2') && row.includes('75'), row);
    check((await op.textContent('#coverage-bulletins')).includes('Thông báo họp dân'), 'per bulletin');
    check(await op.locator('#cov-chart svg rect.bar').count() === 1, 'one bar in the chart');
    check((await op.textContent('#cov-mean')).includes('75'), await op.textContent('#cov-mean'));
    await op.waitForSelector('#coverage-communes tr[data-commune="quang-phu"]');
    const byCommune = await op.textContent('#coverage-communes tr[data-commune="quang-phu"]');
    check(byCommune.includes('Xã Quảng Phú') && byCommune.includes('75') && byCommune.includes('50'), byCommune);
    await op.click('#coverage-table tbody tr button');
    await op.waitForSelector('#deliveries-table tbody tr');
    const dl = await op.textContent('#deliveries-table');
    check(dl.includes(heard.json.id) && dl.includes('Có'), dl);
    const [download] = await Promise.all([op.waitForEvent('download'), op.click('#cov-csv')]);
    const csv = (await import('node:fs')).readFileSync(await download.path(), 'utf8');
    check(csv.includes('quang-phu') && csv.includes('percent_population'), csv.slice(0, 300));
    await screenshot(op, 'coverage');
    await op.click('a[data-screen="communes"]');
    await op.waitForSelector(`#clusters-table tr[data-id="${heard.json.id}"]`);
    const state = await op.textContent(`#clusters-table tr[data-id="${heard.json.id}"]`);
    check(state.includes('Hoạt động') && state.includes('Lần cuối:'), state);
  } finally {
    await close();
  }
  finish(problems);
}, '[schedules]\nhold_s = 5\ngap_ms = 1000\n');
