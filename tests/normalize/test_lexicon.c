/* tests/normalize/test_lexicon.c — the built-in lexicon and a station's own file. */
#include <stdio.h>
#include <unistd.h>

#include "tests/normalize/nz_test.h"

static char *write_tmp(const char *content)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/lc-lexicon-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    size_t n = strlen(content);
    if (write(fd, content, n) != (ssize_t)n) {
        close(fd);
        return NULL;
    }
    close(fd);
    return path;
}

static char *norm_with(struct lc_lexicon *lex, const char *s)
{
    char *out = NULL;
    struct lc_err err = {0};
    return lc_normalize(lex, s, strlen(s), &out, &err) < 0 ? NULL : out;
}

int main(void)
{
    nz_test_init();
    CHECKF(lc_lexicon_size(test_lex) >= 150, "built-in lexicon has %zu entries",
           lc_lexicon_size(test_lex));
    /* every entry the issue names */
    static const char *const must[] = {"UBND", "HĐND", "MTTQ", "TT&TT", "CNTT", "BCĐ", "BHYT",
                                       "BHXH", "THCS", "THPT", "NTM", "KT-XH", "PCCC", "PCTT",
                                       "ATTP", "QĐ", "KH", "TB", "NĐ", "CP", "CT", "HU", "TNCS",
                                       "HTX", "NHCSXH", "VSATTP", "BCHQS", "ANTT", "TN&MT",
                                       "NN&PTNT"};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++) {
        char *out = norm(must[i]);
        CHECKF(out && strstr(out, must[i]) == NULL, "%s not expanded: %s", must[i],
               out ? out : "(error)");
        free(out);
    }

    /* a station file adds and overrides, in NFD too, without a rebuild */
    char *path = write_tmp("# station entries\n"
                           "XYZT\tthử nghiệm riêng\n"
                           "UBND\tỦy ban\n"
                           "Ho\xcc\x80" "aBi\xcc\x80nh\tHòa Bình mới\n"
                           "\n");
    CHECK(path != NULL);
    struct lc_lexicon *lex = NULL;
    struct lc_err err = {0};
    CHECK(lc_lexicon_load(&lex, path, &err) == 0);
    if (lex) {
        CHECK(lc_lexicon_size(lex) == lc_lexicon_size(test_lex) + 2);
        char *out = norm_with(lex, "XYZT của UBND HòaBình");
        CHECKF(out && strcmp(out, "thử nghiệm riêng của Ủy ban Hòa Bình mới.") == 0, "got %s",
               out ? out : "(error)");
        free(out);
        lc_lexicon_free(lex);
    }
    unlink(path);

    /* a malformed line is an error naming file and line */
    path = write_tmp("OK\tfine\nBROKEN LINE\n");
    lex = NULL;
    CHECK(lc_lexicon_load(&lex, path, &err) == -EINVAL);
    CHECK(lex == NULL);
    CHECKF(strstr(err.msg, ":2:") != NULL, "message: %s", err.msg);
    unlink(path);

    /* a missing file is an error */
    CHECK(lc_lexicon_load(&lex, "/nonexistent/lexicon.tsv", &err) == -ENOENT);

    /* no lexicon: no expansion, but the rest works */
    char *out = NULL;
    CHECK(lc_normalize(NULL, "UBND 15%", 8, &out, &err) == 0);
    CHECKF(out && strcmp(out, "u bê nờ dê mười lăm phần trăm.") == 0, "got %s", out);
    free(out);
    nz_test_done();
    return check_done();
}
