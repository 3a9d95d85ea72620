/*
 * server/api/crud.c — one pattern for the handlers that list, read, create, change and delete
 * the rows of a table (communes, clusters, users); see api.h.
 *
 * A write is a function run inside lc_store_tx(), followed there by its audit entry: it either
 * commits and lc_res_write() answers the row read back, or it rolls back, having answered itself
 * (LC_ANSWERED: 404, 409, 422 ...) or not (any other error: 500, the detail logged as
 * "<plural>: <what>"). Loop thread only.
 */
#include "server/api/api.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <http_parser.h>

#include "server/store/store.h"

/* ?retired=true|1 lists retired rows too; false|0 or absent: not. -1 after answering 400. */
int lc_api_query_retired(struct lc_req *req)
{
    char v[8];
    const char *q = lc_req_query(req, "retired", v, sizeof v);
    if (q == NULL || strcmp(q, "false") == 0 || strcmp(q, "0") == 0)
        return 0;
    if (strcmp(q, "true") == 0 || strcmp(q, "1") == 0)
        return 1;
    lc_reply_error(req, 400, "bad_query", "retired must be true or false");
    return -1;
}

void lc_res_list(struct lc_req *req, struct lc_store *s, const struct lc_resource *res)
{
    int retired = res->retire_sql ? lc_api_query_retired(req) : 0;
    if (retired < 0)
        return;
    sqlite3_stmt *st = lc_store_stmt(s, res->list_sql);
    if (st == NULL) {
        lc_reply_internal(req, res->plural);
        return;
    }
    if (res->retire_sql)
        sqlite3_bind_int(st, 1, retired);
    lc_store_bind_scope(st, req->node);
    json_t *list = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(list, res->row_json(st));
    if (lc_store_done(st) < 0 || rc != SQLITE_DONE) { /* never a shorter list */
        json_decref(list);
        lc_reply_internal(req, res->plural);
        return;
    }
    lc_reply_json(req, 200, json_pack("{s:o}", res->plural, list));
}

