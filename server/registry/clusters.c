/* server/registry/clusters.c — the clusters API and receiver tokens; see registry.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>
#include <sodium.h>

#include "server/api/api.h"
#include "server/accounts/audit.h"
#include "server/accounts/auth.h"
#include "server/registry/registry.h"
#include "server/http/router.h"
#include "server/store/store.h"

#define COLS "id, commune, name, lat, lon, speakers, population, token_issued_at, last_seen, created_at, status, status_at"

static const char select_one[] = "SELECT " COLS " FROM clusters WHERE id = ?";

static json_t *nullable_real(sqlite3_stmt *st, int i)
{
    return lc_col_is_null(st, i) ? json_null() : json_real(sqlite3_column_double(st, i));
}

static json_t *cluster_json(sqlite3_stmt *st)
{
    json_t *status = lc_col_is_null(st, 10) ? NULL : json_loads(lc_col_text(st, 10), 0, NULL);
    json_t *o = json_pack("{s:s,s:s,s:s,s:o,s:o,s:I,s:I,s:o,s:o,s:o}", "id", lc_col_text(st, 0),
                     "commune", lc_col_text(st, 1), "name", lc_col_text(st, 2), "lat",
                     nullable_real(st, 3), "lon", nullable_real(st, 4), "speakers",
                     (json_int_t)sqlite3_column_int64(st, 5), "population",
                     (json_int_t)sqlite3_column_int64(st, 6), "token_issued_at",
                     lc_time_json(sqlite3_column_int64(st, 7)), "last_seen",
                     lc_col_is_null(st, 8) ? json_null() : lc_time_json(sqlite3_column_int64(st, 8)),
                     "created_at", lc_time_json(sqlite3_column_int64(st, 9)));
    json_object_set_new(o, "status", status ? status : json_null());
    json_object_set_new(o, "status_at", lc_col_is_null(st, 11) ? json_null()
                                                               : lc_time_json(sqlite3_column_int64(st, 11)));
    return o;
}

static json_t *load(struct lc_app *app, const char *id)
{
    sqlite3_stmt *st = lc_store_stmt(app->store, select_one);
    if (st == NULL)
        return NULL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    json_t *o = sqlite3_step(st) == SQLITE_ROW ? cluster_json(st) : NULL;
    sqlite3_reset(st);
    return o;
}

int lc_cluster_check_token(struct lc_store *store, const char *cluster, const char *token)
{
    static const char sql[] = "SELECT token_hash FROM clusters WHERE id = ?";
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, cluster, -1, SQLITE_TRANSIENT);
    int rc = -ENOENT;
    if (sqlite3_step(st) == SQLITE_ROW) {
        char th[LC_TOKEN_HASH_LEN];
        lc_token_hash(token, th);
        rc = sodium_memcmp(th, lc_col_text(st, 0), LC_TOKEN_HASH_LEN - 1) == 0 ? 0 : -EACCES;
    }
    sqlite3_reset(st);
    return rc;
}

/* True when the cluster was reached in none of its commune's last n aired sessions (and at
 * least n sessions aired since it was registered): a receiver that connects but never gets the
 * programme through is as silent as one that never connects. */
static bool unreached_recently(struct lc_app *app, const char *cluster, const char *commune,
                               int64_t created_at, int n)
{
    static const char sql[] =
        "SELECT COUNT(*), COALESCE(SUM(EXISTS (SELECT 1 FROM deliveries_current d"
        "   WHERE d.session = s.id AND d.cluster = ?2 AND d.reached = 1)), 0)"
        " FROM (SELECT b.id FROM broadcasts b WHERE b.commune = ?1 AND b.host IS NULL"
        "   AND b.status IN ('done', 'interrupted') AND b.start_at >= ?3"
        "   ORDER BY b.start_at DESC LIMIT ?4) s";
    sqlite3_stmt *st = lc_store_stmt(app->store, sql);
    if (st == NULL)
        return false;
    sqlite3_bind_text(st, 1, commune, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, cluster, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, created_at);
    sqlite3_bind_int(st, 4, n);
    bool flag = false;
    if (sqlite3_step(st) == SQLITE_ROW)
        flag = sqlite3_column_int(st, 0) >= n && sqlite3_column_int(st, 1) == 0;
    sqlite3_reset(st);
    return flag;
}

