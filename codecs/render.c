/*
 * codecs/render.c — the bulletin pipeline; see render.h for the stages.
 *
 * Parallel work on one bulletin: the PCM is cut at 20 ms frame boundaries that lie inside pauses
 * (two quiet frames before the cut, one after), and each segment is measured, limited, resampled
 * and encoded by pool jobs; each segment has its own Opus encoder. Splicing the packets keeps
 * the timeline exactly (encode.h explains why), and because every cut is in silence the seams are
 * inaudible. This is the same splice the streaming engine does between bulletins.
 */
#include "codecs/render.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codecs/decode.h"
#include "codecs/loudness.h"
#include "codecs/normalize.h"
#include "codecs/oggmux.h"
#include "codecs/pool.h"
#include "codecs/resample.h"
#include "codecs/tts.h"

#define SEGMENT_MIN_S 8.0     /* shorter segments are not worth an encoder start-up */
/* Longer segments are cut anyway (at the quietest frames within reach when there is no pause):
 * a segment's working memory (48 kHz copies, the decoded check) then does not grow with the
 * bulletin's length. */
#define SEGMENT_MAX_S 60.0
#define SEGMENTS_PER_WORKER 8 /* many per worker: balances uneven costs (re-encodes) */
#define CUT_QUIET_RATIO 0.003f /* "quiet" is 50 dB under the bulletin's peak */
#define MAX_SEGMENTS 256
#define LOUDNESS_PASSES 4
#define LOUDNESS_TOLERANCE_LU 0.15
/* A first pass that missed did so because the limiter took part of the gain, so loudness then
 * rises by less than the gain: about 0.4 dB per dB for espeak-ng speech at -16 LUFS. Starting
 * the secant search from 0.5 saves one of its passes over every bulletin (4 → 3). */
#define FIRST_SLOPE 0.5
/* Decoded 24 kbit/s Opus of espeak-ng speech measures about this much quieter than the PCM that
 * went in (ffmpeg's ebur128 on the decoded file; docs/audio.md), so the PCM aims this much higher. */
#define OPUS_LOUDNESS_LOSS_LU 0.3
#define PEAK_ATTEMPTS 4
#define PEAK_SAFETY_DB 0.5 /* sample peaks of the check vs. true peaks: keep some room */
#define PEAK_SPREAD_S 0.010
#define PEAK_AFTER_S 0.030
#define TRUE_PEAK_WITHIN_DB 3.0 /* the true peak is measured near the loudest samples only */
/* A segment is encoded again only when its decoded true peak is within this of the ceiling:
 * room for other meters (ffmpeg's ebur128 reads up to ~0.1 dB differently). A sample over the
 * limiter's line alone is no reason: re-encoding a 30 s segment three times for one sample cost
 * a fifth of a long bulletin's encoding time. */
#define TRUE_PEAK_ACCEPT_DB 0.2

struct lc_renderer {
    struct lc_tts *tts;
    struct lc_pool *pool;
    int workers;
};

/* One stretch of a bulletin between two cuts, processed by pool jobs phase by phase. */
struct segment {
    const float *src;   /* source-rate input (borrowed) */
    size_t n;           /* samples at the source rate */
    int rate;
    int last;
    struct lc_loudness_meter *meter;
    double gain, ceiling;
    float peak;
    const struct lc_render_opts *o;
    struct lc_encoded enc;
    double true_peak;   /* dBTP of the decoded segment */
    int rc;
    struct lc_err err;
};

