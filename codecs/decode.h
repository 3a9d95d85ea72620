/*
 * codecs/decode.h — decoding recorded audio with libsndfile.
 *
 * WAV, FLAC, Ogg Vorbis, Ogg Opus and MP3 (libsndfile ≥ 1.1), any rate and channel count; the
 * channels are averaged to mono. The caller resamples (codecs/resample.h).
 */
#ifndef LC_CODECS_DECODE_H
#define LC_CODECS_DECODE_H

#include <stddef.h>

#include "common/err.h"
#include "codecs/pcm.h"

/* Decodes data[0..len) into *out (zeroed by caller) at the file's own rate. Data that libsndfile
 * cannot read, or that holds no samples, is -EINVAL with a message. Audio longer than max_s
 * seconds (0: no bound) is -EFBIG with a message: refused from the header's length before
 * decoding when the header has one, else as soon as the decoded samples pass it, so memory never
 * grows past the bound. */
int lc_decode_mem(const void *data, size_t len, double max_s, struct lc_pcm *out,
                  struct lc_err *err);

#endif
