/*
 * codecs/resample.h — sample-rate conversion with libsoxr (high quality, linear phase).
 */
#ifndef LC_CODECS_RESAMPLE_H
#define LC_CODECS_RESAMPLE_H

#include "common/err.h"
#include "codecs/pcm.h"

/* Converts in (any rate) to out_rate into *out (zeroed by the caller; owned by the caller after).
 * The output has round(in->n * out_rate / in->rate) samples: soxr's delay is flushed, so the
 * audio keeps its timing. Equal rates copy. */
int lc_resample(const struct lc_pcm *in, int out_rate, struct lc_pcm *out, struct lc_err *err);

#endif