int lc_render_opts_resolve(struct lc_render_opts *o, struct lc_err *err)
{
    if (o->voice == NULL || o->voice[0] == '\0')
        o->voice = LC_RENDER_DEFAULT_VOICE;
    if (o->rate_wpm <= 0)
        o->rate_wpm = LC_RENDER_DEFAULT_WPM;
    if (o->bitrate_kbps <= 0)
        o->bitrate_kbps = LC_RENDER_DEFAULT_KBPS;
    if (o->complexity <= 0)
        o->complexity = LC_RENDER_DEFAULT_COMPLEXITY;
    if (o->loudness_lufs == 0)
        o->loudness_lufs = LC_RENDER_DEFAULT_LUFS;
    if (o->ceiling_dbtp == 0)
        o->ceiling_dbtp = LC_RENDER_DEFAULT_CEILING_DBTP;
    if (o->max_s <= 0)
        o->max_s = LC_RENDER_DEFAULT_MAX_S;
    int rc = lc_tts_check_voice(o->voice, err);
    if (rc < 0)
        return rc;
    if (o->rate_wpm < 80 || o->rate_wpm > 450)
        return lc_err_set(err, -EINVAL, "speaking rate %d is outside 80..450 words per minute",
                          o->rate_wpm);
    if (o->bitrate_kbps < 12 || o->bitrate_kbps > 64)
        return lc_err_set(err, -EINVAL, "bitrate %d kbit/s is outside 12..64", o->bitrate_kbps);
    if (o->complexity > 10)
        return lc_err_set(err, -EINVAL, "complexity %d is outside 0..10", o->complexity);
    if (!(o->loudness_lufs >= -40 && o->loudness_lufs <= -5))
        return lc_err_set(err, -EINVAL, "loudness target %.1f LUFS is outside -40..-5",
                          o->loudness_lufs);
    if (!(o->ceiling_dbtp >= -20 && o->ceiling_dbtp <= 0))
        return lc_err_set(err, -EINVAL, "true-peak ceiling %.1f dBTP is outside -20..0",
                          o->ceiling_dbtp);
    return 0;
}

int lc_renderer_open(struct lc_renderer **out, int workers, struct lc_err *err)
{
    struct lc_renderer *r = calloc(1, sizeof *r);
    if (r == NULL)
        return lc_err_set(err, -ENOMEM, "out of memory");
    r->workers = workers > 0 ? workers : lc_pool_ncpu();
    int rc = lc_tts_open(&r->tts, err);
    if (rc < 0)
        goto fail;
    rc = lc_pool_open(&r->pool, r->workers);
    if (rc < 0) {
        lc_err_set(err, rc, "cannot start the encoder threads");
        goto fail;
    }
    *out = r;
    return 0;
fail:
    lc_tts_close(r->tts);
    free(r);
    return rc;
}

void lc_renderer_close(struct lc_renderer *r)
{
    if (r == NULL)
        return;
    lc_pool_close(r->pool);
    lc_tts_close(r->tts);
    free(r);
}

void lc_rendered_free(struct lc_rendered *x)
{
    lc_buf_free(&x->ogg);
    lc_encoded_free(&x->enc);
    memset(x, 0, sizeof *x);
}

static void on_measure_job(void *arg)
{
    struct segment *s = arg;
    s->rc = lc_loudness_meter_add(s->meter, s->src, s->n);
}

/* Gain and limiter into a buffer of the segment's own (freed after): the whole bulletin is never
 * held twice. */
static void on_limit_job(void *arg)
{
    struct segment *s = arg;
    float *dst = malloc(s->n * sizeof *dst);
    if (dst == NULL) {
        s->rc = -ENOMEM;
        return;
    }
    s->peak = lc_limit(s->src, dst, s->n, s->gain, s->ceiling, s->rate);
    lc_loudness_meter_reset(s->meter);
    s->rc = lc_loudness_meter_add(s->meter, dst, s->n);
    free(dst);
}

/* Lowers scale[] (the limiter's per-sample ceiling) around every place where the decoded
 * 48 kHz audio `heard` passes `limit`, by the excess plus `safety_db`, from PEAK_SPREAD_S before
 * to PEAK_AFTER_S after: an overshoot can be the pre-echo of an onset up to one Opus window
 * (20 ms) later, where lowering the quiet samples of the overshoot itself does nothing. Returns
 * how many places were over. */
