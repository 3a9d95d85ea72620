/*
 * codecs/relay_internal.h — the parts of a relay (internal header of codecs/relay*.c; the unit
 * test of the leveller includes it too). Each part belongs to the relay's thread alone.
 *
 *   relay_pull.c   libavformat + libavcodec: URL → mono float PCM at the upstream's rate
 *   relay_chain.c  libsoxr → 48 kHz, the leveller, libopus → 20 ms packets
 *   relay_level.c  the leveller: short-term R128 gain control and a streaming peak limiter
 *   relay.c        the object, its thread (connect, read, back off), the packet queue
 */
#ifndef LC_CODECS_RELAY_INTERNAL_H
#define LC_CODECS_RELAY_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ebur128.h>

#include "codecs/relay.h"
#include "common/err.h"

/* ---- relay_pull.c ---------------------------------------------------------------------------- */

struct AVFormatContext;
struct AVIOContext;
struct AVCodecContext;
struct AVPacket;
struct AVFrame;

struct relay_pull {
    struct AVFormatContext *fmt;
    struct AVIOContext *pb;     /* the URL's I/O, opened by us (its Content-Type: the format) */
    struct AVCodecContext *dec;
    struct AVPacket *pkt;
    struct AVFrame *frame;
    int stream;                 /* the audio stream's index */
    int rate;                   /* of the PCM read */
    float *mono;                /* the last frame, channels averaged (owned) */
    size_t mono_cap;
    int64_t deadline_us;        /* av_gettime_relative() past which a wait is given up */
    int timeout_ms;
    int bad;                    /* decoding errors in a row */
    const atomic_bool *stop;    /* set: every wait ends at once */
    char desc[160];             /* "mp3, 44100 Hz, 2 ch" */
};

/* Opens url (deadline timeout_ms) and its best audio stream's decoder. *p zeroed by the
 * caller. 0, or -ECANCELED (stopped), -ETIMEDOUT, -ENOENT (no audio stream), -EIO, -ENOMEM,
 * with a message; relay_pull_close() in every case. */
int relay_pull_open(struct relay_pull *p, const char *url, bool allow_file, int timeout_ms,
                    const atomic_bool *stop, struct lc_err *err);
/* The next decoded audio: *pcm (valid until the next call) of *n samples at p->rate. 0, or
 * -EPIPE (the upstream ended), -ETIMEDOUT (nothing for timeout_ms), -ECANCELED, -EIO. */
int relay_pull_read(struct relay_pull *p, const float **pcm, size_t *n, struct lc_err *err);
void relay_pull_close(struct relay_pull *p);

/* ---- relay_level.c --------------------------------------------------------------------------- */

#define LEVEL_RATE 48000
#define LEVEL_BLOCK 4800            /* 100 ms: one gain decision each */
#define LIMIT_LOOK 240              /* 5 ms look-ahead */
#define LIMIT_HALF (LIMIT_LOOK / 2)
#define LIMIT_DELAY (LIMIT_LOOK + LIMIT_HALF)
#define LIMIT_RING 1024             /* > 2·LIMIT_LOOK + LIMIT_DELAY, a power of two */

struct relay_level {
    ebur128_state *st;          /* momentary loudness (400 ms) of the input */
    double target;              /* LUFS */
    double est;                 /* smoothed gated loudness of the input, LUFS (valid: have_est) */
    double est_energy;
    bool have_est;
    double counted_s;           /* seconds of audio above the gate so far */
    double gain_db;             /* the gain reached at the end of the last block */
    float g, g_step;            /* linear gain now, and its change per sample in this block */
    size_t in_block;            /* samples of the current block */
    float block[LEVEL_BLOCK];   /* the current block's input, for the meter */
    /* the limiter (lc_limit's curve, codecs/loudness.c, made causal with a delay line) */
    float ceiling;              /* linear sample peak */
    float rel;                  /* release coefficient */
    float h;                    /* gain of the limiter now */
    uint64_t j;                 /* samples entered */
    float v[LIMIT_RING];        /* delayed samples */
    float need[LIMIT_RING];     /* per sample: the gain it needs (≤ 1) */
    float m[LIMIT_RING];        /* sliding minimum of need over ±LIMIT_LOOK */
    double msum;                /* sum of the last 2·LIMIT_HALF + 1 values of m */
    uint64_t dq[LIMIT_RING];    /* the minimum's deque (sample indexes) */
    size_t dq_head, dq_tail;    /* free-running counters into dq */
};

/* target_lufs: the loudness to reach; ceiling_dbtp: the true-peak ceiling (the limiter works on
 * sample peaks LC_LIMITER_MARGIN_DB under it). 0 or -ENOMEM. */
int relay_level_init(struct relay_level *l, double target_lufs, double ceiling_dbtp);
/* Levels and limits x[0..n) (48 kHz mono) in place; the output is late by LIMIT_DELAY
 * samples (the first LIMIT_DELAY samples out are silence). */
void relay_level_run(struct relay_level *l, float *x, size_t n);
void relay_level_free(struct relay_level *l);

/* ---- relay_chain.c --------------------------------------------------------------------------- */

struct soxr;
struct OpusEncoder;

/* Where finished packets go (relay.c: the queue). */
typedef void (*relay_packet_cb)(void *arg, const unsigned char *pkt, size_t len);

struct relay_chain {
    struct soxr *sx;            /* in_rate → 48 kHz (NULL: in_rate is 48 kHz) */
    int in_rate;
    struct OpusEncoder *enc;
    struct relay_level level;
    float *buf;                 /* resampled audio (owned) */
    size_t buf_cap;
    float frame[960];           /* a 20 ms frame being filled */
    size_t fill;
    relay_packet_cb cb;
    void *arg;
};

int relay_chain_init(struct relay_chain *c, const struct lc_relay_opts *o, relay_packet_cb cb,
                     void *arg, struct lc_err *err);
/* Audio at rate from the upstream (a change of rate — a new connection — starts a new
 * resampler). 0, -ENOMEM or -EIO. */
int relay_chain_feed(struct relay_chain *c, const float *pcm, size_t n, int rate);
void relay_chain_free(struct relay_chain *c);

#endif
