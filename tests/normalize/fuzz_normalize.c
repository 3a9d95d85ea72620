/*
 * tests/normalize/fuzz_normalize.c — libFuzzer driver for the normaliser (clang only):
 *
 *   CC=clang meson setup build-fuzz && ninja -C build-fuzz tests/normalize/fuzz_normalize
 *   build-fuzz/tests/normalize/fuzz_normalize tests/normalize/fuzz-corpus -max_total_time=60
 *
 * Checks the contract on every input: 0, -EILSEQ or -ENODATA; a message with every error;
 * output NUL-terminated, valid UTF-8 and at most 10x the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codecs/normalize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct lc_lexicon *lex;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lc_err err = {0};
    char *out = NULL;
    if (lex == NULL && lc_lexicon_load(&lex, NULL, &err) < 0)
        abort();
    int rc = lc_normalize(lex, (const char *)data, size, &out, &err);
    if (rc == 0) {
        size_t n = strlen(out);
        if (n > 10 * size)
            abort();
        /* the output must itself normalise without an encoding error */
        char *again = NULL;
        if (lc_normalize(lex, out, n, &again, &err) == -EILSEQ)
            abort();
        free(again);
    } else if ((rc != -EILSEQ && rc != -ENODATA) || out != NULL || err.msg[0] == '\0') {
        abort();
    }
    free(out);
    return 0;
}
