/*
 * server/icecast/icecast.c — the module's handle: the configured URL, the tap that turns the
 * engine's casts into mounts (icecast_source.c) and into the casts the listeners' accounting
 * reads (icecast_auth.c), shutdown.
 */
#define LC_LOG_MODULE "icecast"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <http_parser.h>
#include <shout/shout.h>

#include "common/err.h"
#include "common/log.h"
#include "server/icecast/icecast_internal.h"

#define KEEP_CASTS 3        /* per commune: a listener_remove may come after the next began */
#define STOP_WAIT_MS 2000

static int64_t wall_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* http://USER:PASSWORD@HOST:PORT (USER defaults to "source", PORT to 8000). */
static int parse_url(struct lc_icecast *ic, const char *url, struct lc_err *err)
{
    struct http_parser_url u;
    http_parser_url_init(&u);
    if (http_parser_parse_url(url, strlen(url), 0, &u) != 0 || !(u.field_set & (1 << UF_SCHEMA)) ||
        !(u.field_set & (1 << UF_HOST)) ||
        u.field_data[UF_SCHEMA].len != 4 || strncmp(url + u.field_data[UF_SCHEMA].off, "http", 4) != 0 ||
        (u.field_set & (1 << UF_PATH) && u.field_data[UF_PATH].len > 1)) {
        lc_err_set(err, -EINVAL, "[icecast] url: not http://source:PASSWORD@HOST:PORT");
        return -EINVAL;
    }
    if (u.field_data[UF_HOST].len >= sizeof ic->host) {
        lc_err_set(err, -EINVAL, "[icecast] url: host too long");
        return -EINVAL;
    }
    snprintf(ic->host, sizeof ic->host, "%.*s", (int)u.field_data[UF_HOST].len,
             url + u.field_data[UF_HOST].off);
    ic->port = u.field_set & (1 << UF_PORT) ? u.port : 8000;
    snprintf(ic->user, sizeof ic->user, "source");
    if (u.field_set & (1 << UF_USERINFO)) {
        const char *ui = url + u.field_data[UF_USERINFO].off;
        size_t n = u.field_data[UF_USERINFO].len;
        const char *colon = memchr(ui, ':', n);
        if (colon == NULL || (size_t)(colon - ui) >= sizeof ic->user ||
            n - (size_t)(colon - ui) - 1 >= sizeof ic->pass) {
            lc_err_set(err, -EINVAL, "[icecast] url: the user information is not USER:PASSWORD");
            return -EINVAL;
        }
        if (colon > ui)
            snprintf(ic->user, sizeof ic->user, "%.*s", (int)(colon - ui), ui);
        snprintf(ic->pass, sizeof ic->pass, "%.*s", (int)(n - (size_t)(colon - ui) - 1),
                 colon + 1);
    }
    if (ic->pass[0] == '\0') {
        lc_err_set(err, -EINVAL, "[icecast] url: no source password (http://source:PASSWORD@...)");
        return -EINVAL;
    }
    return 0;
}

int lc_icecast_open(struct lc_icecast **out, const struct lc_icecast_deps *d, struct lc_err *err)
{
    *out = NULL;
    struct lc_icecast *ic = calloc(1, sizeof *ic);
    if (ic == NULL) {
        lc_err_set(err, -ENOMEM, "out of memory");
        return -ENOMEM;
    }
    ic->d = *d;
    snprintf(ic->url, sizeof ic->url, "%s", d->url ? d->url : "");
    snprintf(ic->secret, sizeof ic->secret, "%s", d->auth_secret ? d->auth_secret : "");
    ic->d.url = ic->url;
    ic->d.auth_secret = ic->secret;
    if (ic->url[0] != '\0') {
        int rc = parse_url(ic, ic->url, err);
        if (rc < 0) {
            free(ic);
            return rc;
        }
        ic->source = true;
        shout_init();
        lc_log(LC_LOG_INFO, "on-air communes are pushed to Icecast %s:%d (/{commune}.opus)",
               ic->host, ic->port);
    }
    *out = ic;
    return 0;
}

static void cast_free(struct lc_ice_cast *c)
{
    if (c->mount != NULL)
        lc_ice_mount_end(c->mount);
    free(c->smp);
    free(c);
}

