/*
 * server/stream/stream.h — the door of server/stream/: the streaming engine, one live Ogg Opus
 * stream per commune on air, shared by the receivers (loudspeaker clusters) of that commune, and
 * its route GET /stream/{cluster}.opus. Other modules include this header only (the module's
 * other headers are internal). The design is in docs/streaming.md.
 *
 * Dependencies: the engine is created by server/server.c with struct lc_stream_opts (the loop,
 * the store, the on-air hub of server/scheduler/, config values). It subscribes to the on-air
 * events, records deliveries through server/accounting/ (delivery.h; accounting calls nothing
 * of the stream) and authenticates receivers through server/registry/.
 *
 * Glossary
 *   engine    struct lc_streams: every cast, every receiver, the batch timer. One per server.
 *   cast      one commune's stream for one broadcast session: a timeline (stream_prog.h), a packer
 *             (one serial, continuous granules), the cached header page, the burst queue, a pacing
 *             timer, its receivers and its delivery records. States:
 *
 *               state  | entered on                   | receivers get          | leaves on
 *               -------+------------------------------+------------------------+--------------------
 *               HELD   | PREPARE                      | headers, then wait     | OPEN → ON
 *               ON     | OPEN                         | headers, burst, pages  | programme end or
 *                      |                              | paced in real time     | CLOSE → DONE (EOS)
 *               DONE   | EOS page made                | (new ones: 503)        | CLOSE/replaced and
 *                      |                              |                        | no receiver → freed
 *   receiver  one streaming response (GET /stream/{cluster}.opus). It holds no queue position:
 *             each new page is written to every receiver at once (uv_try_write, or a uv_write
 *             holding a page reference); what is not yet written is its backlog, bounded by
 *             backlog_s of audio — past it the receiver is dropped. One receiver per cluster.
 *
 * Threads: loop thread (onair callbacks, timers, write callbacks, the route), and one reader
 * thread of the engine's own that reads the stored audio files (stream_clips.h).
 * Ownership: the engine owns casts; a cast owns its receivers' list links and its delivery
 * records; a receiver owns a hold on its request and lives until its connection closed and its
 * last write callback ran. Handles (the casts' timers, the batch timer) die in their close
 * callbacks. Shutdown is two steps: lc_streams_stop(), then, after the loop ran out,
 * lc_streams_free().
 */
#ifndef LC_SERVER_STREAM_H
#define LC_SERVER_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "common/buf.h"

struct lc_streams;
struct lc_store;
struct lc_onair;
struct lc_req;
struct lc_router;

struct lc_stream_opts {
    uv_loop_t *loop;
    struct lc_store *store;     /* NULL: no accounting, no last_seen (C tests) */
    struct lc_onair *onair;     /* subscribed to at open */
    const char *audio_dir;      /* where the items' audio files are */
    int bitrate_kbps;           /* of the silence packet */
    int burst_s;                /* seconds of audio sent at once to a receiver joining on air */
    int backlog_s;              /* seconds of audio a receiver may have unsent before the drop */
    int hold_s;                 /* hold window before a session (for the 503's Retry-After) */
    int page_ms;                /* audio per Ogg page */
    int flush_ms;               /* accounting batch period (≤ 1000) */
    int fan_slice;              /* receivers served per loop iteration (0: 500) */
    int lead_ms;                /* a page goes out this long before its audio plays */
    int send_ms;                /* pages are made up to send_ms - page_ms earlier than that and
                                 * go out in groups: one write per receiver per send_ms (below
                                 * page_ms: each page) */
    bool hold_audio;            /* the hold window carries silence pages (else headers only) */
    int catchup_s;              /* receivers joining within this after an emergency began get
                                 * it from its start (0: no catch-up) */
    /* relay items (issue 18, stream_relay.h) */
    double loudness_lufs;       /* a relay is levelled to it (0: -16) */
    const char *relay_filler;   /* an Ogg Opus jingle played in a relay's gaps (NULL, "": silence) */
    int relay_buffer_ms;        /* a relay's jitter cushion over send_ms (0: 1000) */
    int relay_timeout_ms;       /* an upstream silent this long is connected again (0: 5000) */
};

struct lc_stream_stats {
    uint64_t receivers;         /* connected now */
    uint64_t bytes_sent;        /* completed writes */
    uint64_t casts_on_air;      /* casts HELD or ON */
    uint64_t dropped_slow;
    uint64_t replaced;
    uint64_t pages;             /* pages made */
};

