/*
 * codecs/loudness.c — EBU R128 measurement (libebur128) and the peak limiter; see loudness.h.
 */
#include "codecs/loudness.h"

#include <ebur128.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LOOKAHEAD_S 0.005
#define RELEASE_S 0.080

struct lc_loudness_meter {
    ebur128_state *st;
    int rate;
};

int lc_loudness_meter_new(struct lc_loudness_meter **out, int rate)
{
    struct lc_loudness_meter *m = calloc(1, sizeof *m);
    if (m == NULL)
        return -ENOMEM;
    m->rate = rate;
    m->st = ebur128_init(1, (unsigned long)rate, EBUR128_MODE_I);
    if (m->st == NULL) {
        free(m);
        return -ENOMEM;
    }
    *out = m;
    return 0;
}

void lc_loudness_meter_free(struct lc_loudness_meter *m)
{
    if (m == NULL)
        return;
    ebur128_destroy(&m->st);
    free(m);
}

void lc_loudness_meter_reset(struct lc_loudness_meter *m)
{
    ebur128_state *st = ebur128_init(1, (unsigned long)m->rate, EBUR128_MODE_I);
    if (st != NULL) { /* on failure keep the old state; the caller's result is then off, not lost */
        ebur128_destroy(&m->st);
        m->st = st;
    }
}

int lc_loudness_meter_add(struct lc_loudness_meter *m, const float *x, size_t n)
{
    return ebur128_add_frames_float(m->st, x, n) == EBUR128_SUCCESS ? 0 : -EIO;
}

int lc_loudness_combined(struct lc_loudness_meter *const *meters, size_t k, double *lufs)
{
    ebur128_state *sts[64];
    ebur128_state **v = k <= 64 ? sts : malloc(k * sizeof *v);
    if (v == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < k; i++)
        v[i] = meters[i]->st;
    double l = -HUGE_VAL;
    int e = ebur128_loudness_global_multiple(v, k, &l);
    if (v != sts)
        free(v);
    if (e != EBUR128_SUCCESS || !isfinite(l))
        return -ENODATA;
    *lufs = l;
    return 0;
}

int lc_loudness_measure(const struct lc_pcm *p, double *lufs, struct lc_err *err)
{
    struct lc_loudness_meter *m = NULL;
    if (lc_loudness_meter_new(&m, p->rate) < 0)
        return lc_err_set(err, -ENOMEM, "cannot start the loudness meter");
    int rc = lc_loudness_meter_add(m, p->s, p->n);
    if (rc == 0)
        rc = lc_loudness_combined(&m, 1, lufs);
    lc_loudness_meter_free(m);
    if (rc == -ENODATA)
        return lc_err_set(err, rc, "the audio is silent or too short to measure");
    return rc < 0 ? lc_err_set(err, rc, "loudness measurement failed") : 0;
}

int lc_true_peak(const float *x, size_t n, int rate, double *dbtp)
{
    ebur128_state *st = ebur128_init(1, (unsigned long)rate, EBUR128_MODE_TRUE_PEAK);
    if (st == NULL)
        return -ENOMEM;
    double tp = 0;
    int rc = 0;
    if (ebur128_add_frames_float(st, x, n) != EBUR128_SUCCESS ||
        ebur128_true_peak(st, 0, &tp) != EBUR128_SUCCESS)
        rc = -EIO;
    ebur128_destroy(&st);
    if (rc == 0)
        *dbtp = tp > 0 ? 20.0 * log10(tp) : -HUGE_VAL;
    return rc;
}

