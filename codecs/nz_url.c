/*
 * codecs/nz_url.c — web and e-mail addresses (READING.md "URLs/domains").
 *
 * A chunk is an address when it starts with http(s):// or www., is local@domain.tld, or is
 * label.label[...] whose last label is a known top-level domain (Voso.vn, cskh.npc.com.vn).
 * It is read with the scheme dropped, "." chấm, "/" gạch chéo, "-" gạch ngang, "_" gạch dưới,
 * "@" a còng; labels through the domain lexicon (data/domains.tsv), else spelled, digits one by
 * one. A run of separators is read once, which also bounds the growth of adversarial input.
 */
#include <string.h>
#include <strings.h>

#include "codecs/normalize_internal.h"

static const char *const tlds[] = {"vn",   "com", "net", "org",  "gov",    "edu", "info",
                                   "biz",  "io",  "co",  "me",   "tv",     "asia", "int",
                                   "online", "site", "app", "org.vn", NULL};

static bool is_alnum(unsigned char b)
{
    return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z');
}

static bool host_ok(const char *s, size_t n, bool need_tld)
{
    size_t labels = 0, start = 0;
    bool letter = false;
    if (n == 0 || !is_alnum((unsigned char)s[0]))
        return false;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (i == start)
                return false;
            labels++;
            if (i == n && need_tld) {
                bool known = false;
                for (size_t k = 0; tlds[k]; k++)
                    if (strlen(tlds[k]) == i - start && strncasecmp(tlds[k], s + start, i - start) == 0)
                        known = true;
                if (!known)
                    return false;
            }
            start = i + 1;
            continue;
        }
        unsigned char b = (unsigned char)s[i];
        if (!is_alnum(b) && b != '-')
            return false;
        if (!(b >= '0' && b <= '9') && b != '-')
            letter = true;
    }
    return labels >= 2 && letter;
}

bool nz_looks_like_url(const char *s, size_t n)
{
    if (n < 4 || n > 2000)
        return false;
    if ((n > 7 && strncasecmp(s, "http://", 7) == 0) || (n > 8 && strncasecmp(s, "https://", 8) == 0) ||
        (n > 4 && strncasecmp(s, "www.", 4) == 0))
        return true;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80 || (unsigned char)s[i] <= ' ')
            return false;
    const char *at = memchr(s, '@', n);
    if (at) {
        size_t ln = (size_t)(at - s);
        if (ln == 0)
            return false;
        for (size_t i = 0; i < ln; i++)
            if (!is_alnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-' &&
                s[i] != '+')
                return false;
        return host_ok(at + 1, n - ln - 1, false);
    }
    const char *slash = memchr(s, '/', n);
    size_t hn = slash ? (size_t)(slash - s) : n;
    return host_ok(s, hn, true);
}

static void say_label(struct nz_ctx *c, const char *s, size_t n)
{
    const char *v = nz_domain_find(c->lex, s, n);
    if (v) {
        nz_emit(c, v);
        return;
    }
    /* letters and digits apart: "vtv1" -> vtv + 1 */
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        bool digit = s[i] >= '0' && s[i] <= '9';
        while (j < n && ((s[j] >= '0' && s[j] <= '9') == digit))
            j++;
        if (digit) {
            nz_say_digits(c, s + i, j - i);
        } else {
            v = nz_domain_find(c->lex, s + i, j - i);
            if (v)
                nz_emit(c, v);
            else
                nz_spell(c, s + i, j - i);
        }
        i = j;
    }
}

void nz_say_url(struct nz_ctx *c, const char *s, size_t n)
{
    if (n > 8 && strncasecmp(s, "https://", 8) == 0)
        s += 8, n -= 8;
    else if (n > 7 && strncasecmp(s, "http://", 7) == 0)
        s += 7, n -= 7;
    size_t i = 0;
    bool prev_sep = true;
    while (i < n) {
        unsigned char b = (unsigned char)s[i];
        if (is_alnum(b) || b >= 0x80) {
            size_t j = i;
            while (j < n && (is_alnum((unsigned char)s[j]) || (unsigned char)s[j] >= 0x80))
                j++;
            say_label(c, s + i, j - i);
            i = j;
            prev_sep = false;
            continue;
        }
        const char *w = NULL;
        switch (b) {
        case '.': w = "chấm"; break;
        case '/': w = "gạch chéo"; break;
        case '-': w = "gạch ngang"; break;
        case '_': w = "gạch dưới"; break;
        case '@': w = "a còng"; break;
        case ':': w = "hai chấm"; break;
        case '?': w = "dấu hỏi"; break;
        case '=': w = "bằng"; break;
        case '&': w = "và"; break;
        case '#': w = "thăng"; break;
        default: break;
        }
        /* a trailing "/" adds nothing; a run of separators is read once */
        if (w && !prev_sep && !(b == '/' && i + 1 == n))
            nz_emit(c, w);
        prev_sep = true;
        i++;
    }
}
