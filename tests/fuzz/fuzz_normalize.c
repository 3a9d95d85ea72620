/*
 * tests/fuzz/fuzz_normalize.c — libFuzzer target: the Vietnamese text normaliser
 * (codecs/normalize.h) on arbitrary bytes, and the station lexicon file it may be given
 * ([audio] lexicon).
 *
 * An input is a bulletin's text; or, if it starts with "#lexicon\n", a station lexicon (up to a
 * line "#text", or the end) and then the text, normalised with the built-in lexicon plus that
 * file (written to a scratch file under $TMPDIR, loaded with lc_lexicon_load()).
 *
 * Checks the contracts of normalize.h on every input:
 *   - lc_normalize: 0, -EILSEQ exactly when the text is not valid UTF-8 (checked here by a
 *     validator of our own), or -ENODATA; a message with every error and *out NULL then;
 *     on success a NUL-terminated string, valid UTF-8, at most 10x the input's bytes, with as
 *     many lines as the input; and that output normalises again without an encoding error;
 *   - lc_lexicon_load: 0 with at least the built-in entries, or an error with a message and
 *     *out NULL.
 *
 *   ninja -C build-fuzz tests/fuzz/fuzz_normalize
 *   build-fuzz/tests/fuzz/fuzz_normalize -max_len=4096 CORPUS_DIR tests/fuzz/corpus/fuzz_normalize
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codecs/normalize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct lc_lexicon *builtin;
static size_t builtin_size;
static char lexfile[512];

static void fail(const char *what, const struct lc_err *err)
{
    fprintf(stderr, "fuzz_normalize: %s (\"%s\")\n", what, err ? lc_err_msg(err) : "");
    abort();
}

/* Strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF). */
static bool utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t need;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            need = 1, cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2, cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3, cp = c & 0x07;
        } else {
            return false;
        }
        if (n - i <= need)
            return false;
        for (size_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += need + 1;
    }
    return true;
}

static size_t count_lines(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += s[i] == '\n';
    return k;
}

static void check_normalize(const struct lc_lexicon *lex, const char *text, size_t len)
{
    struct lc_err err = {0};
    char *out = (char *)&err;   /* must be set to NULL on error */
    int rc = lc_normalize(lex, text, len, &out, &err);
    bool valid = utf8_valid((const unsigned char *)text, len);
    if (rc == 0) {
        if (out == NULL)
            fail("0 without an output", NULL);
        if (!valid)
            fail("invalid UTF-8 accepted", NULL);
        size_t n = strlen(out);
        if (n > 10 * len)
            fail("output more than 10x the input", NULL);
        if (!utf8_valid((const unsigned char *)out, n))
            fail("output is not valid UTF-8", NULL);
        if (count_lines(out, n) != count_lines(text, len))
            fail("output has another number of lines than the input", NULL);
        char *again = NULL;
        if (lc_normalize(lex, out, n, &again, &err) == -EILSEQ)
            fail("the output does not normalise again", &err);
        free(again);
        free(out);
        return;
    }
    if (out != NULL)
        fail("an error with an output", &err);
    if (rc != -EILSEQ && rc != -ENODATA)
        fail("an error other than -EILSEQ or -ENODATA", &err);
    if ((rc == -EILSEQ) == valid)
        fail(valid ? "valid UTF-8 refused as invalid" : "-ENODATA for invalid UTF-8", &err);
    if (err.msg[0] == '\0')
        fail("an error without a message", NULL);
}

/* "#lexicon\n" FILE ["\n#text\n" TEXT]: loads FILE as the station's lexicon, then normalises TEXT
 * with it. */
static void check_lexicon(const char *in, size_t size)
{
    static const char mark[] = "\n#text\n";
    const char *file = in + 9, *end = in + size, *text = end;
    size_t flen = size - 9;
    for (const char *p = file; p + sizeof mark - 1 <= end; p++) {
        if (memcmp(p, mark, sizeof mark - 1) == 0) {
            flen = (size_t)(p - file) + 1;
            text = p + sizeof mark - 1;
            break;
        }
    }
    FILE *f = fopen(lexfile, "wb");
    if (f == NULL || fwrite(file, 1, flen, f) != flen || fclose(f) != 0)
        fail("cannot write the scratch lexicon file", NULL);
    struct lc_lexicon *lex = (struct lc_lexicon *)&flen;   /* must be set */
    struct lc_err err = {0};
    int rc = lc_lexicon_load(&lex, lexfile, &err);
    if (rc < 0) {
        if (lex != NULL || err.msg[0] == '\0')
            fail("a lexicon error without its message, or with a lexicon", &err);
        return;
    }
    if (lex == NULL || lc_lexicon_size(lex) < builtin_size)
        fail("a station lexicon with fewer entries than the built-in one", &err);
    check_normalize(lex, text, (size_t)(end - text));
    lc_lexicon_free(lex);
}

static void remove_lexfile(void)
{
    unlink(lexfile);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lc_err err = {0};
    if (builtin == NULL) {
        if (lc_lexicon_load(&builtin, NULL, &err) < 0)
            fail("the built-in lexicon does not load", &err);
        builtin_size = lc_lexicon_size(builtin);
        const char *tmp = getenv("TMPDIR");
        snprintf(lexfile, sizeof lexfile, "%s/loacast-fuzz-lexicon-%ld.tsv",
                 tmp && tmp[0] ? tmp : "/tmp", (long)getpid());
        atexit(remove_lexfile);
    }
    const char *in = (const char *)data;
    if (size >= 9 && memcmp(in, "#lexicon\n", 9) == 0)
        check_lexicon(in, size);
    else
        check_normalize(builtin, in, size);
    return 0;
}