/* Creates the engine and subscribes it to o->onair. 0 or -ENOMEM. */
int lc_streams_open(struct lc_streams **out, const struct lc_stream_opts *o);

/* Ends every stream (receivers closed), ends the reader thread, writes the last batch and closes
 * the handles. The engine stays allocated (its route answers 503) until lc_streams_free(). Safe to
 * call twice; NULL allowed. */
void lc_streams_stop(struct lc_streams *e);
/* Frees the engine, stopping it first if needed: at once when the loop ran the close callbacks,
 * else as soon as it has. NULL allowed. */
void lc_streams_free(struct lc_streams *e);
/* False once stopping (or for NULL). */
bool lc_streams_running(const struct lc_streams *e);

/* The longest burst a request may ask for (?burst=): the casts keep this much audio. */
#define LC_STREAM_MAX_BURST_S 30

/* An authenticated receiver of cluster (in commune) asks for its stream, with a burst of burst_s
 * seconds (0..LC_STREAM_MAX_BURST_S; < 0: the configured burst_s; 0: the newest page only). On
 * air (or held): the 200 response begins and the engine owns the request's answer; returns 0.
 * No stream for the commune: -ENOENT, nothing answered. A second request of the same cluster
 * replaces the first. */
int lc_streams_attach(struct lc_streams *e, struct lc_req *req, const char *cluster,
                      const char *commune, int burst_s);

/* True when the commune has a stream held or on air: what a GET would attach to (HEAD asks this,
 * and attaches nothing). */
bool lc_streams_on_air(struct lc_streams *e, const char *commune);

/* Ends the cluster's open stream now, if it has one (logged with why): its token was rotated or
 * it was deleted. Its delivery record stays (what it received is still true). */
void lc_streams_drop_cluster(struct lc_streams *e, const char *cluster, const char *why);

/* A sign of life of cluster: clusters.last_seen is set in the next batch. */
void lc_streams_seen(struct lc_streams *e, const char *cluster);

/* Writes pending accounting now (one transaction). */
void lc_streams_flush(struct lc_streams *e);

void lc_streams_stats(const struct lc_streams *e, struct lc_stream_stats *st);
int lc_streams_hold_s(const struct lc_streams *e);
struct lc_onair *lc_streams_onair(const struct lc_streams *e);

/* A tap on every cast's pages (issue 19: the Icecast source client, server/icecast/), set by the
 * assembly (the engine calls nothing above it). Loop thread; the data is valid during the call
 * only. Per cast, in order: one BEGIN when its header page exists (data: OpusHead + OpusTags),
 * one PAGE per page made (hold silence included, `hold` set; the last one has `eos`), one END
 * when the cast is freed or the engine stops (also for a cast that never made an EOS page). */
enum lc_stream_tap_ev { LC_STREAM_TAP_BEGIN, LC_STREAM_TAP_PAGE, LC_STREAM_TAP_END };
struct lc_stream_tap {
    const char *commune;
    int64_t session;
    int64_t start_ms;           /* the programme's start (wall clock, Unix ms) */
    int64_t end_ms;             /* the session's end */
    double programme_s;         /* seconds of programme audio in the stream (grows: emergencies) */
    const unsigned char *data;  /* the page's bytes (BEGIN: the header pages) */
    size_t len;
    uint64_t g0, g1;            /* PAGE: its audio interval in granules */
    bool hold, eos;
};
typedef void (*lc_stream_tap_cb)(void *ctx, enum lc_stream_tap_ev ev, const struct lc_stream_tap *t);
void lc_streams_set_tap(struct lc_streams *e, lc_stream_tap_cb cb, void *ctx);

/* GET /stream/{cluster}.opus (stream_http.c), and the staff's POST /api/v1/communes/{id}/listen
 * and GET .../listen.opus?ticket= (stream_listen.c, issue 20), with e as the handlers' handle
 * (NULL allowed when the routes are only listed). 0 or -ENOMEM/-EINVAL. */
int lc_stream_routes(struct lc_streams *e, struct lc_router *r);
/* The engine's lines of GET /metrics (Prometheus text). */
void lc_stream_metrics(const struct lc_streams *e, struct lc_buf *b);

#endif