/* GET /api/v1/clusters[?commune=][&status=online|offline]: each cluster with "online" (seen
 * within [coverage] offline_after_s) and "unreached_recently" (see above). */
static void get_clusters(struct lc_req *req)
{
    static const char sql[] =
        "SELECT " COLS " FROM clusters WHERE (?1 IS NULL OR commune = ?1)"
        " AND (?2 IS NULL OR (?2 = 'offline') = (last_seen IS NULL OR last_seen < ?3))"
        " ORDER BY commune, id";
    struct lc_app *app = lc_app(req);
    char commune[80], status[16];
    const char *want = lc_req_query(req, "status", status, sizeof status);
    if (want != NULL && strcmp(want, "online") != 0 && strcmp(want, "offline") != 0) {
        lc_reply_error(req, 400, "bad_query", "status must be online or offline");
        return;
    }
    int64_t since = lc_now() - app->cfg.offline_after_s;
    sqlite3_stmt *st = lc_store_stmt(app->store, sql);
    if (st == NULL) {
        lc_reply_internal(req, "clusters");
        return;
    }
    if (lc_req_query(req, "commune", commune, sizeof commune))
        sqlite3_bind_text(st, 1, commune, -1, SQLITE_TRANSIENT);
    if (want != NULL)
        sqlite3_bind_text(st, 2, want, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, since);
    json_t *list = json_array();
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *o = cluster_json(st);
        bool online = !lc_col_is_null(st, 8) && sqlite3_column_int64(st, 8) >= since;
        json_object_set_new(o, "online", json_boolean(online));
        json_array_append_new(list, o);
    }
    sqlite3_reset(st);
    /* The flags need other statements: after the listing statement is reset. */
    size_t i;
    json_t *o;
    json_array_foreach(list, i, o) {
        int64_t created = 0;
        lc_time_parse(json_string_value(json_object_get(o, "created_at")), &created);
        json_object_set_new(
            o, "unreached_recently",
            json_boolean(unreached_recently(app, json_string_value(json_object_get(o, "id")),
                                            json_string_value(json_object_get(o, "commune")),
                                            created, app->cfg.unreached_sessions)));
    }
    lc_reply_json(req, 200, json_pack("{s:o}", "clusters", list));
}

static void get_cluster(struct lc_req *req)
{
    json_t *o = load(lc_app(req), req->params[0]);
    if (o == NULL) {
        lc_reply_error(req, 404, "not_found", "no cluster '%.64s'", req->params[0]);
        return;
    }
    lc_reply_json(req, 200, o);
}

struct fields {
    const char *commune, *name;
    double lat, lon;
    bool has_lat, has_lon;
    long long speakers, population;
};

static int read_fields(struct lc_req *req, json_t *body, struct fields *f, bool create)
{
    if (lc_api_string(req, body, "commune", create, 64, &f->commune) < 0 ||
        lc_api_string(req, body, "name", create, 200, &f->name) < 0 ||
        lc_api_number(req, body, "lat", false, -90, 90, &f->lat, &f->has_lat) < 0 ||
        lc_api_number(req, body, "lon", false, -180, 180, &f->lon, &f->has_lon) < 0 ||
        lc_api_int(req, body, "speakers", false, 0, 1000, &f->speakers) < 0 ||
        lc_api_int(req, body, "population", false, 0, 100000000, &f->population) < 0)
        return -1;
    if (f->name != NULL && f->name[0] == '\0') {
        lc_reply_error(req, 422, "invalid", "name must not be empty");
        return -1;
    }
    if (f->commune != NULL && !lc_commune_exists(lc_app(req)->store, f->commune)) {
        lc_reply_error(req, 422, "invalid", "unknown commune '%.64s'", f->commune);
        return -1;
    }
    return 0;
}

