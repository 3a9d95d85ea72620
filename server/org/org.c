/* server/org/org.c — the organisation tree: the module's handle, scope checks, the nodes API;
 * see org.h. */
#include "server/org/org.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "server/api/api.h"
#include "server/http/http.h"
#include "server/store/store.h"

struct lc_org {
    struct lc_org_deps d;
};

#define NODE_COLS "n.id, n.name, n.parent, n.created_at"
#define NAME_CHARS 200

static json_t *node_json(sqlite3_stmt *st)
{
    return json_pack("{s:I,s:s,s:o,s:o}", "id", (json_int_t)sqlite3_column_int64(st, 0), "name",
                     lc_col_text(st, 1), "parent",
                     lc_col_is_null(st, 2) ? json_null()
                                           : json_integer(sqlite3_column_int64(st, 2)),
                     "created_at", lc_time_json(sqlite3_column_int64(st, 3)));
}

int lc_org_in_scope(struct lc_store *store, int64_t scope, int64_t node)
{
    static const char sql[] = "SELECT 1 FROM nodes WHERE id = ?1 AND id IN " LC_SCOPE_NODES;
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, node);
    lc_store_bind_scope(st, scope);
    int step = sqlite3_step(st);
    if (lc_store_done(st) < 0 || (step != SQLITE_ROW && step != SQLITE_DONE))
        return -EIO;
    return step == SQLITE_ROW;
}

int lc_org_require(struct lc_req *req, struct lc_store *store, int64_t node, int missing)
{
    int in = lc_org_in_scope(store, req->node, node);
    if (in > 0)
        return 0;
    if (in < 0)
        lc_reply_internal(req, "nodes");
    else
        lc_reply_error(req, missing, missing == 404 ? "not_found" : "invalid", "%s node %lld",
                       missing == 404 ? "no" : "unknown", (long long)node);
    return -1;
}

/* The path's {id}: a positive integer, else 404 (as an unknown node). */
static int path_id(struct lc_req *req, int64_t *out)
{
    char *end;
    long long v = strtoll(req->params[0], &end, 10);
    if (*end != '\0' || end == req->params[0] || v <= 0) {
        lc_reply_error(req, 404, "not_found", "no node '%.32s'", req->params[0]);
        return -1;
    }
    *out = v;
    return 0;
}

/* GET /api/v1/nodes: the caller's subtree, parents first (by depth, then id). */
static void get_nodes(struct lc_req *req, void *ctx)
{
    static const char sql[] =
        "WITH RECURSIVE t(id, depth) AS (SELECT CASE WHEN " LC_SCOPE " = 0 THEN 1 ELSE " LC_SCOPE " END, 0"
        " UNION ALL SELECT n.id, t.depth + 1 FROM nodes n JOIN t ON n.parent = t.id)"
        " SELECT " NODE_COLS " FROM t JOIN nodes n ON n.id = t.id ORDER BY t.depth, n.id";
    struct lc_org *o = ctx;
    sqlite3_stmt *st = lc_store_stmt(o->d.store, sql);
    if (st == NULL) {
        lc_reply_internal(req, "nodes");
        return;
    }
    lc_store_bind_scope(st, req->node);
    json_t *list = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(list, node_json(st));
    if (lc_store_done(st) < 0 || rc != SQLITE_DONE) {
        json_decref(list);
        lc_reply_internal(req, "nodes");
        return;
    }
    lc_reply_json(req, 200, json_pack("{s:o}", "nodes", list));
}

/* A node read back (crud.c's lc_res_*: {id} is bound as text, which the INTEGER key compares
 * equal to; one outside the caller's subtree is not found). */
static const struct lc_resource nodes_res = {
    .noun = "node", .key_chars = 32, .plural = "nodes",
    .one_sql = "SELECT " NODE_COLS " FROM nodes n WHERE n.id = ?1 AND n.id IN " LC_SCOPE_NODES,
    .row_json = node_json,
};

static void get_node(struct lc_req *req, void *ctx)
{
    struct lc_org *o = ctx;
    lc_res_get(req, o->d.store, &nodes_res, req->params[0]);
}

