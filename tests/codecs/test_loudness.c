/* Loudness meter against known signals, and the limiter's ceiling on hostile input. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codecs/loudness.h"
#include "tests/check.h"

static struct lc_pcm sine(double freq, double dbfs, double seconds, int rate)
{
    struct lc_pcm p = {0};
    size_t n = (size_t)(seconds * rate);
    lc_pcm_append_silence(&p, n);
    double a = pow(10.0, dbfs / 20.0);
    for (size_t i = 0; i < n; i++)
        p.s[i] = (float)(a * sin(2 * M_PI * freq * (double)i / rate));
    p.rate = rate;
    return p;
}

int main(void)
{
    /* EBU Tech 3341: a 1 kHz sine at -20 dBFS measures -23.0 LUFS (±0.1). */
    struct lc_pcm p = sine(1000, -20, 10, 48000);
    double l = 0;
    CHECK(lc_loudness_measure(&p, &l, NULL) == 0);
    CHECKF(fabs(l - (-23.0)) < 0.15, "measured %.2f", l);

    /* Two meters fed halves in parallel combine to the same integrated loudness. */
    struct lc_loudness_meter *m[2] = {NULL, NULL};
    CHECK(lc_loudness_meter_new(&m[0], 48000) == 0);
    CHECK(lc_loudness_meter_new(&m[1], 48000) == 0);
    lc_loudness_meter_add(m[0], p.s, p.n / 2);
    lc_loudness_meter_add(m[1], p.s + p.n / 2, p.n - p.n / 2);
    double l2 = 0;
    CHECK(lc_loudness_combined(m, 2, &l2) == 0);
    CHECKF(fabs(l2 - l) < 0.1, "combined %.2f vs %.2f", l2, l);
    lc_loudness_meter_free(m[0]);
    lc_loudness_meter_free(m[1]);
    lc_pcm_free(&p);

    /* Silence has no loudness. */
    struct lc_pcm z = {0};
    lc_pcm_append_silence(&z, 48000 * 2);
    z.rate = 48000;
    CHECK(lc_loudness_measure(&z, &l, NULL) == -ENODATA);
    lc_pcm_free(&z);

    /* The true peak measured near the loudest samples only equals the full measure on
     * band-limited "syllables" (sums of sines up to 11 kHz under envelopes of different levels,
     * one with a 3 dB inter-sample over at 12 kHz), and on silence. */
    {
        size_t len = 48000 * 6;
        float *v = calloc(len, sizeof *v);
        srand(11);
        for (size_t k = 0; k < 20; k++) {
            size_t at = k * len / 20, dur = 4800 + (size_t)(rand() % 4800);
            double level = pow(10.0, -(double)(rand() % 18) / 20.0) / 6.0;
            for (int f = 0; f < 6; f++) {
                double hz = 200.0 + rand() % 10800, ph = rand() % 628 / 100.0;
                for (size_t i = 0; i < dur && at + i < len; i++)
                    v[at + i] += (float)(level * sin(M_PI * (double)i / dur) *
                                         sin(2 * M_PI * hz * (double)i / 48000 + ph));
            }
        }
        for (size_t i = 0; i < 960; i++) /* 12 kHz at 45°: samples 3 dB under its peak */
            v[len / 2 + i] = (float)(0.5 * sin(2 * M_PI * 12000.0 * (double)i / 48000 + M_PI / 4));
        double full = 0, near = 0;
        CHECK(lc_true_peak(v, len, 48000, &full) == 0);
        CHECK(lc_true_peak_near(v, len, 48000, 3.0, &near) == 0);
        CHECKF(fabs(full - near) < 1e-6, "near %.4f dBTP, full %.4f dBTP", near, full);
        memset(v, 0, len * sizeof *v);
        CHECK(lc_true_peak_near(v, len, 48000, 3.0, &near) == 0 && near == -HUGE_VAL);
        free(v);
    }

    /* The limiter: random clicks and full-scale noise pushed by +20 dB never pass the ceiling,
     * and quiet parts far from any peak keep their level. */
    srand(7);
    size_t n = 48000 * 3;
    float *in = malloc(n * sizeof *in), *out = malloc(n * sizeof *out);
    for (size_t i = 0; i < n; i++) {
        double v = ((double)rand() / RAND_MAX * 2 - 1) * 0.01;
        if (i > n / 2 && i < n / 2 + 4800)
            v = ((double)rand() / RAND_MAX * 2 - 1);
        if (rand() % 5000 == 0)
            v = 1.0;
        in[i] = (float)v;
    }
    double ceil = pow(10.0, -3.0 / 20.0);
    float peak = lc_limit(in, out, n, 10.0, ceil, 48000);
    float worst = 0;
    for (size_t i = 0; i < n; i++)
        if (fabsf(out[i]) > worst)
            worst = fabsf(out[i]);
    CHECKF(worst <= (float)ceil + 1e-6f, "peak %.4f over ceiling %.4f", worst, ceil);
    CHECK(fabsf(peak - worst) < 1e-6f);
    /* A sine well under the ceiling passes unchanged. */
    struct lc_pcm s = sine(440, -20, 1, 48000);
    float *so = malloc(s.n * sizeof *so);
    lc_limit(s.s, so, s.n, 1.0, ceil, 48000);
    float maxdiff = 0;
    for (size_t i = 0; i < s.n; i++)
        if (fabsf(so[i] - s.s[i]) > maxdiff)
            maxdiff = fabsf(so[i] - s.s[i]);
    CHECKF(maxdiff < 1e-6f, "changed by %g", maxdiff);
    free(so);
    lc_pcm_free(&s);
    free(in);
    free(out);
    return check_done();
}
