// web/org.js — the organisation tree on the console side (issue 19): the caller's own node (kept
// in the session, shown next to the user name), the tree in order with depths, the node <select>
// of the commune and user forms, and the server's refusals of a node change in words.
// API: GET /api/v1/nodes → the caller's subtree, parents before children; its first row is the
// caller's own node.

import { h } from './dom.js';
import { t, lang } from './i18n.js';
import { get, session, setSession, errorText } from './api.js';

export async function loadNodes() {
  return (await get('/api/v1/nodes')).nodes || [];
}

// Reads the caller's node into the session ({id, name, parent}; null on a server without nodes).
// Called after the login and when a session from before this console has no node yet.
export async function loadScope() {
  let node = null;
  try {
    const nodes = await loadNodes();
    if (nodes.length) node = {id: nodes[0].id, name: nodes[0].name, parent: nodes[0].parent ?? null};
  } catch (e) {
    if (!e.unavailable) return;      // try again on the next screen
  }
  const s = session();
  if (s) setSession(Object.assign(s, {node}));
}

// True for staff at the root (the province) — the only ones who change station-wide settings
// (rule defaults, self-test schedule, lexicon); true too while the node is unknown: the server
// still refuses with 403.
export function atRoot(sess) {
  const n = (sess || session() || {}).node;
  return !n || n.parent === null || n.parent === undefined;
}

// The nodes as [{node, depth}], each parent followed by its children (depth 0: the caller's node).
export function nodeTree(nodes) {
  const kids = new Map();
  for (const n of nodes) {
    const p = n.parent ?? null;
    if (!kids.has(p)) kids.set(p, []);
    kids.get(p).push(n);
  }
  const ids = new Set(nodes.map((n) => n.id));
  const out = [];
  const walk = (n, depth) => {
    out.push({node: n, depth});
    for (const c of kids.get(n.id) || []) walk(c, depth + 1);
  };
  for (const n of nodes) if (n.parent === null || n.parent === undefined || !ids.has(n.parent)) walk(n, 0);
  return out;
}

// <option>s of the tree, indented by depth; `skip` (a node id) leaves out that node and its
// subtree (where a node may not move).
export function nodeOptions(nodes, selected, skip) {
  const out = [];
  let skipDepth = -1;
  for (const {node, depth} of nodeTree(nodes)) {
    if (skipDepth >= 0 && depth > skipDepth) continue;
    skipDepth = -1;
    if (node.id === skip) { skipDepth = depth; continue; }
    out.push(h('option', {value: String(node.id), selected: node.id === selected},
      '\u00a0'.repeat(depth * 3) + node.name));
  }
  return out;
}

export function nodeName(nodes, id) {
  const n = nodes.find((x) => x.id === id);
  return n ? n.name : (id === undefined || id === null ? '—' : '#' + id);
}

// The server's refusal of a node change (server/org/org.c writes it in English) in the staff's
// language; other errors as errorText() says them.
export function nodeError(err) {
  const m = (err && err.serverMessage) || '';
  if (lang() === 'en' && m) return errorText(err);
  let x;
  if (/cannot move under itself/.test(m)) return t('org.err.circle');
  if ((x = /still has (\d+) (nodes|communes|staff|bulletins) under it/.exec(m))) return t('org.err.used.' + x[2], {n: x[1]});
  if (/the root node cannot be deleted/.test(m)) return t('org.err.root_delete');
  if (/your own node cannot be deleted/.test(m)) return t('org.err.own_delete');
  if (/the root node has no parent/.test(m)) return t('org.err.root_move');
  if (/unknown node/.test(m)) return t('org.err.outside');
  return errorText(err);
}
