/*
 * codecs/nz_numbers.c — numbers in northern Vietnamese words (READING.md, "Numbers").
 *
 *   15 mười lăm, 21 hai mươi mốt, 24 hai mươi tư, 105 một trăm linh năm,
 *   2023 hai nghìn không trăm hai mươi ba, 1000 một nghìn, 10^12 một nghìn tỷ.
 *
 * A number is read in groups of three from the top; every group after the first non-zero one is
 * read in full ("không trăm", "linh"); all-zero groups are silent. Above a billion the part above
 * is read recursively and followed by "tỷ", so 10^12 is "một nghìn tỷ".
 */
#include <string.h>

#include "codecs/normalize_internal.h"

const char *const nz_digit_words[10] = {"không", "một", "hai", "ba", "bốn",
                                        "năm", "sáu", "bảy", "tám", "chín"};

/* One group of three digits. full: also "không trăm" / "linh" for small values. */
static void say_group(struct nz_ctx *c, unsigned v, bool full)
{
    unsigned h = v / 100, t = (v / 10) % 10, u = v % 10;
    if (h > 0 || full) {
        nz_emit(c, nz_digit_words[h]);
        nz_emit(c, "trăm");
    }
    if (t == 0) {
        if (u == 0)
            return;
        if (h > 0 || full)
            nz_emit(c, "linh");
        nz_emit(c, nz_digit_words[u]);
        return;
    }
    if (t == 1) {
        nz_emit(c, "mười");
        if (u == 5)
            nz_emit(c, "lăm");
        else if (u > 0)
            nz_emit(c, nz_digit_words[u]);
        return;
    }
    nz_emit(c, nz_digit_words[t]);
    nz_emit(c, "mươi");
    if (u == 1)
        nz_emit(c, "mốt");
    else if (u == 4)
        nz_emit(c, "tư");
    else if (u == 5)
        nz_emit(c, "lăm");
    else if (u > 0)
        nz_emit(c, nz_digit_words[u]);
}

/* v < 10^9; full: the first non-zero group is also read in full (it follows a higher unit). */
static void say_below_billion(struct nz_ctx *c, uint64_t v, bool full)
{
    static const char *const units[3] = {NULL, "nghìn", "triệu"};
    unsigned g[3] = {(unsigned)(v % 1000), (unsigned)(v / 1000 % 1000),
                     (unsigned)(v / 1000000 % 1000)};
    bool started = full;
    for (int k = 2; k >= 0; k--) {
        if (g[k] == 0)
            continue;
        say_group(c, g[k], started);
        if (units[k])
            nz_emit(c, units[k]);
        started = true;
    }
}

static void say_u64_inner(struct nz_ctx *c, uint64_t v, bool full)
{
    if (v >= 1000000000ULL) {
        say_u64_inner(c, v / 1000000000ULL, full);
        nz_emit(c, "tỷ");
        if (v % 1000000000ULL)
            say_below_billion(c, v % 1000000000ULL, true);
        return;
    }
    say_below_billion(c, v, full);
}

void nz_say_u64(struct nz_ctx *c, uint64_t v)
{
    if (v == 0) {
        nz_emit(c, "không");
        return;
    }
    say_u64_inner(c, v, false);
}

void nz_say_digits(struct nz_ctx *c, const char *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (d[i] >= '0' && d[i] <= '9')
            nz_emit(c, nz_digit_words[d[i] - '0']);
}

void nz_say_int(struct nz_ctx *c, const char *d, size_t n)
{
    while (n > 1 && d[0] == '0')
        d++, n--;
    if (n > 15) {
        nz_say_digits(c, d, n);
        return;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (uint64_t)(d[i] - '0');
    nz_say_u64(c, v);
}

void nz_say_fraction(struct nz_ctx *c, const char *d, size_t n)
{
    while (n > 0 && d[0] == '0') {
        nz_emit(c, "không");
        d++, n--;
    }
    if (n > 0)
        nz_say_int(c, d, n);
}

void nz_say_month(struct nz_ctx *c, int m)
{
    if (m == 4)
        nz_emit(c, "tư");
    else
        nz_say_u64(c, (uint64_t)m);
}

void nz_say_ordinal(struct nz_ctx *c, uint64_t v)
{
    if (v == 1)
        nz_emit(c, "nhất");
    else if (v == 4)
        nz_emit(c, "tư");
    else
        nz_say_u64(c, v);
}

static int roman_digit(char ch)
{
    switch (ch) {
    case 'I': return 1;
    case 'V': return 5;
    case 'X': return 10;
    case 'L': return 50;
    case 'C': return 100;
    case 'D': return 500;
    case 'M': return 1000;
    default: return 0;
    }
}

int nz_roman_value(const char *s, size_t n)
{
    if (n == 0 || n > 15)
        return -1;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        int a = roman_digit(s[i]);
        if (a == 0)
            return -1;
        int b = i + 1 < n ? roman_digit(s[i + 1]) : 0;
        v += a < b ? -a : a;
    }
    if (v <= 0 || v > 3999)
        return -1;
    /* canonical form only: re-render and compare */
    static const struct {
        int v;
        const char *s;
    } tab[] = {{1000, "M"}, {900, "CM"}, {500, "D"}, {400, "CD"}, {100, "C"}, {90, "XC"},
               {50, "L"},   {40, "XL"},  {10, "X"},  {9, "IX"},   {5, "V"},   {4, "IV"},
               {1, "I"}};
    char buf[32];
    size_t k = 0;
    int r = v;
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        while (r >= tab[i].v && k + 2 < sizeof buf) {
            size_t l = strlen(tab[i].s);
            memcpy(buf + k, tab[i].s, l);
            k += l;
            r -= tab[i].v;
        }
    if (k != n || memcmp(buf, s, n) != 0)
        return -1;
    return v;
}