/* A write of the nodes table, inside one transaction (lc_store_tx). */
struct node_write {
    struct lc_org *o;
    struct lc_req *req;
    int64_t id;             /* 0 for a new node */
    const char *name;       /* NULL: unchanged */
    int64_t parent;         /* 0: unchanged (PATCH) or the caller's node (POST) */
    const char *action;     /* node_create, node_update, node_delete */
    json_t *detail;
};

/* 1 if `under` is `id` or lies below it (a move of id under it would make a circle). */
static int below(struct lc_store *store, int64_t id, int64_t under)
{
    return lc_org_in_scope(store, id, under);
}

static int node_audit(struct node_write *w)
{
    char target[24];
    snprintf(target, sizeof target, "%lld", (long long)w->id);
    int rc = w->o->d.audit ? w->o->d.audit(w->o->d.store, w->req, NULL, w->action, target,
                                           w->detail)
                           : 0;
    w->detail = NULL;   /* stolen */
    return rc < 0 ? -EIO : 0;
}

static int insert_node(struct lc_store *s, void *arg)
{
    static const char sql[] = "INSERT INTO nodes (name, parent, created_at) VALUES (?1, ?2, ?3)";
    struct node_write *w = arg;
    sqlite3_stmt *st = lc_store_stmt(s, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, w->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, w->parent);
    sqlite3_bind_int64(st, 3, lc_now());
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return -EIO;
    w->id = lc_store_last_id(s);
    w->detail = json_pack("{s:s,s:I}", "name", w->name, "parent", (json_int_t)w->parent);
    return node_audit(w);
}

static int update_node(struct lc_store *s, void *arg)
{
    static const char sql[] =
        "UPDATE nodes SET name = coalesce(?2, name),"
        " parent = CASE WHEN ?3 = 0 THEN parent ELSE ?3 END WHERE id = ?1";
    struct node_write *w = arg;
    if (w->parent != 0) {
        int circle = below(s, w->id, w->parent);
        if (circle < 0)
            return -EIO;
        if (circle) {
            lc_reply_error(w->req, 409, "conflict", "node %lld cannot move under itself or a "
                           "node below it", (long long)w->id);
            return LC_ANSWERED;
        }
    }
    sqlite3_stmt *st = lc_store_stmt(s, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, w->id);
    sqlite3_bind_text(st, 2, w->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, w->parent);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return -EIO;
    w->detail = json_object();
    if (w->name)
        json_object_set_new(w->detail, "name", json_string(w->name));
    if (w->parent)
        json_object_set_new(w->detail, "parent", json_integer(w->parent));
    return node_audit(w);
}

/* DELETE: only an empty leaf. What still hangs under it is named in the 409. */
static int delete_node(struct lc_store *s, void *arg)
{
    static const char used[] =
        "SELECT (SELECT count(*) FROM nodes WHERE parent = ?1),"
        " (SELECT count(*) FROM communes WHERE node = ?1),"
        " (SELECT count(*) FROM users WHERE node = ?1),"
        " (SELECT count(*) FROM bulletins WHERE node = ?1)";
    static const char del[] = "DELETE FROM nodes WHERE id = ?1";
    static const char *const what[] = {"nodes", "communes", "staff", "bulletins"};
    struct node_write *w = arg;
    sqlite3_stmt *st = lc_store_stmt(s, used);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, w->id);
    long long n[4] = {0};
    int step = sqlite3_step(st);
    for (int i = 0; step == SQLITE_ROW && i < 4; i++)
        n[i] = sqlite3_column_int64(st, i);
    if (lc_store_done(st) < 0 || step != SQLITE_ROW)
        return -EIO;
    for (int i = 0; i < 4; i++)
        if (n[i] > 0) {
            lc_reply_error(w->req, 409, "conflict", "node %lld still has %lld %s under it; move or "
                           "remove them first", (long long)w->id, n[i], what[i]);
            return LC_ANSWERED;
        }
    st = lc_store_stmt(s, del);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, w->id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return -EIO;
    return node_audit(w);
}

