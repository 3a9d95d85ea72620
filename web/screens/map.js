// web/screens/map.js — the cluster map (issue 19, point 3; every staff role): every cluster at its
// place as a circle coloured by its state, a legend with the counts, the clusters without a
// position listed apart, a node filter, and on click the cluster and its commune's last session.
// Leaflet is the server's own copy (/web/leaflet/, from npm: docs/console.md, "Bản đồ"), loaded
// when the screen is first opened; the tiles are [map] tiles from /web/station.json — none: the
// markers on a plain background (stations are often offline).
// APIs: GET /api/v1/map[?node=], GET /api/v1/nodes (absent: no filter), GET /web/station.json.

import { h, replace } from '../dom.js';
import { t } from '../i18n.js';
import { api, get } from '../api.js';
import { fmtDateTime, fmtNumber, fmtPercent, fmtAgo } from '../fmt.js';
import { failure, sectionTitle } from '../common.js';
import { nodeOptions } from '../org.js';

// One colour per state; the server sends the states in their order of precedence.
export const COLORS = {
  failing: '#c62828', offline: '#616161', not_reached: '#ef6c00',
  reached: '#2e7d32', online: '#1565c0', idle: '#90a4ae',
};
const REFRESH_MS = 60000;
const VIETNAM = [16.0, 106.0];   // the view when no cluster has a position

let leaflet = null;   // the promise of window.L, once

function loadLeaflet() {
  if (window.L) return Promise.resolve(window.L);
  if (!leaflet) {
    leaflet = new Promise((resolve, reject) => {
      document.head.appendChild(h('link', {rel: 'stylesheet', href: '/web/leaflet/leaflet.css'}));
      const s = h('script', {src: '/web/leaflet/leaflet.js'});
      s.addEventListener('load', () => resolve(window.L));
      s.addEventListener('error', () => { leaflet = null; reject(new Error('leaflet')); });
      document.head.appendChild(s);
    });
  }
  return leaflet;
}

