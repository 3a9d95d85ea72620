/*
 * server/icecast/icecast_auth.c — Icecast's URL authentication (issue 19, point 4):
 *
 *   POST /icecast/listener_add     form body as Icecast 2.4 sends it (auth_url.c):
 *     action=listener_add&server=H&port=P&client=ID&mount=/COMMUNE.opus?token=T&user=U&pass=W
 *     &ip=A&agent=UA → 200 with `icecast-auth-user: 1` (admitted); 403 with an
 *     `icecast-auth-message` (no token, a wrong one, another commune's cluster); 404 no such
 *     commune; 400 a body that is not such a form.
 *   POST /icecast/listener_remove  the same fields and duration=SECONDS → 200 (the rows written).
 *
 * Only the configured Icecast may call them: HTTP Basic auth (the <option name="username"> and
 * "password" of its <authentication type="url">) whose password is [icecast] auth_secret, else
 * 401; without an auth_secret the routes answer 404. A listener whose own password (`pass`) is
 * that secret is a relay (an Icecast relay's <relay><password>): admitted, never counted.
 *
 * The rows (server/accounting/, lc_delivery_icecast): the mount's token names the cluster; the
 * cast of the commune on air (icecast.c keeps the last few) names the session; audio_s is the
 * programme audio handed to Icecast while the listener was there: Icecast 2.4 reports the
 * duration only (no bytes), so bytes are those handed over meanwhile too.
 */
#define LC_LOG_MODULE "icecast"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>
#include <sodium.h>
#include <sqlite3.h>

#include "common/log.h"
#include "server/accounting/accounting.h"
#include "server/api/api.h"
#include "server/http/http.h"
#include "server/icecast/icecast_internal.h"
#include "server/registry/registry.h"
#include "server/store/store.h"

#define FORM_MAX 8192

void lc_ice_cast_span(const struct lc_ice_cast *c, int64_t from_ms, int64_t to_ms, double *prog_s,
                      uint64_t *bytes)
{
    double p0 = 0, p1 = 0;
    uint64_t b0 = 0, b1 = 0;
    for (size_t i = 0; i < c->nsmp; i++) {
        if (c->smp[i].ms <= from_ms) {
            p0 = c->smp[i].prog_s;
            b0 = c->smp[i].bytes;
        }
        if (c->smp[i].ms <= to_ms) {
            p1 = c->smp[i].prog_s;
            b1 = c->smp[i].bytes;
        }
    }
    *prog_s = p1 > p0 ? p1 - p0 : 0;
    *bytes = b1 > b0 ? b1 - b0 : 0;
}

