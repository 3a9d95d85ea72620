// web/screens/emergency.js — an emergency broadcast (approvers and admins): a text or an
// approved bulletin, the communes, then an explicit confirmation step before anything is sent.
// API: POST /api/v1/emergency {"text"|"bulletin", "communes"}; then GET /api/v1/emergency/{id},
// polled until final, says which clusters got it: nothing here says it aired where none did.
// The confirmation step has "Nghe thử" (issue 20): POST /api/v1/emergency/preview {"text"} speaks
// the text as it would go on air (an approved bulletin: its stored audio), played here only —
// nothing sent, nothing stored.

import { h, field, replace } from '../dom.js';
import { t } from '../i18n.js';
import { get, post, blob, errorText, session, ApiError } from '../api.js';
import { fmtDateTime } from '../fmt.js';
import { loadCommunes, communePicker, communeNames, failure } from '../common.js';

export function render(view, ctx) {
  const body = h('div');
  replace(view, h('div', {class: 'page narrow'},
    h('div', {class: 'page-head'}, h('h1', null, t('nav.emergency'))),
    h('p', {class: 'notice warn'}, t('em.intro')),
    body));
  start();

  async function start() {
    let communes, approved = [];
    try {
      communes = await loadCommunes();
    } catch (e) {
      failure(body, e);
      return;
    }
    try {
      approved = (await get('/api/v1/bulletins?status=approved')).bulletins || [];
    } catch (e) { /* a text can still be sent */ }
    form(communes, approved, null);
  }

  function form(communes, approved, prev) {
    const kindText = h('input', {type: 'radio', name: 'em-kind', value: 'text', id: 'em-kind-text', checked: !prev || !prev.bulletin});
    const kindBul = h('input', {type: 'radio', name: 'em-kind', value: 'bulletin', id: 'em-kind-bulletin',
                                checked: !!(prev && prev.bulletin), disabled: !approved.length});
    const text = h('textarea', {id: 'em-text', rows: 6, value: prev && prev.text ? prev.text : ''});
    const bul = h('select', {id: 'em-bulletin'}, approved.map((b) => h('option', {value: b.id, selected: prev && prev.bulletin === b.id}, b.title)));
    const pick = communePicker(communes, 'em-communes', prev ? prev.communes : []);
    const msg = h('p', {class: 'notice error', role: 'alert', hidden: true});
    const textField = field(t('em.text'), text, t('em.text_hint'));
    const bulField = field(t('em.bulletin'), bul);
    const sync = () => { textField.hidden = !kindText.checked; bulField.hidden = kindText.checked; };
    kindText.addEventListener('change', sync);
    kindBul.addEventListener('change', sync);
    sync();
    replace(body, h('form', {class: 'card', id: 'emergency-form', onsubmit: next},
      h('fieldset', {class: 'kind'}, h('legend', null, t('em.what')),
        h('label', {class: 'check'}, kindText, t('em.kind_text')),
        h('label', {class: 'check'}, kindBul, t('em.kind_bulletin'), approved.length ? null : h('span', {class: 'muted'}, ' ' + t('em.no_approved')))),
      textField, bulField, pick.el, msg,
      h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'danger', id: 'em-next'}, t('em.next')))));

    function next(ev) {
      ev.preventDefault();
      const targets = pick.value();
      const req = {communes: targets};
      if (kindText.checked) req.text = text.value.trim();
      else req.bulletin = Number(bul.value);
      const problems = [];
      if (kindText.checked && !req.text) problems.push(t('em.need_text'));
      if (!targets.length) problems.push(t('bul.need_communes'));
      if (problems.length) { msg.textContent = problems.join(' '); msg.hidden = false; return; }
      confirmStep(communes, approved, req);
    }
  }

  // The explicit second step: what will be sent where, and that it interrupts what is on air.
  function confirmStep(communes, approved, req) {
    const what = req.text !== undefined ? req.text : (approved.find((b) => b.id === req.bulletin) || {}).title;
    const n = req.communes.includes('*') ? communes.length : req.communes.length;
    const sendBtn = h('button', {class: 'danger big', id: 'em-confirm', onclick: send}, t('em.confirm'));
    const previewBtn = h('button', {id: 'em-preview', onclick: preview}, t('em.preview'));
    const previewAudio = h('audio', {id: 'em-preview-audio', controls: true, hidden: true});
    const previewMsg = h('p', {class: 'hint', id: 'em-preview-msg'}, t('em.preview_hint'));
    replace(body, h('section', {class: 'card confirm', id: 'emergency-confirm', role: 'alertdialog', 'aria-labelledby': 'em-confirm-title'},
      h('h2', {id: 'em-confirm-title'}, t('em.confirm_title')),
      h('p', null, t('em.confirm_text', {n})),
      h('dl', {class: 'facts'},
        h('dt', null, t('common.communes')), h('dd', null, communeNames(req.communes, communes)),
        h('dt', null, req.text !== undefined ? t('em.text') : t('em.bulletin')), h('dd', {class: 'pre'}, what)),
      h('div', {class: 'em-preview'}, previewBtn, previewAudio, previewMsg),
      h('div', {class: 'actions'},
        h('button', {id: 'em-back', onclick: () => form(communes, approved, req)}, t('em.back')),
        sendBtn)));
    sendBtn.focus();

    // The text spoken as it would go on air, or the approved bulletin's audio, played here.
    async function preview() {
      previewBtn.disabled = true;
      previewMsg.textContent = t('em.preview_loading');
      try {
        let audio;
        if (req.text !== undefined) {
          const s = session();
          const r = await fetch('/api/v1/emergency/preview', {method: 'POST', cache: 'no-store',
            headers: {'Content-Type': 'application/json', Authorization: 'Bearer ' + (s ? s.token : '')},
            body: JSON.stringify({text: req.text})});
          if (!r.ok) {
            let j = {};
            try { j = await r.json(); } catch (e) { /* not JSON */ }
            throw new ApiError(r.status, j.error || '', j.message || '');
          }
          audio = await r.blob();
        } else {
          audio = await blob('/api/v1/bulletins/' + req.bulletin + '/audio', 'audio/ogg');
        }
        if (previewAudio.src) URL.revokeObjectURL(previewAudio.src);
        previewAudio.src = URL.createObjectURL(audio);
        previewAudio.hidden = false;
        previewMsg.textContent = t('em.preview_hint');
        await previewAudio.play().catch(() => { /* autoplay refused: the controls stay */ });
      } catch (e) {
        previewMsg.textContent = errorText(e);
      } finally {
        previewBtn.disabled = false;
      }
    }

    async function send() {
      sendBtn.disabled = true;
      try {
        const r = await post('/api/v1/emergency', req);
        done(r, communes);
      } catch (e) {
        sendBtn.disabled = false;
        failure(body, e);
        body.appendChild(h('div', {class: 'actions'}, h('button', {onclick: () => form(communes, approved, req)}, t('em.back'))));
      }
    }
  }

  // 201 {"bulletin", "on_air_at", "sessions": [{"commune", "session", "interrupted"}]}
  function done(r, communes) {
    const e = r || {};
    const by = new Map(communes.map((c) => [c.id, c.name]));
    const report = h('div', {id: 'em-report', 'aria-live': 'polite'});
    replace(body, h('section', {class: 'card', id: 'emergency-done'},
      h('p', {class: 'notice ok'}, t('em.sent')),
      h('dl', {class: 'facts'},
        e.on_air_at ? [h('dt', null, t('em.at')), h('dd', null, fmtDateTime(e.on_air_at))] : null,
        e.bulletin !== undefined ? [h('dt', null, t('em.id')), h('dd', null, String(e.bulletin))] : null),
      e.sessions && e.sessions.length ? h('ul', {class: 'em-sessions'}, e.sessions.map((s) =>
        h('li', null, h('strong', null, by.get(s.commune) || s.commune), ': ', s.interrupted ? t('em.interrupted') : t('em.opened')))) : null,
      report,
      h('div', {class: 'actions'}, h('button', {onclick: () => ctx.navigate('schedule')}, t('em.see_schedule')))));
    if (e.bulletin !== undefined) follow(e.bulletin, report, by);
  }

  // The delivery report, every 3 s while this screen shows it, until it is final.
  async function follow(id, report, by) {
    let rep;
    try {
      rep = await get('/api/v1/emergency/' + id);
    } catch (err) {
      replace(report, h('p', {class: 'notice error'}, errorText(err)));
      return;
    }
    replace(report,
      h('p', {class: rep.final ? 'notice' : 'notice warn', id: 'em-report-state'},
        rep.final ? t('em.report_final', {got: rep.clusters_delivered, n: rep.clusters_total})
                  : t('em.report_pending', {got: rep.clusters_delivered, n: rep.clusters_total, until: fmtDateTime(rep.catchup_until)})),
      h('table', {class: 'list', id: 'em-report-table'},
        h('thead', null, h('tr', null, h('th', null, t('co.commune')), h('th', null, t('em.cluster')), h('th', null, t('em.received')))),
        h('tbody', null, rep.communes.flatMap((c) => c.clusters.length ? c.clusters.map((k) =>
          h('tr', {class: k.delivered ? 'ok' : 'missing'},
            h('td', null, by.get(c.commune) || c.commune), h('td', null, k.name || k.cluster),
            h('td', null, k.delivered ? t('em.got') : k.connected ? t('em.partly') : t('em.not_yet')))) :
          [h('tr', {class: 'missing'}, h('td', null, by.get(c.commune) || c.commune), h('td', null, '—'), h('td', null, t('em.no_clusters')))]))));
    if (!rep.final && report.isConnected) setTimeout(() => { if (report.isConnected) follow(id, report, by); }, 3000);
  }
}
