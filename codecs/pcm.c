/* codecs/pcm.c — mono float PCM buffers; see pcm.h. */
#include "codecs/pcm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int reserve(struct lc_pcm *p, size_t extra)
{
    if (extra > ((size_t)-1) / sizeof(float) - p->n)
        return -ENOMEM;
    size_t need = p->n + extra;
    if (need <= p->cap)
        return 0;
    size_t cap = p->cap ? p->cap : 4096;
    while (cap < need)
        cap *= 2;
    float *s = realloc(p->s, cap * sizeof(float));
    if (s == NULL)
        return -ENOMEM;
    p->s = s;
    p->cap = cap;
    return 0;
}

int lc_pcm_reserve_exact(struct lc_pcm *p, size_t n)
{
    if (n <= p->cap)
        return 0;
    if (n > ((size_t)-1) / sizeof(float))
        return -ENOMEM;
    float *s = realloc(p->s, n * sizeof(float));
    if (s == NULL)
        return -ENOMEM;
    p->s = s;
    p->cap = n;
    return 0;
}

int lc_pcm_append(struct lc_pcm *p, const float *s, size_t n)
{
    int rc = reserve(p, n);
    if (rc < 0)
        return rc;
    if (n > 0)
        memcpy(p->s + p->n, s, n * sizeof(float));
    p->n += n;
    return 0;
}

int lc_pcm_append_s16(struct lc_pcm *p, const short *s, size_t n)
{
    int rc = reserve(p, n);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        p->s[p->n + i] = (float)s[i] * (1.0f / 32768.0f);
    p->n += n;
    return 0;
}

int lc_pcm_append_silence(struct lc_pcm *p, size_t n)
{
    int rc = reserve(p, n);
    if (rc < 0)
        return rc;
    memset(p->s + p->n, 0, n * sizeof(float));
    p->n += n;
    return 0;
}

void lc_pcm_free(struct lc_pcm *p)
{
    free(p->s);
    p->s = NULL;
    p->n = p->cap = 0;
}
