/* server/registry/clusters.c — the clusters API and receiver tokens; see registry.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>
#include <sodium.h>

#include "server/api/api.h"
#include "server/accounts/accounts.h"
#include "server/registry/registry_internal.h"
#include "server/http/http.h"
#include "server/org/org.h"
#include "server/store/store.h"

#define COLS "id, commune, name, lat, lon, speakers, population, token_issued_at, last_seen, created_at, status, status_at, retired_at, volume, muted, clone_suspected_at, clone_addresses"


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
    json_object_set_new(o, "retired_at", lc_col_is_null(st, 12) ? json_null()
                                                                : lc_time_json(sqlite3_column_int64(st, 12)));
    /* the desired state, sent to receivers that store in their signed schedule */
    json_object_set_new(o, "volume", json_integer(sqlite3_column_int(st, 13)));
    json_object_set_new(o, "muted", json_boolean(sqlite3_column_int(st, 14)));
    /* two boxes with one token, as the streaming engine saw it (cleared by a new token) */
    json_t *addrs = lc_col_is_null(st, 16) ? NULL : json_loads(lc_col_text(st, 16), 0, NULL);
    json_object_set_new(o, "clone_suspected",
                        lc_col_is_null(st, 15)
                            ? json_null()
                            : json_pack("{s:o,s:o}", "at", lc_time_json(sqlite3_column_int64(st, 15)),
                                        "addresses", addrs ? addrs : json_array()));
    return o;
}

/* DELETE: a cluster with history is retired (its token stops working, its id and history stay:
 * coverage still counts it in the sessions it was there for, reached or not); one without is
 * deleted. History: it reported or received (last_seen, a status, deliveries), or a session of
 * its commune aired while it existed. */
static int delete_check(struct lc_res_write *w)
{
    static const char sql[] =
        "SELECT c.retired_at IS NOT NULL, c.last_seen IS NOT NULL OR c.status IS NOT NULL"
        "  OR EXISTS (SELECT 1 FROM deliveries WHERE cluster = ?1)"
        "  OR EXISTS (SELECT 1 FROM broadcasts b WHERE b.commune = c.commune"
        "     AND b.status IN ('on_air', 'done', 'interrupted') AND b.end_at >= c.created_at)"
        " FROM clusters c WHERE c.id = ?1";
    sqlite3_stmt *st = lc_store_stmt(w->store, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, w->key, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    bool retired = step == SQLITE_ROW && sqlite3_column_int(st, 0);
    bool history = step == SQLITE_ROW && sqlite3_column_int(st, 1);
    if (lc_store_done(st) < 0)
        return -EIO;
    if (step == SQLITE_DONE)
        return lc_res_not_found(w->req, w->res, w->key);
    if (step != SQLITE_ROW)
        return -EIO;
    if (retired) {
        lc_reply_error(w->req, 409, "conflict", "the cluster is retired already");
        return LC_ANSWERED;
    }
    return history ? LC_RES_RETIRE : 0;
}

/* The listing is get_clusters() (filters, flags), not list_sql. */
static const struct lc_resource clusters = {
    .noun = "cluster", .key_chars = 64, .plural = "clusters",
    .one_sql = "SELECT " COLS " FROM clusters WHERE id = ?1 AND commune IN " LC_SCOPE_COMMUNES,
    .row_json = cluster_json, .path = "/api/v1/clusters", .item_path = "/api/v1/clusters/{id}",
    .readers = LC_ROLES_STAFF, .writers = LC_REGISTRY_WRITERS, .audit = lc_audit,
    .delete_sql = "DELETE FROM clusters WHERE id = ?1", .delete_check = delete_check,
    /* token_hash is UNIQUE: each retired one gets its own value, which no token hashes to */
    .retire_sql = "UPDATE clusters SET retired_at = ?2, token_hash = 'retired:' || id"
                  " WHERE id = ?1 AND retired_at IS NULL",
};

int lc_cluster_check_token(struct lc_store *store, const char *cluster, const char *token)
{
    static const char sql[] =
        "SELECT token_hash FROM clusters WHERE id = ? AND retired_at IS NULL";
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, cluster, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st), rc = -EIO;
    if (step == SQLITE_DONE) {
        rc = -ENOENT;
    } else if (step == SQLITE_ROW) {
        char th[LC_TOKEN_HASH_LEN];
        lc_token_hash(token, th);
        const char *have = lc_col_text(st, 0);
        rc = strlen(have) == LC_TOKEN_HASH_LEN - 1 &&
                     sodium_memcmp(th, have, LC_TOKEN_HASH_LEN - 1) == 0
                 ? 0
                 : -EACCES;
    }
    if (lc_store_done(st) < 0)
        rc = -EIO;
    return rc;
}