static size_t mark_overshoot(const struct lc_pcm *heard, float limit, double safety_db,
                             float *scale, size_t n, int rate)
{
    size_t over = 0, before = (size_t)(PEAK_SPREAD_S * rate), after = (size_t)(PEAK_AFTER_S * rate);
    for (size_t j = 0; j < heard->n; j++) {
        float a = fabsf(heard->s[j]);
        if (a <= limit)
            continue;
        over++;
        float f = (float)((limit / a) * pow(10.0, -safety_db / 20.0));
        size_t i = (size_t)((double)j * rate / LC_OPUS_RATE);
        size_t lo = i > before ? i - before : 0, hi = i + after < n ? i + after : n;
        for (size_t k = lo; k < hi; k++)
            if (scale[k] > f)
                scale[k] = f;
    }
    return over;
}

/*
 * Limits (again, if the first try overshot), resamples to 48 kHz and encodes one segment, then
 * decodes it and checks what a listener will hear: when its true peak comes within
 * TRUE_PEAK_ACCEPT_DB of the ceiling, the limiter's ceiling is lowered locally wherever Opus
 * pushed a sample over the limiter's line, and the segment encoded again (PEAK_ATTEMPTS at most).
 * Local, because Opus overshoot sits on a few syllables; lowering everything would cost loudness.
 */
static void on_encode_job(void *arg)
{
    struct segment *s = arg;
    float *scale = NULL;
    struct lc_pcm heard = {0};
    float limit = (float)pow(10.0, s->o->ceiling_dbtp / 20.0) *
                  (float)pow(10.0, -PEAK_SAFETY_DB / 20.0);
    struct lc_encode_opts eo = {
        .bitrate_kbps = s->o->bitrate_kbps, .complexity = s->o->complexity, .pad_tail = s->last,
    };
    float *dst = malloc(s->n * sizeof *dst);
    if (dst == NULL) {
        s->rc = lc_err_set(&s->err, -ENOMEM, "out of memory");
        return;
    }
    for (int attempt = 0; attempt < PEAK_ATTEMPTS; attempt++) {
        if (attempt == 0) /* as the last loudness pass left it */
            s->peak = lc_limit(s->src, dst, s->n, s->gain, s->ceiling, s->rate);
        else
            s->peak = lc_limit_scaled(s->src, dst, s->n, s->gain, s->ceiling, scale, s->rate);
        struct lc_pcm in = {.s = dst, .n = s->n, .rate = s->rate}, p48 = {0};
        const struct lc_pcm *pcm = &in;
        if (s->rate != LC_OPUS_RATE) {
            s->rc = lc_resample(&in, LC_OPUS_RATE, &p48, &s->err);
            if (s->rc < 0)
                break;
            pcm = &p48;
        }
        lc_encoded_free(&s->enc);
        s->rc = lc_encode(pcm->s, pcm->n, &eo, &s->enc, &s->err);
        lc_pcm_free(&p48);
        if (s->rc < 0)
            break;
        lc_pcm_free(&heard);
        s->rc = lc_encoded_decode(&s->enc, &heard);
        if (s->rc < 0) {
            lc_err_set(&s->err, s->rc, "cannot decode what was encoded");
            break;
        }
        /* what a listener hears is within the ceiling: done (most segments, at once) */
        if (lc_true_peak_near(heard.s, heard.n, LC_OPUS_RATE, TRUE_PEAK_WITHIN_DB,
                              &s->true_peak) < 0 ||
            s->true_peak <= s->o->ceiling_dbtp - TRUE_PEAK_ACCEPT_DB ||
            attempt + 1 == PEAK_ATTEMPTS)
            break;
        if (scale == NULL) {
            scale = malloc(s->n * sizeof *scale);
            if (scale == NULL)
                break; /* keep this encoding; the true peak is reported as measured */
            for (size_t i = 0; i < s->n; i++)
                scale[i] = 1.0f;
        }
        /* each attempt lowers by more: an overshoot that did not yield is not level-bound */
        if (mark_overshoot(&heard, limit, PEAK_SAFETY_DB * (1 + 2 * attempt), scale, s->n,
                           s->rate) == 0)
            break;
    }
    if (s->rc < 0 || heard.n == 0)
        s->true_peak = -HUGE_VAL;
    lc_pcm_free(&heard);
    free(scale);
    free(dst);
}