int lc_res_find_in(struct lc_store *s, const struct lc_resource *res, const char *key,
                   int64_t scope, json_t **out)
{
    *out = NULL;
    sqlite3_stmt *st = lc_store_stmt(s, res->one_sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    lc_store_bind_scope(st, scope);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *out = res->row_json(st);
    if (lc_store_done(st) < 0 || (step != SQLITE_ROW && step != SQLITE_DONE)) {
        json_decref(*out);
        *out = NULL;
        return -EIO;
    }
    return step == SQLITE_ROW ? 0 : -ENOENT;
}

int lc_res_find(struct lc_store *s, const struct lc_resource *res, const char *key, json_t **out)
{
    return lc_res_find_in(s, res, key, 0, out);
}

json_t *lc_res_load(struct lc_store *s, const struct lc_resource *res, const char *key)
{
    json_t *o;
    lc_res_find(s, res, key, &o);
    return o;
}

int lc_res_not_found(struct lc_req *req, const struct lc_resource *res, const char *key)
{
    int n = res->key_chars > 0 ? res->key_chars : 1 << 20;
    lc_reply_error(req, 404, "not_found", "no %s '%.*s'", res->noun, n, key);
    return LC_ANSWERED;
}

void lc_res_get(struct lc_req *req, struct lc_store *s, const struct lc_resource *res,
                const char *key)
{
    json_t *o;
    int rc = lc_res_find_in(s, res, key, req->node, &o);
    if (rc == -ENOENT)
        lc_res_not_found(req, res, key);
    else if (rc < 0)
        lc_reply_internal(req, res->plural);
    else
        lc_reply_json(req, 200, o);
}

static int run_write(struct lc_store *s, void *arg)
{
    struct lc_res_write *w = arg;
    if (w->status != 201) {     /* a change of a row: only of one in the caller's subtree */
        json_t *o;
        int found = lc_res_find_in(s, w->res, w->key, w->req->node, &o);
        json_decref(o);
        if (found == -ENOENT)
            return lc_res_not_found(w->req, w->res, w->key);
        if (found < 0)
            return found;
    }
    int rc = w->fn(w);
    if (rc >= 0 && w->audit) {
        char action[64];
        snprintf(action, sizeof action, "%s_%s", w->res->noun, w->what);
        rc = w->res->audit(s, w->req, NULL, action, w->key, w->detail);
        w->detail = NULL;
    }
    return rc;
}

void lc_res_write(struct lc_res_write *w)
{
    int rc = lc_store_tx(w->store, run_write, w);
    json_decref(w->detail);
    w->detail = NULL;
    if (rc < 0) {
        json_decref(w->answer);
        if (rc != LC_ANSWERED) {
            char what[96];
            snprintf(what, sizeof what, "%s: %s", w->res->plural, w->what);
            lc_reply_internal(w->req, what);
        }
    } else if (w->answer != NULL) {
        lc_reply_json(w->req, w->status, w->answer);
    } else if (w->status == 204) {
        lc_reply_no_content(w->req);
    } else {
        lc_reply_json(w->req, w->status, lc_res_load(w->store, w->res, w->key));
    }
    w->answer = NULL;
}

/* Steps st once; SQLITE_DONE and the like (see sqlite3_step), or SQLITE_ERROR for no st. */
static int step(sqlite3_stmt *st)
{
    if (st == NULL)
        return SQLITE_ERROR;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc;
}

int lc_res_insert(struct lc_res_write *w, sqlite3_stmt *st)
{
    int rc = step(st);
    if (rc == SQLITE_CONSTRAINT) {
        lc_reply_error(w->req, 409, "exists", "the %s '%s' exists already", w->res->noun, w->key);
        return LC_ANSWERED;
    }
    return rc == SQLITE_DONE ? 0 : -EIO;
}

int lc_res_update(struct lc_res_write *w, sqlite3_stmt *st)
{
    if (step(st) != SQLITE_DONE)
        return -EIO;
    if (lc_store_changes(w->store) == 0)
        return lc_res_not_found(w->req, w->res, w->key);
    return 0;
}

int lc_res_update_key(struct lc_res_write *w, const char *sql)
{
    sqlite3_stmt *st = lc_store_stmt(w->store, sql);
    if (st != NULL)
        sqlite3_bind_text(st, 1, w->key, -1, SQLITE_TRANSIENT);
    return lc_res_update(w, st);
}

static int delete_row(struct lc_res_write *w)
{
    int rc = w->res->delete_check ? w->res->delete_check(w) : 0;
    if (rc < 0)
        return rc;
    if (rc == LC_RES_RETIRE && w->res->retire_sql != NULL) {
        sqlite3_stmt *st = lc_store_stmt(w->store, w->res->retire_sql);
        if (st != NULL) {
            sqlite3_bind_text(st, 1, w->key, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st, 2, lc_now());
        }
        w->what = "retire";   /* the audit entry "<noun>_retire" */
        w->status = 200;      /* answered with the row: its retired_at says what happened */
        return lc_res_update(w, st);
    }
    return lc_res_update_key(w, w->res->delete_sql);
}

void lc_res_delete(struct lc_req *req, struct lc_store *s, const struct lc_resource *res,
                   const char *key)
{
    struct lc_res_write w = {.req = req, .store = s, .res = res, .key = key, .fn = delete_row,
                             .status = 204, .what = "delete", .audit = true};
    lc_res_write(&w);
}

void lc_api_bind_query(struct lc_req *req, sqlite3_stmt *st, int idx, const char *name,
                       size_t size)
{
    char buf[256];
    if (lc_req_query(req, name, buf, size < sizeof buf ? size : sizeof buf))
        sqlite3_bind_text(st, idx, buf, -1, SQLITE_TRANSIENT);
}

int lc_api_routes(struct lc_router *r, const struct lc_api_route *t, size_t n, void *ctx)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = lc_router_add(r, t[i].method, t[i].pattern, t[i].roles, t[i].body, t[i].fn, ctx);
    return rc;
}

int lc_res_routes(struct lc_router *r, const struct lc_resource *res,
                  const struct lc_res_handlers *h, void *ctx)
{
    const struct lc_api_route t[] = {
        {HTTP_GET, res->path, res->readers, LC_BODY_NONE, h->list},
        {HTTP_POST, res->path, res->writers, LC_BODY_JSON, h->write},
        {HTTP_GET, res->item_path, res->readers, LC_BODY_NONE, h->get},
        {HTTP_PATCH, res->item_path, res->writers, LC_BODY_JSON, h->write},
        {HTTP_DELETE, res->item_path, res->writers, LC_BODY_NONE, h->del},
    };
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof t / sizeof t[0]; i++)
        if (t[i].fn != NULL)
            rc = lc_api_routes(r, &t[i], 1, ctx);
    return rc;
}