/* True when the cluster was reached in none of its commune's last n aired sessions (and at
 * least n sessions aired since it was registered): a receiver that connects but never gets the
 * programme through is as silent as one that never connects. */
static bool unreached_recently(struct lc_store *store, const char *cluster, const char *commune,
                               int64_t created_at, int n)
{
    static const char sql[] =
        "SELECT COUNT(*), COALESCE(SUM(EXISTS (SELECT 1 FROM deliveries_current d"
        "   WHERE d.session = s.id AND d.cluster = ?2 AND d.reached = 1)), 0)"
        " FROM (SELECT b.id FROM broadcasts b WHERE b.commune = ?1 AND b.host IS NULL"
        "   AND b.status IN ('done', 'interrupted') AND b.start_at >= ?3"
        "   ORDER BY b.start_at DESC LIMIT ?4) s";
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL)
        return false;
    sqlite3_bind_text(st, 1, commune, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, cluster, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, created_at);
    sqlite3_bind_int(st, 4, n);
    bool flag = false;
    if (sqlite3_step(st) == SQLITE_ROW)
        flag = sqlite3_column_int(st, 0) >= n && sqlite3_column_int(st, 1) == 0;
    lc_store_done(st); /* a failed read is logged: the flag stays off */
    return flag;
}

/* GET /api/v1/clusters[?commune=][&status=online|offline]: each cluster with "online" (seen
 * within [coverage] offline_after_s: the offline list), "active" (seen within [coverage]
 * active_window_s: what the console calls working now) and "unreached_recently" (see above). */
static void get_clusters(struct lc_req *req, void *ctx)
{
    static const char sql[] =
        "SELECT " COLS " FROM clusters WHERE (?1 IS NULL OR commune = ?1)"
        " AND (?2 IS NULL OR (?2 = 'offline') = (last_seen IS NULL OR last_seen < ?3))"
        " AND (retired_at IS NULL OR ?4 = 1) AND commune IN " LC_SCOPE_COMMUNES
        " ORDER BY commune, id";
    struct lc_registry *reg = ctx;
    char status[16];
    const char *want = lc_req_query(req, "status", status, sizeof status);
    if (want != NULL && strcmp(want, "online") != 0 && strcmp(want, "offline") != 0) {
        lc_reply_error(req, 400, "bad_query", "status must be online or offline");
        return;
    }
    int retired = lc_api_query_retired(req);
    if (retired < 0)
        return;
    int64_t since = lc_now() - reg->d.offline_after_s;
    sqlite3_stmt *st = lc_store_stmt(reg->d.store, sql);
    if (st == NULL) {
        lc_reply_internal(req, "clusters");
        return;
    }
    lc_api_bind_query(req, st, 1, "commune", 80);
    if (want != NULL)
        sqlite3_bind_text(st, 2, want, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, since);
    sqlite3_bind_int(st, 4, retired);
    lc_store_bind_scope(st, req->node);
    json_t *list = json_array();
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = cluster_json(st);
        bool online = !lc_col_is_null(st, 8) && sqlite3_column_int64(st, 8) >= since;
        json_object_set_new(o, "online", json_boolean(online));
        json_object_set_new(o, "active", json_boolean(online && sqlite3_column_int64(st, 8) >=
                                                      lc_now() - reg->d.active_window_s));
        json_array_append_new(list, o);
    }
    if (lc_store_done(st) < 0 || step != SQLITE_DONE) { /* a corrupt page is an error, never a shorter list */
        json_decref(list);
        lc_reply_internal(req, "clusters");
        return;
    }
    /* The flags need other statements: after the listing statement is reset. */
    size_t i;
    json_t *o;
    json_array_foreach(list, i, o) {
        int64_t created = 0;
        lc_time_parse(json_string_value(json_object_get(o, "created_at")), &created);
        json_object_set_new(
            o, "unreached_recently",
            json_boolean(unreached_recently(reg->d.store, json_string_value(json_object_get(o, "id")),
                                            json_string_value(json_object_get(o, "commune")),
                                            created, reg->d.unreached_sessions)));
    }
    lc_reply_json(req, 200, json_pack("{s:o}", "clusters", list));
}

