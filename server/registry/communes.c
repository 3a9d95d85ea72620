/* server/registry/communes.c — the communes API; see registry.h. */
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "server/api/api.h"
#include "server/accounts/accounts.h"
#include "server/registry/registry_internal.h"
#include "server/http/http.h"
#include "server/org/org.h"
#include "server/store/store.h"

#define MAX_POPULATION 100000000LL

static json_t *commune_json(sqlite3_stmt *st)
{
    return json_pack("{s:s,s:s,s:I,s:o,s:I,s:o,s:o,s:I}", "id", lc_col_text(st, 0), "name",
                     lc_col_text(st, 1), "population", (json_int_t)sqlite3_column_int64(st, 2),
                     "created_at", lc_time_json(sqlite3_column_int64(st, 3)), "clusters",
                     (json_int_t)sqlite3_column_int64(st, 4), "retired_at",
                     lc_col_is_null(st, 5) ? json_null() : lc_time_json(sqlite3_column_int64(st, 5)),
                     "code", lc_col_is_null(st, 6) ? json_null() : json_string(lc_col_text(st, 6)),
                     "node", (json_int_t)sqlite3_column_int64(st, 7));
}

#define SELECT_COMMUNES                                                                           \
    "SELECT id, name, population, created_at,"                                                    \
    " (SELECT count(*) FROM clusters c WHERE c.commune = communes.id AND c.retired_at IS NULL),"  \
    " retired_at, code, node FROM communes"
/* Staff see and change the communes of their node's subtree only (server/org/org.h). */
#define IN_SCOPE " node IN " LC_SCOPE_NODES

/* DELETE: refused while a session of the commune is on air (the scheduler's broadcasts, read)
 * or while it has clusters in service; a commune with history (sessions aired, deliveries,
 * bulletins or clusters that named it) is retired, one without is deleted. */
static int delete_check(struct lc_res_write *w)
{
    static const char used[] =
        "SELECT retired_at IS NOT NULL,"
        " (SELECT count(*) FROM clusters WHERE commune = ?1 AND retired_at IS NULL),"
        " EXISTS (SELECT 1 FROM broadcasts WHERE commune = ?1 AND status = 'on_air'),"
        " EXISTS (SELECT 1 FROM broadcasts WHERE commune = ?1 AND status <> 'scheduled')"
        "  OR EXISTS (SELECT 1 FROM deliveries WHERE commune = ?1)"
        "  OR EXISTS (SELECT 1 FROM bulletin_communes WHERE commune = ?1)"
        "  OR EXISTS (SELECT 1 FROM clusters WHERE commune = ?1)"
        " FROM communes WHERE id = ?1";
    sqlite3_stmt *st = lc_store_stmt(w->store, used);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, w->key, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    bool retired = step == SQLITE_ROW && sqlite3_column_int(st, 0);
    long long clusters = step == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
    bool on_air = step == SQLITE_ROW && sqlite3_column_int(st, 2);
    bool history = step == SQLITE_ROW && sqlite3_column_int(st, 3);
    if (lc_store_done(st) < 0)
        return -EIO;
    if (step == SQLITE_DONE)
        return lc_res_not_found(w->req, w->res, w->key);
    if (step != SQLITE_ROW)
        return -EIO;
    if (retired) {
        lc_reply_error(w->req, 409, "conflict", "the commune is retired already");
        return LC_ANSWERED;
    }
    if (on_air) {
        lc_reply_error(w->req, 409, "conflict", "a session of the commune is on air now");
        return LC_ANSWERED;
    }
    if (clusters > 0) {
        lc_reply_error(w->req, 409, "conflict",
                       "the commune still has %lld clusters in service; remove or move them first",
                       clusters);
        return LC_ANSWERED;
    }
    return history ? LC_RES_RETIRE : 0;
}

static const struct lc_resource communes = {
    .noun = "commune", .key_chars = 64, .plural = "communes",
    .list_sql = SELECT_COMMUNES " WHERE (retired_at IS NULL OR ?1 = 1) AND" IN_SCOPE " ORDER BY id",
    .one_sql = SELECT_COMMUNES " WHERE id = ?1 AND" IN_SCOPE,
    .row_json = commune_json,
    .path = "/api/v1/communes", .item_path = "/api/v1/communes/{id}",
    .readers = LC_ROLES_STAFF, .writers = LC_REGISTRY_WRITERS, .audit = lc_audit,
    .delete_sql = "DELETE FROM communes WHERE id = ?1", .delete_check = delete_check,
    .retire_sql = "UPDATE communes SET retired_at = ?2 WHERE id = ?1 AND retired_at IS NULL",
};

