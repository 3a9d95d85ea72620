// web/screens/bulletins.js — write a bulletin (text or recording), the list with its statuses,
// one bulletin's details with the rendered preview, and approve / reject / withdraw by role.
// APIs: GET|POST /api/v1/bulletins, GET /api/v1/bulletins/{id}, GET …/audio (preview, fetched
// with the token and played from a blob URL), PUT …/audio (a file, or a take recorded from the
// microphone: bulletins_record.js), POST …/approve|reject|withdraw.

import { h, field, replace } from '../dom.js';
import { t } from '../i18n.js';
import { api, get, post, blob, errorText } from '../api.js';
import { fmtDateTime, fmtDuration, stationInputToRfc3339 } from '../fmt.js';
import { recorder, uploadErrorText } from './bulletins_record.js';
import { can, loadCommunes, communePicker, communeNames, badge, failure, confirmDialog, sectionTitle, dateTimeInput } from '../common.js';

const STATUSES = ['draft', 'rendering', 'pending', 'approved', 'done', 'failed', 'rejected', 'withdrawn', 'expired'];
const STATUS_KIND = {draft: 'wait', rendering: 'wait', pending: 'warn', approved: 'ok', done: 'ok', failed: 'bad',
                     rejected: 'bad', withdrawn: 'off', expired: 'off'};
const VOICES = ['vi', 'vi-vn-x-central', 'vi-vn-x-south'];
// What the file pickers offer: any audio, and the extensions of phones' recordings.
const AUDIO_ACCEPT = 'audio/*,.wav,.flac,.mp3,.ogg,.opus,.m4a,.aac,.mp4,.webm,.amr,.3gp';
const RATES = [[110, 'rate.slower'], [130, 'rate.slow'], [150, 'rate.normal'], [170, 'rate.fast'], [190, 'rate.faster']];

export function statusBadge(s) {
  return badge(STATUS_KIND[s] || 'off', t('status.' + s));
}

function prioText(p) {
  if (p === 'emergency') return badge('bad', t('prio.emergency'));
  if (p === 'high') return badge('warn', t('prio.high'));
  return t('prio.normal');
}

