/*
 * receiver/prefetch.h — every item of a schedule into the cache, sessions in the order they
 * start (the next session first), items in programme order, with retries and backoff.
 */
#ifndef LC_RECEIVER_PREFETCH_H
#define LC_RECEIVER_PREFETCH_H

#include <stdbool.h>
#include <stdint.h>

#include "receiver/net.h"
#include "receiver/receiver.h"

/* What the caller hears and says during a pass. Every member may be NULL. */
struct rcv_prefetch_hooks {
    /* true: end the pass now (a new schedule came, shutdown). Asked before each attempt and
     * every 200 ms of a backoff wait. */
    bool (*stop)(void *arg);
    /* After each item's outcome: the next session (on air or ahead; id 0 when it has none yet)
     * and how much of its bytes are held, 0..100 (what the status report says). */
    void (*progress)(void *arg, const struct rcv_session *next, double fetched_percent);
    /* Each failed attempt, with its reason (for the log and last_error). */
    void (*error)(void *arg, const struct rcv_item *it, const char *why);
    void *arg;
};

struct rcv_prefetch_opts {
    int tries;          /* attempts per item in one pass (default 5) */
    int stall_s;        /* no byte for this long ends an attempt (default 30) */
    int backoff_max_s;  /* the wait between attempts doubles from 1 s up to this (default 60);
                         * a Retry-After of the answer is taken instead, up to 300 s */
};

/* One pass over s at now_ms (server clock): sessions not over yet, the earliest first; an item
 * already held costs nothing (a hash named twice is fetched once, if the first succeeds). A 4xx answer other than
 * 408/429 is not retried within the pass (the schedule will change or the next pass tries).
 * opts may be NULL (defaults). Returns the number of items not held at the end (0: all are),
 * or -1 when stopped by hooks->stop. */
int rcv_prefetch_schedule(const struct rcv_config *c, struct rcv_net *n,
                          const struct rcv_schedule *s, int64_t now_ms,
                          const struct rcv_prefetch_opts *opts,
                          const struct rcv_prefetch_hooks *hooks);

#endif
