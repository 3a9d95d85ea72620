/* server/registry/communes.c — the communes API; see registry.h. */
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "server/api/api.h"
#include "server/accounts/audit.h"
#include "server/registry/registry.h"
#include "server/http/router.h"
#include "server/store/store.h"

#define MAX_POPULATION 100000000LL

static const char select_one[] =
    "SELECT id, name, population, created_at,"
    " (SELECT count(*) FROM clusters c WHERE c.commune = communes.id)"
    " FROM communes WHERE id = ?";

static json_t *commune_json(sqlite3_stmt *st)
{
    return json_pack("{s:s,s:s,s:I,s:o,s:I}", "id", lc_col_text(st, 0), "name", lc_col_text(st, 1),
                     "population", (json_int_t)sqlite3_column_int64(st, 2), "created_at",
                     lc_time_json(sqlite3_column_int64(st, 3)), "clusters",
                     (json_int_t)sqlite3_column_int64(st, 4));
}

static json_t *load(struct lc_app *app, const char *id)
{
    sqlite3_stmt *st = lc_store_stmt(app->store, select_one);
    if (st == NULL)
        return NULL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    json_t *o = sqlite3_step(st) == SQLITE_ROW ? commune_json(st) : NULL;
    sqlite3_reset(st);
    return o;
}

bool lc_commune_exists(struct lc_store *store, const char *id)
{
    static const char sql[] = "SELECT 1 FROM communes WHERE id = ?";
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL)
        return false;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    bool ok = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return ok;
}

static void get_communes(struct lc_req *req)
{
    static const char sql[] =
        "SELECT id, name, population, created_at,"
        " (SELECT count(*) FROM clusters c WHERE c.commune = communes.id)"
        " FROM communes ORDER BY id";
    sqlite3_stmt *st = lc_store_stmt(lc_app(req)->store, sql);
    if (st == NULL) {
        lc_reply_internal(req, "communes");
        return;
    }
    json_t *list = json_array();
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(list, commune_json(st));
    sqlite3_reset(st);
    lc_reply_json(req, 200, json_pack("{s:o}", "communes", list));
}

static void get_commune(struct lc_req *req)
{
    json_t *o = load(lc_app(req), req->params[0]);
    if (o == NULL) {
        lc_reply_error(req, 404, "not_found", "no commune '%.64s'", req->params[0]);
        return;
    }
    lc_reply_json(req, 200, o);
}

static void post_commune(struct lc_req *req)
{
    static const char *const fields[] = {"id", "name", "population", NULL};
    static const char ins[] = "INSERT INTO communes (id, name, population, created_at) VALUES (?,?,?,?)";
    struct lc_app *app = lc_app(req);
    const char *id = NULL, *name = NULL;
    long long pop = 0;
    json_t *body = lc_api_body(req, fields);
    if (body == NULL)
        return;
    if (lc_api_string(req, body, "id", true, 64, &id) < 0 ||
        lc_api_string(req, body, "name", true, 200, &name) < 0 ||
        lc_api_int(req, body, "population", false, 0, MAX_POPULATION, &pop) < 0)
        goto out;
    if (!lc_slug_ok(id)) {
        lc_reply_error(req, 422, "invalid", "id must be a slug: a-z, 0-9 and single '-', e.g. quang-phu");
        goto out;
    }
    if (name[0] == '\0') {
        lc_reply_error(req, 422, "invalid", "name must not be empty");
        goto out;
    }
    if (lc_store_begin(app->store) < 0) {
        lc_reply_internal(req, "communes: begin");
        goto out;
    }
    sqlite3_stmt *st = lc_store_stmt(app->store, ins);
    if (st == NULL)
        goto fail;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, pop);
    sqlite3_bind_int64(st, 4, lc_now());
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step == SQLITE_CONSTRAINT) {
        lc_store_rollback(app->store);
        lc_reply_error(req, 409, "exists", "the commune '%s' exists already", id);
        goto out;
    }
    if (step != SQLITE_DONE ||
        lc_audit(app->store, req, NULL, "commune_create", id, json_pack("{s:s,s:I}", "name", name,
                                                                 "population", (json_int_t)pop)) < 0 ||
        lc_store_commit(app->store) < 0)
        goto fail;
    lc_reply_json(req, 201, load(app, id));
    goto out;
fail:
    lc_store_rollback(app->store);
    lc_reply_internal(req, "communes: insert");
out:
    json_decref(body);
}

