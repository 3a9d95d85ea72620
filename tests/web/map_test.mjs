// The cluster map in headless Chromium (issue 19, point 3). Communes of Hội An (Quảng Nam) with
// clusters at their real places, their states made real: one receiver pulls a session's stream
// (reached), one only reports its status (seen, not reached), one never connects (offline), one in
// a commune without a finished session reports (online), one has no position (listed apart).
// The map shows 5 markers of the right colours, the legend's counts, the unplaced cluster, and on
// click the commune's coverage of that session (1/3 clusters, 50 % of the population). Leaflet
// comes from the server itself: every request of the browser is checked to stay on loopback.
// Run 1: [map] tiles points at a tiny tile server on loopback: tiles are drawn. Run 2 (a second
// server, no tiles): a plain background, the markers still shown, no tile asked for.
// Also: ?node= malformed or unknown → 400, the map unchanged; the CSP names the tiles' origin.
// Screenshots: map, map-offline.

import http from 'node:http';
import zlib from 'node:zlib';
import { check, finish, launch, loadPlaywright, loginAs, newPage, Server, screenshot, waitFor } from './lib.mjs';

const COLORS = {failing: '#c62828', offline: '#616161', not_reached: '#ef6c00', reached: '#2e7d32',
  online: '#1565c0', idle: '#90a4ae'};   // web/screens/map.js

// A 256×256 PNG of one colour (the tile server's only tile).
function png(r, g, b) {
  const crcTable = Array.from({length: 256}, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => { let c = 0xffffffff; for (const x of buf) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(256, 0); ihdr.writeUInt32BE(256, 4); ihdr[8] = 8; ihdr[9] = 2;
  const row = Buffer.alloc(1 + 256 * 3);
  for (let i = 0; i < 256; i++) { row[1 + 3 * i] = r; row[2 + 3 * i] = g; row[3 + 3 * i] = b; }
  const raw = Buffer.concat(Array.from({length: 256}, () => row));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

function tileServer() {
  const tile = png(0xcf, 0xe8, 0xd5);
  const seen = [];
  const srv = http.createServer((req, res) => {
    seen.push(req.url);
    if (!/^\/\d+\/\d+\/\d+\.png$/.test(req.url)) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, {'Content-Type': 'image/png', 'Content-Length': tile.length});
    res.end(tile);
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({srv, seen, port: srv.address().port})));
}

// Communes and clusters at real places; returns the clusters' ids and tokens by name.
async function populate(server, admin) {
  const communes = [
    {id: 'cam-thanh', name: 'Xã Cẩm Thanh', population: 9000},
    {id: 'cam-kim', name: 'Xã Cẩm Kim', population: 6000},
  ];
  for (const c of communes) {
    check((await server.api('POST', '/api/v1/communes', c, admin)).status === 201, 'commune ' + c.id);
    check((await server.api('PUT', `/api/v1/communes/${c.id}/slots`, [], admin)).status === 200, 'slots');
  }
  const clusters = {
    heard: {commune: 'cam-thanh', name: 'Thôn Thanh Tam', lat: 15.8772, lon: 108.3655, population: 2000},
    reporting: {commune: 'cam-thanh', name: 'Thôn Võng Nhi', lat: 15.8851, lon: 108.3541, population: 1500},
    silent: {commune: 'cam-thanh', name: 'Thôn Thanh Nhứt', lat: 15.8698, lon: 108.3712, population: 500},
    other: {commune: 'cam-kim', name: 'Thôn Trà Nhiêu', lat: 15.8936, lon: 108.3098, population: 1200},
    nowhere: {commune: 'cam-kim', name: 'Thôn Đông Hà', population: 800},
  };
  const out = {};
  for (const [k, c] of Object.entries(clusters)) {
    const r = await server.api('POST', '/api/v1/clusters', c, admin);
    check(r.status === 201, r);
    out[k] = r.json;
  }
  // signs of life: a status report (no stream)
  for (const k of ['reporting', 'other']) {
    const r = await fetch(`${server.url}/api/v1/receivers/${out[k].id}/status`, {method: 'POST',
      headers: {'Authorization': 'Bearer ' + out[k].token, 'Content-Type': 'application/json'}, body: JSON.stringify({volume: 80})});
    check(r.status < 300, 'status report ' + r.status);
  }
  return out;
}

// Every request of the browser must stay on this machine (no CDN, no tile server elsewhere).
async function loopbackOnly(ctx, problems) {
  await ctx.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.protocol !== 'data:' && u.protocol !== 'blob:' && u.hostname !== '127.0.0.1') {
      problems.push('a request left loopback: ' + u.href);
      return route.abort();
    }
    return route.continue();
  });
}

