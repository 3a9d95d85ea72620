// tests/web/lib.mjs — helpers of the browser tests: start the real `loacast serve` on a free
// loopback port with a temporary data dir, talk to its API, launch Debian's chromium through
// playwright-core, check pages for script errors and missing words, save screenshots.
//
// The binary is $LOACAST (set by tests/meson.build). Screenshots go to $LOACAST_SCREENSHOTS if
// set (`LOACAST_SCREENSHOTS=docs/screenshots meson test --suite browser` refreshes the committed
// ones), otherwise to a temporary directory that is removed.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const ADMIN_PASSWORD = 'admin-pass-123';
export const ROOT = process.env.LOACAST_SOURCE_ROOT || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

export function check(cond, msg) {
  if (!cond) throw new Error('check failed: ' + (typeof msg === 'string' ? msg : JSON.stringify(msg)));
}

// Exit 77 (meson: skipped) when the browser or playwright-core is missing on a developer's
// machine; scripts/test.sh installs both, so CI always runs these.
export async function loadPlaywright() {
  if (!fs.existsSync('/usr/bin/chromium')) {
    console.log('SKIP: /usr/bin/chromium is not installed (sh scripts/install-deps.sh --test)');
    process.exit(77);
  }
  try {
    return await import('playwright-core');
  } catch (e) {
    console.log('SKIP: playwright-core is not installed (npm ci at the repository root)');
    process.exit(77);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

const pause = (ms) => new Promise((r) => setTimeout(r, ms));

// How the tests wait: polls fn() (sync or async) until it returns something truthy, and returns
// that; past timeoutMs throws, naming `what` (a string, or a function that returns one) and the
// last value. Never a fixed sleep: the deadline is only a bound, generous enough for a slow,
// loaded machine, and the condition ends the wait at once.
export async function waitFor(fn, timeoutMs, what, intervalMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() >= deadline) {
      const w = typeof what === 'function' ? await what() : what;
      throw new Error(`waited ${(timeoutMs / 1000).toFixed(1)} s for ${w}; last: ${JSON.stringify(v)}`);
    }
    await pause(intervalMs);
  }
}

// The server's /metrics as {name: value} (names with their labels).
export async function metrics(server) {
  const text = await (await fetch(server.url + '/metrics')).text();
  const out = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  return out;
}

export class Server {
  constructor(config = '') {
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'loacast-web-'));
    this.config = config;
    this.proc = null;
    this.output = '';
  }

  async start() {
    const bin = process.env.LOACAST;
    check(bin, 'set LOACAST to the loacast binary');
    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    const conf = path.join(this.tmp, 'loacast.conf');
    fs.writeFileSync(conf, `[server]\nlisten = 127.0.0.1:${this.port}\ndata_dir = ${path.join(this.tmp, 'var')}\n${this.config}\n`);
    this.proc = spawn(bin, ['serve', '--config', conf], {
      cwd: this.tmp, env: Object.assign({}, process.env, {LOACAST_ADMIN_PASSWORD: ADMIN_PASSWORD}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stdout.on('data', (d) => { this.output += d; });
    this.proc.stderr.on('data', (d) => { this.output += d; });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, sig) => resolve({code, sig})));
    try {
      await waitFor(async () => {
        if (this.proc.exitCode !== null) throw new Error('server exited:\n' + this.output);
        try {
          return (await fetch(this.url + '/healthz')).status === 200;
        } catch (e) {
          return false; /* not listening yet */
        }
      }, 60000, '/healthz');
    } catch (e) {
      if (this.proc.exitCode !== null) throw e;
      throw new Error(e.message + ': the server did not start:\n' + this.output);
    }
    return this;
  }

  // SIGTERM; the server must exit 0 (under ASan: no leak, no error).
  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    this.proc.kill('SIGTERM');
    const r = await Promise.race([this.exited, pause(30000).then(() => null)]); // a deadline
    if (!r) { this.proc.kill('SIGKILL'); throw new Error('server did not stop on SIGTERM'); }
    if (r.code !== 0) throw new Error(`server exited with ${r.code} ${r.sig || ''}:\n${this.output.slice(-4000)}`);
  }

  cleanup() {
    if (this.proc && this.proc.exitCode === null) this.proc.kill('SIGKILL');
    fs.rmSync(this.tmp, {recursive: true, force: true});
  }

  async api(method, p, body, token) {
    const headers = {};
    if (token) headers.Authorization = 'Bearer ' + token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(this.url + p, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
    const text = await r.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
    return {status: r.status, json, text};
  }

  async login(username, password) {
    const r = await this.api('POST', '/api/v1/login', {username, password});
    check(r.status === 200, r);
    return r.json.token;
  }

  admin() { return this.login('admin', ADMIN_PASSWORD); }

  // Waits until the bulletin is rendered (no longer 'rendering'); returns it.
  async rendered(id, token) {
    return (await waitFor(async () => {
      const x = await this.api('GET', '/api/v1/bulletins/' + id, undefined, token);
      return x.json.status !== 'rendering' && x;
    }, 90000, `bulletin ${id} rendered`, 100)).json;
  }

  // Approves with the audio the approver heard (the bulletin's current audio_hash): an approval
  // binds the exact audio.
  async approve(id, token) {
    const b = await this.api('GET', '/api/v1/bulletins/' + id, undefined, token);
    return this.api('POST', `/api/v1/bulletins/${id}/approve`, {audio_hash: b.json.audio_hash}, token);
  }

  async makeUser(adminToken, username, role) {
    const r = await this.api('POST', '/api/v1/users', {username, password: username + '-password', role}, adminToken);
    check(r.status === 201, r);
  }
}

