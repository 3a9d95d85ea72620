/*
 * server/stream/stream_http.c — GET /stream/{cluster}.opus, the receivers' route:
 *   receiver token (Authorization: Bearer or ?token=) → 401 wrong/missing, 404 unknown cluster
 *   (lc_receiver_auth); every authenticated request is a sign of life (batched last_seen);
 *   the commune held or on air → 200 audio/ogg, the engine streams (stream.c);
 *   the engine stopping → 503 busy;
 *   off air → 503, Retry-After ≤ 30 s with jitter, {"error","message","next_session"};
 *   ?burst=N (0..30) asks for N seconds of burst instead of [stream] burst_s (400 otherwise);
 *   HEAD answers the same status and headers and changes nothing (no receiver replaced, no
 *   audio, no sign of life).
 * Retry-After: when the next session's hold window opens within 30 s, just after it opens (so a
 * commune's receivers still arrive spread over the hold window); otherwise 20–30 s at random, so
 * that an emergency reaches every polling receiver within 30 s and receivers do not poll in step.
 */
#define LC_LOG_MODULE "stream"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <http_parser.h>

#include "server/api/api.h"
#include "server/http/http.h"
#include "server/registry/registry.h"
#include "server/scheduler/scheduler.h"
#include "server/store/store.h"
#include "server/stream/stream_internal.h"

/* Reads the clusters table (registry's) for the cluster's commune. */
static int cluster_commune(struct lc_store *store, const char *cluster, char *out, size_t n)
{
    static const char sql[] = "SELECT commune FROM clusters WHERE id = ?";
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, cluster, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        snprintf(out, n, "%s", lc_col_text(st, 0));
    if (lc_store_done(st) < 0 || (step != SQLITE_ROW && step != SQLITE_DONE))
        return -EIO;
    return step == SQLITE_ROW ? 0 : -ENOENT;
}

static void off_air(struct lc_req *req, struct lc_streams *e, const char *commune)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, next = 0;
    bool known = lc_onair_next(lc_streams_onair(e), commune, now_ms, &next) == 0;
    int retry = 20 + (int)(random() % 11);
    if (known) {
        int64_t hold_opens = next - (int64_t)lc_streams_hold_s(e) * 1000 - now_ms;
        if (hold_opens < (int64_t)retry * 1000)
            retry = hold_opens <= 0 ? 1 : (int)(hold_opens / 1000) + 1 + (int)(random() % 3);
        if (retry > 30)
            retry = 30;
    }
    char extra[64];
    snprintf(extra, sizeof extra, "Retry-After: %d\r\n", retry);
    json_t *o = json_pack("{s:s,s:s,s:o}", "error", "off_air", "message",
                          "the commune is not on air now", "next_session",
                          known ? lc_time_json(next / 1000) : json_null());
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    lc_http_respond(req, 503, "application/json", extra, s, s ? strlen(s) : 0);
    free(s);
}

static void get_stream(struct lc_req *req, void *ctx)
{
    struct lc_streams *e = ctx;
    struct lc_store *store = e->o.store;
    const char *cluster = req->params[0];
    char commune[128];
    if (lc_receiver_auth(store, req, cluster) < 0)
        return;
    if (cluster_commune(store, cluster, commune, sizeof commune) < 0) {
        lc_reply_internal(req, "stream: cluster's commune");
        return;
    }
    if (!lc_streams_running(e)) {
        lc_reply_error(req, 503, "busy", "streaming is not available");
        return;
    }
    if (req->method == HTTP_HEAD) {
        /* What a GET would answer, with no side effect: no receiver attached (the box playing
         * stays connected), no sign of life, no audio. */
        if (!lc_streams_on_air(e, commune))
            off_air(req, e, commune);
        else if (lc_http_stream_begin(req, 200, "audio/ogg", NULL) == 0)
            lc_http_stream_end(req);
        return;
    }
    lc_streams_seen(e, cluster);
    /* ?burst=N (0..30 s): a player that buffers a lot before it starts (Chromium's media cache
     * reads 32 KiB blocks, ≈ 11 s at 24 kbit/s) asks for more; the default is [stream] burst_s */
    int burst = -1;
    char bq[16];
    if (lc_req_query(req, "burst", bq, sizeof bq) != NULL) {
        char *end;
        long v = strtol(bq, &end, 10);
        if (*end != '\0' || end == bq || v < 0 || v > LC_STREAM_MAX_BURST_S) {
            lc_reply_error(req, 400, "bad_request", "burst: 0 to %d seconds", LC_STREAM_MAX_BURST_S);
            return;
        }
        burst = (int)v;
    }
    int rc = lc_streams_attach(e, req, cluster, commune, burst);
    if (rc == -ENOENT)
        off_air(req, e, commune);
    else if (rc < 0)
        lc_reply_error(req, 503, "busy", "out of memory");
}

int lc_stream_routes(struct lc_streams *e, struct lc_router *r)
{
    int rc = lc_router_add(r, HTTP_GET, "/stream/{cluster}.opus", LC_ROUTE_OPEN, LC_BODY_NONE,
                           get_stream, e);
    return rc == 0 ? lc_stream_listen_routes(e, r) : rc;  /* staff listen (issue 20) */
}