/* HTTP Basic auth with the secret as password (any user name). */
static bool caller_ok(const struct lc_icecast *ic, const struct lc_req *req)
{
    const char *h = lc_req_header(req, "authorization");
    if (h == NULL || strncasecmp(h, "Basic ", 6) != 0)
        return false;
    unsigned char dec[512];
    size_t n = 0;
    if (sodium_base642bin(dec, sizeof dec - 1, h + 6, strlen(h + 6), " ", &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return false;
    dec[n] = '\0';
    const char *colon = memchr(dec, ':', n);
    if (colon == NULL)
        return false;
    const char *pass = colon + 1;
    size_t plen = n - (size_t)(pass - (const char *)dec), slen = strlen(ic->secret);
    return plen == slen && sodium_memcmp(pass, ic->secret, slen) == 0;
}

/* The form's field, percent-decoded (the body read as a query string). */
static const char *field(const char *form, const char *name, char *buf, size_t n)
{
    struct lc_req f;
    memset(&f, 0, sizeof f);
    f.query = (char *)form;
    return lc_req_query(&f, name, buf, n);
}

struct listener {
    char action[32], mount[1024], pass[256], client[32], duration[32];
    char commune[64];
    const char *query;      /* in mount, after '?', or NULL */
};

/* Reads and checks the form; answers 400/404 and returns -1 on bad input. */
static int read_form(struct lc_icecast *ic, struct lc_req *req, const char *want,
                     struct listener *l)
{
    char form[FORM_MAX + 1];
    if (req->body.len == 0 || req->body.len > FORM_MAX || memchr(req->body.data, '\0', req->body.len)) {
        lc_reply_error(req, 400, "bad_form", "an Icecast %s form is expected", want);
        return -1;
    }
    memcpy(form, req->body.data, req->body.len);
    form[req->body.len] = '\0';
    memset(l, 0, sizeof *l);
    if (field(form, "action", l->action, sizeof l->action) == NULL || strcmp(l->action, want) != 0) {
        lc_reply_error(req, 400, "bad_form", "action must be %s", want);
        return -1;
    }
    if (field(form, "mount", l->mount, sizeof l->mount) == NULL || l->mount[0] != '/') {
        lc_reply_error(req, 400, "bad_form", "mount (/{commune}.opus?token=...) is missing");
        return -1;
    }
    field(form, "pass", l->pass, sizeof l->pass);
    field(form, "client", l->client, sizeof l->client);
    field(form, "duration", l->duration, sizeof l->duration);
    char *q = strchr(l->mount, '?');
    if (q != NULL) {
        *q = '\0';
        l->query = q + 1;
    }
    size_t n = strlen(l->mount);
    if (n < 7 || n - 6 >= sizeof l->commune || strcmp(l->mount + n - 5, ".opus") != 0) {
        lc_reply_error(req, 404, "not_found", "no mount /{commune}.opus");
        return -1;
    }
    snprintf(l->commune, sizeof l->commune, "%.*s", (int)(n - 6), l->mount + 1);
    if (!lc_slug_ok(l->commune)) {
        lc_reply_error(req, 404, "not_found", "no mount /{commune}.opus");
        return -1;
    }
    if (lc_commune_require(req, ic->d.store, l->commune, 404) < 0)
        return -1;
    return 0;
}

/* A refusal Icecast logs (no icecast-auth-user header). */
static void refuse(struct lc_req *req, const char *code, const char *msg)
{
    char extra[160];
    snprintf(extra, sizeof extra, "icecast-auth-message: %s\r\n", msg);
    lc_reply_error_headers(req, 403, extra, code, msg);
}

/* The cluster of the listener's token, of the mount's commune: 0, or -1 after answering. */
static int listener_cluster(struct lc_icecast *ic, struct lc_req *req, const struct listener *l,
                            char cluster[65])
{
    struct lc_req f;
    memset(&f, 0, sizeof f);
    f.query = (char *)l->query;
    int rc = lc_receiver_find(ic->d.store, &f, cluster);
    if (rc == -ENOENT) {
        refuse(req, "no_token", "no token (the URL needs ?token= of a cluster)");
        return -1;
    }
    if (rc == -EACCES) {
        refuse(req, "bad_token", "not a cluster's token");
        return -1;
    }
    if (rc < 0) {
        lc_reply_internal(req, "icecast listener");
        return -1;
    }
    sqlite3_stmt *st = lc_store_stmt(ic->d.store, "SELECT commune FROM clusters WHERE id = ?1");
    if (st == NULL) {
        lc_reply_internal(req, "icecast listener");
        return -1;
    }
    sqlite3_bind_text(st, 1, cluster, -1, SQLITE_TRANSIENT);
    bool same = sqlite3_step(st) == SQLITE_ROW && strcmp(lc_col_text(st, 0), l->commune) == 0;
    if (lc_store_done(st) < 0) {
        lc_reply_internal(req, "icecast listener");
        return -1;
    }
    if (!same) {
        refuse(req, "wrong_commune", "the cluster is not of this commune");
        return -1;
    }
    return 0;
}

static struct lc_dlv_session dlv_session(const struct lc_ice_cast *c)
{
    return (struct lc_dlv_session){.id = c->session, .commune = c->commune,
                                   .start_s = c->start_ms / 1000, .end_s = c->end_ms / 1000,
                                   .programme_s = c->programme_s};
}

/* Common checks: configured, the caller, the form, a relay. 1: handled (answered), 0: a
 * cluster's listener in l and cluster. */
static int begin(struct lc_icecast *ic, struct lc_req *req, const char *action,
                 struct listener *l, char cluster[65])
{
    if (ic == NULL || ic->secret[0] == '\0') {
        lc_reply_error(req, 404, "not_found", "Icecast authentication is not configured");
        return 1;
    }
    if (!caller_ok(ic, req)) {
        lc_reply_error_headers(req, 401, "WWW-Authenticate: Basic realm=\"loacast-icecast\"\r\n",
                               "unauthorized", "Icecast's URL authentication credentials needed");
        return 1;
    }
    if (read_form(ic, req, action, l) < 0)
        return 1;
    if (strlen(l->pass) == strlen(ic->secret) && l->pass[0] != '\0' &&
        sodium_memcmp(l->pass, ic->secret, strlen(ic->secret)) == 0) {
        if (strcmp(action, "listener_add") == 0)
            lc_log(LC_LOG_INFO, "%s: an Icecast relay connects (client %s)", l->mount, l->client);
        lc_http_respond(req, 200, "application/json", "icecast-auth-user: 1\r\n",
                        "{\"relay\":true}", 14);
        return 1;
    }
    if (listener_cluster(ic, req, l, cluster) < 0)
        return 1;
    return 0;
}

static void post_add(struct lc_req *req, void *ctx)
{
    struct lc_icecast *ic = ctx;
    struct listener l;
    char cluster[65];
    if (begin(ic, req, "listener_add", &l, cluster))
        return;
    int64_t now = lc_now();
    struct lc_ice_cast *live = NULL;
    for (struct lc_ice_cast *c = ic->casts; c && live == NULL; c = c->next)
        if (!c->ended && strcmp(c->commune, l.commune) == 0)
            live = c;
    if (live != NULL) {
        struct lc_dlv_session s = dlv_session(live);
        if (lc_delivery_icecast(ic->d.store, &s, cluster, now, 0, 0, 0, now) < 0) {
            lc_reply_internal(req, "icecast listener");
            return;
        }
    }
    lc_log(LC_LOG_INFO, "%s: cluster %s listens through Icecast (client %s, %s)", l.mount, cluster,
           l.client, live ? "on air" : "off air");
    json_t *b = json_pack("{s:s,s:o}", "cluster", cluster, "session",
                          live ? json_integer(live->session) : json_null());
    char *txt = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    if (txt == NULL) {
        lc_reply_internal(req, "icecast listener");
        return;
    }
    lc_http_respond(req, 200, "application/json", "icecast-auth-user: 1\r\n", txt, strlen(txt));
    free(txt);
}

static void post_remove(struct lc_req *req, void *ctx)
{
    struct lc_icecast *ic = ctx;
    struct listener l;
    char cluster[65];
    if (begin(ic, req, "listener_remove", &l, cluster))
        return;
    char *end;
    long long dur = strtoll(l.duration, &end, 10);
    if (l.duration[0] == '\0' || *end != '\0' || dur < 0 || dur > 366LL * 86400) {
        lc_reply_error(req, 400, "bad_form", "duration must be seconds");
        return;
    }
    int64_t now = lc_now(), to_ms = now * 1000 + 999, from_ms = (now - dur) * 1000;
    json_t *sessions = json_array();
    for (struct lc_ice_cast *c = ic->casts; c; c = c->next) {
        if (strcmp(c->commune, l.commune) != 0 || c->begin_ms > to_ms ||
            (c->ended_ms != 0 && c->ended_ms < from_ms))
            continue;
        double prog_s;
        uint64_t bytes;
        lc_ice_cast_span(c, from_ms, to_ms, &prog_s, &bytes);
        struct lc_dlv_session s = dlv_session(c);
        if (lc_delivery_icecast(ic->d.store, &s, cluster, now - dur, now, prog_s, bytes, now) < 0) {
            json_decref(sessions);
            lc_reply_internal(req, "icecast listener");
            return;
        }
        json_array_append_new(sessions, json_pack("{s:I,s:f}", "session", (json_int_t)c->session,
                                                  "audio_s", prog_s));
    }
    lc_log(LC_LOG_INFO, "%s: cluster %s left Icecast after %lld s (client %s, %zu sessions)",
           l.mount, cluster, dur, l.client, json_array_size(sessions));
    lc_reply_json(req, 200, json_pack("{s:s,s:o}", "cluster", cluster, "sessions", sessions));
}

int lc_ice_routes(struct lc_icecast *ic, struct lc_router *r)
{
    int rc = lc_router_add(r, HTTP_POST, "/icecast/listener_add", LC_ROUTE_OPEN, LC_BODY_NONE,
                           post_add, ic);
    if (rc == 0)
        rc = lc_router_add(r, HTTP_POST, "/icecast/listener_remove", LC_ROUTE_OPEN, LC_BODY_NONE,
                           post_remove, ic);
    return rc;
}
