/*
 * codecs/render.h — the whole pipeline: a bulletin (text or recorded audio) to Ogg Opus.
 *
 *   text ─ lc_normalize ─ lc_tts_speak (espeak-ng, 22050 Hz) ─┐
 *                                                              ├─ PCM at its own rate
 *   audio file ─ lc_decode (libsndfile, any rate/channels) ───┘
 *      ─ cut at pauses into segments, then on the worker pool, segment by segment:
 *        loudness (EBU R128 to −16 LUFS, look-ahead limiter), lc_resample → 48 kHz,
 *        lc_encode (libopus, 20 ms frames), decode and check the true peak under −1 dBTP
 *      ─ packets spliced in order ─ lc_ogg_mux (RFC 7845 pages)
 *
 * A renderer owns the one espeak-ng thread (espeak-ng has global state) and a pool of encoder
 * threads. lc_render_text() and lc_render_audio() block their caller until the result is ready and
 * may be called from many threads at once (never from the renderer's own pool threads); synthesis
 * is serialised, encoding runs in parallel. Call them from worker threads, never from the event loop.
 */
#ifndef LC_CODECS_RENDER_H
#define LC_CODECS_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "codecs/encode.h"

struct lc_lexicon;

#define LC_RENDER_DEFAULT_VOICE "vi"
#define LC_RENDER_DEFAULT_WPM 150
#define LC_RENDER_DEFAULT_KBPS 24
#define LC_RENDER_DEFAULT_COMPLEXITY 10
#define LC_RENDER_DEFAULT_LUFS (-16.0)
#define LC_RENDER_DEFAULT_CEILING_DBTP (-1.0)
#define LC_RENDER_DEFAULT_MAX_S (30 * 60.0)   /* a bulletin lasts at most 30 minutes */

/* Zero or negative fields mean "the default" (except loudness_lufs: 0 means default too, since
 * 0 LUFS is never a sensible target). */
struct lc_render_opts {
    const char *voice;      /* "vi", "vi-vn-x-central", "vi-vn-x-south"; NULL = "vi" */
    int rate_wpm;           /* speaking rate, 80..450 words per minute */
    int bitrate_kbps;       /* 12..64 */
    int complexity;         /* Opus encoder complexity 1..10 (0 = the default, 10) */
    double loudness_lufs;   /* integrated loudness target, -40..-5 */
    double ceiling_dbtp;    /* true-peak ceiling of the decoded output */
    const char *title;      /* OpusTags TITLE; NULL for none */
    double max_s;           /* the longest bulletin, in seconds (0 = the default, 30 minutes):
                             * longer speech or recordings are -EFBIG, stopped as they pass it */
    bool urgent;            /* an emergency: its synthesis and encoding go ahead of every other
                             * render's waiting work */
};

/* Fills every unset field of o with its default and checks ranges; an out-of-range field or an
 * unknown voice is -EINVAL with a message. */
int lc_render_opts_resolve(struct lc_render_opts *o, struct lc_err *err);

struct lc_rendered {
    struct lc_buf ogg;        /* the complete Ogg Opus file (owned) */
    struct lc_encoded enc;    /* the same packets on their own, for splicing into a live stream */
    double duration_s;        /* true audio length (enc.samples / 48000) */
    double input_lufs;        /* loudness before normalisation */
    double lufs;              /* loudness after gain and limiting (of the PCM that was encoded) */
    double gain_db;           /* gain applied before the limiter */
    double true_peak_dbtp;    /* true peak of the decoded Opus (checked under the ceiling) */
};

struct lc_renderer;

/* Starts the espeak-ng thread and `workers` encoder threads (0 = one per CPU). */
int lc_renderer_open(struct lc_renderer **out, int workers, struct lc_err *err);
/* Stops the threads; no render may be in progress. NULL is a no-op. */
void lc_renderer_close(struct lc_renderer *r);

/* Text (UTF-8) → Ogg Opus. The text is normalised with lex first (lex may be NULL: the built-in
 * lexicon is not used then, only the rules). Empty text, text that normalises to nothing and an
 * unknown voice are -EINVAL/-ENODATA with a message. On success *out owns its buffers. */
int lc_render_text(struct lc_renderer *r, const struct lc_render_opts *opts,
                   const struct lc_lexicon *lex, const char *text, size_t len,
                   struct lc_rendered *out, struct lc_err *err);

/* A recorded file in memory (WAV, FLAC, Ogg Vorbis/Opus, MP3; any rate or channel count) → Ogg Opus
 * through the same resample/loudness/encode path. Data that does not decode is -EINVAL. */
int lc_render_audio(struct lc_renderer *r, const struct lc_render_opts *opts,
                    const void *data, size_t len, struct lc_rendered *out, struct lc_err *err);

void lc_rendered_free(struct lc_rendered *x);

#endif
