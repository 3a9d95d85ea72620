/*
 * codecs/relay_level.c — the relay's leveller: brings an upstream of any loudness to the
 * station's target without pumping, then keeps its peaks under the ceiling; see
 * relay_internal.h.
 *
 * A bulletin is levelled on its integrated loudness, known before it airs (codecs/render.c); a
 * relay is live, so its gain follows a short-term measure instead, slowly:
 *
 *   every 100 ms    M = momentary loudness (EBU R128, 400 ms, libebur128) of the input
 *   M ≥ GATE        the block counts: E ← E + (10^(M/10) − E)·α, α = 0.1 s / 3 s (a 3-second
 *                   memory of the energy of what is not silence), est = 10·log10(E)
 *   M < GATE        a pause or silence: est and the gain stay where they are — silence is never
 *                   boosted, and the gain does not creep up in the pauses of speech (pumping)
 *   wanted gain     target − est, bounded to [−MAX_CUT_DB, +MAX_BOOST_DB]
 *   gain            moves towards it by at most RATE_DB_S per second (SETTLE_RATE_DB_S over the
 *                   first SETTLE_S of counted audio), linearly within each block: no steps
 *
 * The limiter is lc_limit()'s curve (codecs/loudness.c: 5 ms look-ahead sliding minimum of the
 * gain each sample needs, a mean over 2.5 ms, 80 ms release), computed as the samples arrive with
 * a delay line of LIMIT_DELAY samples; its ceiling is the true-peak ceiling less
 * LC_LIMITER_MARGIN_DB, as for bulletins (the Opus encoder's overshoot).
 */
#include "codecs/relay_internal.h"

#include <math.h>
#include <string.h>

#include "codecs/loudness.h"

#define GATE_LUFS (-45.0)
#define SMOOTH_S 3.0
#define MAX_BOOST_DB 12.0
#define MAX_CUT_DB 24.0
#define RATE_DB_S 2.0
#define SETTLE_RATE_DB_S 12.0
#define SETTLE_S 3.0
#define RELEASE_S 0.080

int relay_level_init(struct relay_level *l, double target_lufs, double ceiling_dbtp)
{
    memset(l, 0, sizeof *l);
    l->st = ebur128_init(1, LEVEL_RATE, EBUR128_MODE_M);
    if (l->st == NULL)
        return -ENOMEM;
    l->target = target_lufs;
    l->g = 1.0f;
    l->h = 1.0f;
    l->ceiling = (float)pow(10.0, (ceiling_dbtp - LC_LIMITER_MARGIN_DB) / 20.0);
    l->rel = (float)(1.0 - exp(-1.0 / (RELEASE_S * LEVEL_RATE)));
    for (size_t i = 0; i < LIMIT_RING; i++)
        l->need[i] = l->m[i] = 1.0f;
    l->msum = 2 * LIMIT_HALF + 1;
    return 0;
}

void relay_level_free(struct relay_level *l)
{
    if (l->st != NULL)
        ebur128_destroy(&l->st);
}

/* A block of input is complete: measure it and set the gain's course over the next block. */
static void decide(struct relay_level *l)
{
    double m = -HUGE_VAL;
    if (ebur128_add_frames_float(l->st, l->block, LEVEL_BLOCK) == EBUR128_SUCCESS)
        ebur128_loudness_momentary(l->st, &m);
    double dt = (double)LEVEL_BLOCK / LEVEL_RATE;
    if (isfinite(m) && m >= GATE_LUFS) {
        double e = pow(10.0, m / 10.0);
        if (!l->have_est)
            l->est_energy = e;
        else
            l->est_energy += (e - l->est_energy) * (dt / SMOOTH_S);
        l->have_est = true;
        l->est = 10.0 * log10(l->est_energy);
        l->counted_s += dt;
        double want = l->target - l->est;
        if (want > MAX_BOOST_DB)
            want = MAX_BOOST_DB;
        if (want < -MAX_CUT_DB)
            want = -MAX_CUT_DB;
        double step = (l->counted_s <= SETTLE_S ? SETTLE_RATE_DB_S : RATE_DB_S) * dt;
        if (want > l->gain_db + step)
            want = l->gain_db + step;
        if (want < l->gain_db - step)
            want = l->gain_db - step;
        l->gain_db = want;
    }
    float to = (float)pow(10.0, l->gain_db / 20.0);
    l->g_step = (to - l->g) / LEVEL_BLOCK;
}

/* One sample (already gained) into the limiter; returns the sample LIMIT_DELAY earlier, limited. */
static float limit(struct relay_level *l, float v)
{
    const size_t M = LIMIT_RING - 1;
    uint64_t j = l->j++;
    float a = fabsf(v);
    float need = a > l->ceiling ? l->ceiling / a : 1.0f;
    l->v[j & M] = v;
    l->need[j & M] = need;
    /* the minimum of need over [j − 2L, j], i.e. m at the window's centre k1 = j − L */
    while (l->dq_tail > l->dq_head && l->need[l->dq[(l->dq_tail - 1) & M] & M] >= need)
        l->dq_tail--;
    l->dq[l->dq_tail++ & M] = j;
    while (l->dq[l->dq_head & M] + 2 * LIMIT_LOOK < j)
        l->dq_head++;
    float mk = l->need[l->dq[l->dq_head & M] & M];
    /* samples before the first one count as needing nothing: the minimum is over real ones */
    uint64_t k1 = j - LIMIT_LOOK; /* wraps below 0: the ring keeps 1s there */
    l->m[k1 & M] = mk;
    /* the mean of m over [k − half, k + half], k = k1 − half: the sample that leaves now */
    l->msum += mk - l->m[(k1 - 2 * LIMIT_HALF - 1) & M];
    uint64_t k = k1 - LIMIT_HALF;
    double g = l->msum / (2 * LIMIT_HALF + 1);
    if (g > l->need[k & M]) /* rounding of the running sum only */
        g = l->need[k & M];
    float r = l->h + (1.0f - l->h) * l->rel;
    l->h = (float)g < r ? (float)g : r;
    if (j < LIMIT_DELAY)
        return 0.0f; /* the delay line's first samples: nothing yet */
    return l->v[k & M] * l->h;
}

void relay_level_run(struct relay_level *l, float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        l->block[l->in_block++] = x[i];
        float v = x[i] * l->g;
        l->g += l->g_step;
        x[i] = limit(l, v);
        if (l->in_block == LEVEL_BLOCK) {
            l->in_block = 0;
            decide(l);
        }
    }
}