static struct lc_ice_cast *find(struct lc_icecast *ic, const struct lc_stream_tap *t)
{
    for (struct lc_ice_cast *c = ic->casts; c; c = c->next)
        if (c->session == t->session && strcmp(c->commune, t->commune) == 0)
            return c;
    return NULL;
}

/* A new cast, first in the list; the commune's oldest beyond KEEP_CASTS go. */
static struct lc_ice_cast *begin(struct lc_icecast *ic, const struct lc_stream_tap *t)
{
    struct lc_ice_cast *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    snprintf(c->commune, sizeof c->commune, "%s", t->commune);
    c->session = t->session;
    c->begin_ms = wall_ms();
    c->next = ic->casts;
    ic->casts = c;
    int n = 0;
    for (struct lc_ice_cast **pp = &ic->casts; *pp;) {
        struct lc_ice_cast *x = *pp;
        if (strcmp(x->commune, c->commune) == 0 && ++n > KEEP_CASTS) {
            *pp = x->next;
            cast_free(x);
        } else {
            pp = &x->next;
        }
    }
    if (ic->source)
        c->mount = lc_ice_mount_start(ic, t->commune, t->data, t->len);
    return c;
}

static void page(struct lc_ice_cast *c, const struct lc_stream_tap *t)
{
    c->bytes += t->len;
    if (!t->hold && t->g1 > t->g0) {
        if (c->nsmp == c->capsmp) {
            size_t cap = c->capsmp ? c->capsmp * 2 : 64;
            struct lc_ice_sample *s = realloc(c->smp, cap * sizeof *s);
            if (s == NULL) {
                lc_log(LC_LOG_ERR, "out of memory");
                return;
            }
            c->smp = s;
            c->capsmp = cap;
        }
        double before = c->nsmp ? c->smp[c->nsmp - 1].prog_s : 0;
        c->smp[c->nsmp++] = (struct lc_ice_sample){
            .ms = wall_ms(), .prog_s = before + (double)(t->g1 - t->g0) / 48000.0,
            .bytes = c->bytes};
    }
    if (c->mount != NULL)
        lc_ice_mount_page(c->mount, t->data, t->len);
    if (t->eos && c->ended_ms == 0)
        c->ended_ms = wall_ms(); /* the stream's end, for the listeners' accounting */
    if (t->eos && c->mount != NULL) {
        lc_ice_mount_end(c->mount);
        c->mount = NULL;
    }
}

void lc_icecast_tap(void *arg, enum lc_stream_tap_ev ev, const struct lc_stream_tap *t)
{
    struct lc_icecast *ic = arg;
    if (ic == NULL || ic->stopping)
        return;
    struct lc_ice_cast *c = find(ic, t);
    if (ev == LC_STREAM_TAP_BEGIN && c == NULL)
        c = begin(ic, t);
    if (c == NULL)
        return;
    c->start_ms = t->start_ms;
    c->end_ms = t->end_ms;
    c->programme_s = t->programme_s;
    if (ev == LC_STREAM_TAP_PAGE)
        page(c, t);
    if (ev == LC_STREAM_TAP_END && !c->ended) {
        c->ended = true;
        c->ended_ms = wall_ms();
        if (c->mount != NULL) {
            lc_ice_mount_end(c->mount);
            c->mount = NULL;
        }
    }
}

int lc_icecast_routes(struct lc_icecast *ic, struct lc_router *r)
{
    return lc_ice_routes(ic, r);
}

void lc_icecast_stop(struct lc_icecast *ic)
{
    if (ic == NULL || ic->stopping)
        return;
    ic->stopping = true;
    for (struct lc_ice_cast *c = ic->casts; c; c = c->next)
        if (c->mount != NULL) {
            lc_ice_mount_end(c->mount);
            c->mount = NULL;
        }
    if (ic->source) { /* the EOS pages the engine's stop made go out first, if Icecast is up */
        (void)lc_ice_mounts_wait(STOP_WAIT_MS / 2);
        lc_ice_mounts_stop_all();
        if (!lc_ice_mounts_wait(STOP_WAIT_MS / 2))
            lc_log(LC_LOG_WARN, "Icecast source threads still connecting at exit (left behind)");
    }
}

void lc_icecast_free(struct lc_icecast *ic)
{
    if (ic == NULL)
        return;
    lc_icecast_stop(ic);
    for (struct lc_ice_cast *c = ic->casts, *nx; c; c = nx) {
        nx = c->next;
        cast_free(c);
    }
    free(ic);
}