static void patch_commune(struct lc_req *req)
{
    static const char *const fields[] = {"name", "population", NULL};
    static const char upd[] =
        "UPDATE communes SET name = coalesce(?, name), population = coalesce(?, population)"
        " WHERE id = ?";
    struct lc_app *app = lc_app(req);
    const char *id = req->params[0], *name = NULL;
    long long pop = -1;
    json_t *body = lc_api_body(req, fields);
    if (body == NULL)
        return;
    if (lc_api_string(req, body, "name", false, 200, &name) < 0 ||
        lc_api_int(req, body, "population", false, 0, MAX_POPULATION, &pop) < 0)
        goto out;
    if (name != NULL && name[0] == '\0') {
        lc_reply_error(req, 422, "invalid", "name must not be empty");
        goto out;
    }
    if (lc_store_begin(app->store) < 0) {
        lc_reply_internal(req, "communes: begin");
        goto out;
    }
    sqlite3_stmt *st = lc_store_stmt(app->store, upd);
    if (st == NULL)
        goto fail;
    if (name)
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    if (pop >= 0)
        sqlite3_bind_int64(st, 2, pop);
    sqlite3_bind_text(st, 3, id, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        goto fail;
    if (lc_store_changes(app->store) == 0) {
        lc_store_rollback(app->store);
        lc_reply_error(req, 404, "not_found", "no commune '%.64s'", id);
        goto out;
    }
    json_t *detail = json_object();
    if (name)
        json_object_set_new(detail, "name", json_string(name));
    if (pop >= 0)
        json_object_set_new(detail, "population", json_integer(pop));
    if (lc_audit(app->store, req, NULL, "commune_update", id, detail) < 0 || lc_store_commit(app->store) < 0)
        goto fail;
    lc_reply_json(req, 200, load(app, id));
    goto out;
fail:
    lc_store_rollback(app->store);
    lc_reply_internal(req, "communes: update");
out:
    json_decref(body);
}

static void delete_commune(struct lc_req *req)
{
    static const char used[] =
        "SELECT (SELECT count(*) FROM clusters WHERE commune = ?1)"
        " + (SELECT count(*) FROM bulletin_communes WHERE commune = ?1)";
    static const char del[] = "DELETE FROM communes WHERE id = ?";
    struct lc_app *app = lc_app(req);
    const char *id = req->params[0];
    if (lc_store_begin(app->store) < 0) {
        lc_reply_internal(req, "communes: begin");
        return;
    }
    sqlite3_stmt *st = lc_store_stmt(app->store, used);
    if (st == NULL)
        goto fail;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    long long n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    if (n < 0)
        goto fail;
    if (n > 0) {
        lc_store_rollback(app->store);
        lc_reply_error(req, 409, "conflict",
                       "the commune still has clusters or bulletins; remove those first");
        return;
    }
    st = lc_store_stmt(app->store, del);
    if (st == NULL)
        goto fail;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        goto fail;
    if (lc_store_changes(app->store) == 0) {
        lc_store_rollback(app->store);
        lc_reply_error(req, 404, "not_found", "no commune '%.64s'", id);
        return;
    }
    if (lc_audit(app->store, req, NULL, "commune_delete", id, NULL) < 0 || lc_store_commit(app->store) < 0)
        goto fail;
    lc_reply_no_content(req);
    return;
fail:
    lc_store_rollback(app->store);
    lc_reply_internal(req, "communes: delete");
}

int lc_communes_routes(struct lc_router *r)
{
    const unsigned w = LC_ROLE_ADMIN | LC_ROLE_OPERATOR;
    int rc = 0;
    if (rc == 0) rc = lc_router_add(r, HTTP_GET, "/api/v1/communes", LC_ROLES_STAFF, LC_BODY_NONE, get_communes);
    if (rc == 0) rc = lc_router_add(r, HTTP_POST, "/api/v1/communes", w, LC_BODY_JSON, post_commune);
    if (rc == 0) rc = lc_router_add(r, HTTP_GET, "/api/v1/communes/{id}", LC_ROLES_STAFF, LC_BODY_NONE, get_commune);
    if (rc == 0) rc = lc_router_add(r, HTTP_PATCH, "/api/v1/communes/{id}", w, LC_BODY_JSON, patch_commune);
    if (rc == 0) rc = lc_router_add(r, HTTP_DELETE, "/api/v1/communes/{id}", w, LC_BODY_NONE, delete_commune);
    return rc;
}