// opts.args: more Chromium flags (record_test.mjs: a fake microphone).
export async function launch(pw, opts = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'loacast-chromium-'));
  const ctx = await pw.chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
           '--disable-sync', '--no-first-run', '--lang=vi-VN', ...(opts.args || [])],
    viewport: {width: 1366, height: 768},
    locale: 'vi-VN',
    timezoneId: 'Europe/Paris',   // not the station's zone: the console must show the station's
    acceptDownloads: true,
    ...(opts.context || {}),   // e.g. a phone: {viewport, isMobile, hasTouch, deviceScaleFactor}
  });
  ctx.setDefaultTimeout(15000);
  const close = async () => {
    await ctx.close();
    fs.rmSync(profile, {recursive: true, force: true});
  };
  return {ctx, close};
}

// A new tab (its own sessionStorage, so its own login; a test that goes back to an earlier tab
// calls bringToFront(), as a background tab gets its animation frames throttled and every
// click would wait for them) that records script errors, CSP
// violations and words missing from web/i18n.js.
export async function newPage(ctx, problems) {
  const page = await ctx.newPage();
  page.on('pageerror', (e) => { problems.push('page error: ' + e.message); console.error('page error: ' + e.message); });
  page.on('console', (m) => {
    const text = m.text();
    if (m.type() === 'error' && /Failed to load resource: the server responded with a status of 4\d\d/.test(text)) return;
    if (m.type() === 'error' || /i18n: missing/.test(text)) {
      problems.push(`console ${m.type()}: ${text}`);
      console.error(`console ${m.type()}: ${text}`);
    }
  });
  return page;
}

export async function loginAs(page, server, username, password) {
  await page.goto(server.url + '/');
  await page.fill('#username', username);
  await page.fill('#password', password || username + '-password');
  await page.click('#login-submit');
  await page.waitForSelector('#logout');
}

const shotDir = process.env.LOACAST_SCREENSHOTS
  ? path.resolve(ROOT, process.env.LOACAST_SCREENSHOTS)
  : fs.mkdtempSync(path.join(os.tmpdir(), 'loacast-shots-'));
fs.mkdirSync(shotDir, {recursive: true});

// Saves the visible part of the page at its current size as <name>.png; the page must have no
// horizontal scroll bar (the layout fits 1366 px, and a phone's width).
export async function screenshot(page, name) {
  await page.evaluate(() => { const el = document.getElementById('toast'); if (el) el.hidden = true; });
  await page.evaluate(() => document.fonts && document.fonts.ready);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 1, `${name}: the page is ${overflow}px wider than the window`);
  await page.screenshot({path: path.join(shotDir, name + '.png')});
}

// A mono 16-bit WAV of a 440 Hz tone (an upload, a bulletin of a known length).
export function wav(seconds, rate = 16000) {
  const n = Math.round(seconds * rate);
  const b = Buffer.alloc(44 + 2 * n);
  b.write('RIFF', 0); b.writeUInt32LE(36 + 2 * n, 4); b.write('WAVEfmt ', 8); b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22); b.writeUInt32LE(rate, 24); b.writeUInt32LE(2 * rate, 28);
  b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34); b.write('data', 36); b.writeUInt32LE(2 * n, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(8000 * Math.sin(2 * Math.PI * 440 * i / rate)), 44 + 2 * i);
  return b;
}

export function finish(problems) {
  if (!process.env.LOACAST_SCREENSHOTS) fs.rmSync(shotDir, {recursive: true, force: true});
  check(problems.length === 0, problems.join('\n'));
}

// Runs main(server) and exits non-zero on failure, with the server's output.
export async function run(main, config) {
  const server = new Server(config);
  let code = 0;
  try {
    await server.start();
    await main(server);
    await server.stop();
    console.log('ok');
  } catch (e) {
    console.error(e && e.stack ? e.stack : e);
    console.error('---- server output ----\n' + server.output.slice(-6000));
    code = 1;
  } finally {
    server.cleanup();
  }
  process.exit(code);
}
