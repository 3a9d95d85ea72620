/*
 * server/icecast/icecast_internal.h — the module's structures (internal header of
 * server/icecast/). Files: icecast.c (open, the tap, stop: calls both below), icecast_source.c
 * (the mounts' threads, libshout), icecast_auth.c (the two routes, the listeners' rows).
 */
#ifndef LC_SERVER_ICECAST_INTERNAL_H
#define LC_SERVER_ICECAST_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "server/icecast/icecast.h"

struct lc_ice_mount;

/* When programme audio was handed to Icecast: a step function of wall time (ms) to the
 * programme seconds and bytes handed so far, one sample per page of programme audio. */
struct lc_ice_sample {
    int64_t ms;
    double prog_s;
    uint64_t bytes;
};

/* A cast as the listeners' accounting sees it; kept after its end (a listener_remove comes
 * later) until a newer cast of the commune makes it the second to go (KEEP_CASTS per commune). */
struct lc_ice_cast {
    struct lc_ice_cast *next;
    char commune[64];
    int64_t session, start_ms, end_ms;
    double programme_s;
    int64_t begin_ms, ended_ms;     /* wall clock: its header page; its end (0: not yet) */
    bool ended;
    uint64_t bytes;                 /* handed to the source so far, every page */
    struct lc_ice_sample *smp;
    size_t nsmp, capsmp;
    struct lc_ice_mount *mount;     /* its source (NULL: none configured, or ended) */
};

struct lc_icecast {
    struct lc_icecast_deps d;
    char url[1024], secret[256];
    char host[256], user[128], pass[256];
    int port;
    bool source;                    /* a URL is configured */
    bool stopping;
    struct lc_ice_cast *casts;      /* newest first */
};

/* icecast_source.c: a mount /{commune}.opus whose thread connects and sends the headers, then
 * every page queued. NULL when out of memory or the thread did not start (logged). */
struct lc_ice_mount *lc_ice_mount_start(struct lc_icecast *ic, const char *commune,
                                        const unsigned char *headers, size_t len);
/* Queues a page (copied; past the queue's bound the queue is emptied and the thread connects
 * again). Never blocks. */
void lc_ice_mount_page(struct lc_ice_mount *m, const unsigned char *data, size_t len);
/* No more pages: the thread sends what is queued (a dead Icecast: drops it), closes and ends.
 * m is the thread's from now on. */
void lc_ice_mount_end(struct lc_ice_mount *m);
/* Waits at most wait_ms for every mount thread to end; true when none is left. */
bool lc_ice_mounts_wait(int wait_ms);
/* Tells every mount thread still running to stop now. */
void lc_ice_mounts_stop_all(void);

/* icecast_auth.c: the programme seconds and bytes handed to Icecast in [from_ms, to_ms]. */
void lc_ice_cast_span(const struct lc_ice_cast *c, int64_t from_ms, int64_t to_ms, double *prog_s,
                      uint64_t *bytes);
int lc_ice_routes(struct lc_icecast *ic, struct lc_router *r);

#endif