async function openMap(ctx, problems, server, n) {
  const page = await newPage(ctx, problems);
  await loginAs(page, server, 'olga');
  await page.click('a[data-screen="map"]');
  await page.waitForSelector(`#map-canvas[data-markers="${n}"]`);
  check(await page.locator('#map-canvas path.map-marker').count() === n, 'markers drawn');
  return page;
}

const CONFIG = '[schedules]\nhold_s = 5\n[stream]\nhold_audio = false\nlead_ms = 0\nsend_ms = 200\npage_ms = 200\n';
const pw = await loadPlaywright();
const tiles = await tileServer();
const problems = [];
let server = new Server(CONFIG + `[map]\ntiles = http://127.0.0.1:${tiles.port}/{z}/{x}/{y}.png\nattribution = © Nền thử nghiệm\n`);
let code = 0;
try {
  // ---- run 1: tiles from a loopback tile server, a real session ----
  await server.start();
  let admin = await server.admin();
  await server.makeUser(admin, 'olga', 'operator');
  await server.makeUser(admin, 'eva', 'editor');
  await server.makeUser(admin, 'anh', 'approver');
  const k = await populate(server, admin);
  const eva = await server.login('eva', 'eva-password');
  const anh = await server.login('anh', 'anh-password');
  const b = await server.api('POST', '/api/v1/bulletins', {title: 'Lịch tiêm phòng', text: 'Sáng mai tiêm phòng cho gia súc.',
    communes: ['cam-thanh']}, eva);
  check(b.status === 202, b);
  await server.rendered(b.json.id, eva);
  check((await server.approve(b.json.id, anh)).status === 200, 'approve');
  const start = new Date(Math.ceil(Date.now() / 1000) * 1000 + 3000).toISOString();
  const sess = await server.api('POST', '/api/v1/communes/cam-thanh/sessions', {start, minutes: 1}, admin);
  check(sess.status === 201, sess);
  const r = await fetch(`${server.url}/stream/${k.heard.id}.opus?token=${k.heard.token}`);
  check(r.status === 200, 'stream ' + r.status);
  check((await r.arrayBuffer()).byteLength > 1000, 'stream bytes');
  const want = {[k.heard.id]: 'reached', [k.reporting.id]: 'not_reached', [k.silent.id]: 'offline', [k.other.id]: 'online'};
  const map = (await waitFor(async () => {
    const m = await server.api('GET', '/api/v1/map', undefined, admin);
    check(m.status === 200, m);
    return m.json.clusters.every((c) => c.state === want[c.id]) && m.json;
  }, 30000, 'the session in the map', 100));
  check(map.clusters.length === 4 && map.unplaced.length === 1 && map.unplaced[0].id === k.nowhere.id, map);
  const cov = map.communes['cam-thanh'].last_session;
  check(cov.clusters_reached === 1 && cov.clusters_total === 3 && cov.percent_population === 50, cov);
  check(map.communes['cam-kim'].last_session === null, map.communes);
  // bad ?node= → 400, a node that is not there (or outside the caller's subtree) → 404, and
  // the map is what it was
  for (const q of ['abc', '0', '-1', '999999']) {
    const x = await server.api('GET', '/api/v1/map?node=' + q, undefined, admin);
    const want = q === '999999' ? [404, 'not_found'] : [400, 'bad_query'];
    check(x.status === want[0] && x.json.error === want[1], q + ': ' + x.text);
  }
  const again = await server.api('GET', '/api/v1/map', undefined, admin);
  check(JSON.stringify(again.json.clusters) === JSON.stringify(map.clusters), 'the map changed after bad requests');
  // Leaflet is the server's own, and the CSP lets the tiles' origin in (img-src only)
  const csp = (await fetch(server.url + '/web/leaflet/leaflet.js')).headers.get('content-security-policy');
  check(csp.includes(`img-src 'self' data: http://127.0.0.1:${tiles.port};`) && !csp.includes(`script-src 'self' http`), csp);

  let {ctx, close} = await launch(pw);
  try {
    await loopbackOnly(ctx, problems);
    const page = await openMap(ctx, problems, server, 4);
    for (const [id, state] of Object.entries(want)) {
      const m = page.locator(`#map-canvas path.map-marker[data-cluster="${id}"]`);
      check(await m.getAttribute('data-state') === state, id + ' ' + state);
      check(await m.getAttribute('fill') === COLORS[state], id + ' fill ' + await m.getAttribute('fill'));
    }
    const legend = await page.textContent('#map-legend li[data-state="reached"]');
    check(legend.includes('Đã nhận') && legend.includes('(1)'), legend);
    check((await page.textContent('#map-unplaced-count')).includes('1 cụm loa chưa có toạ độ'), 'unplaced count');
    check((await page.textContent('#map-unplaced-list')).includes('Thôn Đông Hà'), 'unplaced list');
    check(await page.locator('#map-node-field').isHidden(), 'no node filter without an organisation tree');
    await waitFor(async () => await page.locator('#map-canvas img.leaflet-tile-loaded').count() > 0, 10000, 'tiles drawn');
    check(tiles.seen.length > 0, 'the tile server was asked');
    check((await page.textContent('.leaflet-control-attribution')).includes('Nền thử nghiệm'), 'attribution');
    await page.locator(`#map-canvas path.map-marker[data-cluster="${k.heard.id}"]`).click();
    await page.waitForSelector('.map-popup');
    await waitFor(() => page.evaluate(() => getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'), 5000, 'the popup shown');
    const pop = await page.textContent('.map-popup');
    check(pop.includes('Thôn Thanh Tam') && pop.includes('Xã Cẩm Thanh') && pop.includes('1/3') && pop.includes('50'), pop);
    await screenshot(page, 'map');
  } finally {
    await close();
  }
  await server.stop();
  server.cleanup();

  // ---- run 2: no tiles (no Internet): a plain background, the markers still there ----
  server = new Server(CONFIG);
  await server.start();
  admin = await server.admin();
  await server.makeUser(admin, 'olga', 'operator');
  await populate(server, admin);
  const asked = tiles.seen.length;
  ({ctx, close} = await launch(pw));
  try {
    await loopbackOnly(ctx, problems);
    const page = await openMap(ctx, problems, server, 4);
    check(await page.locator('#map-canvas.blank[data-tiles="0"]').count() === 1, 'a plain background');
    check(await page.locator('#map-canvas img.leaflet-tile').count() === 0, 'no tile');
    check(tiles.seen.length === asked, 'a tile was asked for without [map] tiles');
    // no session here: the two that report are online, the two never seen offline
    check(await page.locator('#map-canvas path.map-marker[data-state="offline"]').count() === 2, 'offline markers');
    check(await page.locator('#map-canvas path.map-marker[data-state="online"]').count() === 2, 'online markers');
    await screenshot(page, 'map-offline');
  } finally {
    await close();
  }
  await server.stop();
  finish(problems);
  console.log('ok');
} catch (e) {
  console.error(e && e.stack ? e.stack : e);
  console.error('--- server output ---\n' + server.output.slice(-4000));
  code = 1;
} finally {
  server.cleanup();
  tiles.srv.close();
}
process.exit(code);
