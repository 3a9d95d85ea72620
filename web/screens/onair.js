// web/screens/onair.js — "Đang phát": what every commune has on air now (the session, the item
// playing, how many loudspeaker clusters are connected to its stream), the next session where
// nothing plays, and a "Nghe" button that plays the live stream in an <audio> element.
// API: GET /api/v1/onair (every REFRESH_MS while shown); listening: POST
// /api/v1/communes/{id}/listen → a ticket URL (a minute to start; the login token never goes in a
// URL), played by <audio>. Listening is not a delivery: coverage stays about clusters.

import { h, replace } from '../dom.js';
import { t } from '../i18n.js';
import { get, post, errorText } from '../api.js';
import { fmtTime, fmtShortDateTime, fmtDuration } from '../fmt.js';
import { badge, failure } from '../common.js';

const REFRESH_MS = 5000;

export function render(view) {
  // .summary: three columns, one on a phone (style.css; no inline style under the CSP)
  const list = h('div', {id: 'onair-list', class: 'summary'});
  const stamp = h('span', {class: 'muted small', id: 'onair-stamp', 'aria-live': 'polite'});
  const player = h('audio', {id: 'onair-audio', preload: 'none', controls: true});
  const playerName = h('strong', {id: 'onair-playing-commune'});
  const playerBox = h('div', {class: 'card', id: 'onair-player', hidden: true},
    h('div', {class: 'section-head'}, h('span', null, t('oa.listening'), ' ', playerName),
      h('button', {id: 'onair-stop', onclick: stop}, t('oa.stop'))),
    player, h('p', {class: 'hint'}, t('oa.listen_hint')));
  const msg = h('p', {class: 'notice error', role: 'alert', id: 'onair-error', hidden: true});
  let timer = null;
  let listening = null;     // the commune whose stream plays
  let names = new Map();
  replace(view, h('div', {class: 'page'},
    h('div', {class: 'page-head'}, h('h1', null, t('nav.onair')), stamp),
    h('p', {class: 'notice info'}, t('oa.intro')),
    msg, playerBox, list));
  load();
  timer = setInterval(load, REFRESH_MS);

  async function load() {
    let r;
    try {
      r = await get('/api/v1/onair');
    } catch (e) {
      if (list.isConnected) failure(list, e);
      return;
    }
    if (!list.isConnected) return;
    names = new Map(r.communes.map((c) => [c.commune, c.name]));
    stamp.textContent = t('oa.updated', {time: fmtTime(r.now, true)});
    if (!r.communes.length) {
      replace(list, h('p', {class: 'muted', id: 'onair-empty'}, t('oa.no_communes')));
      return;
    }
    // on air first, then held, then by name (the server sends them by id)
    const rank = (c) => (c.session ? (c.session.status === 'on_air' ? 0 : 1) : 2);
    const sorted = r.communes.slice().sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name, 'vi'));
    replace(list, sorted.map(card));
  }

  function card(c) {
    const s = c.session;
    const onAir = s && s.status === 'on_air';
    const head = h('div', {class: 'section-head'},
      h('strong', null, c.name),
      onAir ? badge(s.emergency ? 'bad' : 'ok', s.emergency ? t('oa.emergency') : t('oa.on_air'))
        : s ? badge('wait', t('oa.held')) : badge('muted', t('oa.off_air')));
    const facts = [];
    if (s) {
      facts.push(h('dt', null, t('oa.session')),
        h('dd', {class: 'oa-session'}, t('sc.kind_' + s.kind), ' · ', fmtTime(s.start), '–', fmtTime(s.end)));
      facts.push(h('dt', null, t('oa.item')), h('dd', {class: 'oa-item'}, playing(c.playing, onAir)));
    } else {
      facts.push(h('dt', null, t('oa.next')),
        h('dd', {class: 'oa-next'}, c.next ? [t('sc.kind_' + c.next.kind), ' · ', fmtShortDateTime(c.next.start)] : t('oa.no_next')));
    }
    const conn = h('p', {class: 'oa-connected', dataset: {connected: c.connected, clusters: c.clusters}},
      badge(c.clusters && c.connected === c.clusters ? 'ok' : c.connected ? 'warn' : 'muted',
            t('oa.connected', {n: c.connected, total: c.clusters})));
    const listen = s ? h('button', {class: 'primary', dataset: {listen: c.commune},
                                    onclick: (ev) => listenTo(c.commune, ev.currentTarget)}, t('oa.listen')) : null;
    return h('section', {class: 'card', dataset: {commune: c.commune, status: s ? s.status : 'off'}},
      head, h('dl', {class: 'facts'}, facts), conn,
      listen ? h('div', {class: 'actions'}, listen) : null);
  }

  function playing(p, onAir) {
    if (!onAir) return h('span', {class: 'muted'}, t('oa.not_started'));
    if (!p) return h('span', {class: 'muted'}, t('oa.between'));
    const what = p.relay ? [t('oa.relay'), ' ', h('span', {class: 'relay-url'}, p.relay)]
      : [p.emergency ? badge('bad', t('oa.emergency')) : null, p.emergency ? ' ' : null, p.title || ('#' + p.bulletin)];
    return [h('span', {class: 'oa-title'}, what), h('span', {class: 'muted small'},
      ' (' + fmtDuration(Math.round(p.offset_s)) + ' / ' + fmtDuration(Math.round(p.duration_s)) + ')')];
  }

  async function listenTo(commune, btn) {
    btn.disabled = true;
    msg.hidden = true;
    try {
      const r = await post('/api/v1/communes/' + encodeURIComponent(commune) + '/listen');
      listening = commune;
      playerName.textContent = names.get(commune) || commune;
      playerBox.hidden = false;
      player.src = r.url;
      await player.play();
    } catch (e) {
      // play() refused (autoplay rules) still leaves the controls; an API error is said in words
      if (e && e.name !== 'NotAllowedError') {
        msg.textContent = e.code === 'off_air' ? t('oa.now_off_air') : errorText(e);
        msg.hidden = false;
      }
    } finally {
      btn.disabled = false;
    }
  }

  function stop() {
    player.pause();
    player.removeAttribute('src');
    player.load();      // closes the stream's connection
    listening = null;
    playerBox.hidden = true;
  }

  return {
    cleanup() {
      clearInterval(timer);
      if (listening) stop();
    },
  };
}
