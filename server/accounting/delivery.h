/*
 * server/accounting/delivery.h — what each cluster received of each broadcast session, from
 * completed writes. A public piece of server/accounting/, included by its door accounting.h: the
 * streaming engine (server/stream/) keeps the records of its sessions and calls these functions;
 * accounting calls nothing of the stream (the dependency goes stream → accounting only).
 *
 * One record per cluster and session (struct lc_dlv), held by the session's stream in a list
 * that lc_dlv_new() starts and lc_dlv_free_all() ends. Records are changed only here, in
 * delivery.c: the stream reports events (lc_dlv_connect, lc_dlv_disconnect, lc_dlv_delivered)
 * and asks for batches (lc_delivery_batch); it reads fields, never writes them. A receiver's
 * completed page writes add the page's granule interval [g0, g1) to the record's ranges (kept
 * sorted and merged); the audio delivered is their total length, and a bulletin reached the
 * cluster whole when one range covers its airing (struct lc_airing below). Records are written
 * to the table `deliveries` (migration 20) in batches: the engine's timer (≤ 1 s) saves every
 * dirty record in one transaction, so after a crash the table is complete up to the last batch.
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

struct lc_store;

/* Where a bulletin's audio lies in a session's stream, in granules (48 kHz samples from the
 * stream's start): [g0, g1) is its true content, after its own pre-skip, without its end padding.
 * The stream records one when the bulletin's first packet goes out (an interrupted bulletin that
 * plays again has two). */
struct lc_airing {
    int64_t bulletin;
    uint64_t g0, g1;
};

struct lc_dlv_range {
    uint64_t g0, g1;
};

struct lc_dlv {
    struct lc_dlv *next;            /* in the session's list */
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
    uint32_t nrng;
    size_t caprng;
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

/* A new record of cluster, pushed on *list (the session's records); NULL when out of memory. */
struct lc_dlv *lc_dlv_new(const char *cluster, struct lc_dlv **list);
/* Frees every record of *list; *list becomes NULL. */
void lc_dlv_free_all(struct lc_dlv **list);

/* A receiver of the record's cluster connected (now_s: Unix s). */
void lc_dlv_connect(struct lc_dlv *d, int64_t now_s);
/* ... and is gone. */
void lc_dlv_disconnect(struct lc_dlv *d, int64_t now_s);
/* A completed write of a page of `bytes` with audio [g0, g1) (g0 == g1: no audio). -ENOMEM. */
int lc_dlv_delivered(struct lc_dlv *d, uint32_t bytes, uint64_t g0, uint64_t g1);
/* True when the record has something for the next batch (a change, or an anchored row whose
 * stream progress is written). */
bool lc_dlv_pending(const struct lc_dlv *d);

/* Adds audio [g0, g1) to the ranges (lc_dlv_delivered without the bytes). -ENOMEM. */
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

/* One batch of a session's records, inside the caller's transaction. The rows of records that
 * changed other than by following the stream (joined, gone, behind, a bulletin completed) are
 * written and anchored at *at when in step, so that in the usual second only the stream's
 * progress row is written for all the receivers that kept pace. at NULL: no anchors (the stream
 * is not on air). final: every row whole, no anchor, the progress row goes. */
void lc_delivery_batch(struct lc_store *st, const struct lc_dlv_session *s, struct lc_dlv *list,
                       const struct lc_dlv_mark *at, bool final, int64_t now_s);
/* The batch that held these records was rolled back: they forget what they believed saved, so
 * that the next batch writes each row whole (an upsert, no anchor). */
void lc_delivery_batch_lost(struct lc_dlv *list);
/* At start: folds the progress of the previous run into the anchored rows and makes every row
 * complete as it is (no anchors, no progress). 0 or -EIO. */
int lc_delivery_recover(struct lc_store *st);
/* A cluster listening through Icecast (issue 19, server/icecast/): its row of session s is marked
 * via 'icecast' (a row the live stream made for the same session and cluster is left alone).
 * At the listener's start (end_s 0): the row is made with connected_at = at_s (or, made already,
 * its reconnections + 1), disconnected_at NULL. At its end (end_s: disconnected_at): audio_s and
 * bytes are added (audio_s capped at programme_s), reached by the 90 % rule. One statement.
 * 0 or -EIO. */
int lc_delivery_icecast(struct lc_store *st, const struct lc_dlv_session *s, const char *cluster,
                        int64_t at_s, int64_t end_s, double audio_s, uint64_t bytes,
                        int64_t now_s);
/* Sign of life: clusters.last_seen = now_s. Call inside a transaction. 0 or -EIO. */
int lc_delivery_seen(struct lc_store *st, const char *cluster, int64_t now_s);

#endif
