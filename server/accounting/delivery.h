/*
 * server/accounting/delivery.h — what each cluster received of each broadcast session, from completed
 * writes (internal header of server/).
 *
 * One record per cluster and session (struct lc_dlv), owned by the session's stream. A receiver's
 * completed page writes add the page's granule interval [g0, g1) to the record's ranges (kept
 * sorted and merged); the audio delivered is their total length, and a bulletin reached the
 * cluster whole when one range covers its airing (server/stream/stream_prog.h). Records are written to
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
 *   anchor_g, anchor_bytes   NULL, or: the receiver was in step with its stream when the row was
 *                    written, at the stream's granule anchor_g and byte count anchor_bytes; the
 *                    batches since then wrote only the stream's progress (table
 *                    delivery_progress, one row per session on air) and the view
 *                    deliveries_current adds it (migration 31). Every reader, loacast's
 *                    routes included, reads the view.
 * A server restarted in the middle of a session continues the rows it finds (base values), after
 * lc_delivery_recover() has folded the progress of the previous run into them.
 *
 * Loop thread only.
 */
#ifndef LC_SERVER_DELIVERY_H
#define LC_SERVER_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/stream/stream_prog.h"

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
    /* The row's anchor (see the table above) and what the record held when it was written: the
     * record is still in step while only pages of its stream were added since. */
    bool anchored;
    uint64_t anchor_g, anchor_stream_bytes, anchor_bytes;
    int anchor_connections;
    uint32_t anchor_nrng;
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
/* The stream's position for anchors: the end granule of its newest page and the bytes of all
 * its pages so far (header pages excluded). */
struct lc_dlv_mark {
    uint64_t g, bytes;
};

/* Writes the record's row (insert or update), anchored at *at when at is not NULL (the record
 * is in step: its ranges end at at->g). Call inside a transaction. 0, -ENOMEM or -EIO. */
int lc_delivery_save(struct lc_store *st, const struct lc_dlv_session *s, struct lc_dlv *d,
                     const struct lc_dlv_mark *at, int64_t now_s);
/* True when the record's row needs no write in this batch: it is anchored and since then got
 * exactly the stream's pages up to at (no gap, no other connection), and its bulletins_whole
 * text is unchanged (refreshed here). */
bool lc_delivery_in_step(const struct lc_dlv_session *s, struct lc_dlv *d,
                         const struct lc_dlv_mark *at);
/* The stream's progress for its anchored rows (a row per session). Inside a transaction. */
int lc_delivery_progress(struct lc_store *st, const struct lc_dlv_session *s,
                         const struct lc_dlv_mark *at, int64_t now_s);
/* The session's stream ended: its rows were written whole; its progress row goes. */
int lc_delivery_progress_end(struct lc_store *st, int64_t session);
/* At start: folds the progress of the previous run into the anchored rows and makes every row
 * complete as it is (no anchors, no progress). 0 or -EIO. */
int lc_delivery_recover(struct lc_store *st);
/* Sign of life: clusters.last_seen = now_s. Call inside a transaction. 0 or -EIO. */
int lc_delivery_seen(struct lc_store *st, const char *cluster, int64_t now_s);

#endif
