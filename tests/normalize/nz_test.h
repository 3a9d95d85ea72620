/*
 * tests/normalize/nz_test.h — helpers for the normaliser's unit tests: one built-in lexicon per
 * process, and EXPECT(input, output) comparing the exact output of lc_normalize().
 */
#ifndef LC_TESTS_NZ_TEST_H
#define LC_TESTS_NZ_TEST_H

#include <stdlib.h>
#include <string.h>

#include "codecs/normalize.h"
#include "tests/check.h"

static struct lc_lexicon *test_lex;

static void nz_test_init(void)
{
    struct lc_err err = {0};
    if (lc_lexicon_load(&test_lex, NULL, &err) < 0) {
        fprintf(stderr, "cannot load the built-in lexicon: %s\n", lc_err_msg(&err));
        exit(1);
    }
}

static void nz_test_done(void)
{
    lc_lexicon_free(test_lex);
    test_lex = NULL;
}

/* Normalises s; returns a malloc'd string, or NULL with the error printed. */
static char *norm(const char *s)
{
    char *out = NULL;
    struct lc_err err = {0};
    if (lc_normalize(test_lex, s, strlen(s), &out, &err) < 0) {
        fprintf(stderr, "lc_normalize(\"%s\"): %s\n", s, lc_err_msg(&err));
        return NULL;
    }
    return out;
}

#define EXPECT(in, want)                                                                   \
    do {                                                                                   \
        char *got_ = norm(in);                                                             \
        CHECKF(got_ && strcmp(got_, want) == 0, "\n  input: %s\n  want:  %s\n  got:   %s", \
               in, want, got_ ? got_ : "(error)");                                         \
        free(got_);                                                                        \
    } while (0)

#endif
