/*
 * tests/fuzz/fuzz_decode.c — libFuzzer target: an uploaded recording, decoded as the server does
 * (PUT /api/v1/bulletins/{id}/audio → lc_decode_mem(), libsndfile: WAV, FLAC, Ogg Vorbis/Opus,
 * MP3 and whatever else libsndfile recognises; what it does not, libavformat's audio demuxers:
 * codecs/decode_av.c).
 *
 * The bound is MAX_S = 5 s, so an input whose header claims hours is refused from the header and
 * one that does not say is stopped as its samples pass 5 s. Checked, besides no crash, no leak:
 * the contract of codecs/decode.h — 0 with mono samples at 1,000..384,000 Hz, at least one and
 * no more than MAX_S seconds of them; or -EINVAL / -EFBIG / -EBADMSG with a message and the output
 * untouched. (libsndfile itself is Debian's, not instrumented: coverage steers by decode.c only,
 * but a fault inside libsndfile is still caught by AddressSanitizer's interceptors or as a crash.)
 *
 *   ninja -C build-fuzz tests/fuzz/fuzz_decode
 *   build-fuzz/tests/fuzz/fuzz_decode -max_len=16384 -close_fd_mask=2 CORPUS_DIR \
 *       tests/fuzz/corpus/fuzz_decode
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <sanitizer/common_interface_defs.h>

#include "codecs/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_S 5.0

/* Reported on the sanitizers' descriptor: the test runs with -close_fd_mask=2, as libmpg123
 * writes a note to stderr for every broken frame. */
static void fail(const char *what, int rc, const struct lc_err *err)
{
    char line[512];
    snprintf(line, sizeof line, "fuzz_decode: %s (rc %d, \"%s\")", what, rc, lc_err_msg(err));
    __sanitizer_report_error_summary(line);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lc_pcm pcm = {0};
    struct lc_err err = {0};
    int rc = lc_decode_mem(data, size, MAX_S, &pcm, &err);
    if (rc == 0) {
        if (pcm.s == NULL || pcm.n == 0)
            fail("0 without samples", rc, &err);
        if (pcm.rate < 1000 || pcm.rate > 384000)
            fail("0 with a rate out of range", rc, &err);
        if ((double)pcm.n > MAX_S * pcm.rate)
            fail("0 with more than MAX_S seconds", rc, &err);
        if (pcm.n > pcm.cap)
            fail("more samples than allocated", rc, &err);
        /* every sample is read: a wrong length shows under AddressSanitizer */
        volatile float sum = 0;
        for (size_t i = 0; i < pcm.n; i++)
            sum += pcm.s[i];
        (void)sum;
    } else {
        if (rc != -EINVAL && rc != -EFBIG && rc != -EBADMSG)
            fail("an error other than -EINVAL, -EFBIG or -EBADMSG", rc, &err);
        if (err.msg[0] == '\0' || err.code != rc)
            fail("an error without its message", rc, &err);
        if (pcm.s != NULL || pcm.n != 0)
            fail("an error that filled the output", rc, &err);
    }
    lc_pcm_free(&pcm);
    return 0;
}
