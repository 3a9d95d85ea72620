// web/screens/bulletins_record.js — recording a bulletin from the phone's (or computer's)
// microphone in the bulletin screen: getUserMedia + MediaRecorder, a running timer, stop, the take
// played back, and the take handed to the screen as a Blob to PUT to /api/v1/bulletins/{id}/audio
// (the server reads WebM/Opus from Chromium and Firefox, MP4/AAC from Safari: docs/audio.md).
//
// The browser gives the microphone only to a page of a secure origin (https, or localhost): a
// station serving the console over plain http on its LAN gets rec.denied, and can still choose a
// file. One recorder per form; dispose() stops the microphone and frees the take.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { errorText } from '../api.js';

// What MediaRecorder is asked for, in order: Chromium and Firefox take the first, Safari the
// second; the browser's own default when none is known.
const TYPES = ['audio/webm;codecs=opus', 'audio/mp4', 'audio/ogg;codecs=opus', 'audio/webm'];

function pickType() {
  if (typeof MediaRecorder.isTypeSupported !== 'function') return '';
  return TYPES.find((x) => MediaRecorder.isTypeSupported(x)) || '';
}

function clock(ms) {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export function recorder() {
  let media = null;      // the MediaRecorder while recording
  let stream = null;     // the microphone while recording
  let chunks = [];
  let take = null;       // the finished take (Blob)
  let url = null;        // its object URL, for playback
  let started = 0;
  let tick = null;
  let gone = false;

  const supported = !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.MediaRecorder);
  const time = h('span', {class: 'num rec-time', id: 'rec-time', role: 'timer'}, '0:00');
  const startBtn = h('button', {type: 'button', class: 'primary', id: 'rec-start', onclick: start,
    disabled: !supported}, t('rec.start'));
  const stopBtn = h('button', {type: 'button', class: 'danger', id: 'rec-stop', onclick: stop, hidden: true},
    t('rec.stop'));
  const note = h('p', {class: supported ? 'muted' : 'notice error', id: 'rec-note', 'aria-live': 'polite'},
    supported ? t('rec.hint') : t('rec.unsupported'));
  const play = h('audio', {controls: true, id: 'rec-play', hidden: true});
  const el = h('div', {class: 'recorder', id: 'recorder'},
    h('div', {class: 'actions start'}, startBtn, stopBtn, time), note, h('div', {class: 'preview'}, play));

  function say(text, kind) {
    note.className = kind ? 'notice ' + kind : 'muted';
    note.textContent = text;
  }

  function dropTake() {
    if (url) URL.revokeObjectURL(url);
    url = null;
    take = null;
    play.removeAttribute('src');
    play.hidden = true;
  }

  function release() {
    clearInterval(tick);
    tick = null;
    if (stream) stream.getTracks().forEach((tr) => tr.stop());
    stream = null;
  }

  async function start() {
    dropTake();
    startBtn.disabled = true;
    try {
      stream = await navigator.mediaDevices.getUserMedia({audio: {echoCancellation: true, noiseSuppression: true}});
    } catch (e) {
      startBtn.disabled = false;
      say(t('rec.denied'), 'error');
      return;
    }
    if (gone) { release(); return; }
    const type = pickType();
    try {
      media = new MediaRecorder(stream, type ? {mimeType: type, audioBitsPerSecond: 64000} : undefined);
    } catch (e) {
      release();
      startBtn.disabled = false;
      say(t('rec.unsupported'), 'error');
      return;
    }
    chunks = [];
    media.ondataavailable = (ev) => { if (ev.data && ev.data.size) chunks.push(ev.data); };
    media.onstop = finished;
    media.start(1000);   // a chunk a second: a long take is not one buffer at the end
    started = performance.now();
    time.textContent = '0:00';
    tick = setInterval(() => { time.textContent = clock(performance.now() - started); }, 250);
    stopBtn.hidden = false;
    startBtn.hidden = true;
    say(t('rec.recording'), 'warn');
  }

  function stop() {
    if (media && media.state !== 'inactive') media.stop();
  }

  function finished() {
    const ms = performance.now() - started;
    const type = (media && media.mimeType) || (chunks[0] && chunks[0].type) || 'audio/webm';
    media = null;
    release();
    if (gone) return;
    stopBtn.hidden = true;
    startBtn.hidden = false;
    startBtn.disabled = false;
    startBtn.textContent = t('rec.again');
    time.textContent = clock(ms);
    const b = new Blob(chunks, {type});
    chunks = [];
    if (!b.size) { say(t('rec.empty'), 'error'); return; }
    take = b;
    url = URL.createObjectURL(b);
    play.src = url;
    play.hidden = false;
    say(t('rec.done', {d: clock(ms)}), 'ok');
  }

  return {
    el,
    take: () => take,
    busy: () => !!media,
    dispose() {
      gone = true;
      if (media && media.state !== 'inactive') media.stop();
      media = null;
      release();
      dropTake();
    },
  };
}

// An upload refused, in words: the server's 422 for a damaged or too long recording has its own
// sentence (errorText would say "some information is not valid").
export function uploadErrorText(e) {
  if (e && e.status === 422) {
    if (/damaged|cut short/.test(e.serverMessage || '')) return t('rec.damaged');
    if (/lasts/.test(e.serverMessage || '')) return t('rec.too_long');
  }
  return errorText(e);
}
