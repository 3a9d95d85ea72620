/*
 * codecs/loudness.h — EBU R128 loudness measurement and a look-ahead peak limiter.
 *
 * libebur128 measures integrated loudness; a gain brings it to the target; the limiter keeps
 * the peaks under the ceiling (espeak-ng's speech has a high crest factor, so plain gain to
 * −16 LUFS would pass −1 dBTP). The limiter works on sample peaks with a margin under the
 * requested true-peak ceiling (LC_LIMITER_MARGIN_DB), because resampling and the Opus encoder add
 * overshoot of their own; the margin was measured (docs/audio.md).
 *
 * A meter may be fed from one thread at a time; several meters (one per segment of a long
 * bulletin, fed in parallel) combine into one integrated loudness, as EBU R128 gating is global.
 */
#ifndef LC_CODECS_LOUDNESS_H
#define LC_CODECS_LOUDNESS_H

#include <stddef.h>

#include "common/err.h"
#include "codecs/pcm.h"

/* The limiter's first margin under the true-peak ceiling; the pipeline widens it for a bulletin
 * whose decoded Opus still passes the ceiling (codecs/render.c). */
#define LC_LIMITER_MARGIN_DB 2.0

struct lc_loudness_meter;

int lc_loudness_meter_new(struct lc_loudness_meter **out, int rate);
void lc_loudness_meter_free(struct lc_loudness_meter *m);
/* Forgets everything measured so far. */
void lc_loudness_meter_reset(struct lc_loudness_meter *m);
int lc_loudness_meter_add(struct lc_loudness_meter *m, const float *x, size_t n);
/* Integrated loudness over all of meters[0..k); -ENODATA if they hold silence only. */
int lc_loudness_combined(struct lc_loudness_meter *const *meters, size_t k, double *lufs);

/* Integrated loudness of p; -ENODATA for silence or less than 0.4 s. */
int lc_loudness_measure(const struct lc_pcm *p, double *lufs, struct lc_err *err);

/* The true peak (4× oversampled, EBU R128 / ITU-R BS.1770) of x in dBTP; -HUGE_VAL for silence. */
int lc_true_peak(const float *x, size_t n, int rate, double *dbtp);

/* The same measure where it can be high: only around (±10 ms) the samples within `within_db` of
 * x's sample peak, each stretch measured on its own. Equal to lc_true_peak() unless an
 * inter-sample peak rises more than within_db over the samples around it, which band-limited
 * audio such as decoded speech at 24 kbit/s does not do (docs/audio.md). For speech after the
 * limiter about 40 % of the samples are measured at 3 dB: the full measure is 4× oversampling of
 * everything. */
int lc_true_peak_near(const float *x, size_t n, int rate, double within_db, double *dbtp);

/* out[i] = in[i]·gain·h[i], with h ≤ 1 chosen so that |out[i]| ≤ ceiling (linear) everywhere,
 * 5 ms look-ahead and 80 ms release. in and out may be the same. Returns the peak |out|. */
float lc_limit(const float *in, float *out, size_t n, double gain, double ceiling, int rate);
/* The same with a per-sample ceiling: ceiling·scale[i] (scale[i] in (0, 1]); scale may be NULL. */
float lc_limit_scaled(const float *in, float *out, size_t n, double gain, double ceiling,
                      const float *scale, int rate);

#endif
