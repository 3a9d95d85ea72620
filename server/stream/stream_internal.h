/*
 * server/stream/stream_internal.h — the engine's structures (internal header of server/stream/).
 * See stream.h for the glossary and ownership.
 *
 * Files, each calling only those below it (no circle):
 *   stream_http.c     GET /stream/{cluster}.opus                  → stream_engine.c, stream.c,
 *                                                                    stream_batch.c, stream_listen.c
 *   stream_listen.c   staff listen (tickets), on-air counts        → stream.c
 *   stream_engine.c   open, stop, free; the batch timer; stats    → stream.c, stream_batch.c,
 *                                                                    stream_clips.c
 *   stream.c          on-air events, casts, pacing, fan-out,       → stream_batch.c, stream_clips.c,
 *                     receivers, attach; frees the engine            stream_prog.c, stream_page.c,
 *                                                                    stream_map.c
 *   stream_tap.c      the pages of every cast to a tap (issue 19: the Icecast source)
 *   stream_batch.c    accounting batches (accounting/ does the rows), signs of life
 *   stream_clips.c    stored audio, read on the reader thread
 *   stream_prog.c     the timeline                                 → stream_relay.c
 *   stream_relay.c    relay items: an upstream's packets, or filler (codecs/relay.h)
 *   stream_page.c  pages, queue, packer;  stream_map.c  maps
 */
#ifndef LC_SERVER_STREAM_INTERNAL_H
#define LC_SERVER_STREAM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "server/accounting/accounting.h"
#include "server/scheduler/scheduler.h"
#include "server/stream/stream.h"
#include "server/stream/stream_clips.h"
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
    struct lc_dlv *dlv;         /* the cast's record for this cluster; valid while cast != NULL;
                                 * NULL: a staff listener (stream_listen.c), no cluster's */
    struct lc_rcv *prev, *next; /* in the cast's list (next: in the engine's grave when freeing) */
    uint64_t queued;            /* granules of audio in unfinished writes */
    uint32_t inflight;          /* unfinished uv_write requests */
    uint32_t seq_off;           /* page sequence numbers shift (joined in the middle) */
    unsigned char last_hdr[27]; /* the header of the last audio page it was given (has_last) */
    bool has_last;
    char addr[64];              /* the client's address (a replacement from another one: a clone?) */
    int64_t since_ms;           /* when it connected (wall clock), for the log's drop line */
    char who[72];               /* rcv_name() at connect: the drop line may come after its cast
                                 * and delivery record are gone */
    bool closed;                /* the connection is closing or closed */
    bool finished;              /* lc_http_stream_end() called */
    bool eos_done;              /* the EOS page was written */
    bool freeing;
};

enum cast_state { CAST_HELD, CAST_ON, CAST_DONE };

/* A cast is made at PREPARE (or at OPEN when no PREPARE came: a restart in the middle of the
 * session) and is HELD at once, but it is READY only when its programme's audio was read off the
 * loop (stream_clips.h): then its packer and header page exist. Until then, receivers attach
 * and wait (they get the header page when it is made), OPEN is remembered (open_pending: the
 * stream starts as if at OPEN's time, pages due meanwhile go out at once) and so is an end
 * (end_pending: CLOSE, a new session, shutdown). */
struct lc_cast {
    struct lc_streams *eng;
    struct lc_cast *next;
    int64_t session;
    char commune[64];
    int64_t start_ms, end_ms;
    enum cast_state state;
    bool ready;                 /* programme read: prog, pk and headers exist */
    bool open_pending;          /* OPEN came before ready, at open_wall_ms / open_t0 */
    bool end_pending;           /* the end came before ready */
    bool closed;                /* CLOSE seen or replaced: freed once no receiver is left */
    bool freeing;               /* out of the engine's list; freed when no load is pending */
    int loads;                  /* clip loads not yet returned (they point at the cast) */
    int64_t open_wall_ms;
    uint64_t open_t0;
    struct lc_prog prog;
    struct lc_packer pk;
    struct lc_page *headers;    /* OpusHead + OpusTags pages, sent first to every receiver */
    struct lc_pageq q;          /* the newest pages, ≥ burst_s of audio */
    uv_timer_t timer;           /* pacing (and, once DONE, the end of an emergency's catch-up) */
    int64_t t0;                 /* uv_now() at which the programme's first packet plays */
    int64_t next_play;          /* uv_now() at which the next packet to be made plays; the page
                                 * holding it is made lead_ms before that */
    uint64_t hold_g;            /* granules of hold silence before the programme (no audio for
                                 * the accounting: its pages are marked `hold`) */
    bool emergency;             /* an emergency session of its own */
    int64_t em_until_ms;        /* wall clock: an emergency's catch-up ends (0: none) */
    uint64_t em_g0;             /* the granule where that emergency starts in the stream */
    struct lc_rcv *rcvs;
    size_t nrcv;                /* receivers, staff listeners included */
    size_t nlisten;             /* of which staff listeners (no delivery, no cluster) */
    struct lc_page *fan_first;  /* a fan-out under way: its first page (referenced), */
    struct lc_rcv *fan_next;    /* and the next receiver to serve */
    struct lc_dlv_mark mark;    /* end granule and bytes of the pages made (delivery anchors) */
    struct lc_dlv *dlvs;        /* every cluster that connected in this session (accounting/) */
    struct lc_strmap dlv_by_cluster;
    bool tapped;                /* the tap was told BEGIN and not yet END (stream_tap.c) */
};