/* 1 if sql (one row for ?1) finds a row, 0 if none, -EIO if the read failed. */
static int commune_row(struct lc_store *store, const char *sql, const char *id, int64_t scope)
{
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    lc_store_bind_scope(st, scope);
    int step = sqlite3_step(st);
    if (lc_store_done(st) < 0 || (step != SQLITE_ROW && step != SQLITE_DONE))
        return -EIO;
    return step == SQLITE_ROW;
}

static int require(struct lc_req *req, struct lc_store *store, const char *sql, const char *id,
                   int missing)
{
    /* one outside the caller's subtree is answered as one that does not exist */
    int found = strlen(id) > 64 ? 0 : commune_row(store, sql, id, req->node);
    if (found > 0)
        return 0;
    if (found < 0)
        lc_reply_internal(req, "communes");
    else
        lc_reply_error(req, missing, missing == 404 ? "not_found" : "invalid", "%s commune '%.64s'",
                       missing == 404 ? "no" : "unknown", id);
    return -1;
}

int lc_commune_require(struct lc_req *req, struct lc_store *store, const char *id, int missing)
{
    return require(req, store,
                   "SELECT 1 FROM communes WHERE id = ?1 AND retired_at IS NULL AND" IN_SCOPE, id,
                   missing);
}

int lc_commune_require_recorded(struct lc_req *req, struct lc_store *store, const char *id,
                                int missing)
{
    return require(req, store, "SELECT 1 FROM communes WHERE id = ?1 AND" IN_SCOPE, id, missing);
}

json_t *lc_communes_param(struct lc_req *req, struct lc_store *store, json_t *list)
{
    json_t *v, *out;
    size_t i;
    if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > 10000) {
        lc_reply_error(req, 400, "bad_field", "communes must be a non-empty list of ids, or [\"*\"]");
        return NULL;
    }
    json_array_foreach(list, i, v)
        if (!json_is_string(v)) {
            lc_reply_error(req, 400, "bad_field", "communes must be a list of ids");
            return NULL;
        }
    if (json_array_size(list) == 1 && strcmp(json_string_value(json_array_get(list, 0)), "*") == 0)
        out = json_pack("[s]", "*");
    else if ((out = json_array()) != NULL) {
        json_array_foreach(list, i, v) {
            const char *id = json_string_value(v);
            if (strcmp(id, "*") == 0) {
                lc_reply_error(req, 422, "invalid", "\"*\" stands alone: every commune");
                json_decref(out);
                return NULL;
            }
            if (lc_commune_require(req, store, id, 422) < 0) {
                json_decref(out);
                return NULL;
            }
            bool dup = false;
            size_t k;
            json_t *w;
            json_array_foreach(out, k, w)
                dup = dup || strcmp(json_string_value(w), id) == 0;
            if (!dup)
                json_array_append(out, v);
        }
    }
    if (out == NULL)
        lc_reply_internal(req, "communes: memory");
    return out;
}

static void get_communes(struct lc_req *req, void *ctx)
{
    struct lc_registry *reg = ctx;
    lc_res_list(req, reg->d.store, &communes);
}

static void get_commune(struct lc_req *req, void *ctx)
{
    struct lc_registry *reg = ctx;
    lc_res_get(req, reg->d.store, &communes, req->params[0]);
}

/* A commune's fields from a POST or PATCH body; absent: NULL and -1. code: the administrative
 * unit code (mã đơn vị hành chính, digits) that CAP alerts' geocodes name (server/alerts/);
 * "" clears it. */
struct fields {
    const char *name;
    long long population;
    const char *code;
    long long node;     /* the node it belongs to; 0: unchanged (PATCH) */
};

/* The code must not be another commune's (unique index communes_code): 409 naming it. */
static int code_free(struct lc_res_write *w, const char *code)
{
    static const char sql[] = "SELECT id FROM communes WHERE code = ?1 AND id <> ?2";
    if (code == NULL || code[0] == '\0')
        return 0;
    sqlite3_stmt *st = lc_store_stmt(w->store, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, w->key, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    char other[65];
    snprintf(other, sizeof other, "%s", step == SQLITE_ROW ? lc_col_text(st, 0) : "");
    if (lc_store_done(st) < 0 || (step != SQLITE_ROW && step != SQLITE_DONE))
        return -EIO;
    if (step == SQLITE_ROW) {
        lc_reply_error(w->req, 409, "conflict", "code %s belongs to commune '%s' already", code,
                       other);
        return LC_ANSWERED;
    }
    return 0;
}

static int insert_commune(struct lc_res_write *w)
{
    static const char ins[] =
        "INSERT INTO communes (id, name, population, created_at, code, node)"
        " VALUES (?1, ?2, ?3, ?4, nullif(?5, ''), ?6)";
    const struct fields *f = w->arg;
    long long pop = f->population < 0 ? 0 : f->population;
    int rc = code_free(w, f->code);
    if (rc < 0)
        return rc;
    sqlite3_stmt *st = lc_store_stmt(w->store, ins);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, w->key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, f->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, pop);
    sqlite3_bind_int64(st, 4, lc_now());
    sqlite3_bind_text(st, 5, f->code, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, f->node);
    w->detail = json_pack("{s:s,s:I,s:I}", "name", f->name, "population", (json_int_t)pop, "node",
                          (json_int_t)f->node);
    if (f->code && f->code[0])
        json_object_set_new(w->detail, "code", json_string(f->code));
    return lc_res_insert(w, st);
}

