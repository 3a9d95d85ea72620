// web/common.js — pieces several screens share: the commune picker, status badges, the "not
// available yet" notice, a confirmation dialog, the role tests.

import { h, replace } from './dom.js';
import { t } from './i18n.js';
import { get, errorText } from './api.js';

export const can = {
  write: (r) => r === 'admin' || r === 'editor',
  approve: (r) => r === 'admin' || r === 'approver',
  manage: (r) => r === 'admin' || r === 'operator',
  emergency: (r) => r === 'admin' || r === 'approver',
};

export async function loadCommunes() {
  const r = await get('/api/v1/communes');
  return (r.communes || []).slice().sort((a, b) => a.name.localeCompare(b.name, 'vi'));
}

// Checkboxes of communes with "all communes" on top. value() → ["*"] or the ids picked.
export function communePicker(communes, name, selected) {
  const sel = new Set(selected || []);
  const all = h('input', {type: 'checkbox', name: name + '-all', value: '*', checked: sel.has('*')});
  const boxes = communes.map((c) => h('input', {type: 'checkbox', name, value: c.id, checked: sel.has(c.id)}));
  const sync = () => { for (const b of boxes) b.disabled = all.checked; };
  all.addEventListener('change', sync);
  sync();
  const el = h('fieldset', {class: 'communes-pick'},
    h('legend', null, t('common.communes')),
    h('label', {class: 'check all'}, all, t('common.all_communes')),
    communes.length ? h('div', {class: 'checks'}, communes.map((c, i) => h('label', {class: 'check'}, boxes[i], c.name)))
      : h('p', {class: 'muted'}, t('common.no_communes')));
  return {el, value: () => (all.checked ? ['*'] : boxes.filter((b) => b.checked).map((b) => b.value))};
}

export function communeNames(ids, communes) {
  if (!ids) return '—';
  if (ids.includes('*')) return t('common.all_communes');
  const by = new Map(communes.map((c) => [c.id, c.name]));
  return ids.map((id) => by.get(id) || id).join(', ');
}

export function badge(kind, text) {
  return h('span', {class: 'badge ' + kind}, text);
}

// A screen section whose API is missing (404 from the router) or failed.
export function failure(el, err) {
  replace(el, h('p', {class: 'notice ' + (err && err.unavailable ? 'info' : 'error'), role: 'alert',
                      dataset: {unavailable: err && err.unavailable ? '1' : '0'}}, errorText(err)));
}

// A modal question. Resolves true when the person confirms.
export function confirmDialog(title, body, okText, danger) {
  return new Promise((resolve) => {
    const ok = h('button', {class: danger ? 'danger' : 'primary', value: 'ok', id: 'dialog-ok'}, okText || t('common.ok'));
    const cancel = h('button', {value: 'cancel', id: 'dialog-cancel'}, t('common.cancel'));
    const dlg = h('dialog', {class: 'dialog'},
      h('form', {method: 'dialog'}, h('h2', null, title),
        Array.isArray(body) ? body : [body], h('div', {class: 'actions'}, cancel, ok)));
    document.body.appendChild(dlg);
    dlg.addEventListener('close', () => { resolve(dlg.returnValue === 'ok'); dlg.remove(); });
    dlg.showModal();
    ok.focus();
  });
}

// A modal that only informs (the token shown once); resolves when closed.
export function infoDialog(title, body) {
  return new Promise((resolve) => {
    const dlg = h('dialog', {class: 'dialog'},
      h('form', {method: 'dialog'}, h('h2', null, title), body,
        h('div', {class: 'actions'}, h('button', {class: 'primary', value: 'ok', id: 'dialog-close'}, t('common.close')))));
    document.body.appendChild(dlg);
    dlg.addEventListener('close', () => { resolve(); dlg.remove(); });
    dlg.showModal();
  });
}

// Turns a name into an id slug: "Xã Quảng Phú" → "quang-phu".
export function slugify(name) {
  return name.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[đĐ]/g, 'd').toLowerCase()
    .replace(/^(xa|phuong|thi tran|thi xa)\s+/, '')
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64);
}

export function sectionTitle(text, extra) {
  return h('div', {class: 'section-head'}, h('h2', null, text), extra || null);
}

// Date and time fields that always read dd/mm/yyyy and 24-hour HH:MM, whatever the browser's
// language (a native <input type=date> follows the browser's locale: mm/dd/yyyy, 5:00 PM).
export function dateInput(attrs, iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || '');
  return h('input', Object.assign({type: 'text', inputmode: 'numeric', placeholder: 'dd/mm/yyyy', maxlength: 10,
    autocomplete: 'off', class: 'date', value: m ? `${m[3]}/${m[2]}/${m[1]}` : ''}, attrs));
}

export function setDate(input, iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || '');
  input.value = m ? `${m[3]}/${m[2]}/${m[1]}` : '';
}

// 'YYYY-MM-DD', '' when empty, null when it is not a date.
export function readDate(input) {
  const v = input.value.trim();
  if (!v) return '';
  const m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(v);
  if (!m) return null;
  const d = +m[1], mo = +m[2], y = +m[3];
  const t = new Date(Date.UTC(y, mo - 1, d));
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d) return null;
  return `${y}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

export function timeInput(attrs, hhmm) {
  return h('input', Object.assign({type: 'text', inputmode: 'numeric', placeholder: 'HH:MM', maxlength: 5,
    autocomplete: 'off', class: 'time', value: hhmm || ''}, attrs));
}

// 'HH:MM' (24 h), '' when empty, null when it is not a time.
export function readTime(input) {
  const v = input.value.trim();
  if (!v) return '';
  const m = /^(\d{1,2})[:hg.](\d{2})$/.exec(v);
  if (!m || +m[1] > 23 || +m[2] > 59) return null;
  return `${m[1].padStart(2, '0')}:${m[2]}`;
}

// A date and a time side by side; value() → 'YYYY-MM-DDTHH:MM', '' when both are empty, null
// when invalid. A date alone means 00:00.
export function dateTimeInput(id) {
  const d = dateInput({id: id + '-date', 'aria-label': 'dd/mm/yyyy'});
  const tm = timeInput({id: id + '-time', 'aria-label': 'HH:MM'});
  const el = h('div', {class: 'datetime'}, d, tm);
  return {el, date: d, value() {
    const dv = readDate(d), tv = readTime(tm);
    if (dv === null || tv === null) return null;
    if (!dv && !tv) return '';
    if (!dv) return null;
    return `${dv}T${tv || '00:00'}`;
  }};
}
