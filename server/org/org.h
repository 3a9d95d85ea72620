/*
 * server/org/org.h — the organisation module's door: the tree of nodes (province → producers →
 * communes, any depth) that staff, communes and bulletins belong to. It owns the table `nodes`.
 *
 *   GET /api/v1/nodes → {"nodes":[{"id","name","parent","created_at"}]}, the caller's subtree,
 *     parents before children (every staff role)
 *   GET /api/v1/nodes/{id} → the node (404 outside the caller's subtree)
 *   POST /api/v1/nodes {"name","parent"?} → 201 the node; parent defaults to the caller's node
 *     and must be in its subtree (admin)
 *   PATCH /api/v1/nodes/{id} {"name"?,"parent"?} (admin): a move stays inside the caller's
 *     subtree and never under the node itself (409); the root never moves
 *   DELETE /api/v1/nodes/{id} → 204 (admin); 409 while communes, staff, bulletins or nodes
 *     are under it; the caller's own node and the root are never deleted
 *
 * Scope. A staff request carries its user's node (req->node, set by lc_auth_request). Every
 * module that lists or changes communes, clusters, bulletins, users, reports ... restricts its
 * SQL with LC_SCOPE_NODES / LC_SCOPE_COMMUNES and binds LC_SCOPE with lc_store_bind_scope(st,
 * req->node) (server/store/store.h). Something outside the subtree answers 404, as if it did not
 * exist: no name leaks. Loop thread only.
 */
#ifndef LC_SERVER_ORG_H
#define LC_SERVER_ORG_H

#include <stdint.h>

#include <jansson.h>

struct lc_store;
struct lc_router;
struct lc_req;
struct lc_org;

/* The id of the root node (migration 45 made it; nothing else is a root). */
#define LC_ORG_ROOT 1

/* The SQL parameter that carries the caller's node: ?99, bound by lc_store_bind_scope(). A
 * numbered one, never a named one: SQLite gives a name the next free number where it first
 * appears, which a later "?5" of the same statement would then share. */
#define LC_SCOPE "?99"
/* SQL: the ids of the nodes of the subtree of LC_SCOPE, itself included; every node when it is
 * 0 (the root's subtree, 1 = LC_ORG_ROOT). A parenthesised subquery: "x IN " LC_SCOPE_NODES. */
#define LC_SCOPE_NODES                                                                            \
    "(WITH RECURSIVE lc_sub(id) AS (SELECT CASE WHEN " LC_SCOPE " = 0 THEN 1 ELSE " LC_SCOPE     \
    " END UNION ALL SELECT n.id FROM nodes n JOIN lc_sub ON n.parent = lc_sub.id)"               \
    " SELECT id FROM lc_sub)"
/* SQL: the ids of the communes (retired ones too) under the subtree of LC_SCOPE. */
#define LC_SCOPE_COMMUNES "(SELECT id FROM communes WHERE node IN " LC_SCOPE_NODES ")"

/* The audit log's writer (lc_audit, server/accounts/accounts.h), given by the assembly so that
 * org/ (below accounts/) does not call it. */
typedef int (*lc_org_audit_fn)(struct lc_store *store, const struct lc_req *req, const char *actor,
                               const char *action, const char *target, json_t *detail);

struct lc_org_deps {
    struct lc_store *store;
    lc_org_audit_fn audit;
    const char *root_name;      /* names the root when it has no name yet (the station's name) */
};

/* The module's handle (*out, freed by lc_org_free); names a nameless root. 0, -ENOMEM, -EIO. */
int lc_org_open(struct lc_org **out, const struct lc_org_deps *deps);
void lc_org_free(struct lc_org *o);

/* Adds the nodes routes, with o as their handle. */
int lc_org_routes(struct lc_org *o, struct lc_router *r);

/* 1 if node is in the subtree of scope (0: every node is), 0 if not or there is no such node,
 * -EIO when the read failed. */
int lc_org_in_scope(struct lc_store *store, int64_t scope, int64_t node);

/* A node named by a request (a body's "node"): it must exist and lie in the caller's subtree.
 * 0, or -1 after answering `missing` (404 "no node", 422 "unknown node") or 500. */
int lc_org_require(struct lc_req *req, struct lc_store *store, int64_t node, int missing);

#endif