static void post_cluster(struct lc_req *req)
{
    static const char *const names[] = {"id", "commune", "name", "lat", "lon", "speakers",
                                        "population", NULL};
    static const char ins[] =
        "INSERT INTO clusters (id, commune, name, lat, lon, speakers, population, token_hash,"
        " token_issued_at, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)";
    static const char taken[] = "SELECT 1 FROM clusters WHERE id = ?";
    struct lc_app *app = lc_app(req);
    struct fields f = {.speakers = 1};
    const char *given = NULL;
    char id[80];
    json_t *body = lc_api_body(req, names);
    if (body == NULL)
        return;
    if (lc_api_string(req, body, "id", false, 64, &given) < 0 || read_fields(req, body, &f, true) < 0)
        goto out;
    if (given != NULL) {
        if (!lc_slug_ok(given)) {
            lc_reply_error(req, 422, "invalid", "id must be a slug: a-z, 0-9 and single '-'");
            goto out;
        }
        snprintf(id, sizeof id, "%s", given);
    } else {
        /* The first free <commune>-<n>. */
        sqlite3_stmt *st = lc_store_stmt(app->store, taken);
        if (st == NULL) {
            lc_reply_internal(req, "clusters: id");
            goto out;
        }
        for (int n = 1;; n++) {
            snprintf(id, sizeof id, "%.60s-%d", f.commune, n);
            sqlite3_reset(st);
            sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
            if (sqlite3_step(st) != SQLITE_ROW)
                break;
        }
        sqlite3_reset(st);
    }
    char token[LC_TOKEN_LEN], th[LC_TOKEN_HASH_LEN];
    lc_token_new(token);
    lc_token_hash(token, th);
    int64_t now = lc_now();
    if (lc_store_begin(app->store) < 0) {
        lc_reply_internal(req, "clusters: begin");
        goto out;
    }
    sqlite3_stmt *st = lc_store_stmt(app->store, ins);
    if (st == NULL)
        goto fail;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, f.commune, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, f.name, -1, SQLITE_TRANSIENT);
    if (f.has_lat)
        sqlite3_bind_double(st, 4, f.lat);
    if (f.has_lon)
        sqlite3_bind_double(st, 5, f.lon);
    sqlite3_bind_int64(st, 6, f.speakers);
    sqlite3_bind_int64(st, 7, f.population);
    sqlite3_bind_text(st, 8, th, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 9, now);
    sqlite3_bind_int64(st, 10, now);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step == SQLITE_CONSTRAINT) {
        lc_store_rollback(app->store);
        lc_reply_error(req, 409, "exists", "the cluster '%s' exists already", id);
        goto out;
    }
    if (step != SQLITE_DONE ||
        lc_audit(app->store, req, NULL, "cluster_create", id, json_pack("{s:s}", "commune", f.commune)) < 0 ||
        lc_audit(app->store, req, NULL, "cluster_token", id, json_pack("{s:s}", "reason", "created")) < 0 ||
        lc_store_commit(app->store) < 0)
        goto fail;
    json_t *o = load(app, id);
    json_object_set_new(o, "token", json_string(token));
    sodium_memzero(token, sizeof token);
    lc_reply_json(req, 201, o);
    goto out;
fail:
    lc_store_rollback(app->store);
    lc_reply_internal(req, "clusters: insert");
out:
    json_decref(body);
}

