/*
 * codecs/relay.h — a relay of an upstream stream (tiếp sóng, issue 18): pulls a station's stream
 * by URL, levels it and encodes it into the 20 ms Opus packets the live streams carry.
 *
 *   relay thread (one per relay, its own)                          consumer (any one thread)
 *   libavformat: open URL ─ read ─ libavcodec: decode ─ to mono
 *     ─ libsoxr: → 48 kHz ─ leveller (short-term R128, libebur128)
 *     ─ limiter ─ libopus: 20 ms packets ─▶ queue (bounded) ─────▶ lc_relay_take()
 *
 * Formats and protocols: whatever libavformat/libavcodec read — Icecast/HTTP MP3, AAC (ADTS),
 * Ogg Vorbis and Opus, HLS (.m3u8) — over http, https and tcp only (a URL of another protocol is
 * refused: the URL comes from an API request; `allow_file` opens local files, for the tests).
 *
 * Upstream trouble: every network operation has a deadline (timeout_ms: a stalled upstream is
 * given up within it), then the relay connects again after a backoff that doubles from
 * backoff_min_ms up to backoff_max_ms and returns to the minimum once audio flowed again; each
 * attempt and each end is logged (module "relay"). While it is away the queue simply runs dry:
 * the consumer fills the gap (the streaming engine plays silence or a jingle).
 *
 * The queue holds at most queue_ms of packets: past that the oldest are dropped, so that a
 * consumer that stops taking (or an upstream that sends a burst on connection, as Icecast does)
 * never makes the latency grow past it. One Opus encoder serves the whole life of the relay, so
 * its packets play as one stream across reconnections (its pre-skip, 312 at 48 kHz, is the
 * streams' usual one).
 *
 * Threads and ownership: lc_relay_open() starts the thread; the caller owns the handle until
 * lc_relay_close(), which returns at once; the relay thread ends within ~0.1 s (every libav wait
 * is interrupted by the stop flag; a DNS lookup in progress is the one wait that is not) and frees
 * what is left. lc_relay_wait_all() waits for every relay thread of the process to have ended
 * (before exit: no thread outlives the server). The other calls are thread-safe.
 */
#ifndef LC_CODECS_RELAY_H
#define LC_CODECS_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* No packet of a relay is longer (the encoder is capped): bounds the consumer's buffer. */
#define LC_RELAY_MAX_PACKET 400

struct lc_relay_opts {
    const char *url;        /* copied */
    int bitrate_kbps;       /* Opus, 12..64 */
    int complexity;         /* 0..10 */
    double target_lufs;     /* the station's loudness target (short-term, see relay_level.c) */
    double ceiling_dbtp;    /* true-peak ceiling of the limiter (e.g. -1) */
    int queue_ms;           /* the queue's bound (≥ 200) */
    int timeout_ms;         /* a connection or a read that waits longer is given up (≥ 500) */
    int backoff_min_ms;     /* first wait after a failure (≥ 50) */
    int backoff_max_ms;     /* longest wait (≥ backoff_min_ms) */
    int max_attempts;       /* connections tried before the relay ends by itself (0: forever) */
    bool allow_file;        /* local files too (tests only) */
};

struct lc_relay_stats {
    uint64_t packets;       /* made */
    uint64_t dropped;       /* dropped from the queue's head (bound reached or lc_relay_trim) */
    uint64_t attempts;      /* connections tried */
    uint64_t connects;      /* of which gave audio */
    bool connected;         /* audio is flowing now */
    bool ended;             /* the thread stopped by itself (max_attempts) */
    double gain_db;         /* the leveller's gain now */
};

struct lc_relay;

/* Validates o and starts the relay's thread. 0, or -EINVAL (bad options, a protocol that is
 * not allowed; message in err) / -ENOMEM / -EAGAIN (no thread). The handle is the caller's. */
int lc_relay_open(struct lc_relay **out, const struct lc_relay_opts *o, struct lc_err *err);

/* Stops the relay and gives up the handle (no call on it after this); returns at once, the
 * thread frees the rest. NULL allowed. */
void lc_relay_close(struct lc_relay *r);

/* Moves the oldest packet into pkt (LC_RELAY_MAX_PACKET bytes); returns its length, or 0 when
 * the queue is empty. */
size_t lc_relay_take(struct lc_relay *r, unsigned char *pkt);

/* Packets in the queue. */
size_t lc_relay_queued(struct lc_relay *r);

/* Drops the oldest packets so that at most keep remain; returns how many went. */
size_t lc_relay_trim(struct lc_relay *r, size_t keep);

void lc_relay_stats(struct lc_relay *r, struct lc_relay_stats *st);

/* Waits up to timeout_ms for every relay thread of the process to have ended; returns how many
 * are still running. */
int lc_relay_wait_all(int timeout_ms);

#endif
