/* Opus encoding: packet count, timing after pre-skip, and the splice of separately encoded
 * segments (the parallel render and the streaming engine both rely on it). */
#include <math.h>
#include <opus.h>
#include <stdlib.h>
#include <string.h>

#include "codecs/encode.h"
#include "tests/check.h"

/* Decodes e and returns the samples after pre-skip (malloc'd), their count in *n. */
static float *decode_all(const struct lc_encoded *e, size_t *n)
{
    int oe = 0;
    OpusDecoder *d = opus_decoder_create(48000, 1, &oe);
    float *all = calloc(e->npkts * LC_OPUS_FRAME + 1, sizeof *all);
    size_t got = 0;
    for (size_t i = 0; i < e->npkts; i++) {
        int k = opus_decode_float(d, e->data + e->pkts[i].off, (opus_int32)e->pkts[i].len,
                                  all + got, 5760, 0);
        CHECK(k == LC_OPUS_FRAME);
        if (k > 0)
            got += (size_t)k;
    }
    opus_decoder_destroy(d);
    *n = got - (size_t)e->preskip;
    memmove(all, all + e->preskip, *n * sizeof *all);
    return all;
}

/* A tone burst starting at `at` in otherwise silent audio. */
static float *burst(size_t n, size_t at, size_t len)
{
    float *x = calloc(n, sizeof *x);
    for (size_t i = at; i < at + len && i < n; i++)
        x[i] = (float)(0.5 * sin(2 * M_PI * 700 * (double)i / 48000));
    return x;
}

/* Index of the first sample above 0.1. */
static size_t onset(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fabsf(x[i]) > 0.1f)
            return i;
    return n;
}

int main(void)
{
    struct lc_err err = {0};
    struct lc_encode_opts o = {.bitrate_kbps = 24, .complexity = 5, .pad_tail = 1};

    /* 1.01 s: 51 frames of input; with the pre-skip tail, 51 or 52 packets. */
    size_t n = 48480;
    float *x = burst(n, 12000, 9600);
    struct lc_encoded e = {0};
    CHECK(lc_encode(x, n, &o, &e, &err) == 0);
    CHECK(e.samples == n);
    CHECK(e.preskip > 0 && e.preskip < 1000);
    CHECK(e.npkts * LC_OPUS_FRAME >= n + (size_t)e.preskip);
    size_t dn = 0;
    float *y = decode_all(&e, &dn);
    CHECK(dn >= n);
    size_t on = onset(y, dn);
    CHECKF(on >= 11990 && on <= 12010, "onset at %zu, expected 12000", on);
    free(y);
    lc_encoded_free(&e);

    /* Splice: two segments of 0.5 s cut in silence, each with its own encoder, decode to the same
     * timeline as one encoder: the second burst starts where it was. */
    size_t n2 = 48000;
    float *x2 = calloc(n2, sizeof *x2);
    memcpy(x2, x, 24000 * sizeof *x2); /* burst 12000..21600, then silence */
    for (size_t i = 30000; i < 40000; i++)
        x2[i] = (float)(0.5 * sin(2 * M_PI * 500 * (double)i / 48000));
    struct lc_encode_opts first = o;
    first.pad_tail = 0;
    struct lc_encoded a = {0}, b = {0}, all = {0};
    CHECK(lc_encode(x2, 24000, &first, &a, &err) == 0); /* 24000 = 25 frames */
    CHECK(a.npkts == 25);
    CHECK(lc_encode(x2 + 24000, n2 - 24000, &o, &b, &err) == 0);
    CHECK(lc_encoded_append(&all, &a) == 0);
    CHECK(lc_encoded_append(&all, &b) == 0);
    CHECK(all.samples == n2);
    CHECK(all.preskip == a.preskip);
    float *z = decode_all(&all, &dn);
    CHECK(dn >= n2);
    size_t on2 = onset(z + 24000, dn - 24000) + 24000;
    CHECKF(on2 >= 29990 && on2 <= 30010, "second onset at %zu, expected 30000", on2);
    free(z);

    /* Bad settings are refused with a message. */
    struct lc_encoded bad = {0};
    struct lc_encode_opts lo = {.bitrate_kbps = 8, .complexity = 5};
    CHECK(lc_encode(x, n, &lo, &bad, &err) == -EINVAL);
    CHECK(strstr(err.msg, "12..64") != NULL);

    lc_encoded_free(&a);
    lc_encoded_free(&b);
    lc_encoded_free(&all);
    free(x2);
    free(x);
    return check_done();
}