static void patch_cluster(struct lc_req *req)
{
    static const char *const names[] = {"commune", "name", "lat", "lon", "speakers", "population",
                                        NULL};
    static const char upd[] =
        "UPDATE clusters SET commune = coalesce(?1, commune), name = coalesce(?2, name),"
        " lat = CASE WHEN ?3 THEN ?4 ELSE lat END, lon = CASE WHEN ?5 THEN ?6 ELSE lon END,"
        " speakers = coalesce(?7, speakers), population = coalesce(?8, population) WHERE id = ?9";
    struct lc_app *app = lc_app(req);
    const char *id = req->params[0];
    struct fields f = {.speakers = -1, .population = -1};
    json_t *body = lc_api_body(req, names);
    if (body == NULL)
        return;
    if (read_fields(req, body, &f, false) < 0)
        goto out;
    if (lc_store_begin(app->store) < 0) {
        lc_reply_internal(req, "clusters: begin");
        goto out;
    }
    sqlite3_stmt *st = lc_store_stmt(app->store, upd);
    if (st == NULL)
        goto fail;
    if (f.commune)
        sqlite3_bind_text(st, 1, f.commune, -1, SQLITE_TRANSIENT);
    if (f.name)
        sqlite3_bind_text(st, 2, f.name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 3, f.has_lat);
    if (f.has_lat)
        sqlite3_bind_double(st, 4, f.lat);
    sqlite3_bind_int(st, 5, f.has_lon);
    if (f.has_lon)
        sqlite3_bind_double(st, 6, f.lon);
    if (f.speakers >= 0)
        sqlite3_bind_int64(st, 7, f.speakers);
    if (f.population >= 0)
        sqlite3_bind_int64(st, 8, f.population);
    sqlite3_bind_text(st, 9, id, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        goto fail;
    if (lc_store_changes(app->store) == 0) {
        lc_store_rollback(app->store);
        lc_reply_error(req, 404, "not_found", "no cluster '%.64s'", id);
        goto out;
    }
    json_t *detail = json_deep_copy(body);
    if (lc_audit(app->store, req, NULL, "cluster_update", id, detail) < 0 || lc_store_commit(app->store) < 0)
        goto fail;
    lc_reply_json(req, 200, load(app, id));
    goto out;
fail:
    lc_store_rollback(app->store);
    lc_reply_internal(req, "clusters: update");
out:
    json_decref(body);
}

static void delete_cluster(struct lc_req *req)
{
    static const char del[] = "DELETE FROM clusters WHERE id = ?";
    struct lc_app *app = lc_app(req);
    const char *id = req->params[0];
    if (lc_store_begin(app->store) < 0) {
        lc_reply_internal(req, "clusters: begin");
        return;
    }
    sqlite3_stmt *st = lc_store_stmt(app->store, del);
    if (st == NULL)
        goto fail;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        goto fail;
    if (lc_store_changes(app->store) == 0) {
        lc_store_rollback(app->store);
        lc_reply_error(req, 404, "not_found", "no cluster '%.64s'", id);
        return;
    }
    if (lc_audit(app->store, req, NULL, "cluster_delete", id, NULL) < 0 || lc_store_commit(app->store) < 0)
        goto fail;
    lc_reply_no_content(req);
    return;
fail:
    lc_store_rollback(app->store);
    lc_reply_internal(req, "clusters: delete");
}

static void post_token(struct lc_req *req)
{
    static const char upd[] = "UPDATE clusters SET token_hash = ?, token_issued_at = ? WHERE id = ?";
    struct lc_app *app = lc_app(req);
    const char *id = req->params[0];
    char token[LC_TOKEN_LEN], th[LC_TOKEN_HASH_LEN];
    lc_token_new(token);
    lc_token_hash(token, th);
    int64_t now = lc_now();
    if (lc_store_begin(app->store) < 0) {
        lc_reply_internal(req, "clusters: begin");
        return;
    }
    sqlite3_stmt *st = lc_store_stmt(app->store, upd);
    if (st == NULL)
        goto fail;
    sqlite3_bind_text(st, 1, th, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_text(st, 3, id, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        goto fail;
    if (lc_store_changes(app->store) == 0) {
        lc_store_rollback(app->store);
        lc_reply_error(req, 404, "not_found", "no cluster '%.64s'", id);
        return;
    }
    if (lc_audit(app->store, req, NULL, "cluster_token", id, json_pack("{s:s}", "reason", "rotated")) < 0 ||
        lc_store_commit(app->store) < 0)
        goto fail;
    lc_reply_json(req, 200, json_pack("{s:s,s:s,s:o}", "id", id, "token", token,
                                      "token_issued_at", lc_time_json(now)));
    sodium_memzero(token, sizeof token);
    return;
fail:
    lc_store_rollback(app->store);
    lc_reply_internal(req, "clusters: token");
}

int lc_clusters_routes(struct lc_router *r)
{
    const unsigned w = LC_ROLE_ADMIN | LC_ROLE_OPERATOR;
    int rc = 0;
    if (rc == 0) rc = lc_router_add(r, HTTP_GET, "/api/v1/clusters", LC_ROLES_STAFF, LC_BODY_NONE, get_clusters);
    if (rc == 0) rc = lc_router_add(r, HTTP_POST, "/api/v1/clusters", w, LC_BODY_JSON, post_cluster);
    if (rc == 0) rc = lc_router_add(r, HTTP_GET, "/api/v1/clusters/{id}", LC_ROLES_STAFF, LC_BODY_NONE, get_cluster);
    if (rc == 0) rc = lc_router_add(r, HTTP_PATCH, "/api/v1/clusters/{id}", w, LC_BODY_JSON, patch_cluster);
    if (rc == 0) rc = lc_router_add(r, HTTP_DELETE, "/api/v1/clusters/{id}", w, LC_BODY_NONE, delete_cluster);
    if (rc == 0) rc = lc_router_add(r, HTTP_POST, "/api/v1/clusters/{id}/token", w, LC_BODY_NONE, post_token);
    return rc;
}
