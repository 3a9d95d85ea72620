/*
 * tests/normalize/test_property.c — the normaliser on random and adversarial UTF-8: it never
 * crashes, always terminates, never grows text more than 10x, and gives identical output for
 * NFC and NFD forms of the same text.
 */
#include <stdint.h>
#include <time.h>

#include "tests/normalize/nz_test.h"

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

/* Normalises and checks the contract: 0 with bounded output, or a known error. */
static void check_one(const char *s, size_t n, const char *what)
{
    char *out = NULL;
    struct lc_err err = {0};
    int rc = lc_normalize(test_lex, s, n, &out, &err);
    CHECKF(rc == 0 || rc == -EILSEQ || rc == -ENODATA, "%s: rc %d", what, rc);
    if (rc == 0) {
        size_t m = strlen(out);
        CHECKF(m <= 10 * n, "%s: %zu bytes in, %zu out", what, n, m);
    } else {
        CHECKF(out == NULL && err.msg[0], "%s: error without message", what);
    }
    free(out);
}

static const char *const pieces[] = {
    "UBND", "HĐND", "TT&TT", "-", "–", "/", "//", "%", "&", ".", ",", ":", "°C", "km2", "m²",
    "0", "1", "15", "2023", "0912", "1.000", "2,5", "h", "g", "XIII", "khóa", "thứ", "ngày",
    "tháng", "số", " ", " ", "\n", "\n\n", "a)", "đ)", "1.", "II.", "www.", "http://", ".vn",
    ".com", "@", "đ", "tr.đ", "USD", "$", "+", "(", ")", "“", "”", "e\xcc\x81", "\xcc\x82",
    "\xcc\xa3", "Ư", "ơ", "x", "W", "Q", "…", "—", "²", "℃", "\xe2\x80\x8b", "\xc2\xa0",
    "CD", "MC", "HỌP", "gọi", "113", "1900", "-5", "7h-11h", "54/54", "15/5/2023", "@@", "_",
};

static void random_pieces(int rounds)
{
    char buf[4096];
    for (int r = 0; r < rounds; r++) {
        size_t n = 0, want = 1 + next_rand() % 300;
        while (n < want) {
            const char *p = pieces[next_rand() % (sizeof pieces / sizeof pieces[0])];
            size_t l = strlen(p);
            if (n + l >= sizeof buf)
                break;
            memcpy(buf + n, p, l);
            n += l;
        }
        check_one(buf, n, "pieces");
    }
}

static void random_bytes(int rounds)
{
    char buf[512];
    for (int r = 0; r < rounds; r++) {
        size_t n = 1 + next_rand() % sizeof buf;
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)(next_rand() & 0xFF);
        check_one(buf, n, "bytes");
        /* mostly-ASCII with some high bytes */
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)(next_rand() % 8 ? 0x20 + next_rand() % 95 : next_rand() & 0xFF);
        check_one(buf, n, "ascii-ish");
    }
}

static void repeated(const char *unit, size_t total, const char *what)
{
    size_t l = strlen(unit), n = 0;
    char *buf = malloc(total + l + 1);
    if (buf == NULL)
        return;
    while (n + l <= total) {
        memcpy(buf + n, unit, l);
        n += l;
    }
    clock_t t0 = clock();
    check_one(buf, n, what);
    double s = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CHECKF(s < 5.0, "%s: %.2f s", what, s);
    free(buf);
}

static void nfc_vs_nfd(void)
{
    static const char *const pairs[][2] = {
        {"Việt Nam Hòa Bình Đà Nẵng ủy ban", "Vie\xcc\xa3\xcc\x82t Nam Ho\xcc\x80" "a Bi\xcc\x80nh "
                                             "\xc4\x90" "a\xcc\x80 Na\xcc\x86\xcc\x83ng u\xcc\x89y ban"},
        {"THÔNG BÁO HỌP KHẨN ngày 15/5", "THO\xcc\x82NG BA\xcc\x81O HO\xcc\xa3P KHA\xcc\x82\xcc\x89N "
                                         "nga\xcc\x80y 15/5"},
        {"Phòng TN&MT huyện, 2,5 km", "Pho\xcc\x80ng TN&MT huye\xcc\xa3\xcc\x82n, 2,5 km"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        char *a = norm(pairs[i][0]), *b = norm(pairs[i][1]);
        CHECKF(a && b && strcmp(a, b) == 0, "NFC/NFD differ:\n  %s\n  %s", a, b);
        free(a);
        free(b);
    }
}

int main(void)
{
    nz_test_init();
    random_pieces(3000);
    random_bytes(2000);
    repeated("9", 200000, "long digit run");
    repeated("1.", 200000, "1.1.1.");
    repeated("/", 100000, "slashes");
    repeated("%", 100000, "percents");
    repeated("a/", 100000, "a/a/");
    repeated("UBND ", 1 << 20, "1 MB of abbreviations");
    repeated("UBND-", 1 << 20, "1 MB of UBND-UBND-");
    repeated("TT&", 1 << 20, "1 MB of TT&TT&");
    repeated("W", 100000, "WWW");
    repeated("x.vn/", 100000, "x.vn/x.vn/");
    repeated("w/", 100000, "w/w/");
    repeated("\xcc\x81", 100000, "combining marks alone");
    repeated("a\xcc\x81\xcc\x82\xcc\xa3\xcc\x83", 100000, "stacked marks");
    repeated("0203.", 100000, "phone-ish");
    repeated("15/5/", 100000, "date-ish");
    repeated("- ", 100000, "dashes");
    repeated("\n", 100000, "newlines");
    repeated("XIII ", 100000, "roman");
    nfc_vs_nfd();
    nz_test_done();
    return check_done();
}
