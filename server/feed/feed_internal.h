/* server/feed/feed_internal.h — internal header of server/feed/ (feed.c, feed_payload.c). */
#ifndef LC_SERVER_FEED_INTERNAL_H
#define LC_SERVER_FEED_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "server/feed/feed.h"
#include "server/station/station.h"

#define LC_FEED_AHEAD_S (36 * 3600)     /* sessions starting within this are in a schedule */

/* The sessions of one commune, read once per build round and shared by its clusters. */
struct lc_feed_commune {
    char id[65];
    char *sessions;                     /* the payload's "sessions" as JSON text (owned) */
    char digest[65];                    /* BLAKE2b-256 hex of that text */
    struct lc_feed_commune *next;
};

/* One round of builds (a request, or a rebuild of every waiting schedule): the time it is made
 * at and the communes read so far. */
struct lc_feed_round {
    int64_t now_ms;
    char issued[48], expires[48];       /* RFC 3339, quoted: made once per round */
    struct lc_feed_commune *communes;
};

/* A cluster's schedule, built and signed: body is the route's whole answer (owned). */
struct lc_feed_built {
    int64_t version;
    char *body;
    size_t len;
};

struct waiter;

struct lc_feed {
    struct lc_feed_deps d;
    uv_timer_t tick;            /* every second: deadlines, clients gone, the 30 s rebuild */
    uv_timer_t soon;            /* a poke: the rebuild on the next loop turn (coalesced) */
    struct waiter *waiters;     /* doubly linked, newest first */
    size_t nwaiting;
    int64_t last_version;       /* the largest version given so far */
    int64_t last_rebuild_ms;
    int handles;                /* timers not closed yet */
    bool soon_armed;
    bool stopped;
};

/* Builds cluster's schedule in round r: 0 (built, in out), 1 (its version is still `known`:
 * nothing built, out->version set), -ENOENT (no such cluster in service), -EIO. Assigns a new
 * version (stored) when the content changed. In the caller's transaction, if any. known < 0:
 * always build. */
int lc_feed_build(struct lc_feed *f, struct lc_feed_round *r, const char *cluster, int64_t known,
                  struct lc_feed_built *out);
void lc_feed_built_free(struct lc_feed_built *b);
void lc_feed_round_end(struct lc_feed_round *r);
/* The largest version stored (at start). */
int64_t lc_feed_max_version(struct lc_store *store);

#endif
