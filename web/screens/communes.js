// web/screens/communes.js — communes and their loudspeaker clusters: add, edit, delete, rotate a
// receiver token (shown once), online/offline from the last sign of life.
// APIs: GET|POST /api/v1/communes, PATCH|DELETE /api/v1/communes/{id}, GET|POST /api/v1/clusters,
// PATCH|DELETE /api/v1/clusters/{id}, POST /api/v1/clusters/{id}/token.

import { h, field, replace } from '../dom.js';
import { t } from '../i18n.js';
import { api, get, post, errorText } from '../api.js';
import { fmtDateTime, fmtNumber, fmtAgo, fmtShortDateTime } from '../fmt.js';
import { can, loadCommunes, badge, failure, confirmDialog, infoDialog, slugify, sectionTitle } from '../common.js';
import { loadNodes, nodeOptions, nodeName, nodeError } from '../org.js';

// A cluster not heard from for longer than this is offline (the server's default, SPEC).
export const OFFLINE_AFTER_MS = 24 * 3600 * 1000;
// A storing receiver whose next session starts within this and is not fully fetched is flagged.
export const PREFETCH_WARN_MS = 10 * 60 * 1000;

// Working now: the server's verdict "active" (seen within its [coverage] active_window_s, 5
// minutes by default), else "online" (offline_after_s, the offline list's 24 h); otherwise the
// SPEC's default of 24 hours since the last sign of life.
export function isOnline(c) {
  if (typeof c.active === 'boolean') return c.active;
  if (typeof c.online === 'boolean') return c.online;
  return !!c.last_seen && Date.now() - Date.parse(c.last_seen) <= OFFLINE_AFTER_MS;
}

// "Lần cuối: 2 giờ trước (07:15 07/12)", '' when never seen.
export function seenText(c) {
  return c.last_seen ? t('cl.seen_ago', {ago: fmtAgo(c.last_seen), when: fmtShortDateTime(c.last_seen)}) : '';
}

// How often the clusters are read again (the server's "online" verdict and "last seen" move
// with the clock even when nobody edits anything).
const REFRESH_MS = 60 * 1000;

export function onlineBadge(c) {
  if (!c.last_seen) return badge('off', t('cl.never'));
  return isOnline(c) ? badge('ok', t('cl.online')) : badge('bad', t('cl.offline'));
}