static int update_commune(struct lc_res_write *w)
{
    static const char upd[] =
        "UPDATE communes SET name = coalesce(?2, name), population = coalesce(?3, population),"
        " code = CASE WHEN ?4 IS NULL THEN code ELSE nullif(?4, '') END, node = coalesce(?5, node)"
        " WHERE id = ?1 AND retired_at IS NULL";
    const struct fields *f = w->arg;
    int rc = code_free(w, f->code);
    if (rc < 0)
        return rc;
    sqlite3_stmt *st = lc_store_stmt(w->store, upd);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, w->key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, f->name, -1, SQLITE_TRANSIENT);    /* NULL binds NULL */
    if (f->population >= 0)
        sqlite3_bind_int64(st, 3, f->population);
    sqlite3_bind_text(st, 4, f->code, -1, SQLITE_TRANSIENT);
    if (f->node > 0)
        sqlite3_bind_int64(st, 5, f->node);
    w->detail = json_object();
    if (f->node > 0)
        json_object_set_new(w->detail, "node", json_integer(f->node));
    if (f->code)
        json_object_set_new(w->detail, "code", f->code[0] ? json_string(f->code) : json_null());
    if (f->name)
        json_object_set_new(w->detail, "name", json_string(f->name));
    if (f->population >= 0)
        json_object_set_new(w->detail, "population", json_integer(f->population));
    return lc_res_update(w, st);
}

/* POST (create) and PATCH (change) of a commune: the body's checks, then the write. */
static void write_commune(struct lc_req *req, void *ctx)
{
    static const char *const post_fields[] = {"id", "name", "population", "code", "node", NULL};
    static const char *const patch_fields[] = {"name", "population", "code", "node", NULL};
    struct lc_registry *reg = ctx;
    bool create = req->method == HTTP_POST;
    struct fields f = {NULL, -1, NULL, 0};
    const char *id = create ? NULL : req->params[0];
    json_t *body = lc_api_body(req, create ? post_fields : patch_fields);
    if (body == NULL)
        return;
    if ((create && lc_api_string(req, body, "id", true, 64, &id) < 0) ||
        lc_api_string(req, body, "name", create, 200, &f.name) < 0 ||
        lc_api_int(req, body, "population", false, 0, MAX_POPULATION, &f.population) < 0 ||
        lc_api_string(req, body, "code", false, 16, &f.code) < 0 ||
        lc_api_int(req, body, "node", false, 1, INT64_MAX, &f.node) < 0)
        goto out;
    if (create && f.node == 0)
        f.node = req->node > 0 ? req->node : 1;
    if (f.node > 0 && lc_org_require(req, reg->d.store, f.node, 422) < 0)
        goto out;
    if (f.code != NULL && f.code[0] != '\0' && strspn(f.code, "0123456789") != strlen(f.code)) {
        lc_reply_error(req, 422, "invalid", "code must be the administrative unit code: digits, "
                       "e.g. 26734");
        goto out;
    }
    if (create && !lc_slug_ok(id)) {
        lc_reply_error(req, 422, "invalid", "id must be a slug: a-z, 0-9 and single '-', e.g. quang-phu");
        goto out;
    }
    if (f.name != NULL && f.name[0] == '\0') {
        lc_reply_error(req, 422, "invalid", "name must not be empty");
        goto out;
    }
    struct lc_res_write w = {
        .req = req, .store = reg->d.store, .res = &communes, .key = id, .arg = &f,
        .fn = create ? insert_commune : update_commune, .status = create ? 201 : 200,
        .what = create ? "create" : "update", .audit = true,
    };
    lc_res_write(&w);
out:
    json_decref(body);
}

static void delete_commune(struct lc_req *req, void *ctx)
{
    struct lc_registry *reg = ctx;
    lc_res_delete(req, reg->d.store, &communes, req->params[0]);
}

int lc_communes_routes(struct lc_registry *reg, struct lc_router *r)
{
    static const struct lc_res_handlers h = {get_communes, get_commune, write_commune,
                                             delete_commune};
    return lc_res_routes(r, &communes, &h, reg);
}