/* Runs fn on every segment on the pool and waits; the first failure's code, or 0. */
static int run_phase(struct lc_renderer *r, struct segment *segs, size_t k, lc_pool_job_cb fn,
                     bool urgent)
{
    struct lc_pool_batch batch;
    int rc = 0;
    lc_pool_batch_init(&batch);
    for (size_t i = 0; i < k && rc == 0; i++)
        rc = urgent ? lc_pool_submit_first(r->pool, &batch, fn, &segs[i])
                    : lc_pool_submit(r->pool, &batch, fn, &segs[i]);
    lc_pool_batch_wait(&batch);
    lc_pool_batch_destroy(&batch);
    for (size_t i = 0; i < k && rc == 0; i++)
        rc = segs[i].rc;
    return rc;
}

static int frame_quiet(const float *x, size_t n, size_t frame, size_t len, float level)
{
    size_t a = frame * len, b = a + len;
    if (b > n)
        return 0;
    for (size_t i = a; i < b; i++)
        if (fabsf(x[i]) > level)
            return 0;
    return 1;
}

/* The frame c in [from, to) whose three frames c-2..c hold the least energy. */
static size_t quietest_frame(const float *x, size_t n, size_t from, size_t to, size_t flen)
{
    size_t best = from;
    double best_e = HUGE_VAL;
    for (size_t c = from < 2 ? 2 : from; c < to; c++) {
        size_t a = (c - 2) * flen, b = (c + 1) * flen;
        if (b > n)
            break;
        double e = 0;
        for (size_t i = a; i < b; i++)
            e += (double)x[i] * x[i];
        if (e < best_e) {
            best_e = e;
            best = c;
        }
    }
    return best;
}

/* Chooses cuts for x[0..n) at rate: near multiples of the ideal segment length, at a frame
 * boundary (a frame is 20 ms: rate/50 samples) with two quiet frames before it and one after,
 * "quiet" meaning 50 dB under the peak. Returns the number of segments; cuts[0] = 0 and
 * cuts[segments] = n, in samples. */
static size_t choose_cuts(const float *x, size_t n, int rate, int workers,
                          size_t cuts[MAX_SEGMENTS + 1])
{
    size_t nseg = 0, flen = (size_t)rate / 50;
    float peak = 0;
    for (size_t i = 0; i < n; i++)
        if (fabsf(x[i]) > peak)
            peak = fabsf(x[i]);
    float level = peak * CUT_QUIET_RATIO;
    cuts[0] = 0;
    double ideal_s = workers > 1 ? (double)n / rate / (workers * SEGMENTS_PER_WORKER)
                                 : SEGMENT_MAX_S / 1.5;
    if (ideal_s < SEGMENT_MIN_S)
        ideal_s = SEGMENT_MIN_S;
    if (ideal_s > SEGMENT_MAX_S / 1.5) /* a segment is at most ideal × 1.5 long */
        ideal_s = SEGMENT_MAX_S / 1.5;
    size_t ideal = (size_t)(ideal_s * 50); /* in frames */
    size_t frames = n / flen, longest = (size_t)(SEGMENT_MAX_S * 50);
    size_t f = ideal;
    while (nseg + 1 < MAX_SEGMENTS && f + ideal / 2 < frames) {
        size_t last = cuts[nseg] / flen, found = 0;
        /* a pause near the ideal place, else any pause before the segment grows too long */
        size_t reach = last + longest < frames ? last + longest : frames;
        for (size_t c = f; c < reach && c + 1 < frames; c++) {
            if (frame_quiet(x, n, c - 2, flen, level) && frame_quiet(x, n, c - 1, flen, level) &&
                frame_quiet(x, n, c, flen, level)) {
                found = c;
                break;
            }
        }
        if (found == 0 && frames - last <= longest)
            break; /* no pause, and the rest is short enough to stay one segment */
        if (found == 0) /* no pause in 60 s (music, a noisy recording): the quietest frames */
            found = quietest_frame(x, n, f, reach, flen);
        cuts[++nseg] = found * flen;
        f = found + ideal;
    }
    cuts[++nseg] = n;
    return nseg;
}

