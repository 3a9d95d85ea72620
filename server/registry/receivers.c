/*
 * server/registry/receivers.c — what receivers (loudspeaker clusters) send with their own token:
 *   POST /api/v1/receivers/{cluster}/status {"volume","signal","firmware","amplifier"} → 204
 * The token comes as "Authorization: Bearer <token>" or "?token=<token>" (many IP speakers take
 * only a URL). Wrong token 401, unknown cluster 404. Every accepted request is a sign of life
 * (clusters.last_seen; the streaming engine records its receivers' with lc_cluster_seen()). The streaming route of issue 6 authenticates the same way, through
 * lc_receiver_auth().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>

#include "server/api/api.h"
#include "server/registry/registry_internal.h"
#include "server/http/http.h"
#include "server/store/store.h"

int lc_receiver_auth(struct lc_store *store, struct lc_req *req, const char *cluster)
{
    char qtoken[128];
    const char *token = NULL;
    const char *h = lc_req_header(req, "authorization");
    if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0)
        token = h + 7;
    else
        token = lc_req_query(req, "token", qtoken, sizeof qtoken);
    if (token == NULL || token[0] == '\0' || strlen(token) > 100) {
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

static void post_status(struct lc_req *req, void *ctx)
{
    static const char *const fields[] = {"volume", "signal", "firmware", "amplifier", NULL};
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
    if (lc_api_int(req, body, "volume", false, 0, 100, &volume) < 0 ||
        lc_api_number(req, body, "signal", false, -200, 100, &signal, &has_signal) < 0 ||
        lc_api_string(req, body, "firmware", false, 64, &fw) < 0 ||
        lc_api_string(req, body, "amplifier", false, 32, &amp) < 0)
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
