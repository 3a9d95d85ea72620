// web/screens/lexicon.js — "Cách đọc", the station lexicon (issue 20): how the loudspeakers read
// a word or an abbreviation. Staff list and search the station's entries, add or correct one
// (admin, editor, approver), delete it, and try a sentence with "Nghe thử": the audio plays at
// once and the text as it will be spoken is shown. A word and reading typed in the form are
// tried before they are saved (the server renders with them; nothing is stored).
// APIs: GET /api/v1/lexicon, PUT|DELETE /api/v1/lexicon/{word}, POST /api/v1/lexicon/preview
// (audio/ogg, the spoken text in X-Loacast-Spoken), POST /api/v1/normalize.

import { h, field, replace } from '../dom.js';
import { t } from '../i18n.js';
import { api, get, session, errorText, ApiError } from '../api.js';
import { fmtDateTime } from '../fmt.js';
import { failure, sectionTitle, confirmDialog } from '../common.js';
import { atRoot } from '../org.js';

const canWrite = (r) => r === 'admin' || r === 'editor' || r === 'approver';

export function render(view, ctx) {
  const locked = canWrite(ctx.session.role) && !atRoot(ctx.session);   // issue 19: the province's lexicon
  const writer = canWrite(ctx.session.role) && !locked;
  let entries = [];
  let audioUrl = null;
  const word = h('input', {id: 'lx-word', maxlength: 64, autocomplete: 'off', placeholder: 'ĐT100'});
  const reading = h('input', {id: 'lx-reading', maxlength: 300, autocomplete: 'off', placeholder: t('lx.reading_ph')});
  const text = h('textarea', {id: 'lx-text', rows: 3, maxlength: 2000}, t('lx.sample'));
  const spoken = h('p', {id: 'lx-spoken', class: 'muted'});
  const audio = h('audio', {id: 'lx-audio', controls: true, preload: 'auto'});
  const errEl = h('p', {id: 'lx-error', class: 'notice error', role: 'alert', hidden: true});
  const listen = h('button', {class: 'primary', id: 'lx-listen', type: 'button', onclick: preview}, t('lx.listen'));
  const save = writer ? h('button', {id: 'lx-save', type: 'button', onclick: store}, t('common.save')) : null;
  const search = h('input', {id: 'lx-search', type: 'search', placeholder: t('lx.search'), oninput: draw});
  const listEl = h('div', {id: 'lx-list'});
  const countEl = h('span', {class: 'muted', id: 'lx-count'});

  replace(view, h('div', {class: 'page'},
    h('div', {class: 'page-head'}, h('h1', null, t('nav.lexicon'))),
    h('p', {class: 'notice info'}, t('lx.intro')),
    locked ? h('p', {class: 'notice warn', id: 'lx-locked'}, t('org.station_wide')) : null,
    h('div', {class: 'split even'},
      h('section', {class: 'card'}, sectionTitle(t('lx.try')),
        field(t('lx.word'), word, t('lx.word_hint')),
        field(t('lx.reading'), reading),
        field(t('lx.text'), text),
        h('div', {class: 'toolbar'}, listen, save),
        errEl,
        h('p', null, h('strong', null, t('lx.spoken') + ': ')), spoken,
        audio),
      h('section', {class: 'card'}, sectionTitle(t('lx.entries'), countEl), search, listEl))));
  load();

  function showError(msg) {
    errEl.textContent = msg || '';
    errEl.hidden = !msg;
  }

  async function load() {
    try {
      entries = (await get('/api/v1/lexicon')).entries || [];
    } catch (e) {
      failure(listEl, e);
      return;
    }
    draw();
  }

  function draw() {
    const q = search.value.trim().toLocaleLowerCase('vi');
    const rows = entries.filter((e) => !q || e.word.toLocaleLowerCase('vi').includes(q) ||
                                      e.reading.toLocaleLowerCase('vi').includes(q));
    replace(countEl, t('lx.n_entries', {n: entries.length}));
    if (!rows.length) {
      replace(listEl, h('p', {class: 'muted empty', id: 'lx-none'}, entries.length ? t('lx.no_match') : t('lx.none')));
      return;
    }
    replace(listEl, h('table', {class: 'table', id: 'lx-table'},
      h('thead', null, h('tr', null, h('th', null, t('lx.word')), h('th', null, t('lx.reading')),
        h('th', null, t('lx.changed')), writer ? h('th', null, '') : null)),
      h('tbody', null, rows.map((e) => h('tr', {dataset: {word: e.word}},
        h('td', null, h('strong', null, e.word)),
        h('td', null, e.reading),
        h('td', {class: 'muted'}, e.updated_by + ' · ' + fmtDateTime(e.updated_at)),
        writer ? h('td', {class: 'actions'},
          h('button', {class: 'link', type: 'button', onclick: () => edit(e)}, t('lx.edit')),
          h('button', {class: 'link danger', type: 'button', onclick: () => remove(e)}, t('common.delete'))) : null)))));
  }

  function edit(e) {
    word.value = e.word;
    reading.value = e.reading;
    reading.focus();
  }

  // The sentence with the word being tried, if both sides are filled.
  function body() {
    const b = {text: text.value};
    if (word.value.trim() && reading.value.trim()) {
      b.word = word.value.trim();
      b.reading = reading.value.trim();
    }
    return b;
  }

  // POST the sentence; the answer is the audio itself: play it at once, show the spoken text.
  async function preview() {
    showError('');
    listen.disabled = true;
    try {
      const s = session();
      const r = await fetch('/api/v1/lexicon/preview', {method: 'POST', cache: 'no-store',
        headers: {'Content-Type': 'application/json', Authorization: 'Bearer ' + (s ? s.token : '')},
        body: JSON.stringify(body())});
      if (!r.ok) {
        let j = {};
        try { j = await r.json(); } catch (e) { /* not JSON */ }
        throw new ApiError(r.status, j.error || '', j.message || '');
      }
      spoken.textContent = decodeURIComponent(r.headers.get('X-Loacast-Spoken') || '');
      spoken.className = '';
      const b = await r.blob();
      if (audioUrl) URL.revokeObjectURL(audioUrl);
      audioUrl = URL.createObjectURL(b);
      audio.src = audioUrl;
      audio.play().catch(() => { /* autoplay refused: the controls are there */ });
    } catch (e) {
      showError(e.status === 422 ? t('lx.bad') + ' ' + e.serverMessage : errorText(e));
    } finally {
      listen.disabled = false;
    }
  }

  async function store() {
    showError('');
    const w = word.value.trim();
    if (!w || !reading.value.trim()) { showError(t('lx.need_both')); return; }
    try {
      await api('PUT', '/api/v1/lexicon/' + encodeURIComponent(w), {reading: reading.value.trim()});
      ctx.toast(t('lx.saved', {word: w}));
      await load();
    } catch (e) {
      showError(e.status === 422 ? t('lx.bad') + ' ' + e.serverMessage : errorText(e));
    }
  }

  async function remove(e) {
    if (!(await confirmDialog(t('lx.delete_q', {word: e.word}), h('p', null, t('lx.delete_body')), t('common.delete'), true))) return;
    try {
      await api('DELETE', '/api/v1/lexicon/' + encodeURIComponent(e.word));
      ctx.toast(t('lx.deleted', {word: e.word}));
      await load();
    } catch (err) {
      showError(errorText(err));
    }
  }

  return {cleanup: () => { if (audioUrl) URL.revokeObjectURL(audioUrl); }};
}