export function render(view, ctx) {
  const me = ctx.session;
  let communes = [];
  let list = [];
  let selected = null;     // id shown in the side panel
  let mode = 'none';       // 'none' | 'compose' | 'detail'
  let poll = null;
  let previewUrl = null;
  let previewKey = '';
  let previewSeq = 0;   // loadPreview calls, the newest wins
  let alive = true;
  let shownKey = '';      // what the side panel shows, to redraw only on a change
  let rec = null;         // the microphone recorder of the side panel, if it has one

  const filter = h('select', {id: 'status-filter', onchange: refresh},
    h('option', {value: ''}, t('bul.all_statuses')),
    STATUSES.map((s) => h('option', {value: s}, t('status.' + s))));
  const listEl = h('div', {class: 'list-body'});
  const side = h('section', {class: 'card side', id: 'side', 'aria-live': 'polite'});
  const newBtn = can.write(me.role)
    ? h('button', {class: 'primary', id: 'new-bulletin', onclick: () => compose()}, t('bul.new')) : null;

  replace(view, h('div', {class: 'page'},
    h('div', {class: 'page-head'}, h('h1', null, t('nav.bulletins')), newBtn),
    h('div', {class: 'split wide-list'},
      h('section', {class: 'card list'},
        h('div', {class: 'toolbar'}, field(t('bul.filter'), filter)), listEl),
      side)));

  placeholder();
  start();

  async function start() {
    try {
      communes = await loadCommunes();
    } catch (e) { /* the list below shows the error */ }
    await refresh();
  }

  function dropRec() {
    if (rec) rec.dispose();
    rec = null;
  }

  function placeholder() {
    dropRec();
    mode = 'none';
    selected = null;
    shownKey = '';
    dropPreview();
    replace(side, h('p', {class: 'muted'}, can.write(me.role) ? t('bul.pick_or_new') : t('bul.pick')));
  }

  async function refresh() {
    try {
      const q = filter.value ? '?status=' + encodeURIComponent(filter.value) : '';
      list = (await get('/api/v1/bulletins' + q)).bulletins || [];
    } catch (e) {
      if (alive) failure(listEl, e);
      return;
    }
    if (!alive) return;
    drawList();
    if (mode === 'detail' && selected !== null) await showDetail(selected, true);
    schedulePoll();
  }

  function schedulePoll() {
    clearTimeout(poll);
    const busy = list.some((b) => b.status === 'rendering');
    if (busy && alive) poll = setTimeout(refresh, 1000);
  }

  function drawList() {
    if (!list.length) {
      replace(listEl, h('p', {class: 'muted empty'}, t('bul.none')));
      return;
    }
    const rows = list.map((b) => h('tr', {class: b.id === selected ? 'selected' : null, dataset: {id: b.id}},
      h('td', null, h('button', {class: 'link row-open', onclick: () => showDetail(b.id)}, b.title)),
      h('td', null, statusBadge(b.status)),
      h('td', {class: 'wrap'}, communeNames(b.communes, communes)),
      h('td', null, prioText(b.priority)),
      h('td', {class: 'num'}, fmtDuration(b.duration_s)),
      h('td', null, b.created_by),
      h('td', null, fmtDateTime(b.created_at))));
    replace(listEl, h('div', {class: 'table-wrap'}, h('table', {id: 'bulletins-table'},
      h('thead', null, h('tr', null, [t('bul.title'), t('bul.status'), t('common.communes'), t('bul.priority'),
        t('bul.duration'), t('bul.author'), t('bul.created')].map((x) => h('th', null, x)))),
      h('tbody', null, rows))));
  }

  // ---- one bulletin ---------------------------------------------------------------------------

  async function showDetail(id, quiet) {
    let b;
    try {
      b = await get('/api/v1/bulletins/' + id);
    } catch (e) {
      if (!quiet) ctx.toast(errorText(e), 'error');
      return;
    }
    if (!alive) return;
    if (quiet && (mode !== 'detail' || selected !== id)) return;
    if (quiet && rec && rec.busy()) return; /* never redrawn under someone recording */
    const key = [b.id, b.status, b.updated_at, b.audio_bytes, b.aired].join('|');
    if (quiet && key === shownKey) return;
    shownKey = key;
    const changed = selected !== id;
    mode = 'detail';
    selected = id;
    if (changed) drawList();
    drawDetail(b);
    // On a phone the panel is below the list: bring it into view when a row is picked.
    if (!quiet && window.matchMedia('(max-width: 980px)').matches) side.scrollIntoView({block: 'start'});
    if (b.status === 'rendering') {
      clearTimeout(poll);
      poll = setTimeout(refresh, 1000);
    }
  }

  function drawDetail(b) {
    const mine = b.created_by === me.username;
    const rows = [
      [t('bul.status'), statusBadge(b.status)],
      [t('common.communes'), communeNames(b.communes, communes)],
      [t('bul.priority'), prioText(b.priority)],
      [t('bul.kind'), b.kind === 'audio' ? t('bul.kind_audio') : t('bul.kind_text')],
      b.kind !== 'audio' ? [t('bul.voice'), t('voice.' + b.voice)] : null,
      b.kind !== 'audio' && b.rate ? [t('bul.rate'), t('bul.rate_wpm', {n: b.rate})] : null,
      [t('bul.repeat'), t('bul.repeat_n', {n: b.repeat ?? 1, aired: b.aired ?? 0})],
      [t('bul.duration'), fmtDuration(b.duration_s)],
      [t('bul.not_before'), b.not_before ? fmtDateTime(b.not_before) : t('bul.now')],
      [t('bul.expires'), b.expires ? fmtDateTime(b.expires) : t('bul.never')],
      [t('bul.author'), `${b.created_by} · ${fmtDateTime(b.created_at)}`],
      b.approved_by ? [t('bul.approved_by'), `${b.approved_by} · ${fmtDateTime(b.approved_at)}`] : null,
      b.decided_by ? [t('bul.decided_by'), `${b.decided_by} · ${fmtDateTime(b.decided_at)}`] : null,
    ].filter(Boolean);

    const notes = [];
    if (b.status === 'rejected' && b.reason) notes.push(h('p', {class: 'notice error', id: 'reason'}, t('bul.rejected_because', {reason: b.reason})));
    if (b.status === 'failed') notes.push(h('p', {class: 'notice error', id: 'reason'}, t('bul.failed_because'), ' ', failText(b.error)));
    if (b.status === 'rendering') notes.push(h('p', {class: 'notice info'}, t('bul.rendering_wait')));
    if (b.status === 'draft') notes.push(h('p', {class: 'notice info'}, t('bul.draft_wait')));
    if (b.status === 'pending' && can.approve(me.role) && mine) notes.push(h('p', {class: 'notice info'}, t('bul.not_own')));
    if (b.status === 'pending' && !can.approve(me.role)) notes.push(h('p', {class: 'notice info'}, t('bul.waits_approval')));

    const audio = h('audio', {controls: true, preload: 'auto', id: 'preview'});
    const previewBox = h('div', {class: 'preview'});
    if (b.audio && b.status !== 'rendering') {
      replace(previewBox, h('h3', null, t('bul.preview')), audio);
      loadPreview(b, audio);
    }

    const actions = [];
    if (can.approve(me.role) && b.status === 'pending' && !mine) {
      actions.push(h('button', {class: 'primary', id: 'approve', onclick: () => act(b, 'approve', {audio_hash: b.audio_hash})}, t('bul.approve')));
      actions.push(h('button', {class: 'danger', id: 'reject', onclick: () => reject(b)}, t('bul.reject')));
    }
    const canWithdraw = ['draft', 'rendering', 'pending', 'failed', 'approved'].includes(b.status) &&
      (me.role === 'admin' || me.role === 'approver' || (me.role === 'editor' && mine));
    if (canWithdraw) actions.push(h('button', {id: 'withdraw', onclick: () => withdraw(b)}, t('bul.withdraw')));

    let upload = null;
    dropRec();
    if ((me.role === 'admin' || (me.role === 'editor' && mine)) && ['draft', 'pending', 'failed'].includes(b.status) && b.kind === 'audio') {
      const file = h('input', {type: 'file', accept: AUDIO_ACCEPT, id: 'reupload'});
      const r = rec = recorder();
      upload = h('div', {class: 'upload'}, field(b.status === 'draft' ? t('bul.upload') : t('bul.reupload'), file),
        h('button', {onclick: () => uploadTo(b.id, file.files && file.files[0])}, t('bul.upload_send')),
        h('h3', null, t('rec.title')), r.el,
        h('div', {class: 'actions start'}, h('button', {id: 'rec-send', onclick: () => uploadTo(b.id, r.take(), true)},
          t('rec.send'))));
    }

    replace(side,
      h('div', {class: 'detail', dataset: {id: b.id, status: b.status}},
        h('div', {class: 'section-head'}, h('h2', {id: 'detail-title'}, b.title),
          h('button', {class: 'link', onclick: placeholder, 'aria-label': t('common.close')}, '✕')),
        notes,
        h('dl', {class: 'facts'}, rows.map(([k, v]) => [h('dt', null, k), h('dd', null, v)])),
        b.text ? h('details', {class: 'text'}, h('summary', null, t('bul.text')), h('p', {class: 'pre'}, b.text)) : null,
        previewBox,
        upload,
        actions.length ? h('div', {class: 'actions'}, actions) : null));
  }

  function failText(e) {
    if (!e) return '';
    if (/nothing to speak/.test(e)) return t('bul.fail_empty');
    return t.lang() === 'en' ? e : t('bul.fail_generic');
  }

  // Only the newest call applies: a detail drawn again while an older fetch is in flight (a
  // refresh after an upload) must not have its player's blob revoked by the older one.
  async function loadPreview(b, audio) {
    const seq = ++previewSeq;
    const key = b.id + ':' + (b.audio_bytes || '') + ':' + (b.updated_at || '');
    try {
      if (key !== previewKey || !previewUrl) {
        const data = await blob(b.audio);
        if (seq !== previewSeq) return;
        dropPreview();
        previewUrl = URL.createObjectURL(data);
        previewKey = key;
      }
      if (alive && seq === previewSeq) audio.src = previewUrl;
    } catch (e) {
      ctx.toast(errorText(e), 'error');
    }
  }

  function dropPreview() {
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = null;
    previewKey = '';
  }

  async function act(b, what, body) {
    try {
      await post(`/api/v1/bulletins/${b.id}/${what}`, body);
      ctx.toast(t('bul.done_' + what));
    } catch (e) {
      ctx.toast(errorText(e), 'error');
    }
    await refresh();
    await showDetail(b.id, true);
  }

  async function reject(b) {
    const reason = h('textarea', {id: 'reject-reason', rows: 3, maxlength: 500});
    const ok = await confirmDialog(t('bul.reject_title'), [h('p', null, t('bul.reject_text', {title: b.title})),
      field(t('bul.reject_reason'), reason)], t('bul.reject'), true);
    if (ok) await act(b, 'reject', {reason: reason.value.trim() || t('bul.no_reason')});
  }

  async function withdraw(b) {
    if (await confirmDialog(t('bul.withdraw_title'), h('p', null, t('bul.withdraw_text', {title: b.title})), t('bul.withdraw'), true))
      await act(b, 'withdraw');
  }

  async function uploadTo(id, f, recorded) {
    if (!f) { ctx.toast(t(recorded ? 'rec.need' : 'bul.pick_file'), 'error'); return; }
    ctx.toast(t('bul.uploading'));
    try {
      await api('PUT', `/api/v1/bulletins/${id}/audio`, f);
      ctx.toast(t('bul.uploaded'));
    } catch (e) {
      ctx.toast(uploadErrorText(e), 'error');
    }
    await refresh();
    await showDetail(id, true);
  }

  // ---- writing --------------------------------------------------------------------------------

  function compose() {
    dropRec();
    mode = 'compose';
    selected = null;
    shownKey = '';
    dropPreview();
    drawList();
    const kindText = h('input', {type: 'radio', name: 'kind', value: 'text', checked: true, id: 'kind-text'});
    const kindAudio = h('input', {type: 'radio', name: 'kind', value: 'audio', id: 'kind-audio'});
    const title = h('input', {id: 'b-title', maxlength: 200, required: true});
    const text = h('textarea', {id: 'b-text', rows: 7});
    const voice = h('select', {id: 'b-voice'}, VOICES.map((v) => h('option', {value: v}, t('voice.' + v))));
    const rate = h('select', {id: 'b-rate'}, RATES.map(([n, k]) => h('option', {value: n, selected: n === 150}, t(k))));
    const file = h('input', {type: 'file', id: 'b-file', accept: AUDIO_ACCEPT});
    const mic = rec = recorder();
    const prio = h('select', {id: 'b-priority'}, h('option', {value: 'normal'}, t('prio.normal')), h('option', {value: 'high'}, t('prio.high')));
    const repeat = h('input', {id: 'b-repeat', type: 'number', min: 1, max: 100, value: 1});
    const notBefore = dateTimeInput('b-not-before');
    const expires = dateTimeInput('b-expires');
    const pick = communePicker(communes, 'b-communes', []);
    const msg = h('p', {class: 'notice error', role: 'alert', hidden: true, id: 'compose-error'});
    const submit = h('button', {type: 'submit', class: 'primary', id: 'b-submit'}, t('bul.send'));
    const textPart = h('div', {class: 'grid2'}, field(t('bul.voice'), voice), field(t('bul.rate'), rate));
    const textBox = field(t('bul.text'), text, t('bul.text_hint'));
    const filePart = h('div', null, h('h3', null, t('rec.title')), mic.el, field(t('bul.file'), file, t('bul.file_hint')));
    const sync = () => {
      const audio = kindAudio.checked;
      textPart.hidden = audio;
      textBox.hidden = audio;
      filePart.hidden = !audio;
    };
    kindText.addEventListener('change', sync);
    kindAudio.addEventListener('change', sync);
    sync();

    const form = h('form', {id: 'compose', onsubmit: send, novalidate: true},
      sectionTitle(t('bul.new'), h('button', {type: 'button', class: 'link', onclick: placeholder, 'aria-label': t('common.close')}, '✕')),
      h('fieldset', {class: 'kind'}, h('legend', null, t('bul.kind')),
        h('label', {class: 'check'}, kindText, t('bul.kind_text')),
        h('label', {class: 'check'}, kindAudio, t('bul.kind_audio'))),
      field(t('bul.title'), title),
      textBox, textPart, filePart,
      pick.el,
      h('div', {class: 'grid2'}, field(t('bul.priority'), prio), field(t('bul.repeat'), repeat, t('bul.repeat_hint'))),
      h('div', {class: 'grid2'}, field(t('bul.not_before'), notBefore.el, t('bul.not_before_hint')),
        field(t('bul.expires'), expires.el, t('bul.expires_hint'))),
      msg,
      h('div', {class: 'actions'}, submit));
    replace(side, form);
    title.focus();

    async function send(ev) {
      ev.preventDefault();
      msg.hidden = true;
      const audio = kindAudio.checked;
      const problems = [];
      if (!title.value.trim()) problems.push(t('bul.need_title'));
      if (!audio && !text.value.trim()) problems.push(t('bul.need_text'));
      // a take recorded here goes first; else the file chosen
      const recording = audio ? mic.take() || (file.files && file.files[0]) : null;
      if (audio && !recording) problems.push(t('rec.need'));
      if (audio && mic.busy()) problems.push(t('rec.still'));
      const targets = pick.value();
      if (!targets.length) problems.push(t('bul.need_communes'));
      const rep = Number(repeat.value);
      if (!Number.isInteger(rep) || rep < 1 || rep > 100) problems.push(t('bul.bad_repeat'));
      const nb = notBefore.value(), ex = expires.value();
      if (nb === null || ex === null) problems.push(t('bul.bad_date'));
      if (problems.length) {
        msg.textContent = problems.join(' ');
        msg.hidden = false;
        return;
      }
      const body = {title: title.value.trim(), communes: targets, priority: prio.value, repeat: rep};
      if (!audio) Object.assign(body, {text: text.value, voice: voice.value, rate: Number(rate.value)});
      if (nb) body.not_before = stationInputToRfc3339(nb);
      if (ex) body.expires = stationInputToRfc3339(ex);
      submit.disabled = true;
      let created = null;
      try {
        created = await post('/api/v1/bulletins', body);
        if (audio) {
          ctx.toast(t('bul.uploading'));
          await api('PUT', `/api/v1/bulletins/${created.id}/audio`, recording);
        }
        ctx.toast(audio ? t('bul.uploaded') : t('bul.sent'));
      } catch (e) {
        submit.disabled = false;
        msg.textContent = uploadErrorText(e);
        msg.hidden = false;
        if (!created) return;
        // the bulletin exists, its recording was refused: show it, where another file can be sent
        ctx.toast(errorText(e), 'error');
      }
      filter.value = '';
      mode = 'detail';
      selected = created.id;
      await refresh();
      await showDetail(created.id);
    }
  }

  return {
    cleanup() {
      alive = false;
      clearTimeout(poll);
      dropPreview();
      dropRec();
    },
  };
}