/*
 * Normalises and encodes pcm (consumed) into out, in three parallel phases over the segments:
 *   1. measure each segment's loudness (meters combine into the integrated loudness);
 *   2. gain + limiter (into a buffer per segment), measure again; repeat with the gain corrected by what the
 *      limiter took, until within LOUDNESS_TOLERANCE_LU (at most LOUDNESS_PASSES);
 *   3. resample each segment to 48 kHz and encode it.
 * Cuts fall on 20 ms frame boundaries at the source rate, which are frame boundaries at 48 kHz
 * too when the rate is a multiple of 50 Hz; other rates are resampled whole first.
 */
static int render_pcm(struct lc_renderer *r, const struct lc_render_opts *o, struct lc_pcm *pcm,
                      struct lc_rendered *out, struct lc_err *err)
{
    struct lc_pcm src = {0};
    struct segment *segs = NULL;
    struct lc_loudness_meter **meters = NULL;
    size_t cuts[MAX_SEGMENTS + 1], nseg = 0;
    struct lc_rendered x = {0};
    int rc = 0;

    if (pcm->rate % 50 != 0) {
        rc = lc_resample(pcm, LC_OPUS_RATE, &src, err);
        lc_pcm_free(pcm);
        if (rc < 0)
            goto out;
    } else {
        src = *pcm;
        *pcm = (struct lc_pcm){0};
    }
    nseg = choose_cuts(src.s, src.n, src.rate, r->workers, cuts);
    segs = calloc(nseg, sizeof *segs);
    meters = calloc(nseg, sizeof *meters);
    if (segs == NULL || meters == NULL) {
        rc = lc_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nseg; i++) {
        segs[i] = (struct segment){
            .src = src.s + cuts[i], .n = cuts[i + 1] - cuts[i],
            .rate = src.rate, .last = i + 1 == nseg, .o = o,
        };
        if (lc_loudness_meter_new(&segs[i].meter, src.rate) < 0) {
            rc = lc_err_set(err, -ENOMEM, "out of memory");
            goto out;
        }
        meters[i] = segs[i].meter;
    }

    rc = run_phase(r, segs, nseg, on_measure_job, o->urgent);
    if (rc < 0) {
        lc_err_set(err, rc, "loudness measurement failed");
        goto out;
    }
    double in_lufs = 0, out_lufs = 0, gain_db = 0;
    double target = o->loudness_lufs + OPUS_LOUDNESS_LOSS_LU;
    if (lc_loudness_combined(meters, nseg, &in_lufs) < 0) {
        /* Silence (or under 0.4 s): nothing to measure, so no gain; the limiter still runs. */
        in_lufs = out_lufs = -HUGE_VAL;
    } else {
        gain_db = target - in_lufs;
    }

    double ceiling = pow(10.0, (o->ceiling_dbtp - LC_LIMITER_MARGIN_DB) / 20.0);
    for (size_t i = 0; i < nseg; i++)
        segs[i].ceiling = ceiling;
    /* The limiter takes back part of any added gain, so the gain is found by the secant method
     * (loudness is monotonic in gain); the first step assumes FIRST_SLOPE. */
    double prev_gain = 0, prev_lufs = 0;
    for (int pass = 0; pass < LOUDNESS_PASSES; pass++) {
        for (size_t i = 0; i < nseg; i++)
            segs[i].gain = pow(10.0, gain_db / 20.0);
        rc = run_phase(r, segs, nseg, on_limit_job, o->urgent);
        if (rc < 0) {
            lc_err_set(err, rc, "loudness measurement failed");
            goto out;
        }
        if (!isfinite(in_lufs) || lc_loudness_combined(meters, nseg, &out_lufs) < 0)
            break;
        double miss = target - out_lufs;
        if (fabs(miss) <= LOUDNESS_TOLERANCE_LU || pass + 1 == LOUDNESS_PASSES)
            break;
        double slope = FIRST_SLOPE;
        if (pass > 0 && gain_db != prev_gain)
            slope = (out_lufs - prev_lufs) / (gain_db - prev_gain);
        slope = slope < 0.15 ? 0.15 : slope > 1.0 ? 1.0 : slope;
        prev_gain = gain_db;
        prev_lufs = out_lufs;
        gain_db += miss / slope;
    }

