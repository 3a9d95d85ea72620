// tests/stream/players_chromium.mjs — the Chromium player of tests/stream/players_test.py: headless
// Chromium (Debian's, driven by playwright-core) plays a stream URL in an <audio> element and
// records what the element really played, as it played it.
//
//   node players_chromium.mjs ORIGIN PATH OUT.raw DEADLINE_UNIX_S
//
// The element's output is routed through WebAudio (createMediaElementSource → an AudioWorklet
// that copies every render quantum → the destination). The AudioContext renders in real time from
// the moment the page starts, whatever the element does: while the element waits for data (in the
// hold window, in its first media-cache block, in a stall) the source node renders silence, so
// the recording is the output timeline itself — sample i was heard at the recording's start plus
// i / rate. It is written to OUT.raw as 16-bit little-endian mono samples, as it arrives.
// Recording stops 2 s after the element's "ended" event, or at DEADLINE_UNIX_S. The last line of
// stdout is a JSON summary: {rate, frames, wall0 (Unix s of sample 0), playing (Unix s of the
// first "playing" event), ended (Unix s of "ended" or null), error, events: [[Unix s, name]]}.
//
// The page is loaded from the stream's origin (ORIGIN/healthz) so that nothing is cross-origin:
// createMediaElementSource outputs silence for a cross-origin element without CORS. Exits 77 when
// chromium or playwright-core is missing.

import fs from 'node:fs';

const [origin, path, out, deadlineArg] = process.argv.slice(2);
if (!origin || !path || !out || !deadlineArg) {
  console.error('usage: node players_chromium.mjs ORIGIN PATH OUT.raw DEADLINE_UNIX_S');
  process.exit(2);
}
const deadline = Number(deadlineArg) * 1000;

if (!fs.existsSync('/usr/bin/chromium')) {
  console.log('SKIP: /usr/bin/chromium is not installed');
  process.exit(77);
}
let pw;
try {
  pw = await import('playwright-core');
} catch (e) {
  console.log('SKIP: playwright-core is not installed (npm ci at the repository root)');
  process.exit(77);
}

// The worklet: hands the element's output to the page in blocks of ~100 ms (Float32 → Int16).
const WORKLET = `
class Rec extends AudioWorkletProcessor {
  constructor() { super(); this.buf = new Int16Array(4800); this.n = 0; this.first = -1; }
  process(inputs) {
    const ch = inputs[0] && inputs[0][0];
    const frames = 128;
    if (this.first < 0) this.first = currentFrame;
    for (let i = 0; i < frames; i++) {
      const v = ch ? ch[i] : 0;
      this.buf[this.n++] = Math.max(-32768, Math.min(32767, Math.round(v * 32767)));
      if (this.n === this.buf.length) {
        this.port.postMessage({pcm: this.buf.buffer, end: currentFrame + i + 1, first: this.first}, [this.buf.buffer]);
        this.buf = new Int16Array(4800);
        this.n = 0;
      }
    }
    return true;
  }
}
registerProcessor('rec', Rec);
`;

const fd = fs.openSync(out, 'w');
let frames = 0;
const summary = {rate: null, frames: 0, wall0: null, playing: null, ended: null, error: null, events: []};
let browser = null;
try {
  browser = await pw.chromium.launch({
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--no-first-run',
           '--autoplay-policy=no-user-gesture-required'],
  });
  const page = await (await browser.newContext()).newPage();
  page.on('console', (m) => console.error('page:', m.text()));
  page.on('pageerror', (e) => { summary.error = summary.error || String(e); });
  // Blocks of samples from the page: appended to OUT.raw in order.
  await page.exposeFunction('recBlock', (b64, end, first, wallMs) => {
    const b = Buffer.from(b64, 'base64');
    fs.writeSync(fd, b);
    frames += b.length / 2;
    // wall clock of sample 0: this block's last frame was rendered ~now (the message latency is
    // a few ms; only the report uses it)
    if (summary.wall0 === null) summary.wall0 = wallMs / 1000 - (end - first) / summary.rate;
  });
  await page.exposeFunction('recEvent', (name, wallMs) => {
    summary.events.push([wallMs / 1000, name]);
    if (name === 'playing' && summary.playing === null) summary.playing = wallMs / 1000;
    if (name === 'ended') summary.ended = wallMs / 1000;
    if (name.startsWith('error')) summary.error = summary.error || name;
  });
  await page.goto(origin + '/healthz');
  summary.rate = await page.evaluate(async ({src, worklet}) => {
    const ctx = new AudioContext();
    const url = URL.createObjectURL(new Blob([worklet], {type: 'application/javascript'}));
    await ctx.audioWorklet.addModule(url);
    const rec = new AudioWorkletNode(ctx, 'rec', {numberOfInputs: 1, numberOfOutputs: 1, channelCount: 1,
                                                  channelCountMode: 'explicit', channelInterpretation: 'speakers'});
    rec.port.onmessage = (m) => {
      const u8 = new Uint8Array(m.data.pcm);
      let s = '';
      for (let i = 0; i < u8.length; i += 8192) s += String.fromCharCode.apply(null, u8.subarray(i, i + 8192));
      window.recBlock(btoa(s), m.data.end, m.data.first, Date.now());
    };
    const a = document.createElement('audio');
    a.id = 'radio';
    for (const ev of ['loadstart', 'loadedmetadata', 'canplay', 'playing', 'waiting', 'stalled', 'pause', 'ended']) {
      a.addEventListener(ev, () => window.recEvent(ev, Date.now()));
    }
    a.addEventListener('error', () => window.recEvent('error ' + (a.error && a.error.code) + ' ' +
                                                      (a.error && a.error.message), Date.now()));
    const srcNode = ctx.createMediaElementSource(a);
    srcNode.connect(rec);
    rec.connect(ctx.destination);
    a.src = src;
    document.body.appendChild(a);
    if (ctx.state !== 'running') await ctx.resume();
    a.play().catch((e) => window.recEvent('error play(): ' + e.message, Date.now()));
    return ctx.sampleRate;
  }, {src: path, worklet: WORKLET});
  // until 2 s after "ended", or the deadline
  while (Date.now() < deadline && !(summary.ended && Date.now() > summary.ended * 1000 + 2000)) {
    await new Promise((r) => setTimeout(r, 200));
  }
  if (!summary.ended) summary.events.push([Date.now() / 1000, 'deadline']);
  await browser.close();
  browser = null;
} catch (e) {
  summary.error = summary.error || String(e && e.stack ? e.stack : e);
  if (browser) await browser.close().catch(() => {});
}
fs.closeSync(fd);
summary.frames = frames;
console.log(JSON.stringify(summary));
