/*
 * server/stream/stream_internal.h — the engine's structures, shared by stream.c (casts, receivers,
 * fan-out), stream_engine.c (lifecycle, accounting batches, stats) and stream_http.c (the route).
 * See stream.h for the glossary and ownership.
 */
#ifndef LC_SERVER_STREAM_INTERNAL_H
#define LC_SERVER_STREAM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "server/accounting/delivery.h"
#include "server/scheduler/onair.h"
#include "server/stream/stream.h"
#include "server/stream/stream_map.h"
#include "server/stream/stream_page.h"
#include "server/stream/stream_prog.h"

struct lc_cast;
struct lc_http_conn;

struct lc_rcv {
    struct lc_streams *eng;
    struct lc_cast *cast;       /* NULL once unlinked (closing or finished) */
    struct lc_http_conn *conn;  /* taken over from the request; not used once closed */
    int fd;                     /* its socket, for writes while not closed nor finished */
    struct lc_dlv *dlv;         /* the cast's record for this cluster; valid while cast != NULL */
    struct lc_rcv *prev, *next; /* in the cast's list (next: in the engine's grave when freeing) */
    uint64_t queued;            /* granules of audio in unfinished writes */
    uint32_t inflight;          /* unfinished uv_write requests */
    uint32_t seq_off;           /* page sequence numbers shift (joined in the middle) */
    bool closed;                /* the connection is closing or closed */
    bool finished;              /* lc_http_stream_end() called */
    bool eos_done;              /* the EOS page was written */
    bool freeing;
};

enum cast_state { CAST_HELD, CAST_ON, CAST_DONE };

struct lc_cast {
    struct lc_streams *eng;
    struct lc_cast *next;
    int64_t session;
    char commune[64];
    int64_t start_ms, end_ms;
    enum cast_state state;
    bool closed;                /* CLOSE seen or replaced: freed once no receiver is left */
    bool freeing;
    struct lc_prog prog;
    struct lc_packer pk;
    struct lc_page *headers;    /* OpusHead + OpusTags pages, sent first to every receiver */
    struct lc_pageq q;          /* the newest pages, ≥ burst_s of audio */
    uv_timer_t timer;           /* pacing */
    uint64_t t0;                /* uv_now() at OPEN */
    uint64_t made;              /* page ticks done since OPEN */
    struct lc_rcv *rcvs;
    size_t nrcv;
    struct lc_page *fan_first;  /* a fan-out under way: its first page (referenced), */
    struct lc_rcv *fan_next;    /* and the next receiver to serve */
    struct lc_dlv_mark mark;    /* end granule and bytes of the pages made (delivery anchors) */
    struct lc_dlv *dlvs;        /* every cluster that connected in this session */
    struct lc_strmap dlv_by_cluster;
};

struct lc_streams {
    struct lc_stream_opts o;
    char audio_dir[4096];
    struct lc_clipcache clips;
    unsigned char silence[1276]; /* one 20 ms Opus packet of silence, encoded at open */
    uint32_t silence_len;
    struct lc_cast *casts;
    struct lc_strmap by_cluster;    /* cluster → its receiver */
    struct lc_strmap seen;          /* clusters seen since the last batch (values unused) */
    uv_timer_t batch;
    uv_idle_t fan_idle;             /* runs while a fan-out is under way (in slices) */
    int handles;                    /* open handles: batch timer, fan idle, casts' timers */
    int nrcv_objects;               /* receivers not yet freed */
    int depth;                      /* inside an engine entry point */
    struct lc_rcv *grave;           /* receivers to free when depth returns to 0 */
    bool stopping;
    bool flush_due;                 /* a batch waits for the fan-out under way to complete */
    /* counters */
    uint64_t connected, bytes_sent, dropped_slow, replaced, pages;
};

/* stream_engine.c: saves the cast's dirty records (and, if final, every record) in the current
 * or a new transaction. */
void lc_stream_save_cast(struct lc_streams *e, struct lc_cast *c, bool final);
/* stream.c */
double lc_cast_programme_s(const struct lc_cast *c);
void lc_stream_onair_cb(void *ctx, enum lc_onair_event ev, const struct lc_onair_session *s);
void lc_stream_end_all(struct lc_streams *e);
void lc_stream_maybe_free_engine(struct lc_streams *e);
/* A fan-out continues in the next loop iterations (stream_engine.c starts the idle handle, which
 * calls lc_stream_fan_more() until it calls lc_stream_fan_done()). */
void lc_stream_fan_later(struct lc_streams *e);
void lc_stream_fan_more(struct lc_streams *e);
void lc_stream_fan_done(struct lc_streams *e);

#endif