static void get_cluster(struct lc_req *req, void *ctx)
{
    struct lc_registry *reg = ctx;
    lc_res_get(req, reg->d.store, &clusters, req->params[0]);
}

/* A cluster's fields from a POST or PATCH body. */
struct fields {
    const char *commune, *name;
    double lat, lon;
    bool has_lat, has_lon;
    long long speakers, population;     /* PATCH: -1 when absent */
    long long volume;                   /* desired volume 0..100; -1 when absent */
    bool muted, has_muted;
    char token[LC_TOKEN_LEN];           /* POST: the new receiver token, answered once */
    json_t *body;                       /* PATCH: audited as it came */
};

static int read_fields(struct lc_req *req, struct lc_store *store, json_t *body, struct fields *f,
                       bool create)
{
    if (lc_api_string(req, body, "commune", create, 64, &f->commune) < 0 ||
        lc_api_string(req, body, "name", create, 200, &f->name) < 0 ||
        lc_api_number(req, body, "lat", false, -90, 90, &f->lat, &f->has_lat) < 0 ||
        lc_api_number(req, body, "lon", false, -180, 180, &f->lon, &f->has_lon) < 0 ||
        lc_api_int(req, body, "speakers", false, 0, 1000, &f->speakers) < 0 ||
        lc_api_int(req, body, "population", false, 0, 100000000, &f->population) < 0 ||
        lc_api_int(req, body, "volume", false, 0, 100, &f->volume) < 0 ||
        lc_api_bool(req, body, "muted", false, &f->muted, &f->has_muted) < 0)
        return -1;
    if (f->name != NULL && f->name[0] == '\0') {
        lc_reply_error(req, 422, "invalid", "name must not be empty");
        return -1;
    }
    if (f->commune != NULL && lc_commune_require(req, store, f->commune, 422) < 0)
        return -1;
    return 0;
}

/* The statement sql with the fields bound as ?1 id, ?2 commune, ?3 name, ?4/?5 has_lat/lat,
 * ?6/?7 has_lon/lon, ?8 speakers, ?9 population, ?12 volume, ?13 muted (absent ones NULL; ?10
 * and ?11 are the insert's own); NULL on error. */
static sqlite3_stmt *bind_fields(struct lc_res_write *w, const char *sql, const struct fields *f)
{
    sqlite3_stmt *st = lc_store_stmt(w->store, sql);
    if (st == NULL)
        return NULL;
    sqlite3_bind_text(st, 1, w->key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, f->commune, -1, SQLITE_TRANSIENT);     /* NULL binds NULL */
    sqlite3_bind_text(st, 3, f->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 4, f->has_lat);
    if (f->has_lat)
        sqlite3_bind_double(st, 5, f->lat);
    sqlite3_bind_int(st, 6, f->has_lon);
    if (f->has_lon)
        sqlite3_bind_double(st, 7, f->lon);
    if (f->speakers >= 0)
        sqlite3_bind_int64(st, 8, f->speakers);
    if (f->population >= 0)
        sqlite3_bind_int64(st, 9, f->population);
    if (f->volume >= 0)
        sqlite3_bind_int64(st, 12, f->volume);
    if (f->has_muted)
        sqlite3_bind_int(st, 13, f->muted);
    return st;
}