/* Runs fn in a transaction; answers its 500, or the node (status), or 204. */
static void run_write(struct node_write *w, lc_store_tx_fn fn, int status)
{
    int rc = lc_store_tx(w->o->d.store, fn, w);
    json_decref(w->detail);
    if (rc == LC_ANSWERED)
        return;
    if (rc < 0) {
        lc_reply_internal(w->req, w->action);
        return;
    }
    if (status == 204) {
        lc_reply_no_content(w->req);
        return;
    }
    char key[24];
    snprintf(key, sizeof key, "%lld", (long long)w->id);
    json_t *n = lc_res_load(w->o->d.store, &nodes_res, key);
    if (n == NULL) {
        lc_reply_internal(w->req, w->action);
        return;
    }
    lc_reply_json(w->req, status, n);
}

/* POST /api/v1/nodes and PATCH /api/v1/nodes/{id}. */
static void write_node(struct lc_req *req, void *ctx)
{
    static const char *const fields[] = {"name", "parent", NULL};
    struct lc_org *o = ctx;
    bool create = req->method == HTTP_POST;
    struct node_write w = {.o = o, .req = req, .action = create ? "node_create" : "node_update"};
    long long parent = 0;
    if (!create && path_id(req, &w.id) < 0)
        return;
    if (!create && lc_org_require(req, o->d.store, w.id, 404) < 0)
        return;
    json_t *body = lc_api_body(req, fields);
    if (body == NULL)
        return;
    if (lc_api_string(req, body, "name", create, NAME_CHARS, &w.name) < 0 ||
        lc_api_int(req, body, "parent", false, 1, INT64_MAX, &parent) < 0)
        goto out;
    if (w.name != NULL && w.name[0] == '\0') {
        lc_reply_error(req, 422, "invalid", "name must not be empty");
        goto out;
    }
    if (!create && parent != 0 && w.id == LC_ORG_ROOT) {
        lc_reply_error(req, 409, "conflict", "the root node has no parent");
        goto out;
    }
    w.parent = create && parent == 0 ? req->node : parent;
    if (w.parent != 0 && lc_org_require(req, o->d.store, w.parent, 422) < 0)
        goto out;
    run_write(&w, create ? insert_node : update_node, create ? 201 : 200);
out:
    json_decref(body);
}

static void delete_node_route(struct lc_req *req, void *ctx)
{
    struct lc_org *o = ctx;
    struct node_write w = {.o = o, .req = req, .action = "node_delete"};
    if (path_id(req, &w.id) < 0 || lc_org_require(req, o->d.store, w.id, 404) < 0)
        return;
    if (w.id == req->node || w.id == LC_ORG_ROOT) {
        lc_reply_error(req, 409, "conflict", "%s cannot be deleted",
                       w.id == LC_ORG_ROOT ? "the root node" : "your own node");
        return;
    }
    run_write(&w, delete_node, 204);
}

static const struct lc_api_route routes[] = {
    {HTTP_GET, "/api/v1/nodes", LC_ROLES_STAFF, LC_BODY_NONE, get_nodes},
    {HTTP_POST, "/api/v1/nodes", LC_ROLE_ADMIN, LC_BODY_JSON, write_node},
    {HTTP_GET, "/api/v1/nodes/{id}", LC_ROLES_STAFF, LC_BODY_NONE, get_node},
    {HTTP_PATCH, "/api/v1/nodes/{id}", LC_ROLE_ADMIN, LC_BODY_JSON, write_node},
    {HTTP_DELETE, "/api/v1/nodes/{id}", LC_ROLE_ADMIN, LC_BODY_NONE, delete_node_route},
};

int lc_org_routes(struct lc_org *o, struct lc_router *r)
{
    return LC_API_ROUTES(r, routes, o);
}

int lc_org_open(struct lc_org **out, const struct lc_org_deps *deps)
{
    static const char name_root[] =
        "UPDATE nodes SET name = ?1 WHERE id = 1 AND name = '' AND ?1 <> ''";
    struct lc_org *o = calloc(1, sizeof *o);
    if (o == NULL)
        return -ENOMEM;
    o->d = *deps;
    sqlite3_stmt *st = lc_store_stmt(o->d.store, name_root);
    if (st == NULL) {
        free(o);
        return -EIO;
    }
    sqlite3_bind_text(st, 1, deps->root_name ? deps->root_name : "", -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    o->d.root_name = NULL;  /* not kept: the caller's string */
    if (rc != SQLITE_DONE) {
        free(o);
        return -EIO;
    }
    *out = o;
    return 0;
}

void lc_org_free(struct lc_org *o)
{
    free(o);
}
