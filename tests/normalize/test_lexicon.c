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

    /* issue 20: station entries (checked, NFC, trimmed), a copy to build on, the swap */
    {
        struct lc_lexicon *shared = NULL, *fresh = NULL, *held = NULL;
        char *k = NULL, *r = NULL;
        CHECK(lc_lexicon_load(&shared, NULL, &err) == 0);
        CHECK(lc_lexicon_check_entry(" HTXDV ", " hợp tác xã dịch vụ ", &k, &r, &err) == 0);
        CHECK(k && r && strcmp(k, "HTXDV") == 0 && strcmp(r, "hợp tác xã dịch vụ") == 0);
        free(k);
        free(r);
        CHECK(lc_lexicon_check_entry("", "a", &k, &r, &err) == -EINVAL && k == NULL);
        CHECK(lc_lexicon_check_entry("A B", "a", &k, &r, &err) == -EINVAL);
        CHECK(lc_lexicon_check_entry("AB", "số 2", &k, &r, &err) == -EINVAL);
        CHECK(lc_lexicon_check_entry("AB", "a <b>", &k, &r, &err) == -EINVAL);
        CHECK(lc_lexicon_check_entry("AB", "...", &k, &r, &err) == -EINVAL);
        CHECK(lc_lexicon_check_entry("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLM",
                                     "a", &k, &r, &err) == -E2BIG);
        CHECK(lc_lexicon_clone(&fresh, shared, &err) == 0);
        CHECK(lc_lexicon_add(fresh, "PTNT", "phát triển nông thôn mới", &err) == 0);
        CHECK(lc_lexicon_size(fresh) == lc_lexicon_size(shared));
        CHECK(lc_lexicon_clone(&held, shared, &err) == 0);   /* what a render started with */
        char *o1 = norm_with(shared, "PTNT");
        lc_lexicon_swap(shared, fresh);
        char *o2 = norm_with(shared, "PTNT"), *o3 = norm_with(held, "PTNT");
        CHECKF(o1 && strcmp(o1, "phát triển nông thôn.") == 0, "before %s", o1 ? o1 : "-");
        CHECKF(o2 && strcmp(o2, "phát triển nông thôn mới.") == 0, "after %s", o2 ? o2 : "-");
        CHECKF(o3 && strcmp(o3, "phát triển nông thôn.") == 0, "held %s", o3 ? o3 : "-");
        free(o1);
        free(o2);
        free(o3);
        lc_lexicon_free(held);
        lc_lexicon_free(shared);
    }

    /* no lexicon: no expansion, but the rest works */
    char *out = NULL;
    CHECK(lc_normalize(NULL, "UBND 15%", 8, &out, &err) == 0);
    CHECKF(out && strcmp(out, "u bê nờ dê mười lăm phần trăm.") == 0, "got %s", out);
    free(out);
    nz_test_done();
    return check_done();
}