static int insert_cluster(struct lc_res_write *w)
{
    static const char ins[] =
        "INSERT INTO clusters (id, commune, name, lat, lon, speakers, population, token_hash,"
        " token_issued_at, created_at, volume, muted)"
        " VALUES (?1, ?2, ?3, ?5, ?7, ?8, ?9, ?10, ?11, ?11, coalesce(?12, 100), coalesce(?13, 0))";
    struct fields *f = w->arg;
    char th[LC_TOKEN_HASH_LEN];
    lc_token_hash(f->token, th);
    sqlite3_stmt *st = bind_fields(w, ins, f);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 10, th, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 11, lc_now());
    int rc = lc_res_insert(w, st);
    if (rc == 0)
        rc = lc_audit(w->store, w->req, NULL, "cluster_create", w->key,
                      json_pack("{s:s}", "commune", f->commune));
    if (rc == 0)
        rc = lc_audit(w->store, w->req, NULL, "cluster_token", w->key,
                      json_pack("{s:s}", "reason", "created"));
    if (rc == 0) {
        w->answer = lc_res_load(w->store, &clusters, w->key);
        json_object_set_new(w->answer, "token", json_string(f->token));
    }
    return rc;
}

static int update_cluster(struct lc_res_write *w)
{
    static const char upd[] =
        "UPDATE clusters SET commune = coalesce(?2, commune), name = coalesce(?3, name),"
        " lat = CASE WHEN ?4 THEN ?5 ELSE lat END, lon = CASE WHEN ?6 THEN ?7 ELSE lon END,"
        " speakers = coalesce(?8, speakers), population = coalesce(?9, population),"
        " volume = coalesce(?12, volume), muted = coalesce(?13, muted)"
        " WHERE id = ?1 AND retired_at IS NULL";
    const struct fields *f = w->arg;
    w->detail = json_deep_copy(f->body);
    return lc_res_update(w, bind_fields(w, upd, f));
}

/* The first free "<commune>-<n>" in id. 0 or -EIO. */
static int free_id(struct lc_store *store, const char *commune, char id[80])
{
    static const char taken[] = "SELECT 1 FROM clusters WHERE id = ?";
    sqlite3_stmt *st = lc_store_stmt(store, taken);
    if (st == NULL)
        return -EIO;
    for (int n = 1;; n++) {
        snprintf(id, 80, "%.60s-%d", commune, n);
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        int step = sqlite3_step(st);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) {
            lc_store_done(st);
            return -EIO;
        }
    }
    sqlite3_reset(st);
    return 0;
}

/* POST (create) and PATCH (change) of a cluster: the body's checks, then the write. */
static void write_cluster(struct lc_req *req, void *ctx)
{
    static const char *const post_names[] = {"id", "commune", "name", "lat", "lon", "speakers",
                                             "population", "volume", "muted", NULL};
    static const char *const patch_names[] = {"commune", "name", "lat", "lon", "speakers",
                                              "population", "volume", "muted", NULL};
    struct lc_registry *reg = ctx;
    bool create = req->method == HTTP_POST;
    struct fields f = {.speakers = create ? 1 : -1, .population = create ? 0 : -1, .volume = -1};
    const char *given = NULL;
    char id[80];
    json_t *body = f.body = lc_api_body(req, create ? post_names : patch_names);
    if (body == NULL)
        return;
    if ((create && lc_api_string(req, body, "id", false, 64, &given) < 0) ||
        read_fields(req, reg->d.store, body, &f, create) < 0)
        goto out;
    if (create && given != NULL) {
        if (!lc_slug_ok(given)) {
            lc_reply_error(req, 422, "invalid", "id must be a slug: a-z, 0-9 and single '-'");
            goto out;
        }
        snprintf(id, sizeof id, "%s", given);
    } else if (create && free_id(reg->d.store, f.commune, id) < 0) {
        lc_reply_internal(req, "clusters: id");
        goto out;
    }
    if (create)
        lc_token_new(f.token);
    struct lc_res_write w = {
        .req = req, .store = reg->d.store, .res = &clusters, .key = create ? id : req->params[0],
        .arg = &f, .fn = create ? insert_cluster : update_cluster, .status = create ? 201 : 200,
        .what = create ? "create" : "update", .audit = !create, /* a new one has two entries */
    };
    lc_res_write(&w);
    sodium_memzero(f.token, sizeof f.token);
out:
    json_decref(body);
}

