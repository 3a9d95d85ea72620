/*
 * codecs/nz_unicode.c — UTF-8 validation, NFC composition, lower-casing and character classes
 * for the normaliser, without ICU.
 *
 * NFC here is the real algorithm (full canonical decomposition, canonical ordering of combining
 * marks, canonical composition), restricted to what the generated tables cover: the Latin letters
 * (every Vietnamese letter, in any mix of precomposed and combining forms) and the combining marks
 * with their classes. Text in other scripts passes through unchanged.
 */
#include <errno.h>
#include <string.h>

#include "codecs/normalize_internal.h"

uint32_t nz_utf8_next(const char *s, size_t len, size_t *pos)
{
    const unsigned char *p = (const unsigned char *)s + *pos;
    size_t left = len - *pos;
    uint32_t c = p[0];
    if (c < 0x80 || left < 2) {
        *pos += 1;
        return c;
    }
    if (c < 0xE0) {
        *pos += 2;
        return ((c & 0x1F) << 6) | (p[1] & 0x3F);
    }
    if (c < 0xF0 || left < 4) {
        if (left < 3) {
            *pos += left;
            return 0xFFFD;
        }
        *pos += 3;
        return ((c & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    }
    *pos += 4;
    return ((c & 0x07) << 18) | ((uint32_t)(p[1] & 0x3F) << 12) | ((uint32_t)(p[2] & 0x3F) << 6) |
           (p[3] & 0x3F);
}

size_t nz_utf8_put(char *dst, uint32_t cp)
{
    unsigned char *d = (unsigned char *)dst;
    if (cp < 0x80) {
        d[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (unsigned char)(0xC0 | (cp >> 6));
        d[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (unsigned char)(0xE0 | (cp >> 12));
        d[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        d[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    d[0] = (unsigned char)(0xF0 | (cp >> 18));
    d[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    d[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    d[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

int nz_utf8_validate(const char *s, size_t len, size_t *bad)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        uint32_t cp, min;
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1, cp = c & 0x1F, min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2, cp = c & 0x0F, min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3, cp = c & 0x07, min = 0x10000;
        } else {
            *bad = i;
            return -EILSEQ;
        }
        if (len - i <= need) {
            *bad = i;
            return -EILSEQ;
        }
        for (size_t k = 1; k <= need; k++) {
            if ((p[i + k] & 0xC0) != 0x80) {
                *bad = i;
                return -EILSEQ;
            }
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            *bad = i;
            return -EILSEQ;
        }
        i += need + 1;
    }
    return 0;
}

static const struct nz_decomp *find_decomp(uint32_t cp)
{
    size_t lo = 0, hi = nz_decomp_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (nz_decomp_tab[mid].cp == cp)
            return &nz_decomp_tab[mid];
        if (nz_decomp_tab[mid].cp < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static uint32_t compose(uint32_t a, uint32_t b)
{
    size_t lo = 0, hi = nz_comp_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const struct nz_decomp *e = &nz_comp_tab[mid];
        if (e->a == a && e->b == b)
            return e->cp;
        if (e->a < a || (e->a == a && e->b < b))
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static uint32_t ccc_of(uint32_t cp)
{
    if (cp < 0x300)
        return 0;
    size_t lo = 0, hi = nz_ccc_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (nz_ccc_tab[mid].cp == cp)
            return nz_ccc_tab[mid].ccc;
        if (nz_ccc_tab[mid].cp < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* Appends the full canonical decomposition of cp to seg (room checked by the caller). */
static size_t decompose(uint32_t cp, uint32_t *seg, size_t room)
{
    const struct nz_decomp *d = cp >= 0xC0 ? find_decomp(cp) : NULL;
    if (d == NULL || room < 2) {
        if (room == 0)
            return 0;
        seg[0] = cp;
        return 1;
    }
    size_t k = decompose(d->a, seg, room - 1);
    seg[k] = d->b;
    return k + 1;
}

#define SEG_MAX 32

/* Canonical ordering then composition of one segment (a starter and the marks after it), then
 * UTF-8 output. */
static int flush_segment(uint32_t *seg, size_t n, struct lc_buf *out)
{
    /* stable insertion sort of marks by combining class (a starter, ccc 0, never moves) */
    for (size_t i = 1; i < n; i++) {
        uint32_t x = seg[i], cx = ccc_of(x);
        if (cx == 0)
            continue;
        size_t j = i;
        while (j > 0 && ccc_of(seg[j - 1]) > cx) {
            seg[j] = seg[j - 1];
            j--;
        }
        seg[j] = x;
    }
    /* composition: the first code point, if a starter, absorbs every unblocked mark it can */
    if (n > 1 && ccc_of(seg[0]) == 0) {
        uint32_t starter = seg[0];
        size_t w = 1;
        uint32_t last_ccc = 0;
        for (size_t i = 1; i < n; i++) {
            uint32_t cc = ccc_of(seg[i]);
            uint32_t comp = (last_ccc < cc || (last_ccc == 0 && w == 1)) && cc != 0
                                ? compose(starter, seg[i])
                                : 0;
            if (comp) {
                starter = comp;
            } else {
                last_ccc = cc;
                seg[w++] = seg[i];
            }
        }
        seg[0] = starter;
        n = w;
    }
    char tmp[SEG_MAX * 4];
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += nz_utf8_put(tmp + k, seg[i]);
    return lc_buf_append(out, tmp, k);
}

int nz_nfc(const char *s, size_t len, struct lc_buf *out)
{
    uint32_t seg[SEG_MAX];
    size_t n = 0, pos = 0;
    int rc = lc_buf_reserve(out, len + 1);
    if (rc < 0)
        return rc;
    while (pos < len) {
        /* fast path: ASCII followed by ASCII needs nothing */
        unsigned char b = (unsigned char)s[pos];
        if (b < 0x80 && (pos + 1 >= len || (unsigned char)s[pos + 1] < 0x80) && n == 0) {
            rc = lc_buf_append(out, s + pos, 1);
            if (rc < 0)
                return rc;
            pos++;
            continue;
        }
        uint32_t cp = nz_utf8_next(s, len, &pos);
        uint32_t tmp[8];
        size_t k = decompose(cp, tmp, 8);
        for (size_t i = 0; i < k; i++) {
            bool starter = ccc_of(tmp[i]) == 0;
            if ((starter && n > 0) || n == SEG_MAX) {
                rc = flush_segment(seg, n, out);
                if (rc < 0)
                    return rc;
                n = 0;
            }
            seg[n++] = tmp[i];
        }
    }
    if (n > 0)
        return flush_segment(seg, n, out);
    return 0;
}

uint32_t nz_lower_cp(uint32_t cp)
{
    if (cp < 0x80)
        return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
    size_t lo = 0, hi = nz_lower_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (nz_lower_tab[mid].upper == cp)
            return nz_lower_tab[mid].lower;
        if (nz_lower_tab[mid].upper < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return cp;
}

bool nz_is_upper_cp(uint32_t cp)
{
    return nz_lower_cp(cp) != cp;
}

enum nz_class nz_classify(uint32_t cp)
{
    if (cp < 0x80) {
        if (cp == ' ' || cp == '\t' || cp == '\r' || cp == '\f' || cp == '\v')
            return NZ_C_SPACE;
        if (cp < 0x20 || cp == 0x7F)
            return NZ_C_SPACE;
        if (cp >= '0' && cp <= '9')
            return NZ_C_DIGIT;
        if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'))
            return NZ_C_LETTER;
        return NZ_C_SYM;
    }
    if (cp == 0xA0 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F || cp == 0x205F ||
        cp == 0x3000 || cp == 0x85 || cp == 0x2028 || cp == 0x2029)
        return NZ_C_SPACE;
    if (cp == 0xAD || (cp >= 0x200B && cp <= 0x200F) || cp == 0xFEFF || cp == 0x2060 ||
        (cp >= 0x80 && cp < 0xA0) || (cp >= 0xFE00 && cp <= 0xFE0F))
        return NZ_C_IGNORE;
    if ((cp >= 0x300 && cp <= 0x36F) || (cp >= 0x1DC0 && cp <= 0x1DFF) ||
        (cp >= 0x20D0 && cp <= 0x20FF) || (cp >= 0xFE20 && cp <= 0xFE2F))
        return NZ_C_MARK;
    if (cp < 0xC0 || cp == 0xD7 || cp == 0xF7)
        return NZ_C_SYM;
    if ((cp >= 0x2010 && cp <= 0x2BFF) || (cp >= 0x3001 && cp <= 0x303F) ||
        (cp >= 0xFE10 && cp <= 0xFE6F) || (cp >= 0xFF00 && cp <= 0xFF0F) ||
        (cp >= 0xFF1A && cp <= 0xFF20) || (cp >= 0xE000 && cp <= 0xF8FF) ||
        (cp >= 0x1F000 && cp <= 0x1FAFF) || cp == 0xFFFD || cp >= 0xF0000)
        return NZ_C_SYM;
    return NZ_C_LETTER;
}

int nz_lower(const char *s, size_t n, char *dst, size_t cap)
{
    size_t pos = 0, k = 0;
    while (pos < n) {
        uint32_t cp = nz_lower_cp(nz_utf8_next(s, n, &pos));
        if (k + 4 >= cap)
            return -1;
        k += nz_utf8_put(dst + k, cp);
    }
    dst[k] = '\0';
    return (int)k;
}

static bool is_tone_mark(uint32_t m)
{
    return m == 0x300 || m == 0x301 || m == 0x303 || m == 0x309 || m == 0x323;
}

int nz_toneless(const char *s, size_t n, char *dst, size_t cap, int *tones)
{
    size_t pos = 0, k = 0;
    *tones = 0;
    while (pos < n) {
        uint32_t cp = nz_lower_cp(nz_utf8_next(s, n, &pos));
        uint32_t seg[8];
        size_t m = decompose(cp, seg, 8);
        uint32_t base = seg[0];
        for (size_t i = 1; i < m; i++) {
            if (is_tone_mark(seg[i])) {
                (*tones)++;
                continue;
            }
            uint32_t comp = compose(base, seg[i]);
            if (comp)
                base = comp;
        }
        if (is_tone_mark(base)) {
            (*tones)++;
            continue;
        }
        if (k + 4 >= cap)
            return -1;
        k += nz_utf8_put(dst + k, base);
    }
    dst[k] = '\0';
    return (int)k;
}
