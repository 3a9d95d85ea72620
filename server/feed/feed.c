/*
 * server/feed/feed.c — the schedule route, its long-poll and the module's lifecycle; see feed.h.
 *
 * A waiter is a held request (lc_req_hold) with its cluster, the version it has, and its
 * deadline; the module keeps them in one list. The tick timer (1 s) answers the expired ones
 * (304) and forgets those whose client left; a poke arms `soon` (0 ms, coalesced), whose round
 * builds every waiting cluster's schedule once, in one transaction (versions that moved are
 * stored together), and answers those whose version is not theirs any more.
 */
#define LC_LOG_MODULE "feed"
#include "server/feed/feed_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "common/buf.h"
#include "common/log.h"
#include "server/api/api.h"
#include "server/http/http.h"
#include "server/registry/registry.h"
#include "server/scheduler/scheduler.h"
#include "server/store/store.h"

#define MAX_WAIT_S 60
#define REBUILD_MS 30000    /* time alone moves schedules (a session ends): built again */

struct waiter {
    struct waiter *prev, *next;
    struct lc_req *req;         /* held */
    int64_t since;
    uint64_t deadline;          /* loop time, ms */
    char cluster[65];
};

static int64_t wall_ms(void)
{
    uv_timeval64_t tv;
    uv_gettimeofday(&tv);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void reply_built(struct lc_req *req, const struct lc_feed_built *b)
{
    lc_http_respond(req, 200, "application/json", "Cache-Control: no-store\r\n", b->body, b->len);
}

static void unlink_waiter(struct lc_feed *f, struct waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        f->waiters = w->next;
    if (w->next)
        w->next->prev = w->prev;
    f->nwaiting--;
}

/* Ends a wait: answers (unless answered, or the client is gone) and lets the request go. */
static void end_wait(struct lc_feed *f, struct waiter *w, int status, const struct lc_feed_built *b)
{
    unlink_waiter(f, w);
    if (lc_req_alive(w->req)) {
        if (b != NULL)
            reply_built(w->req, b);
        else if (status == 304)
            lc_http_respond(w->req, 304, NULL, "Cache-Control: no-store\r\n", NULL, 0);
        else
            lc_reply_error(w->req, status, "shutting_down", "the server is shutting down");
    }
    lc_req_release(w->req);
    free(w);
}

struct rebuild_tx {
    struct lc_feed *f;
    struct lc_feed_round round;
};

static int rebuild_tx(struct lc_store *store, void *arg)
{
    (void)store;
    struct rebuild_tx *t = arg;
    struct lc_feed *f = t->f;
    for (struct waiter *w = f->waiters, *next; w != NULL; w = next) {
        next = w->next;
        struct lc_feed_built b;
        int rc = lc_feed_build(f, &t->round, w->cluster, w->since, &b);
        if (rc == -ENOENT) {
            end_wait(f, w, 304, NULL); /* retired meanwhile: its token fails from now on */
        } else if (rc < 0) {
            return rc; /* tried again at the next poke or rebuild */
        } else if (rc == 0) {
            end_wait(f, w, 200, &b); /* a new version: answered */
            lc_feed_built_free(&b);
        }
    }
    return 0;
}

static void rebuild(struct lc_feed *f)
{
    f->last_rebuild_ms = wall_ms();
    if (f->waiters == NULL)
        return;
    struct rebuild_tx t = {f, {.now_ms = f->last_rebuild_ms}};
    uint64_t t0 = uv_hrtime();
    if (lc_store_tx(f->d.store, rebuild_tx, &t) < 0)
        lc_log(LC_LOG_ERR, "cannot build the waiting schedules");
    lc_feed_round_end(&t.round);
    uint64_t ms = (uv_hrtime() - t0) / 1000000;
    if (ms > 200)
        lc_log(LC_LOG_INFO, "built %zu waiting schedules in %llu ms", f->nwaiting,
               (unsigned long long)ms);
}

static void on_soon(uv_timer_t *t)
{
    struct lc_feed *f = t->data;
    f->soon_armed = false;
    rebuild(f);
}

void lc_feed_poke(struct lc_feed *f)
{
    if (f == NULL || f->stopped || f->soon_armed)
        return;
    f->soon_armed = true;
    uv_timer_start(&f->soon, on_soon, 0, 0);
}

static void on_tick(uv_timer_t *t)
{
    struct lc_feed *f = t->data;
    uint64_t now = uv_now(f->d.loop);
    for (struct waiter *w = f->waiters, *next; w != NULL; w = next) {
        next = w->next;
        if (!lc_req_alive(w->req) || now >= w->deadline)
            end_wait(f, w, 304, NULL);
    }
    if (f->waiters != NULL && wall_ms() - f->last_rebuild_ms >= REBUILD_MS)
        rebuild(f);
}

static void on_onair(void *ctx, enum lc_onair_event ev, const struct lc_onair_session *s)
{
    (void)ev;
    (void)s;
    lc_feed_poke(ctx);
}

/* ?since=V (a version, ≥ 0) and ?wait=S (0..60 s). 0, or -1 after answering 400. */
static int read_query(struct lc_req *req, int64_t *since, bool *has_since, int *wait_s)
{
    char buf[32], *end;
    const char *q = lc_req_query(req, "since", buf, sizeof buf);
    *has_since = q != NULL;
    if (q != NULL) {
        long long v = strtoll(q, &end, 10);
        if (*q == '\0' || *end != '\0' || v < 0) {
            lc_reply_error(req, 400, "bad_query", "since must be a version (a whole number)");
            return -1;
        }
        *since = v;
    }
    *wait_s = 0;
    if ((q = lc_req_query(req, "wait", buf, sizeof buf)) != NULL) {
        long v = strtol(q, &end, 10);
        if (*q == '\0' || *end != '\0' || v < 0 || v > MAX_WAIT_S) {
            lc_reply_error(req, 400, "bad_query", "wait must be 0..%d seconds", MAX_WAIT_S);
            return -1;
        }
        *wait_s = (int)v;
    }
    return 0;
}

static void get_schedule(struct lc_req *req, void *ctx)
{
    struct lc_feed *f = ctx;
    const char *cluster = req->params[0];
    int64_t since = 0;
    bool has_since;
    int wait_s;
    if (lc_receiver_auth(f->d.store, req, cluster) < 0 ||
        read_query(req, &since, &has_since, &wait_s) < 0)
        return;
    if (f->stopped) {
        lc_reply_error(req, 503, "shutting_down", "the server is shutting down");
        return;
    }
    struct lc_feed_round round = {.now_ms = wall_ms()};
    struct lc_feed_built b;
    int rc = lc_feed_build(f, &round, cluster, has_since ? since : -1, &b);
    lc_feed_round_end(&round);
    if (rc == -ENOENT) {
        lc_reply_error(req, 404, "not_found", "no cluster '%.64s'", cluster);
        return;
    }
    if (rc < 0) {
        lc_reply_internal(req, "schedule");
        return;
    }
    if (rc == 0) {
        reply_built(req, &b);
    } else if (wait_s == 0) {
        lc_http_respond(req, 304, NULL, "Cache-Control: no-store\r\n", NULL, 0);
    } else {
        struct waiter *w = calloc(1, sizeof *w);
        if (w == NULL) {
            lc_reply_internal(req, "schedule: memory");
        } else {
            w->req = req;
            w->since = since;
            w->deadline = uv_now(f->d.loop) + (uint64_t)wait_s * 1000;
            snprintf(w->cluster, sizeof w->cluster, "%s", cluster);
            lc_req_hold(req);
            w->next = f->waiters;
            if (f->waiters)
                f->waiters->prev = w;
            f->waiters = w;
            f->nwaiting++;
        }
    }
    lc_feed_built_free(&b);
}

int lc_feed_open(struct lc_feed **out, const struct lc_feed_deps *deps)
{
    struct lc_feed *f = calloc(1, sizeof *f);
    *out = f;
    if (f == NULL)
        return -ENOMEM;
    f->d = *deps;
    f->last_version = lc_feed_max_version(deps->store);
    uv_timer_init(deps->loop, &f->tick);
    uv_timer_init(deps->loop, &f->soon);
    f->tick.data = f->soon.data = f;
    f->handles = 2;
    uv_timer_start(&f->tick, on_tick, 1000, 1000);
    return deps->onair ? lc_onair_subscribe(deps->onair, on_onair, f) : 0;
}

size_t lc_feed_waiting(const struct lc_feed *f)
{
    return f ? f->nwaiting : 0;
}

void lc_feed_metrics(const struct lc_feed *f, struct lc_buf *b)
{
    if (f == NULL)
        return;
    char line[256];
    int n = snprintf(line, sizeof line,
                     "# HELP loacast_schedule_waiting Receivers' schedule requests held (long-poll).\n"
                     "# TYPE loacast_schedule_waiting gauge\n"
                     "loacast_schedule_waiting %zu\n", f->nwaiting);
    lc_buf_append(b, line, (size_t)n);
}

static void on_closed(uv_handle_t *h)
{
    struct lc_feed *f = h->data;
    f->handles--;
}

void lc_feed_stop(struct lc_feed *f)
{
    if (f == NULL || f->stopped)
        return;
    f->stopped = true;
    while (f->waiters)
        end_wait(f, f->waiters, 503, NULL);
    uv_close((uv_handle_t *)&f->tick, on_closed);
    uv_close((uv_handle_t *)&f->soon, on_closed);
}

void lc_feed_free(struct lc_feed *f)
{
    free(f);
}

int lc_feed_routes(struct lc_feed *f, struct lc_router *r)
{
    static const struct lc_api_route routes[] = {
        {HTTP_GET, "/api/v1/receivers/{cluster}/schedule", LC_ROUTE_OPEN, LC_BODY_NONE,
         get_schedule},
    };
    return LC_API_ROUTES(r, routes, f);
}
