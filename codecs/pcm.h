/*
 * codecs/pcm.h — mono float PCM, the currency between pipeline stages.
 *
 * Samples are in [-1, 1] nominal (loudness and limiting make sure the pipeline's output stays
 * under its ceiling). The struct owns s; lc_pcm_free() releases it. A zeroed struct is empty.
 */
#ifndef LC_CODECS_PCM_H
#define LC_CODECS_PCM_H

#include <stddef.h>

struct lc_pcm {
    float *s;
    size_t n;    /* samples */
    size_t cap;  /* allocated samples */
    int rate;    /* Hz */
};

int lc_pcm_append(struct lc_pcm *p, const float *s, size_t n);
/* Makes room for exactly n samples in all (when known ahead: no doubling past it). 0/-ENOMEM. */
int lc_pcm_reserve_exact(struct lc_pcm *p, size_t n);
int lc_pcm_append_s16(struct lc_pcm *p, const short *s, size_t n);
/* Appends n samples of silence. */
int lc_pcm_append_silence(struct lc_pcm *p, size_t n);
void lc_pcm_free(struct lc_pcm *p);

static inline double lc_pcm_seconds(const struct lc_pcm *p)
{
    return p->rate > 0 ? (double)p->n / p->rate : 0.0;
}

#endif
