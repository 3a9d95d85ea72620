// tests/stream/chromium_test.mjs — headless Chromium (Debian's, driven by playwright-core) plays a
// session's stream in an <audio> element: connected in the hold window (held), it reports
// "playing" after the session starts and its currentTime advances with the programme; a second
// page joins in the middle with ?burst=15 (renumbered pages) and plays at once. Exits 77 (skipped) when
// chromium or playwright-core is missing. Helpers from tests/web/lib.mjs.

import {Server, check, finish, loadPlaywright, metrics, waitFor} from '../web/lib.mjs';

// A mono 16-bit WAV: a tone of `seconds` at freq.
function wav(seconds, freq, rate = 16000) {
  const n = Math.round(seconds * rate);
  const b = Buffer.alloc(44 + 2 * n);
  b.write('RIFF', 0); b.writeUInt32LE(36 + 2 * n, 4); b.write('WAVE', 8); b.write('fmt ', 12);
  b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22); b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(2 * rate, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34); b.write('data', 36);
  b.writeUInt32LE(2 * n, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(8000 * Math.sin(2 * Math.PI * freq * i / rate)), 44 + 2 * i);
  return b;
}

// Starts playing url in a fresh page (the stream's origin, so that nothing is cross-origin).
async function play(ctx, origin, url) {
  const page = await ctx.newPage();
  await page.goto(origin + '/healthz');
  await page.evaluate((src) => {
    window.audioState = {played: null, error: null, t0: Date.now()};
    const a = document.createElement('audio');
    a.id = 'radio';
    a.addEventListener('playing', () => { if (!window.audioState.played) window.audioState.played = Date.now(); });
    a.addEventListener('error', () => { window.audioState.error = String(a.error && a.error.code); });
    a.src = src;
    document.body.appendChild(a);
    a.play().catch((e) => { window.audioState.error = 'play(): ' + e.message; });
  }, url);
  return page;
}

async function state(page) {
  return page.evaluate(() => Object.assign({}, window.audioState,
    {currentTime: document.getElementById('radio').currentTime}));
}

async function main() {
  const pw = await loadPlaywright();
  const server = new Server('[schedules]\nhold_s = 5\ngap_ms = 1000\n');
  let browser = null;
  try {
    await server.start();
    const admin = await server.admin();
    await server.makeUser(admin, 'eva', 'editor');
    await server.makeUser(admin, 'anh', 'approver');
    const editor = await server.login('eva', 'eva-password');
    const approver = await server.login('anh', 'anh-password');
    let r = await server.api('POST', '/api/v1/communes', {id: 'quang-phu', name: 'Quảng Phú'}, admin);
    check(r.status === 201, r);
    const tokens = [];
    for (const id of ['k1', 'k2']) {
      r = await server.api('POST', '/api/v1/clusters', {id, commune: 'quang-phu', name: id}, admin);
      check(r.status === 201, r);
      tokens.push(r.json.token);
    }
    r = await server.api('POST', '/api/v1/bulletins', {title: 'Âm thử', communes: ['quang-phu']}, editor);
    check(r.status === 201, r);
    const bid = r.json.id;
    const put = await fetch(`${server.url}/api/v1/bulletins/${bid}/audio`, {
      method: 'PUT', headers: {Authorization: 'Bearer ' + editor, 'Content-Type': 'audio/wav'}, body: wav(30, 440)});
    check(put.status === 200, 'upload ' + put.status);
    r = await server.approve(bid, approver);
    check(r.status === 200, r);

    const start = Math.floor(Date.now() / 1000) + 5;
    r = await server.api('POST', '/api/v1/communes/quang-phu/sessions',
                         {start: new Date(start * 1000).toISOString().replace('.000', ''), minutes: 1}, admin);
    check(r.status === 201, r);
    // the hold window: PREPARE reached the stream engine, a receiver connecting now is held
    await waitFor(async () => (await metrics(server)).loacast_sessions_on_air >= 1, 30000, 'the stream held');

    browser = await pw.chromium.launch({
      executablePath: '/usr/bin/chromium', headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
             '--disable-component-update', '--disable-sync', '--no-first-run',
             '--autoplay-policy=no-user-gesture-required'],
    });
    const ctx = await browser.newContext();
    // held: connected before the start. Chromium's media cache hands data to the demuxer in
    // 32 KiB blocks, ≈ 11 s of a 24 kbit/s stream (docs/streaming.md), so a held receiver starts
    // playing once that much has arrived. joined: 12 s into the session, asking for a 15 s burst
    // (?burst=15), it has its first block at once and plays at once.
    const held = await play(ctx, server.url, `/stream/k1.opus?token=${tokens[0]}`);
    // 12 s into the session: the stream made its 13th page ([12, 13) s)
    await waitFor(async () => (await metrics(server)).loacast_stream_pages_total >= 13, 40000, '12 s of the session');
    const joined = await play(ctx, server.url, `/stream/k2.opus?token=${tokens[1]}&burst=15`);
    let h, j;
    await waitFor(async () => {
      h = await state(held);
      j = await state(joined);
      return (h.currentTime > 3 && j.currentTime > 1) || h.error || j.error;
    }, 25000, () => 'both playing: held ' + JSON.stringify(h) + ', joined ' + JSON.stringify(j), 250);
    const jStart = (j.played - j.t0) / 1000;
    console.log('held (s after the start):', (h.played / 1000 - start).toFixed(2), JSON.stringify(h));
    console.log('joined (s after connecting):', jStart.toFixed(2), JSON.stringify(j));
    check(h.played && !h.error && h.currentTime > 3, 'held receiver: ' + JSON.stringify(h));
    check(j.played && !j.error && j.currentTime > 1 && jStart < 2, 'joined receiver: ' + JSON.stringify(j));
    await browser.close();
    browser = null;
    await server.stop();
    finish([]);
    console.log('ok');
  } catch (e) {
    console.error(e && e.stack ? e.stack : e);
    console.error('---- server output ----\n' + server.output.slice(-4000));
    if (browser) await browser.close().catch(() => {});
    process.exitCode = 1;
  } finally {
    server.cleanup && server.cleanup();
  }
}

main();
