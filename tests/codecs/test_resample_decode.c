/* Resampling keeps length and pitch; decoding refuses what is not audio. */
#include <math.h>
#include <string.h>

#include "codecs/decode.h"
#include "codecs/resample.h"
#include "tests/check.h"

/* Zero crossings per second of x, a sine's frequency times two. */
static double crossings_per_s(const struct lc_pcm *x)
{
    size_t c = 0;
    for (size_t i = 1; i < x->n; i++)
        if ((x->s[i - 1] < 0) != (x->s[i] < 0))
            c++;
    return (double)c / lc_pcm_seconds(x);
}

int main(void)
{
    struct lc_err err = {0};
    struct lc_pcm in = {0}, out = {0};
    lc_pcm_append_silence(&in, 22050 * 2);
    in.rate = 22050;
    for (size_t i = 0; i < in.n; i++)
        in.s[i] = (float)(0.5 * sin(2 * M_PI * 1000 * (double)i / 22050 + 0.1));
    CHECK(lc_resample(&in, 48000, &out, &err) == 0);
    CHECK(out.rate == 48000);
    CHECK(out.n == 96000);
    double f = crossings_per_s(&out) / 2;
    CHECKF(fabs(f - 1000) < 3, "frequency %.1f", f);
    lc_pcm_free(&out);

    CHECK(lc_resample(&in, 0, &out, &err) == -EINVAL);

    const char junk[] = "this is a text file, not a recording\n";
    struct lc_pcm d = {0};
    CHECK(lc_decode_mem(junk, sizeof junk, 0, &d, &err) == -EINVAL);
    CHECK(strstr(err.msg, "not audio") != NULL);
    CHECK(lc_decode_mem(junk, 0, 0, &d, &err) == -EINVAL);
    CHECK(d.n == 0);

    lc_pcm_free(&in);
    return check_done();
}