void lc_registry_on_revoke(struct lc_registry *reg, lc_cluster_revoked_cb cb, void *ctx)
{
    reg->revoked = cb;
    reg->revoked_ctx = ctx;
}

/* Tells the listener (if any) that cluster's credentials ended. */
static void revoked(struct lc_registry *reg, const char *cluster, const char *why)
{
    if (reg->revoked != NULL)
        reg->revoked(reg->revoked_ctx, cluster, why);
}

static void delete_cluster(struct lc_req *req, void *ctx)
{
    struct lc_registry *reg = ctx;
    lc_res_delete(req, reg->d.store, &clusters, req->params[0]);
    /* Gone or retired (the change committed): its open stream ends now. */
    if (lc_cluster_check_token(reg->d.store, req->params[0], "") == -ENOENT)
        revoked(reg, req->params[0], "the cluster was deleted or retired");
}

/* POST /api/v1/clusters/{id}/token: a new token (w->arg), the old one stops working at once. */
static int token_tx(struct lc_res_write *w)
{
    static const char upd[] = "UPDATE clusters SET token_hash = ?2, token_issued_at = ?3,"
                              " clone_suspected_at = NULL, clone_addresses = NULL"
                              " WHERE id = ?1 AND retired_at IS NULL";
    const char *token = w->arg;
    char th[LC_TOKEN_HASH_LEN];
    lc_token_hash(token, th);
    int64_t now = lc_now();
    sqlite3_stmt *st = lc_store_stmt(w->store, upd);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, w->key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, th, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, now);
    w->detail = json_pack("{s:s}", "reason", "rotated");
    int rc = lc_res_update(w, st);
    if (rc == 0)
        w->answer = json_pack("{s:s,s:s,s:o}", "id", w->key, "token", token, "token_issued_at",
                              lc_time_json(now));
    return rc;
}

static void post_token(struct lc_req *req, void *ctx)
{
    struct lc_registry *reg = ctx;
    char token[LC_TOKEN_LEN];
    lc_token_new(token);
    struct lc_res_write w = {.req = req, .store = reg->d.store, .res = &clusters,
                             .key = req->params[0], .fn = token_tx, .arg = token, .status = 200,
                             .what = "token", .audit = true};
    lc_res_write(&w);
    /* The new token is the cluster's (the change committed): a stream opened with the old one
     * ends now, and the box must come back with the new one. */
    if (lc_cluster_check_token(reg->d.store, req->params[0], token) == 0)
        revoked(reg, req->params[0], "its token was rotated");
    sodium_memzero(token, sizeof token);
}

int lc_clusters_routes(struct lc_registry *reg, struct lc_router *r)
{
    static const struct lc_res_handlers h = {get_clusters, get_cluster, write_cluster,
                                             delete_cluster};
    static const struct lc_api_route token = {HTTP_POST, "/api/v1/clusters/{id}/token",
                                              LC_REGISTRY_WRITERS, LC_BODY_NONE, post_token};
    int rc = lc_res_routes(r, &clusters, &h, reg);
    return rc < 0 ? rc : lc_api_routes(r, &token, 1, reg);
}
