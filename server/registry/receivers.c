/*
 * server/registry/receivers.c — what receivers (loudspeaker clusters) send with their own token:
 *   POST /api/v1/receivers/{cluster}/status {"volume","signal","firmware","amplifier",
 *     "version","uptime_s","clock_offset_ms","rtt_ms","cache_bytes","disk_free_bytes",
 *     "next_session":{"id","fetched_percent"},"muted","last_error"} → 204; every field optional,
 *     checked, and the report kept whole as the cluster's `status` (shown by the clusters API)
 * The token comes as "Authorization: Bearer <token>" or "?token=<token>" (many IP speakers take
 * only a URL). Wrong token 401, unknown cluster 404. lc_receiver_find() tells which cluster a
 * token belongs to, for routes any receiver may use (media). Every accepted request is a sign
 * of life (clusters.last_seen; the streaming engine records its receivers' with lc_cluster_seen()). The streaming route of issue 6 authenticates the same way, through
 * lc_receiver_auth().
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>

#include "server/accounts/accounts.h"
#include "server/api/api.h"
#include "server/registry/registry_internal.h"
#include "server/http/http.h"
#include "server/store/store.h"

/* The receiver token the request carries: the bearer token, else ?token= (decoded into buf);
 * NULL when there is none or it is too long to be one. */
static const char *request_token(const struct lc_req *req, char *buf, size_t n)
{
    const char *token;
    const char *h = lc_req_header(req, "authorization");
    if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0)
        token = h + 7;
    else
        token = lc_req_query(req, "token", buf, n);
    return token == NULL || token[0] == '\0' || strlen(token) > 100 ? NULL : token;
}

int lc_receiver_find(struct lc_store *store, const struct lc_req *req, char cluster[65])
{
    static const char sql[] =
        "SELECT id FROM clusters WHERE token_hash = ? AND retired_at IS NULL";
    char qtoken[128], th[LC_TOKEN_HASH_LEN];
    const char *token = request_token(req, qtoken, sizeof qtoken);
    if (token == NULL)
        return -ENOENT;
    lc_token_hash(token, th);
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, th, -1, SQLITE_TRANSIENT);
    int rc = -EACCES, step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        snprintf(cluster, 65, "%s", lc_col_text(st, 0));
        rc = 0;
    }
    if (lc_store_done(st) < 0 || (step != SQLITE_ROW && step != SQLITE_DONE))
        rc = -EIO; /* a failed read is a 500, never "wrong token" */
    return rc;
}

int lc_receiver_auth(struct lc_store *store, struct lc_req *req, const char *cluster)
{
    char qtoken[128];
    const char *token = request_token(req, qtoken, sizeof qtoken);
    if (token == NULL) {
        lc_reply_error(req, 401, "unauthorized", "the receiver token is missing");
        return -1;
    }
    int rc = lc_cluster_check_token(store, cluster, token);
    if (rc == -ENOENT) {
        lc_reply_error(req, 404, "not_found", "no cluster '%.64s'", cluster);
        return -1;
    }
    if (rc == -EACCES) {
        lc_reply_error(req, 401, "unauthorized", "wrong receiver token");
        return -1;
    }
    if (rc < 0) {
        lc_reply_internal(req, "receiver auth");
        return -1;
    }
    if (lc_req_vouch(req, LC_CONN_RECEIVER) < 0) {
        lc_reply_error_headers(req, 503, "Retry-After: 30\r\n", "busy",
                               "receivers hold every connection the station allows; retry later");
        return -1;
    }
    return 0;
}

int lc_cluster_seen(struct lc_store *store, const char *cluster, int64_t now_s)
{
    static const char sql[] = "UPDATE clusters SET last_seen = ?2 WHERE id = ?1";
    sqlite3_stmt *q = lc_store_stmt(store, sql);
    if (q == NULL)
        return -EIO;
    sqlite3_bind_text(q, 1, cluster, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, now_s);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : -EIO;
}

/* next_session: {"id": a session id or null, "fetched_percent": 0..100, and "start", its RFC
 * 3339 start (ours: the console warns when a session 10 minutes away is not fully fetched)}.
 * 0, or -1 answered. */
