// Recording a bulletin from the microphone, on a phone's width (issue 20, point 6): Chromium with
// a fake microphone that plays a Vietnamese sentence spoken by espeak-ng (a WAV made here). The
// editor writes a recorded bulletin at 390 px, presses "Ghi âm", sees the timer run, stops after
// ~2 s, hears the take in the page, sends it; the upload is MediaRecorder's WebM/Opus, and the
// bulletin gets audio of ~2 s (pending). Then, in the bulletin's panel, a second take replaces it,
// and a text file is refused in Vietnamese words with the audio left as it was.
// Screenshots: phone-record (the take ready to send), phone-recorded (the bulletin with its audio).

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { check, finish, launch, loadPlaywright, loginAs, newPage, run, screenshot, waitFor } from './lib.mjs';

// The fake microphone's sound: espeak-ng speaking, resampled by sox to what Chromium's fake
// capture device reads (16-bit PCM WAV).
function speechWav(dir) {
  const raw = path.join(dir, 'speech-raw.wav');
  const wav = path.join(dir, 'speech.wav');
  execFileSync('espeak-ng', ['-v', 'vi', '-w', raw,
    'Thông báo của Ủy ban nhân dân xã về lịch tiêm chủng cho trẻ em dưới năm tuổi.']);
  execFileSync('sox', [raw, '-r', '48000', '-c', '1', '-b', '16', wav]);
  return wav;
}

// Seconds shown by the recorder's timer ("0:02" → 2).
const timerSeconds = (s) => { const [m, x] = s.split(':').map(Number); return m * 60 + x; };

await run(async (server) => {
  const pw = await loadPlaywright();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'loacast-record-'));
  const admin = await server.admin();
  await server.makeUser(admin, 'eva', 'editor');
  check((await server.api('POST', '/api/v1/communes', {id: 'quang-phu', name: 'Xã Quảng Phú', population: 12000}, admin))
    .status === 201, 'commune');
  const eva = await server.login('eva', 'eva-password');

  const problems = [];
  const {ctx, close} = await launch(pw, {args: ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
    '--use-file-for-fake-audio-capture=' + speechWav(tmp)]});
  try {
    const ed = await newPage(ctx, problems);
    await ed.setViewportSize({width: 390, height: 844});
    const puts = [];
    ed.on('request', (r) => { if (r.method() === 'PUT') puts.push(r.headers()['content-type'] || ''); });
    await loginAs(ed, server, 'eva');
    await ed.click('#new-bulletin');
    await ed.check('#kind-audio');
    await ed.fill('#b-title', 'Lịch tiêm chủng (ghi âm)');
    await ed.check('input[name="b-communes"][value="quang-phu"]');
    check(await ed.isVisible('#rec-start') && (await ed.textContent('#rec-start')) === 'Ghi âm', 'the record button');

    // ---- record ~2 s ----
    await ed.click('#rec-start');
    await ed.waitForSelector('#rec-stop:visible');
    check((await ed.textContent('#rec-stop')) === 'Dừng', 'the stop button');
    await waitFor(async () => timerSeconds(await ed.textContent('#rec-time')) >= 2, 10000, 'the timer to reach 0:02');
    await ed.click('#rec-stop');
    await ed.waitForSelector('#rec-play:not([hidden])');
    await ed.waitForFunction(() => {
      const a = document.querySelector('#rec-play');
      return a.src.startsWith('blob:') && a.readyState >= 1;
    }, null, {timeout: 10000});
    const note = await ed.textContent('#rec-note');
    check(/^Đã ghi 0:0[23]\. Hãy nghe lại/.test(note), note);
    check((await ed.textContent('#rec-start')) === 'Ghi lại', 'record again');
    await ed.locator('#recorder').scrollIntoViewIfNeeded();
    await screenshot(ed, 'phone-record');

    // ---- send: the take is the bulletin's audio ----
    await ed.click('#b-submit');
    await ed.waitForSelector('#side .detail[data-status="pending"]', {timeout: 30000});
    check(puts.length === 1 && puts[0].startsWith('audio/webm'), 'the upload\'s type: ' + puts.join(', '));
    const list = (await server.api('GET', '/api/v1/bulletins', undefined, eva)).json.bulletins;
    const b = list.find((x) => x.title === 'Lịch tiêm chủng (ghi âm)');
    check(b && b.status === 'pending' && b.kind === 'audio', b);
    check(b.duration_s >= 1.8 && b.duration_s <= 3.2, 'the take lasts ' + b.duration_s + ' s');
    console.log(`recorded take: ${b.duration_s.toFixed(2)} s, ${b.audio_bytes} bytes of Opus`);
    await ed.waitForFunction(() => {
      const a = document.querySelector('#preview');
      return a && a.src.startsWith('blob:') && a.readyState >= 1 && a.duration > 1;
    }, null, {timeout: 15000});
    await screenshot(ed, 'phone-recorded');

    // ---- in the panel: a text file is refused in words, the audio stays ----
    await ed.setInputFiles('#reupload', {name: 'ghi-am.m4a', mimeType: 'audio/mp4',
      buffer: Buffer.from('Đây không phải là âm thanh.\n'.repeat(10))});
    await ed.click('#side .upload button:text("Tải lên")');
    await ed.waitForSelector('#toast:text("không phải âm thanh")');
    const same = (await server.api('GET', '/api/v1/bulletins/' + b.id, undefined, eva)).json;
    check(same.audio_hash === b.audio_hash && same.status === 'pending', 'the refused file changed the bulletin');

    // ---- a second take replaces the first ----
    await ed.click('#rec-start');
    await ed.waitForSelector('#rec-stop:visible');
    await waitFor(async () => timerSeconds(await ed.textContent('#rec-time')) >= 1, 10000, 'the timer to reach 0:01');
    await ed.click('#rec-stop');
    await ed.waitForSelector('#rec-play:not([hidden])');
    await ed.click('#rec-send');
    const again = await waitFor(async () => {
      const x = (await server.api('GET', '/api/v1/bulletins/' + b.id, undefined, eva)).json;
      return x.audio_hash !== b.audio_hash && x;
    }, 15000, 'the second take to replace the first');
    check(again.status === 'pending' && again.duration_s >= 0.8 && again.duration_s < b.duration_s,
      'second take: ' + again.duration_s + ' s');
  } finally {
    await close();
    fs.rmSync(tmp, {recursive: true, force: true});
  }
  finish(problems);
});
