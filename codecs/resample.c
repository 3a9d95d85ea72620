/* codecs/resample.c — libsoxr conversion of a whole buffer, fed in chunks; see resample.h. */
#include "codecs/resample.h"

#include <math.h>
#include <soxr.h>
#include <stdlib.h>
#include <string.h>

/* soxr's working memory follows the input it is given at once (one call with a whole bulletin
 * took 30 MB per 2 minutes): it is fed this many samples at a time instead. */
#define CHUNK 16384

int lc_resample(const struct lc_pcm *in, int out_rate, struct lc_pcm *out, struct lc_err *err)
{
    if (in->rate <= 0 || out_rate <= 0)
        return lc_err_set(err, -EINVAL, "bad sample rate %d -> %d", in->rate, out_rate);
    if (in->rate == out_rate) {
        out->rate = out_rate;
        return lc_pcm_append(out, in->s, in->n) < 0 ? lc_err_set(err, -ENOMEM, "out of memory")
                                                    : 0;
    }
    size_t olen = (size_t)llround((double)in->n * out_rate / in->rate);
    /* exactly the output's size (+1: soxr may round up), not the next power of two */
    struct lc_pcm tmp = {.s = malloc((olen + 1) * sizeof(float)), .cap = olen + 1};
    if (tmp.s == NULL)
        return lc_err_set(err, -ENOMEM, "out of memory");
    soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    /* MQ: 16-bit precision, linear phase, passband to ~91% of Nyquist: ample for speech that is
     * then coded at 24 kbit/s, and about twice as fast as HQ (docs/audio.md). */
    soxr_quality_spec_t q = soxr_quality_spec(SOXR_MQ, 0);
    soxr_error_t e = NULL;
    soxr_t sx = soxr_create(in->rate, out_rate, 1, &e, &io, &q, NULL);
    size_t done = 0, pos = 0;
    while (e == NULL && done < olen + 1) {
        /* the last calls pass no input: soxr flushes its delay line */
        size_t ilen = pos < in->n ? (in->n - pos < CHUNK ? in->n - pos : CHUNK) : 0;
        size_t idone = 0, odone = 0;
        e = soxr_process(sx, ilen ? in->s + pos : NULL, ilen, &idone, tmp.s + done,
                         olen + 1 - done, &odone);
        pos += idone;
        done += odone;
        if (ilen == 0 && odone == 0)
            break; /* flushed */
    }
    soxr_delete(sx);
    if (e != NULL) {
        lc_pcm_free(&tmp);
        return lc_err_set(err, -EIO, "resampling failed: %s", e);
    }
    if (done < olen) /* never expected; keep the promised length */
        memset(tmp.s + done, 0, (olen - done) * sizeof(float));
    tmp.n = olen;
    tmp.rate = out_rate;
    lc_pcm_free(out);
    *out = tmp;
    return 0;
}
