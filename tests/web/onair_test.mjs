// "Đang phát" (on air now), listening live and hearing an emergency before sending it (issue 20),
// in headless Chromium against a real server: a commune with an ad-hoc session on air (a 30 s
// recorded bulletin), one of its two clusters pulling /stream/{cluster}.opus with its token, and
// a second commune off air. The operator's screen shows the session, the item playing and "1/2
// cụm loa đang kết nối"; "Nghe" plays the live stream (the <audio> element's time advances)
// through a ticket URL that carries no login token, and the listener is no cluster: the
// receivers gauge and the session's deliveries stay the one cluster's. The approver hears an
// emergency's text ("Nghe thử") on the confirmation step and goes back: nothing was sent, stored
// or audited. API edges: tickets (missing, another commune's), off air, bad preview bodies.
// Screenshots: onair, onair-phone, emergency-preview.

import { check, finish, launch, loadPlaywright, loginAs, metrics, newPage, run, screenshot, waitFor, wav } from './lib.mjs';

const TITLE = 'Lịch tiêm phòng cho đàn gia súc';
const EM_TEXT = 'Bão số 3 sắp đổ bộ. Đề nghị bà con không ra khơi.';

await run(async (server) => {
  const pw = await loadPlaywright();
  const admin = await server.admin();
  await server.makeUser(admin, 'olga', 'operator');
  await server.makeUser(admin, 'eva', 'editor');
  await server.makeUser(admin, 'anh', 'approver');
  const eva = await server.login('eva', 'eva-password');
  const anh = await server.login('anh', 'anh-password');
  for (const [id, name] of [['quang-phu', 'Xã Quảng Phú'], ['quang-an', 'Xã Quảng An']]) {
    check((await server.api('POST', '/api/v1/communes', {id, name, population: 9000}, admin)).status === 201, id);
    // no slots: the ad-hoc session never overlaps one, and quang-an has nothing ahead
    check((await server.api('PUT', `/api/v1/communes/${id}/slots`, [], admin)).status === 200, 'slots');
  }
  const k1 = (await server.api('POST', '/api/v1/clusters', {commune: 'quang-phu', name: 'Thôn Đông'}, admin)).json;
  const k2 = (await server.api('POST', '/api/v1/clusters', {commune: 'quang-phu', name: 'Thôn Tây'}, admin)).json;
  check(k1.token && k2.token, 'clusters');
  const b = await server.api('POST', '/api/v1/bulletins', {title: TITLE, communes: ['quang-phu']}, eva);
  check(b.status === 201, b);
  const up = await fetch(`${server.url}/api/v1/bulletins/${b.json.id}/audio`, {method: 'PUT',
    headers: {Authorization: 'Bearer ' + eva, 'Content-Type': 'audio/wav'}, body: wav(30, 8000)});
  check(up.status === 200, 'upload ' + up.status);
  check((await server.approve(b.json.id, anh)).status === 200, 'approve');

  // a session 2 s ahead; k1 connects now (held until the start) and keeps reading
  const start = new Date(Math.ceil(Date.now() / 1000) * 1000 + 2000).toISOString();
  const sess = await server.api('POST', '/api/v1/communes/quang-phu/sessions', {start, minutes: 2}, admin);
  check(sess.status === 201, sess);
  const ac = new AbortController();
  let k1bytes = 0;
  const k1res = await waitFor(async () => {
    const r = await fetch(`${server.url}/stream/${k1.id}.opus`, {headers: {Authorization: 'Bearer ' + k1.token}, signal: ac.signal});
    if (r.status === 200) return r;
    await r.arrayBuffer();
    return null;
  }, 10000, 'the stream held');
  const reading = (async () => {
    try { for await (const chunk of k1res.body) k1bytes += chunk.length; } catch (e) { /* aborted at the end */ }
  })();

  const onair = await waitFor(async () => {
    const r = await server.api('GET', '/api/v1/onair', undefined, eva);   // editors too
    check(r.status === 200, r);
    const c = r.json.communes.find((x) => x.commune === 'quang-phu');
    return c && c.session && c.session.status === 'on_air' && c.playing && c.connected === 1 && r.json;
  }, 15000, 'quang-phu on air with k1 connected', 100);
  const qp = onair.communes.find((x) => x.commune === 'quang-phu');
  const qa = onair.communes.find((x) => x.commune === 'quang-an');
  check(qp.clusters === 2 && qp.session.id === sess.json.id && qp.session.kind === 'adhoc' &&
        qp.playing.bulletin === b.json.id && qp.playing.title === TITLE && qp.playing.offset_s >= 0, qp);
  check(qa.session === null && qa.playing === null && qa.next === null && qa.connected === 0 && qa.clusters === 0, qa);

  // ---- the listen route's edges: nothing but a fresh ticket of that commune opens it ----
  const noTicket = await server.api('GET', '/api/v1/communes/quang-phu/listen.opus', undefined, admin);
  check(noTicket.status === 401 && noTicket.json.error === 'bad_ticket', 'a staff token is no ticket: ' + noTicket.status);
  check((await server.api('POST', '/api/v1/communes/quang-an/listen', undefined, admin)).status === 409, 'off air');
  check((await server.api('POST', '/api/v1/communes/nowhere/listen', undefined, admin)).status === 404, 'no commune');
  const ticket = await server.api('POST', '/api/v1/communes/quang-phu/listen', undefined, eva);
  check(ticket.status === 200 && ticket.json.url.startsWith('/api/v1/communes/quang-phu/listen.opus?ticket='), ticket);
  check(!ticket.json.url.includes(eva), 'the login token is in the URL');
  const forged = ticket.json.url.replace('quang-phu', 'quang-an');
  check((await server.api('GET', forged, undefined)).status === 401, 'another commune\'s ticket');
  const tampered = ticket.json.url.slice(0, -1) + (ticket.json.url.endsWith('0') ? '1' : '0');
  check((await server.api('GET', tampered, undefined)).status === 401, 'a tampered ticket');

  // ---- the preview's edges: bad bodies change nothing ----
  // the audit's entries but logins (the browser's logins are audited)
  const audit = async () => JSON.stringify((await server.api('GET', '/api/v1/audit', undefined, admin)).json.audit
    .filter((e) => !['login', 'logout'].includes(e.action)));
  const auditBefore = await audit();
  const bulletinsBefore = (await server.api('GET', '/api/v1/bulletins', undefined, admin)).json.bulletins.length;
  check((await server.api('POST', '/api/v1/emergency/preview', {}, anh)).status === 400, 'no text');
  check((await server.api('POST', '/api/v1/emergency/preview', {text: ''}, anh)).status === 422, 'empty text');
  check((await server.api('POST', '/api/v1/emergency/preview', {text: 'x', voice: 'fr'}, anh)).status === 422, 'voice');
  check((await server.api('POST', '/api/v1/emergency/preview', {text: 'x'}, eva)).status === 403, 'editor');

  const problems = [];
  const {ctx, close} = await launch(pw);
  try {
    const op = await newPage(ctx, problems);
    await loginAs(op, server, 'olga');
    await op.click('a[data-screen="onair"]');
    const card = '#onair-list section[data-commune="quang-phu"][data-status="on_air"]';
    await op.waitForSelector(card);
    const text = await op.textContent(card);
    check(text.includes('Xã Quảng Phú') && text.includes(TITLE) && text.includes('1/2 cụm loa đang kết nối') &&
          text.includes('Buổi thêm'), text);
    const off = await op.textContent('#onair-list section[data-commune="quang-an"]');
    check(off.includes('Không phát') && off.includes('0/0'), off);
    check(await op.locator('#onair-list section[data-commune="quang-an"] button[data-listen]').count() === 0, 'listen off air');

    // "Nghe": the live stream plays in the page's <audio>; its time advances
    const before = await metrics(server);
    await op.click(`${card} button[data-listen="quang-phu"]`);
    await op.waitForFunction(() => {
      const a = document.querySelector('#onair-audio');
      return a && !a.paused && a.currentTime > 1;
    }, null, {timeout: 20000});
    const src = await op.getAttribute('#onair-audio', 'src');
    check(src.includes('ticket=') && !src.includes(eva) && !/Bearer|token/.test(src), src);
    const t1 = await op.evaluate(() => document.querySelector('#onair-audio').currentTime);
    await waitFor(async () => (await op.evaluate(() => document.querySelector('#onair-audio').currentTime)) > t1 + 0.5,
                  5000, 'the live audio advancing');
    // the listener is no cluster: the gauge and the card still count k1 alone
    const during = await metrics(server);
    check(during.loacast_receivers_connected === 1 && before.loacast_receivers_connected === 1,
          `receivers ${before.loacast_receivers_connected} → ${during.loacast_receivers_connected}`);
    await screenshot(op, 'onair');
    await op.setViewportSize({width: 390, height: 844});
    await op.waitForSelector(card);
    await screenshot(op, 'onair-phone');
    await op.click('#onair-stop');
    await op.setViewportSize({width: 1366, height: 768});
    const r = (await server.api('GET', '/api/v1/onair', undefined, admin)).json.communes.find((x) => x.commune === 'quang-phu');
    check(r.connected === 1, r);

    // ---- the approver hears the emergency first, then goes back: nothing sent ----
    const ap = await newPage(ctx, problems);
    await loginAs(ap, server, 'anh');
    await ap.click('a[data-screen="emergency"]');
    await ap.fill('#em-text', EM_TEXT);
    await ap.check('input[name="em-communes"][value="quang-an"]');
    await ap.click('#em-next');
    await ap.waitForSelector('#emergency-confirm');
    await ap.click('#em-preview');
    await ap.waitForFunction(() => {
      const a = document.querySelector('#em-preview-audio');
      return a && !a.hidden && a.src.startsWith('blob:') && a.duration > 1 && a.currentTime > 0.3;
    }, null, {timeout: 30000});
    check(await ap.locator('#em-confirm').isEnabled(), 'the confirm button is still to press');
    await ap.setViewportSize({width: 390, height: 844});
    await screenshot(ap, 'emergency-preview');
    await ap.click('#em-back');
    await ap.waitForSelector('#emergency-form');
  } finally {
    await close();
  }
  // nothing was sent, stored or audited by the preview and the listening
  const auditAfter = await audit();
  check(auditAfter === auditBefore, 'the audit changed: ' + auditAfter.slice(0, 400));
  check((await server.api('GET', '/api/v1/bulletins', undefined, admin)).json.bulletins.length === bulletinsBefore, 'a bulletin');
  const prog = (await server.api('GET', '/api/v1/communes/quang-an/programme', undefined, admin)).json;
  check(prog.sessions.length === 0, prog);
  // the session's deliveries are k1's alone (the listener is no delivery)
  const dl = await waitFor(async () => {
    const x = await server.api('GET', '/api/v1/deliveries?commune=quang-phu', undefined, admin);
    check(x.status === 200, x);
    return x.json.deliveries && x.json.deliveries.length > 0 && x.json;
  }, 10000, 'the deliveries');
  check(dl.deliveries.every((d) => d.cluster === k1.id), JSON.stringify(dl).slice(0, 600));
  check(k1bytes > 1000, 'k1 read ' + k1bytes);
  ac.abort();
  await reading;
  finish(problems);
}, '[schedules]\nhold_s = 5\ngap_ms = 1000\n');
