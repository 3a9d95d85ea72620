/*
 * receiver/prefetch.c — a schedule's media into the cache; see prefetch.h.
 */
#include "receiver/prefetch.h"

#include <stdlib.h>
#include <time.h>

#include "receiver/cache.h"
#include "receiver/schedule.h"

static bool stopped(const struct rcv_prefetch_hooks *h)
{
    return h != NULL && h->stop != NULL && h->stop(h->arg);
}

/* Sleeps s seconds in 200 ms steps; false when stopped meanwhile. */
static bool wait_s(int s, const struct rcv_prefetch_hooks *h)
{
    for (int i = 0; i < s * 5; i++) {
        if (stopped(h))
            return false;
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return !stopped(h);
}

static void report(const struct rcv_config *c, const struct rcv_schedule *s, int64_t now_ms,
                   const struct rcv_prefetch_hooks *h)
{
    if (h == NULL || h->progress == NULL)
        return;
    const struct rcv_session *next = rcv_schedule_next(s, now_ms);
    if (next != NULL)
        h->progress(h->arg, next, rcv_cache_fetched_percent(c, next));
}

/* The sessions not over at now_ms, by start (stable for equal starts): an array of pointers
 * into s (free() it), *n of them; NULL with *n = 0 when none or out of memory. */
static const struct rcv_session **by_start(const struct rcv_schedule *s, int64_t now_ms, size_t *n)
{
    const struct rcv_session **v = s->nsessions ? malloc(s->nsessions * sizeof *v) : NULL;
    *n = 0;
    if (v == NULL)
        return NULL;
    for (size_t i = 0; i < s->nsessions; i++) {
        if (s->sessions[i].end_ms <= now_ms)
            continue;
        size_t j = (*n)++;
        for (; j > 0 && v[j - 1]->start_ms > s->sessions[i].start_ms; j--)
            v[j] = v[j - 1]; /* insertion sort: a schedule has a handful of sessions */
        v[j] = &s->sessions[i];
    }
    return v;
}

/* One item, with up to tries attempts; 0 held, 1 not held, -1 stopped. */
static int fetch_item(const struct rcv_config *c, struct rcv_net *n, const struct rcv_item *it,
                      const struct rcv_prefetch_opts *o, const struct rcv_prefetch_hooks *h)
{
    char why[512];
    int backoff = 1;
    if (it->relay)
        return 0; /* a relay has no media: it plays from the live stream (player.c) */
    for (int t = 0; t < o->tries; t++) {
        if (stopped(h))
            return -1;
        long status = 0;
        if (rcv_cache_fetch(c, n, it, o->stall_s, &status, why, sizeof why) == 0)
            return 0;
        if (h != NULL && h->error != NULL)
            h->error(h->arg, it, why);
        if (status >= 400 && status < 500 && status != 408 && status != 429)
            return 1; /* refused: asking again now changes nothing */
        if (t + 1 == o->tries)
            break;
        int ra = rcv_net_retry_after(n), wait = backoff;
        if (ra >= 0)
            wait = ra > 300 ? 300 : ra;
        if (!wait_s(wait, h))
            return -1;
        backoff = backoff * 2 > o->backoff_max_s ? o->backoff_max_s : backoff * 2;
    }
    return 1;
}

int rcv_prefetch_schedule(const struct rcv_config *c, struct rcv_net *n,
                          const struct rcv_schedule *s, int64_t now_ms,
                          const struct rcv_prefetch_opts *opts,
                          const struct rcv_prefetch_hooks *hooks)
{
    struct rcv_prefetch_opts o = {.tries = 5, .stall_s = 30, .backoff_max_s = 60};
    if (opts != NULL) {
        if (opts->tries > 0)
            o.tries = opts->tries;
        if (opts->stall_s > 0)
            o.stall_s = opts->stall_s;
        if (opts->backoff_max_s > 0)
            o.backoff_max_s = opts->backoff_max_s;
    }
    size_t ns;
    const struct rcv_session **order = by_start(s, now_ms, &ns);
    int missing = 0;
    report(c, s, now_ms, hooks);
    for (size_t i = 0; i < ns; i++) {
        const struct rcv_session *se = order[i];
        for (size_t j = 0; j < se->nitems; j++) {
            int rc = fetch_item(c, n, &se->items[j], &o, hooks);
            if (rc < 0) {
                free(order);
                return -1;
            }
            missing += rc;
            report(c, s, now_ms, hooks);
        }
    }
    free(order);
    return missing;
}
