// web/fmt.js — dates and numbers as staff read them: dd/mm/yyyy, 24-hour times, always in the
// station's time zone (from /web/station.json), whatever zone the browser runs in.

import { lang, t } from './i18n.js';

let zone = 'Asia/Ho_Chi_Minh';
let parts = null;

export function setZone(tz) {
  zone = tz || zone;
  parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  });
}
setZone(zone);

export function stationZone() { return zone; }

// {y, mo, d, h, mi, s} of an instant (ms) on the station's wall clock.
function wall(ms) {
  const o = {};
  for (const p of parts.formatToParts(new Date(ms))) o[p.type] = p.value;
  return {y: +o.year, mo: +o.month, d: +o.day, h: +o.hour % 24, mi: +o.minute, s: +o.second};
}

const pad = (n) => String(n).padStart(2, '0');

function toMs(v) {
  if (v === null || v === undefined || v === '') return null;
  const ms = typeof v === 'number' ? v : Date.parse(v);
  return Number.isNaN(ms) ? null : ms;
}

export function fmtDate(v) {
  const ms = toMs(v);
  if (ms === null) return '—';
  const w = wall(ms);
  return `${pad(w.d)}/${pad(w.mo)}/${w.y}`;
}

export function fmtTime(v, seconds) {
  const ms = toMs(v);
  if (ms === null) return '—';
  const w = wall(ms);
  return seconds ? `${pad(w.h)}:${pad(w.mi)}:${pad(w.s)}` : `${pad(w.h)}:${pad(w.mi)}`;
}

export function fmtDateTime(v) {
  const ms = toMs(v);
  return ms === null ? '—' : `${fmtDate(ms)} ${fmtTime(ms)}`;
}

// "YYYY-MM-DD" of today (or of an instant), on the station's calendar.
export function isoDate(v) {
  const w = wall(toMs(v) ?? Date.now());
  return `${w.y}-${pad(w.mo)}-${pad(w.d)}`;
}

// The offset of the station's zone at an instant, in ms.
function offsetAt(ms) {
  const w = wall(ms);
  return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s) - Math.floor(ms / 1000) * 1000;
}

// "YYYY-MM-DDTHH:MM" read on the station's wall clock → RFC 3339 (UTC), or null.
export function stationInputToRfc3339(value) {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value || '');
  if (!m) return null;
  const guess = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
  let ms = guess - offsetAt(guess);
  ms = guess - offsetAt(ms);
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

// An instant → "YYYY-MM-DDTHH:MM" on the station's wall clock (for datetime-local inputs).
export function toStationInput(v) {
  const ms = toMs(v);
  if (ms === null) return '';
  const w = wall(ms);
  return `${w.y}-${pad(w.mo)}-${pad(w.d)}T${pad(w.h)}:${pad(w.mi)}`;
}

export function fmtNumber(n) {
  if (n === null || n === undefined || Number.isNaN(+n)) return '—';
  return new Intl.NumberFormat(lang() === 'vi' ? 'vi-VN' : 'en-GB').format(n);
}

export function fmtPercent(p) {
  if (p === null || p === undefined || Number.isNaN(+p)) return '—';
  return `${(+p).toLocaleString(lang() === 'vi' ? 'vi-VN' : 'en-GB', {maximumFractionDigits: 1})} %`;
}

// Seconds → "1:05" (m:ss) or "1:02:05".
export function fmtDuration(s) {
  if (s === null || s === undefined || Number.isNaN(+s)) return '—';
  const t = Math.round(+s);
  const hh = Math.floor(t / 3600), mm = Math.floor((t % 3600) / 60), ss = t % 60;
  return hh ? `${hh}:${pad(mm)}:${pad(ss)}` : `${mm}:${pad(ss)}`;
}

// Adds days to "YYYY-MM-DD" (calendar arithmetic, no zone involved).
export function addDays(date, n) {
  const [y, mo, d] = date.split('-').map(Number);
  const t = new Date(Date.UTC(y, mo - 1, d + n));
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
}

// "YYYY-MM-DD" → "dd/mm/yyyy" (no zone involved).
export function fmtIsoDate(date) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date || '');
  return m ? `${m[3]}/${m[2]}/${m[1]}` : '—';
}

// How long ago an instant was, in words ("2 giờ trước"), against now (ms; default the clock).
// An instant in the future (a browser clock behind the server's) reads as "just now".
export function fmtAgo(v, now) {
  const ms = toMs(v);
  if (ms === null) return '—';
  const s = Math.max(0, ((now ?? Date.now()) - ms) / 1000);
  if (s < 60) return t('ago.now');
  if (s < 3600) return t('ago.min', {n: Math.floor(s / 60)});
  if (s < 86400) return t('ago.hour', {n: Math.floor(s / 3600)});
  return t('ago.day', {n: Math.floor(s / 86400)});
}

// "07:15 07/12" (the year only when it is not the current one), on the station's clock.
export function fmtShortDateTime(v, now) {
  const ms = toMs(v);
  if (ms === null) return '—';
  const w = wall(ms);
  const year = w.y === wall(now ?? Date.now()).y ? '' : `/${w.y}`;
  return `${pad(w.h)}:${pad(w.mi)} ${pad(w.d)}/${pad(w.mo)}${year}`;
}