static int read_next_session(struct lc_req *req, json_t *body)
{
    static const char *const names[] = {"id", "fetched_percent", "start", NULL};
    json_t *o = json_object_get(body, "next_session"), *v;
    const char *key;
    long long id = 0;
    double pct = 0;
    if (o == NULL || json_is_null(o))
        return 0;
    if (!json_is_object(o)) {
        lc_reply_error(req, 400, "bad_field", "'next_session' must be an object");
        return -1;
    }
    json_object_foreach(o, key, v) {
        bool known = strcmp(key, names[0]) == 0 || strcmp(key, names[1]) == 0 ||
                     strcmp(key, names[2]) == 0;
        if (!known) {
            lc_reply_error(req, 400, "unknown_field", "next_session: unknown field '%.40s'", key);
            return -1;
        }
    }
    const char *start = NULL;
    int64_t t;
    if (lc_api_int(req, o, "id", false, 1, INT64_MAX, &id) < 0 ||
        lc_api_number(req, o, "fetched_percent", true, 0, 100, &pct, NULL) < 0 ||
        lc_api_string(req, o, "start", false, 64, &start) < 0)
        return -1;
    if (start != NULL && lc_time_parse(start, &t) < 0) {
        lc_reply_error(req, 422, "invalid", "next_session.start must be an RFC 3339 time");
        return -1;
    }
    return 0;
}

int lc_cluster_flag_clone(struct lc_store *store, const char *cluster, int64_t now_s,
                          const char *a, const char *b)
{
    static const char sql[] =
        "UPDATE clusters SET clone_suspected_at = ?2, clone_addresses = ?3 WHERE id = ?1";
    json_t *addrs = json_pack("[s,s]", a, b);
    char *text = addrs ? json_dumps(addrs, JSON_COMPACT) : NULL;
    json_decref(addrs);
    sqlite3_stmt *q = text ? lc_store_stmt(store, sql) : NULL;
    if (q == NULL) {
        free(text);
        return -EIO;
    }
    sqlite3_bind_text(q, 1, cluster, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 2, now_s);
    sqlite3_bind_text(q, 3, text, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    free(text);
    return rc == SQLITE_DONE ? 0 : -EIO;
}

static void post_status(struct lc_req *req, void *ctx)
{
    /* the fields of SPEC.md's status report (receivers that store) and the earlier ones */
    static const char *const fields[] = {"volume", "signal", "firmware", "amplifier", "version",
                                         "uptime_s", "clock_offset_ms", "rtt_ms", "cache_bytes",
                                         "disk_free_bytes", "next_session", "muted", "last_error",
                                         NULL};
    static const char upd[] =
        "UPDATE clusters SET last_seen = ?2, status = ?3, status_at = ?2 WHERE id = ?1";
    struct lc_registry *reg = ctx;
    const char *cluster = req->params[0], *fw = NULL, *amp = NULL;
    long long volume = -1;
    double signal = 0;
    bool has_signal;
    if (lc_receiver_auth(reg->d.store, req, cluster) < 0)
        return;
    json_t *body = lc_api_body(req, fields);
    if (body == NULL)
        return;
    const char *version = NULL, *last_error = NULL;
    long long uptime = 0, cache = 0, disk = 0;
    double offset = 0, rtt = 0;
    bool muted;
    if (lc_api_int(req, body, "volume", false, 0, 100, &volume) < 0 ||
        lc_api_number(req, body, "signal", false, -200, 100, &signal, &has_signal) < 0 ||
        lc_api_string(req, body, "firmware", false, 64, &fw) < 0 ||
        lc_api_string(req, body, "amplifier", false, 32, &amp) < 0 ||
        lc_api_string(req, body, "version", false, 64, &version) < 0 ||
        lc_api_int(req, body, "uptime_s", false, 0, INT64_MAX, &uptime) < 0 ||
        lc_api_number(req, body, "clock_offset_ms", false, -1e12, 1e12, &offset, NULL) < 0 ||
        lc_api_number(req, body, "rtt_ms", false, 0, 1e9, &rtt, NULL) < 0 ||
        lc_api_int(req, body, "cache_bytes", false, 0, INT64_MAX, &cache) < 0 ||
        lc_api_int(req, body, "disk_free_bytes", false, 0, INT64_MAX, &disk) < 0 ||
        lc_api_bool(req, body, "muted", false, &muted, NULL) < 0 ||
        lc_api_string(req, body, "last_error", false, 500, &last_error) < 0 ||
        read_next_session(req, body) < 0)
        goto out;
    char *s = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    sqlite3_stmt *st = lc_store_stmt(reg->d.store, upd);
    if (st == NULL || s == NULL) {
        free(s);
        lc_reply_internal(req, "receiver status");
        goto out;
    }
    sqlite3_bind_text(st, 1, cluster, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, lc_now());
    sqlite3_bind_text(st, 3, s, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    free(s);
    if (step != SQLITE_DONE) {
        lc_reply_internal(req, "receiver status: update");
        goto out;
    }
    lc_reply_no_content(req);
out:
    json_decref(body);
}

static const struct lc_api_route routes[] = {
    {HTTP_POST, "/api/v1/receivers/{cluster}/status", LC_ROUTE_OPEN, LC_BODY_JSON, post_status},
};

int lc_receivers_routes(struct lc_registry *reg, struct lc_router *r)
{
    return LC_API_ROUTES(r, routes, reg);
}