int lc_true_peak_near(const float *x, size_t n, int rate, double within_db, double *dbtp)
{
    float peak = 0;
    for (size_t i = 0; i < n; i++)
        if (fabsf(x[i]) > peak)
            peak = fabsf(x[i]);
    *dbtp = -HUGE_VAL;
    if (peak == 0)
        return 0;
    float loud = peak * (float)pow(10.0, -within_db / 20.0);
    size_t pad = (size_t)rate / 100;
    for (size_t i = 0; i < n;) {
        if (fabsf(x[i]) < loud) {
            i++;
            continue;
        }
        /* a stretch: from pad before the first loud sample to pad after the last one that has
         * another within pad */
        size_t lo = i > pad ? i - pad : 0, hi = i + pad < n ? i + pad : n;
        for (size_t j = i + 1; j < hi; j++)
            if (fabsf(x[j]) >= loud)
                hi = j + pad < n ? j + pad : n;
        double tp;
        int rc = lc_true_peak(x + lo, hi - lo, rate, &tp);
        if (rc < 0)
            return rc;
        if (tp > *dbtp)
            *dbtp = tp;
        i = hi;
    }
    return 0;
}

/*
 *   need[i] = min(1, ceil / |gain·in[i]|)          gain that sample i needs
 *   m[i]    = min(need[i−L .. i+L])                sliding minimum, deque of indexes
 *   g[i]    = mean(m[i−L/2 .. i+L/2])              smooth attack; each term ≤ need[i]
 *   h[i]    = min(g[i], h[i−1] + (1−h[i−1])·a)     slow release, still ≤ g[i]
 * Every term of the mean is a minimum over a window that contains i, so g[i] ≤ need[i], and
 * h[i] ≤ g[i]: no output sample passes the ceiling. Scratch is allocated in blocks of the whole
 * length; callers limit segments of a bulletin, not hours at once.
 */
float lc_limit(const float *in, float *out, size_t n, double gain, double ceil, int rate)
{
    return lc_limit_scaled(in, out, n, gain, ceil, NULL, rate);
}

float lc_limit_scaled(const float *in, float *out, size_t n, double gain, double ceil,
                      const float *scale, int rate)
{
    size_t L = (size_t)(LOOKAHEAD_S * rate);
    if (L < 2)
        L = 2;
    float *need = malloc(n * sizeof *need);
    float *m = malloc(n * sizeof *m);
    uint32_t *dq = malloc(n * sizeof *dq);
    float peak = 0, g32 = (float)gain, c32 = (float)ceil;
    if (need == NULL || m == NULL || dq == NULL || n > UINT32_MAX) {
        /* No memory for the curve: hard-clip instead, which still honours the ceiling. */
        for (size_t i = 0; i < n; i++) {
            float v = in[i] * g32, c = scale ? c32 * scale[i] : c32;
            out[i] = v > c ? c : v < -c ? -c : v;
        }
        free(need);
        free(m);
        free(dq);
        return c32;
    }
    for (size_t i = 0; i < n; i++) {
        float a = fabsf(in[i] * g32), c = scale ? c32 * scale[i] : c32;
        need[i] = a > c ? c / a : 1.0f;
    }
    size_t head = 0, tail = 0, next = 0;
    for (size_t i = 0; i < n; i++) {
        size_t hi = i + L < n ? i + L : n - 1;
        while (next <= hi) {
            while (tail > head && need[dq[tail - 1]] >= need[next])
                tail--;
            dq[tail++] = (uint32_t)next++;
        }
        while (dq[head] + L < i)
            head++;
        m[i] = need[dq[head]];
    }
    size_t half = L / 2;
    double sum = 0;
    size_t lo = 0, hi = 0; /* window [lo, hi) */
    double a = 1.0 - exp(-1.0 / (RELEASE_S * rate));
    double h = 1.0;
    for (size_t i = 0; i < n; i++) {
        size_t want_hi = i + half + 1 < n ? i + half + 1 : n;
        size_t want_lo = i > half ? i - half : 0;
        while (hi < want_hi)
            sum += m[hi++];
        while (lo < want_lo)
            sum -= m[lo++];
        double g = sum / (double)(hi - lo);
        if (g > need[i]) /* rounding of the running sum only */
            g = need[i];
        double r = h + (1.0 - h) * a;
        h = g < r ? g : r;
        float v = (float)(in[i] * gain * h);
        out[i] = v;
        if (fabsf(v) > peak)
            peak = fabsf(v);
    }
    free(need);
    free(m);
    free(dq);
    return peak;
}
