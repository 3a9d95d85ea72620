/*
 * server/delivery.h — what each cluster received of each broadcast session, from completed
 * writes (internal header of server/).
 *
 * One record per cluster and session (struct lc_dlv), owned by the session's stream. A receiver's
 * completed page writes add the page's granule interval [g0, g1) to the record's ranges (kept
 * sorted and merged); the audio delivered is their total length, and a bulletin reached the
 * cluster whole when one range covers its airing (server/stream_prog.h). Records are written to
 * the table `deliveries` (migration 20) in batches: the engine's timer (≤ 1 s) saves every dirty
 * record in one transaction, so after a crash the table is complete up to the last batch.
 *
 * Table deliveries, one row per (session, cluster) — the coverage issue reads it:
 *   session          broadcast session row id (the scheduler's)
 *   cluster, commune
 *   session_start, session_end   the session's window, Unix s
 *   connected_at     first connection in the session, Unix s
 *   disconnected_at  last disconnection, Unix s; NULL while connected
 *   audio_s          seconds of programme audio delivered (union of completed page intervals)
 *   programme_s      seconds of audio in the session's stream (grows with emergencies; final
 *                    at the end of the stream)
 *   bytes            bytes whose write completed (headers included)
 *   reconnections    connections after the first
 *   reached          1 when audio_s ≥ 90% of programme_s (SPEC "Delivery and coverage")
 *   bulletins_whole  JSON array of bulletin ids whose whole airing reached the cluster
 *   updated_at       Unix s of the batch that wrote the row
 * A server restarted in the middle of a session continues the rows it finds (base values).
 *
 * Loop thread only.
 */
#ifndef LC_SERVER_DELIVERY_H
#define LC_SERVER_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/stream_prog.h"

struct lc_store;

struct lc_dlv_range {
    uint64_t g0, g1;
};

struct lc_dlv {
    struct lc_dlv *next;            /* in the stream's list */
    struct lc_dlv *hnext;           /* in the stream's hash chain */
    int64_t connected_at;           /* Unix s, 0 before the first connection */
    int64_t disconnected_at;        /* Unix s, 0 while connected */
    uint64_t bytes;
    int connections;
    int live;                       /* receivers connected now (0 or 1) */
    bool dirty;
    bool loaded;                    /* base values read from the table */
    bool row;                       /* the row exists: later batches UPDATE it (cheaper) */
    bool whole_saved;               /* the row has the cached bulletins_whole text */
    struct lc_dlv_range *rng;
    uint32_t nrng, caprng;
    double base_audio_s;            /* from before a restart */
    uint64_t base_bytes;
    int base_reconnections;
    char *base_whole;               /* JSON array text, or NULL */
    char *whole;                    /* cached bulletins_whole text, recomputed when stale */
    size_t whole_nair;              /* ... for this many airings, */
    uint32_t whole_nrng;            /* this many ranges, */
    uint64_t whole_end;             /* and ranges ending here */
    char cluster[];
};

/* The session a record belongs to, as the batch writer needs it. */
struct lc_dlv_session {
    int64_t id;
    const char *commune;
    int64_t start_s, end_s;
    double programme_s;
    uint64_t preskip;
    const struct lc_airing *air;
    size_t nair;
};

struct lc_dlv *lc_dlv_new(const char *cluster);
void lc_dlv_free(struct lc_dlv *d);

/* A completed write of a page with audio [g0, g1). -ENOMEM. */
int lc_dlv_add(struct lc_dlv *d, uint64_t g0, uint64_t g1);
/* Seconds of audio in the ranges (48 kHz granules). */
double lc_dlv_audio_s(const struct lc_dlv *d);
/* True if one range covers [g0, g1). */
bool lc_dlv_covers(const struct lc_dlv *d, uint64_t g0, uint64_t g1);

/* Reads the record's base values from an earlier run, if the row exists. 0 or -EIO. */
int lc_delivery_load(struct lc_store *st, const struct lc_dlv_session *s, struct lc_dlv *d);
/* Writes the record's row (insert or update). Call inside a transaction. 0 or -EIO. */
int lc_delivery_save(struct lc_store *st, const struct lc_dlv_session *s, struct lc_dlv *d,
                     int64_t now_s);
/* Sign of life: clusters.last_seen = now_s. Call inside a transaction. 0 or -EIO. */
int lc_delivery_seen(struct lc_store *st, const char *cluster, int64_t now_s);

#endif