    rc = run_phase(r, segs, nseg, on_encode_job, o->urgent);
    if (rc < 0) {
        for (size_t i = 0; i < nseg; i++)
            if (segs[i].rc < 0 && err) {
                *err = segs[i].err;
                break;
            }
        goto out;
    }
    double tp = -HUGE_VAL;
    for (size_t i = 0; i < nseg; i++)
        tp = segs[i].true_peak > tp ? segs[i].true_peak : tp;
    x.true_peak_dbtp = tp;
    if (getenv("LOACAST_TRACE") != NULL)
        fprintf(stderr, "render: %zu segments, gain %.2f dB -> %.2f LUFS (PCM), %.2f dBTP (decoded)\n",
                nseg, gain_db, out_lufs, tp);

    for (size_t i = 0; i < nseg; i++) {
        if (lc_encoded_append(&x.enc, &segs[i].enc) < 0) {
            rc = lc_err_set(err, -ENOMEM, "out of memory");
            goto out;
        }
    }
    /* The serial number is derived from the audio, so the same input gives the same file. */
    uint32_t serial = 2166136261u;
    for (size_t i = 0; i < x.enc.data_len && i < 4096; i++)
        serial = (serial ^ x.enc.data[i]) * 16777619u;
    rc = lc_ogg_mux(&x.enc, o->title, serial, &x.ogg, err);
    if (rc < 0)
        goto out;
    x.duration_s = (double)x.enc.samples / LC_OPUS_RATE;
    x.input_lufs = in_lufs;
    x.lufs = out_lufs;
    x.gain_db = gain_db;
    *out = x;
    x = (struct lc_rendered){0};
out:
    if (segs != NULL)
        for (size_t i = 0; i < nseg; i++) {
            lc_encoded_free(&segs[i].enc);
            lc_loudness_meter_free(segs[i].meter);
        }
    free(segs);
    free(meters);
    lc_rendered_free(&x);
    lc_pcm_free(&src);
    lc_pcm_free(pcm);
    return rc;
}

int lc_render_text(struct lc_renderer *r, const struct lc_render_opts *opts,
                   const struct lc_lexicon *lex, const char *text, size_t len,
                   struct lc_rendered *out, struct lc_err *err)
{
    struct lc_render_opts o = *opts;
    struct lc_pcm pcm = {0};
    char *spoken = NULL;
    int rc = lc_render_opts_resolve(&o, err);
    if (rc < 0)
        return rc;
    rc = lc_normalize(lex, text, len, &spoken, err);
    if (rc < 0)
        return rc;
    rc = (o.urgent ? lc_tts_speak_first : lc_tts_speak)(r->tts, o.voice, o.rate_wpm, spoken, o.max_s,
                                                        &pcm, err);
    free(spoken);
    if (rc < 0) {
        lc_pcm_free(&pcm);
        return rc;
    }
    return render_pcm(r, &o, &pcm, out, err);
}

int lc_render_audio(struct lc_renderer *r, const struct lc_render_opts *opts, const void *data,
                    size_t len, struct lc_rendered *out, struct lc_err *err)
{
    struct lc_render_opts o = *opts;
    struct lc_pcm pcm = {0};
    int rc = lc_render_opts_resolve(&o, err);
    if (rc < 0)
        return rc;
    rc = lc_decode_mem(data, len, o.max_s, &pcm, err);
    if (rc < 0)
        return rc;
    return render_pcm(r, &o, &pcm, out, err);
}