export function render(view, ctx) {
  let map = null, layer = null, timer = null, gone = false, fitted = false;
  let station = {tiles: '', attribution: ''};
  const nodeSel = h('select', {id: 'map-node', 'aria-label': t('map.node')},
    h('option', {value: ''}, t('map.all_nodes')));
  const nodeField = h('label', {class: 'inline', id: 'map-node-field', hidden: true}, t('map.node'), ' ', nodeSel);
  const reloadBtn = h('button', {id: 'map-reload', onclick: () => load()}, t('map.reload'));
  const canvas = h('div', {id: 'map-canvas', class: 'map-canvas', role: 'region', 'aria-label': t('nav.map')});
  const legendEl = h('ul', {class: 'map-legend plain', id: 'map-legend'});
  const summaryEl = h('p', {class: 'muted', id: 'map-summary'});
  const unplacedEl = h('div', {id: 'map-unplaced'});
  const errEl = h('div', {id: 'map-error'});

  replace(view, h('div', {class: 'page'},
    h('div', {class: 'page-head'}, h('h1', null, t('nav.map')), h('div', {class: 'toolbar'}, nodeField, reloadBtn)),
    errEl,
    h('div', {class: 'map-layout'},
      canvas,
      h('aside', {class: 'card map-side'}, sectionTitle(t('map.legend')), legendEl, summaryEl, unplacedEl))));
  nodeSel.addEventListener('change', () => { fitted = false; load(); });
  start();

  async function start() {
    try {
      const st = await api('GET', '/web/station.json', null, {noAuth: true});
      if (st && st.map) station = st.map;
    } catch (e) { /* no tiles */ }
    let L;
    try {
      L = await loadLeaflet();
    } catch (e) {
      replace(errEl, h('p', {class: 'notice error', role: 'alert'}, t('map.no_leaflet')));
      return;
    }
    if (gone) return;
    map = L.map(canvas, {zoomControl: true, attributionControl: true});
    map.attributionControl.setPrefix(false);
    if (station.tiles) {
      L.tileLayer(station.tiles, {attribution: station.attribution || '', maxZoom: 19}).addTo(map);
      canvas.dataset.tiles = '1';
    } else {
      canvas.classList.add('blank');   // a plain background: no tile is ever asked for
      canvas.dataset.tiles = '0';
      map.attributionControl.addAttribution(t('map.no_tiles'));
    }
    L.control.scale({imperial: false}).addTo(map);
    map.setView(VIETNAM, 5);
    layer = L.featureGroup().addTo(map);
    loadNodes();
    load();
  }

  async function loadNodes() {
    try {
      const r = await get('/api/v1/nodes');
      const nodes = (r && r.nodes) || [];
      if (gone || nodes.length < 2) return;     // one node: nothing to filter
      replace(nodeSel, h('option', {value: ''}, t('map.all_nodes')), nodeOptions(nodes));
      nodeField.hidden = false;
    } catch (e) { /* 404: no organisation tree on this server: no filter */ }
  }

  async function load() {
    clearTimeout(timer);
    const node = nodeSel.value;
    let data;
    try {
      data = await get('/api/v1/map' + (node ? '?node=' + encodeURIComponent(node) : ''));
    } catch (e) {
      if (!gone) failure(errEl, e);
      return;
    }
    if (gone) return;
    replace(errEl);
    draw(data);
    timer = setTimeout(load, REFRESH_MS);
  }

  function draw(data) {
    const L = window.L;
    layer.clearLayers();
    const communes = data.communes || {};
    for (const c of data.clusters) {
      const m = L.circleMarker([c.lat, c.lon], {
        radius: 8, weight: 2, color: '#ffffff', fillColor: COLORS[c.state] || '#000000', fillOpacity: 0.9,
        className: 'map-marker state-' + c.state,
      });
      m.bindTooltip(c.name);
      m.bindPopup(() => popup(c, communes[c.commune]), {minWidth: 240});
      m.addTo(layer);
      const el = m.getElement();
      if (el) { el.dataset.cluster = c.id; el.dataset.state = c.state; el.dataset.commune = c.commune; }
    }
    canvas.dataset.markers = String(data.clusters.length);
    if (!fitted && data.clusters.length) {
      map.fitBounds(layer.getBounds(), {padding: [30, 30], maxZoom: 14});
      fitted = true;
    }
    const counts = data.counts || {};
    replace(legendEl, (data.states || Object.keys(COLORS)).map((s) => h('li', {dataset: {state: s}},
      h('span', {class: 'swatch', 'aria-hidden': 'true', dataset: {color: COLORS[s]}}),
      t('map.state.' + s), ' ', h('span', {class: 'muted'}, '(' + fmtNumber(counts[s] || 0) + ')'))));
    // the swatches' colours through the CSSOM (no inline style attribute: CSP)
    for (const sw of legendEl.querySelectorAll('.swatch')) sw.style.background = sw.dataset.color;
    replace(summaryEl, t('map.summary', {n: fmtNumber(data.clusters.length), time: fmtDateTime(data.generated_at)}));
    const un = data.unplaced || [];
    replace(unplacedEl, un.length
      ? [h('p', {id: 'map-unplaced-count'}, h('strong', null, t('map.unplaced', {n: fmtNumber(un.length)}))),
         h('ul', {class: 'plain small', id: 'map-unplaced-list'}, un.map((c) => h('li', {dataset: {cluster: c.id, state: c.state}},
           c.name, ' · ', c.commune_name, ' · ', t('map.state.' + c.state))))]
      : h('p', {class: 'muted small', id: 'map-unplaced-count'}, t('map.all_placed')));
  }

  function popup(c, commune) {
    const s = commune && commune.last_session;
    return h('div', {class: 'map-popup', dataset: {cluster: c.id}},
      h('strong', null, c.name), h('div', {class: 'muted small'}, c.id),
      h('div', null, c.commune_name),
      h('div', {class: 'map-state', dataset: {state: c.state}}, t('map.state.' + c.state)),
      h('div', {class: 'small'}, t('map.last_seen'), ': ', c.last_seen ? fmtAgo(c.last_seen) : t('map.never')),
      c.failing_since ? h('div', {class: 'small'}, t('map.failing_since'), ': ', fmtDateTime(c.failing_since)) : null,
      h('hr'),
      h('div', {class: 'map-coverage'},
        h('div', null, h('strong', null, t('map.commune_coverage'))),
        s ? [h('div', {class: 'small'}, t('map.session'), ': ', fmtDateTime(s.session_start)),
             h('div', {id: 'map-cov-clusters'}, t('map.cov_clusters', {r: fmtNumber(s.clusters_reached), n: fmtNumber(s.clusters_total), p: fmtPercent(s.percent_clusters)})),
             h('div', {id: 'map-cov-population'}, t('map.cov_population', {r: fmtNumber(s.population_reached), n: fmtNumber(s.population_total), p: fmtPercent(s.percent_population)})),
             h('div', {class: 'small'}, c.reached === null ? '' : (c.reached ? t('map.was_reached') : t('map.not_reached')))]
          : h('div', {class: 'muted small'}, t('map.no_session'))));
  }

  return {cleanup() {
    gone = true;
    clearTimeout(timer);
    if (map) map.remove();
  }};
}