/* A cluster's connections replacing each other from different addresses, counted in a window:
 * two boxes given one token knock each other off forever. */
struct lc_conflict {
    int64_t since_ms;       /* the window's start */
    int n;                  /* replacements from another address in it */
    bool flagged;           /* told the registry in this window */
};

struct lc_streams {
    struct lc_stream_opts o;
    char audio_dir[4096];
    struct lc_clips clips;
    unsigned char silence[1276]; /* one 20 ms Opus packet of silence, encoded at open */
    uint32_t silence_len;
    struct lc_relay_cfg relay_cfg;  /* relay items (stream_relay.h): settings and the jingle */
    struct lc_carry_hub carry;      /* channels carried by communes' sessions (stream_carry.h) */
    struct lc_cast *casts;
    struct lc_strmap by_cluster;    /* cluster → its receiver */
    struct lc_strmap seen;          /* clusters seen since the last batch (values unused) */
    struct lc_strmap conflicts;     /* cluster → struct lc_conflict (owned): replacements from
                                     * another address (stream.c, clone_check) */
    uv_timer_t batch;
    uv_idle_t fan_idle;             /* runs while a fan-out is under way (in slices) */
    int handles;                    /* open handles: batch timer, fan idle, casts' timers */
    int nrcv_objects;               /* receivers not yet freed */
    int depth;                      /* inside an engine entry point */
    struct lc_rcv *grave;           /* receivers to free when depth returns to 0 */
    bool stopping;
    bool released;                  /* lc_streams_free() was called */
    bool flush_due;                 /* a batch waits for the fan-out under way to complete */
    unsigned char listen_key[32];   /* signs staff listen tickets (stream_listen.c) */
    size_t listeners;               /* staff listeners now, every cast */
    lc_stream_tap_cb tap;           /* issue 19: the Icecast source (stream_tap.c), or NULL */
    void *tap_ctx;
    /* counters */
    uint64_t connected, bytes_sent, dropped_slow, replaced, pages;
};

/* Seconds of audio in the cast's stream: made so far, plus what its programme still holds. */
static inline double lc_cast_programme_s(const struct lc_cast *c)
{
    uint64_t g = c->pk.granule;
    if (c->state != CAST_DONE)
        g += lc_prog_remaining(&c->prog) * LC_OPUS_FRAME;
    uint64_t p = (uint64_t)c->pk.preskip + c->hold_g;
    return g > p ? (double)(g - p) / 48000.0 : 0;
}

/* stream.c */
void lc_stream_onair_cb(void *ctx, enum lc_onair_event ev, const struct lc_onair_session *s);
/* Shutdown: every receiver closed, every cast ended and closed (freed after a last save). */
void lc_stream_end_all(struct lc_streams *e);
/* Frees the engine once it is stopped and released and nothing of it is left. */
void lc_stream_maybe_free(struct lc_streams *e);

/* stream.c: a staff listener of commune's stream (GET /api/v1/communes/{id}/listen.opus): a
 * receiver with no cluster and no delivery record, never in the cluster map, so it replaces no
 * box and counts in no coverage. 0 (the engine owns the answer), -ENOENT (off air), -ENOMEM. */
int lc_stream_listen_attach(struct lc_streams *e, struct lc_req *req, const char *commune,
                            int burst_s);

/* stream_listen.c: the listen key and the on-air counts provider (onair.h), at open; the
 * provider unregistered at stop. */
void lc_stream_listen_init(struct lc_streams *e);
void lc_stream_listen_stop(struct lc_streams *e);
/* POST /api/v1/communes/{id}/listen, GET /api/v1/communes/{id}/listen.opus (e may be NULL). */
int lc_stream_listen_routes(struct lc_streams *e, struct lc_router *r);

/* stream_tap.c: the tap's events of a cast (no-ops without a tap): BEGIN once the header page
 * exists, the pages from first on as they are made, END once (when freed, or at shutdown). */
void lc_stream_tap_begin(struct lc_cast *c);
void lc_stream_tap_pages(struct lc_cast *c, const struct lc_page *first);
void lc_stream_tap_end(struct lc_cast *c);

/* stream_batch.c: saves the cast's pending records (and, if final, every record) in the current
 * or a new transaction. */
void lc_stream_save_cast(struct lc_streams *e, struct lc_cast *c, bool final);

#endif
