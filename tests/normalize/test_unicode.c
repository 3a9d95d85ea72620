/* tests/normalize/test_unicode.c — UTF-8 validation, NFC/NFD, and the error contract. */
#include "tests/normalize/nz_test.h"

static int code_of(const char *s, size_t n)
{
    char *out = NULL;
    struct lc_err err = {0};
    int rc = lc_normalize(test_lex, s, n, &out, &err);
    if (rc < 0)
        CHECKF(err.msg[0] != '\0', "no message for %d", rc);
    free(out);
    return rc;
}

int main(void)
{
    nz_test_init();
    /* NFD input comes out NFC, identical to NFC input */
    EXPECT("Ho\xcc\x80" "a Bi\xcc\x80nh", "Hòa Bình.");
    EXPECT("Vie\xcc\xa3\xcc\x82t Nam", "Việt Nam.");           /* e + dot below + circumflex */
    EXPECT("Vie\xcc\x82\xcc\xa3t Nam", "Việt Nam.");           /* marks in the other order */
    EXPECT("\xc3\xaa\xcc\x81", "ế.");                          /* ê + acute */
    EXPECT("U\xcc\x9b\xcc\x81", "Ứ.");
    EXPECT("\xc4\x90" "a\xcc\x80 Na\xcc\x86\xcc\x83ng", "Đà Nẵng.");
    EXPECT("HO\xcc\xa3P", "họp.");
    /* invisible characters vanish, NBSP is a space */
    EXPECT("xin\xc2\xa0\x63h\xc3\xa0o\xe2\x80\x8b", "xin chào.");
    EXPECT("\xef\xbb\xbfUBND", "Ủy ban nhân dân.");
    /* CRLF */
    EXPECT("a\r\nb\r\n", "a.\nb.\n");
    /* errors */
    CHECK(code_of("a\xff", 2) == -EILSEQ);
    CHECK(code_of("\xc0\xaf", 2) == -EILSEQ);                 /* overlong */
    CHECK(code_of("\xed\xa0\x80", 3) == -EILSEQ);             /* surrogate */
    CHECK(code_of("\xf4\x90\x80\x80", 4) == -EILSEQ);         /* > U+10FFFF */
    CHECK(code_of("\xe1\xbb", 2) == -EILSEQ);                 /* truncated */
    CHECK(code_of("", 0) == -ENODATA);
    CHECK(code_of("   \n\n", 5) == -ENODATA);
    CHECK(code_of(" - ... ***", 10) == -ENODATA);
    CHECK(code_of("ok", 2) == 0);
    nz_test_done();
    return check_done();
}