export function render(view, ctx) {
  const role = ctx.session.role;
  const manage = can.manage(role);
  let communes = [];
  let clusters = [];
  let nodes = [];                      // issue 19: the caller's subtree ([] on a server without nodes)
  const communesEl = h('div');
  const clustersEl = h('div');
  const communeFilter = h('select', {id: 'cluster-commune', onchange: drawClusters});
  const formSlot = h('div', {class: 'form-slot'});

  replace(view, h('div', {class: 'page'},
    h('div', {class: 'page-head'}, h('h1', null, t('nav.communes')),
      manage ? h('div', {class: 'head-actions'},
        h('button', {id: 'add-commune', onclick: () => communeForm(null)}, t('co.add')),
        h('button', {class: 'primary', id: 'add-cluster', onclick: () => clusterForm(null)}, t('cl.add'))) : null),
    formSlot,
    h('div', {class: 'split even'},
      h('section', {class: 'card'}, sectionTitle(t('co.title')), communesEl),
      h('section', {class: 'card'}, sectionTitle(t('cl.title'), field(t('cl.filter'), communeFilter)), clustersEl))));

  load();
  const timer = setInterval(refresh, REFRESH_MS);

  // Only the clusters, and not while a form is open or the tab is hidden.
  async function refresh() {
    if (document.hidden || formSlot.firstChild) return;
    try {
      clusters = (await get('/api/v1/clusters')).clusters || [];
    } catch (e) {
      return; /* the next round tries again */
    }
    drawCommunes();
    drawClusters();
  }

  async function load() {
    try {
      communes = await loadCommunes();
    } catch (e) {
      failure(communesEl, e);
      return;
    }
    try { nodes = await loadNodes(); } catch (e) { nodes = []; }
    try {
      clusters = (await get('/api/v1/clusters')).clusters || [];
    } catch (e) {
      failure(clustersEl, e);
    }
    const keep = communeFilter.value;
    replace(communeFilter, h('option', {value: ''}, t('common.all_communes')),
      communes.map((c) => h('option', {value: c.id, selected: c.id === keep}, c.name)));
    drawCommunes();
    drawClusters();
  }

  function drawCommunes() {
    if (!communes.length) {
      replace(communesEl, h('p', {class: 'muted empty'}, t('common.no_communes')));
      return;
    }
    const rows = communes.map((c) => {
      const mine = clusters.filter((x) => x.commune === c.id);
      const online = mine.filter(isOnline).length;
      return h('tr', {dataset: {id: c.id}},
        h('td', null, h('strong', null, c.name), h('div', {class: 'muted small'}, c.id)),
        nodes.length ? h('td', {class: 'node'}, nodeName(nodes, c.node)) : null,
        h('td', {class: 'num'}, fmtNumber(c.population)),
        h('td', {class: 'num'}, t('co.clusters_online', {online, total: c.clusters ?? mine.length})),
        manage ? h('td', {class: 'row-actions'},
          h('button', {class: 'link', onclick: () => communeForm(c)}, t('common.edit')),
          h('button', {class: 'link danger', onclick: () => deleteCommune(c)}, t('common.delete'))) : null);
    });
    replace(communesEl, h('div', {class: 'table-wrap'}, h('table', {id: 'communes-table'},
      h('thead', null, h('tr', null, h('th', null, t('co.name')), nodes.length ? h('th', null, t('org.node')) : null,
        h('th', null, t('co.population')),
        h('th', null, t('co.clusters')), manage ? h('th', null, '') : null)),
      h('tbody', null, rows))));
  }

  function drawClusters() {
    const by = new Map(communes.map((c) => [c.id, c.name]));
    const shown = clusters.filter((c) => !communeFilter.value || c.commune === communeFilter.value);
    if (!shown.length) {
      replace(clustersEl, h('p', {class: 'muted empty'}, t('cl.none')));
      return;
    }
    const rows = shown.map((c) => h('tr', {dataset: {id: c.id}},
      h('td', null, h('strong', null, c.name), h('div', {class: 'muted small'}, c.id)),
      h('td', null, by.get(c.commune) || c.commune),
      h('td', {class: 'num'}, fmtNumber(c.speakers)),
      h('td', {class: 'num'}, fmtNumber(c.population)),
      h('td', null, onlineBadge(c), c.unreached_recently ? [' ', badge('warn', t('cl.unreached'))] : null,
        c.muted ? [' ', badge('off', t('cl.muted_badge'))] : null,
        c.clone_suspected ? [' ', h('span', {title: t('cl.clone_hint', {addrs: (c.clone_suspected.addresses || []).join(', ')})},
          badge('bad', t('cl.clone')))] : null,
        h('div', {class: 'muted small', title: c.last_seen ? fmtDateTime(c.last_seen) : ''}, seenText(c)),
        receiverState(c)),
      manage ? h('td', {class: 'row-actions'},
        h('button', {class: 'link', onclick: () => clusterForm(c)}, t('common.edit')),
        h('button', {class: 'link', onclick: () => rotate(c)}, t('cl.rotate')),
        h('button', {class: 'link danger', onclick: () => deleteCluster(c)}, t('common.delete'))) : null));
    replace(clustersEl, h('div', {class: 'table-wrap'}, h('table', {id: 'clusters-table'},
      h('thead', null, h('tr', null, [t('cl.name'), t('co.commune'), t('cl.speakers'), t('co.population'), t('cl.state')]
        .map((x) => h('th', null, x)), manage ? h('th', null, '') : null)),
      h('tbody', null, rows))));
  }

  // What a storing receiver last reported (its status: version, clock, cache, next session).
  function receiverState(c) {
    const s = c.status;
    if (!s || !s.version) return null;
    const parts = [t('cl.receiver', {version: s.version})];
    if (typeof s.clock_offset_ms === 'number') parts.push(t('cl.clock', {ms: Math.round(s.clock_offset_ms)}));
    if (typeof s.cache_bytes === 'number') parts.push(t('cl.cache', {size: fmtNumber(Math.round(s.cache_bytes / 1048576)) + ' MB'}));
    const next = s.next_session;
    // warned when the next session is at most 10 minutes away (or its start is not reported)
    const soon = next && (!next.start || Date.parse(next.start) - Date.now() <= PREFETCH_WARN_MS);
    const low = soon && typeof next.fetched_percent === 'number' && next.fetched_percent < 100;
    if (next && typeof next.fetched_percent === 'number') parts.push(t('cl.prefetch', {pct: Math.floor(next.fetched_percent)}));
    return h('div', {class: 'muted small receiver-state'}, parts.join(' · '),
      low ? [' ', badge('warn', t('cl.prefetch_low'))] : null);
  }

  function closeForm() { replace(formSlot); }

  function communeForm(c) {
    const name = h('input', {id: 'co-name', value: c ? c.name : '', maxlength: 200});
    const id = h('input', {id: 'co-id', value: c ? c.id : '', disabled: !!c, maxlength: 64, autocapitalize: 'none'});
    const pop = h('input', {id: 'co-population', type: 'number', min: 0, value: c ? c.population : ''});
    const node = nodes.length ? h('select', {id: 'co-node'},
      nodeOptions(nodes, c ? c.node : (ctx.session.node ? ctx.session.node.id : nodes[0].id))) : null;
    let idTouched = false;
    id.addEventListener('input', () => { idTouched = true; });
    name.addEventListener('input', () => { if (!c && !idTouched) id.value = slugify(name.value); });
    const msg = h('p', {class: 'notice error', role: 'alert', hidden: true});
    replace(formSlot, h('form', {class: 'card form', id: 'commune-form', onsubmit: save},
      sectionTitle(c ? t('co.edit', {name: c.name}) : t('co.add')),
      h('div', {class: 'grid3'}, field(t('co.name'), name), field(t('co.id'), id, c ? null : t('co.id_hint')),
        field(t('co.population'), pop)),
      node ? h('div', {class: 'grid3'}, field(t('org.node'), node)) : null,
      msg,
      h('div', {class: 'actions'}, h('button', {type: 'button', onclick: closeForm}, t('common.cancel')),
        h('button', {type: 'submit', class: 'primary', id: 'co-save'}, t('common.save')))));
    name.focus();

    async function save(ev) {
      ev.preventDefault();
      msg.hidden = true;
      const body = {name: name.value.trim(), population: Number(pop.value || 0)};
      if (!body.name) { msg.textContent = t('co.need_name'); msg.hidden = false; return; }
      if (node && (!c || Number(node.value) !== c.node)) body.node = Number(node.value);
      try {
        if (c) await api('PATCH', '/api/v1/communes/' + encodeURIComponent(c.id), body);
        else await post('/api/v1/communes', Object.assign({id: id.value.trim()}, body));
        ctx.toast(t('common.saved'));
        closeForm();
        await load();
      } catch (e) {
        msg.textContent = nodeError(e);
        msg.hidden = false;
      }
    }
  }

  async function deleteCommune(c) {
    if (!await confirmDialog(t('co.delete_title'), h('p', null, t('co.delete_text', {name: c.name})), t('common.delete'), true)) return;
    try {
      await api('DELETE', '/api/v1/communes/' + encodeURIComponent(c.id));
      ctx.toast(t('common.deleted'));
    } catch (e) {
      ctx.toast(e.code === 'conflict' ? t('co.in_use') : errorText(e), 'error');
    }
    await load();
  }

  function clusterForm(c) {
    if (!communes.length) { ctx.toast(t('cl.need_commune'), 'error'); return; }
    const commune = h('select', {id: 'cl-commune'}, communes.map((x) => h('option', {value: x.id,
      selected: c ? x.id === c.commune : x.id === communeFilter.value}, x.name)));
    const name = h('input', {id: 'cl-name', value: c ? c.name : '', maxlength: 200});
    const speakers = h('input', {id: 'cl-speakers', type: 'number', min: 0, value: c ? c.speakers : 1});
    const pop = h('input', {id: 'cl-population', type: 'number', min: 0, value: c ? c.population : ''});
    const lat = h('input', {id: 'cl-lat', type: 'number', step: 'any', value: c && c.lat !== null ? c.lat : ''});
    const lon = h('input', {id: 'cl-lon', type: 'number', step: 'any', value: c && c.lon !== null ? c.lon : ''});
    const volume = h('input', {id: 'cl-volume', type: 'number', min: 0, max: 100, value: c ? c.volume : 100});
    const muted = h('input', {id: 'cl-muted', type: 'checkbox', checked: c ? !!c.muted : false});
    const msg = h('p', {class: 'notice error', role: 'alert', hidden: true});
    replace(formSlot, h('form', {class: 'card form', id: 'cluster-form', onsubmit: save},
      sectionTitle(c ? t('cl.edit', {name: c.name}) : t('cl.add')),
      h('div', {class: 'grid3'}, field(t('co.commune'), commune), field(t('cl.name'), name, t('cl.name_hint')),
        field(t('cl.speakers'), speakers)),
      h('div', {class: 'grid3'}, field(t('cl.population'), pop), field(t('cl.lat'), lat, t('cl.optional')),
        field(t('cl.lon'), lon, t('cl.optional'))),
      h('div', {class: 'grid3'}, field(t('cl.volume'), volume), field(t('cl.muted'), muted)),
      msg,
      h('div', {class: 'actions'}, h('button', {type: 'button', onclick: closeForm}, t('common.cancel')),
        h('button', {type: 'submit', class: 'primary', id: 'cl-save'}, t('common.save')))));
    name.focus();

    async function save(ev) {
      ev.preventDefault();
      msg.hidden = true;
      if (!name.value.trim()) { msg.textContent = t('cl.need_name'); msg.hidden = false; return; }
      const body = {commune: commune.value, name: name.value.trim(), speakers: Number(speakers.value || 0),
                    population: Number(pop.value || 0), volume: Number(volume.value === '' ? 100 : volume.value),
                    muted: muted.checked};
      if (lat.value !== '') body.lat = Number(lat.value);
      if (lon.value !== '') body.lon = Number(lon.value);
      try {
        if (c) {
          await api('PATCH', '/api/v1/clusters/' + encodeURIComponent(c.id), body);
          ctx.toast(t('common.saved'));
          closeForm();
        } else {
          const r = await post('/api/v1/clusters', body);
          closeForm();
          await load();
          await showToken(r, true);
        }
        await load();
      } catch (e) {
        msg.textContent = errorText(e);
        msg.hidden = false;
      }
    }
  }

  // The receiver token exists in clear only in this answer: show it once, with the stream URL
  // that receivers taking only a URL need.
  // A storing receiver needs the station's public key too, and takes all three as its INI file.
  async function showToken(r, created) {
    const url = `${location.origin}/stream/${encodeURIComponent(r.id)}.opus?token=${r.token}`;
    const tok = h('input', {class: 'secret', id: 'token-value', readonly: true, value: r.token});
    const urlEl = h('input', {class: 'secret', id: 'token-url', readonly: true, value: url});
    let key = '';
    try { key = (await get('/api/v1/station')).public_key; } catch (e) { /* shown empty */ }
    const keyEl = h('input', {id: 'station-key', readonly: true, value: key});
    const ini = h('textarea', {class: 'secret', id: 'receiver-ini', readonly: true, rows: 7},
      `[receiver]\nserver = ${location.origin}\ncluster = ${r.id}\ntoken = ${r.token}\nstation_key = ${key}\ncache_dir = /var/lib/loacast-receiver\nsink = alsa:default   ; the sound card: aplay -l, then e.g. alsa:plughw:1,0\n`);
    const copy = (el) => h('button', {type: 'button', onclick: async () => {
      el.select();
      try { await navigator.clipboard.writeText(el.value); ctx.toast(t('cl.copied')); } catch (e) { /* selected: Ctrl+C */ }
    }}, t('cl.copy'));
    return infoDialog(created ? t('cl.token_created') : t('cl.token_rotated'), [
      h('p', {class: 'notice warn'}, t('cl.token_once')),
      field(t('cl.token'), tok), copy(tok),
      field(t('cl.stream_url'), urlEl), copy(urlEl),
      field(t('cl.station_key'), keyEl), copy(keyEl),
      field(t('cl.receiver_ini'), ini), copy(ini)]);
  }

  async function rotate(c) {
    if (!await confirmDialog(t('cl.rotate_title'), h('p', null, t('cl.rotate_text', {name: c.name})), t('cl.rotate'), true)) return;
    try {
      const r = await post(`/api/v1/clusters/${encodeURIComponent(c.id)}/token`);
      await showToken(r, false);
    } catch (e) {
      ctx.toast(errorText(e), 'error');
    }
    await load();
  }

  async function deleteCluster(c) {
    if (!await confirmDialog(t('cl.delete_title'), h('p', null, t('cl.delete_text', {name: c.name})), t('common.delete'), true)) return;
    try {
      await api('DELETE', '/api/v1/clusters/' + encodeURIComponent(c.id));
      ctx.toast(t('common.deleted'));
    } catch (e) {
      ctx.toast(errorText(e), 'error');
    }
    await load();
  }

  return {cleanup() { clearInterval(timer); }};
}
