/*
 * server/stream/stream_listen.c — staff listen to a commune's live stream (issue 20), and the
 * engine's receiver counts for GET /api/v1/onair (onair.h, lc_onair_counts()):
 *
 *   POST /api/v1/communes/{id}/listen (every staff role) → 200 {"url","expires"}: a ticket for
 *     the commune's stream, valid LISTEN_TICKET_S to start listening; 404 no such commune,
 *     409 off_air (nothing held or on air there).
 *   GET /api/v1/communes/{id}/listen.opus?ticket=T (open: the ticket is the credential) → 200
 *     audio/ogg, the commune's live stream from LISTEN_BURST_S back; 401 bad_ticket (missing,
 *     forged, expired, another commune's), 503 off_air / busy (LISTEN_MAX listeners already).
 *
 * Why a ticket: an <audio> element sends no Authorization header, and the login token must
 * never appear in a URL (proxies and access logs keep URLs). A ticket is "<exp>.<mac>", mac the
 * HMAC-SHA-256 (libsodium) of the commune and exp under a random key made at the engine's
 * open: it names no user, lives a minute, dies with the process and opens one commune's stream.
 *
 * A listener is a receiver with no cluster (lc_stream_listen_attach, stream.c): it is in no
 * cluster map (it replaces no box and no box replaces it), has no delivery record (coverage and
 * deliveries stay about clusters), and is not one of the engine's `receivers` gauge.
 */
#define LC_LOG_MODULE "stream"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>
#include <sodium.h>

#include "common/log.h"
#include "server/api/api.h"
#include "server/http/http.h"
#include "server/registry/registry.h"
#include "server/stream/stream_internal.h"

#define LISTEN_TICKET_S 60      /* a ticket starts a listen within this; the listen then lasts */
#define LISTEN_BURST_S 15       /* Chromium plays once a 32 KiB block is full (≈ 11 s): at once */
#define LISTEN_MAX 16           /* staff listeners at once, every commune together */

static void ticket_mac(const struct lc_streams *e, const char *commune, int64_t exp,
                       char hex[crypto_auth_hmacsha256_BYTES * 2 + 1])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char msg[160];
    int n = snprintf(msg, sizeof msg, "listen\n%s\n%" PRId64, commune, exp);
    crypto_auth_hmacsha256(mac, (const unsigned char *)msg, (size_t)n, e->listen_key);
    sodium_bin2hex(hex, crypto_auth_hmacsha256_BYTES * 2 + 1, mac, sizeof mac);
}

/* 0 when t is a ticket of commune not expired at now_s, else -1. */
static int ticket_check(const struct lc_streams *e, const char *commune, const char *t,
                        int64_t now_s)
{
    char *end;
    long long exp = strtoll(t, &end, 10);
    if (end == t || *end != '.' || exp < now_s || exp > now_s + LISTEN_TICKET_S)
        return -1;
    char want[crypto_auth_hmacsha256_BYTES * 2 + 1];
    ticket_mac(e, commune, (int64_t)exp, want);
    if (strlen(end + 1) != sizeof want - 1)
        return -1;
    return sodium_memcmp(want, end + 1, sizeof want - 1) == 0 ? 0 : -1;
}

static void post_listen(struct lc_req *req, void *ctx)
{
    struct lc_streams *e = ctx;
    const char *commune = req->params[0];
    if (lc_commune_require(req, e->o.store, commune, 404) < 0)
        return;
    if (!lc_streams_on_air(e, commune)) {
        lc_reply_error(req, 409, "off_air", "commune %s is not on air now", commune);
        return;
    }
    int64_t exp = lc_now() + LISTEN_TICKET_S;
    char mac[crypto_auth_hmacsha256_BYTES * 2 + 1], url[400];
    ticket_mac(e, commune, exp, mac);
    snprintf(url, sizeof url, "/api/v1/communes/%s/listen.opus?ticket=%" PRId64 ".%s", commune,
             exp, mac);
    lc_log(LC_LOG_INFO, "%s listens to %s (a ticket)", req->user, commune);
    lc_reply_json(req, 200, json_pack("{s:s,s:o}", "url", url, "expires", lc_time_json(exp)));
}

static void get_listen(struct lc_req *req, void *ctx)
{
    struct lc_streams *e = ctx;
    const char *commune = req->params[0];
    char t[128];
    if (lc_req_query(req, "ticket", t, sizeof t) == NULL ||
        ticket_check(e, commune, t, lc_now()) < 0) {
        lc_reply_error(req, 401, "bad_ticket",
                       "a listen ticket of this commune is needed (POST .../listen), a minute old"
                       " at most");
        return;
    }
    if (e->stopping) {  /* (not lc_streams_running(): stream_engine.c calls this file) */
        lc_reply_error(req, 503, "busy", "streaming is not available");
        return;
    }
    if (e->listeners >= LISTEN_MAX) {
        lc_reply_error(req, 503, "busy", "%d staff listen already", LISTEN_MAX);
        return;
    }
    if (req->method == HTTP_HEAD) {
        if (!lc_streams_on_air(e, commune))
            lc_reply_error(req, 503, "off_air", "commune %s is not on air now", commune);
        else if (lc_http_stream_begin(req, 200, "audio/ogg", NULL) == 0)
            lc_http_stream_end(req);
        return;
    }
    int rc = lc_stream_listen_attach(e, req, commune, LISTEN_BURST_S);
    if (rc == -ENOENT)
        lc_reply_error(req, 503, "off_air", "commune %s is not on air now", commune);
    else if (rc < 0)
        lc_reply_error(req, 503, "busy", "out of memory");
    else
        lc_log(LC_LOG_INFO, "a staff listener from %s on %s", req->addr, commune);
}

/* ---- the counts of GET /api/v1/onair -------------------------------------------------------- */

static void counts(void *ctx, lc_onair_count_fn fn, void *arg)
{
    struct lc_streams *e = ctx;
    for (const struct lc_cast *c = e->casts; c; c = c->next)
        if (c->state != CAST_DONE)
            fn(arg, c->commune, c->session, c->nrcv - c->nlisten);
}

void lc_stream_listen_init(struct lc_streams *e)
{
    randombytes_buf(e->listen_key, sizeof e->listen_key);
    if (e->o.onair != NULL)
        lc_onair_set_counts(e->o.onair, counts, e);
}

void lc_stream_listen_stop(struct lc_streams *e)
{
    if (e->o.onair != NULL)
        lc_onair_set_counts(e->o.onair, NULL, NULL);
}

int lc_stream_listen_routes(struct lc_streams *e, struct lc_router *r)
{
    int rc = lc_router_add(r, HTTP_POST, "/api/v1/communes/{id}/listen", LC_ROLES_STAFF,
                           LC_BODY_NONE, post_listen, e);
    if (rc == 0)
        rc = lc_router_add(r, HTTP_GET, "/api/v1/communes/{id}/listen.opus", LC_ROUTE_OPEN,
                           LC_BODY_NONE, get_listen, e);
    return rc;
}
