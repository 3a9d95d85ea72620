/*
 * codecs/nz_tokens.c — splits one NFC line into tokens for the rules.
 *
 *   WORD  a run of letters (with their combining marks)        "UBND", "héc", "km"
 *   NUM   a run of ASCII digits                               "2023"
 *   SYM   one other code point                                "/", "-", "%", "°", ","
 *   URL   a whole whitespace-separated chunk that is a web or e-mail address (nz_url.c decides),
 *         without its leading/trailing punctuation
 *
 * Each token records whether whitespace precedes it, which is how the rules tell "2021-2025"
 * from "2021 - 2025" and "km2" from "km 2". Invisible characters (soft hyphen, zero-width space,
 * BOM) are dropped. Linear in the line length.
 */
#include <errno.h>
#include <stdlib.h>

#include "codecs/normalize_internal.h"

static int push(struct nz_toks *t, struct nz_tok tok)
{
    if (t->n == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 64;
        struct nz_tok *v = realloc(t->v, ncap * sizeof *v);
        if (v == NULL)
            return -ENOMEM;
        t->v = v;
        t->cap = ncap;
    }
    t->v[t->n++] = tok;
    return 0;
}

void nz_toks_free(struct nz_toks *t)
{
    free(t->v);
    t->v = NULL;
    t->n = t->cap = 0;
}

static bool is_trailing_punct(unsigned char b)
{
    return b == '.' || b == ',' || b == ';' || b == ':' || b == '!' || b == '?' || b == ')' ||
           b == '"' || b == '\'';
}

static bool is_leading_punct(unsigned char b)
{
    return b == '(' || b == '"' || b == '\'' || b == '<';
}

/* Tokenises s[0..len) (part of a chunk or a whole line) appending to t. */
static int scan(const char *s, size_t len, bool sp, struct nz_toks *t)
{
    size_t pos = 0;
    while (pos < len) {
        size_t start = pos;
        uint32_t cp = nz_utf8_next(s, len, &pos);
        enum nz_class cl = nz_classify(cp);
        if (cl == NZ_C_SPACE) {
            sp = true;
            continue;
        }
        if (cl == NZ_C_IGNORE)
            continue;
        struct nz_tok tok = {.s = s + start, .sp = sp, .cp = cp};
        sp = false;
        if (cl == NZ_C_DIGIT) {
            while (pos < len && s[pos] >= '0' && s[pos] <= '9')
                pos++;
            tok.type = NZ_T_NUM;
        } else if (cl == NZ_C_LETTER || cl == NZ_C_MARK) {
            bool upper = nz_is_upper_cp(cp), lower = cl == NZ_C_LETTER && !upper;
            tok.upper0 = upper;
            size_t end = pos;
            while (end < len) {
                size_t p2 = end;
                uint32_t c2 = nz_utf8_next(s, len, &p2);
                enum nz_class k = nz_classify(c2);
                if (k == NZ_C_MARK) {
                    end = p2;
                    continue;
                }
                /* an apostrophe between letters belongs to the word: K'Ho, Ơ'Đu */
                if ((c2 == '\'' || c2 == 0x2019) && p2 < len) {
                    size_t p3 = p2;
                    if (nz_classify(nz_utf8_next(s, len, &p3)) == NZ_C_LETTER) {
                        end = p2;
                        continue;
                    }
                }
                if (k != NZ_C_LETTER)
                    break;
                if (nz_is_upper_cp(c2))
                    upper = true;
                else
                    lower = true;
                end = p2;
            }
            pos = end;
            tok.type = NZ_T_WORD;
            tok.caps = upper && !lower;
        } else {
            tok.type = NZ_T_SYM;
        }
        tok.len = (uint32_t)(pos - start);
        if (push(t, tok) < 0)
            return -ENOMEM;
    }
    return 0;
}

int nz_tokenize(const char *line, size_t len, struct nz_toks *t)
{
    t->n = 0;
    size_t pos = 0;
    bool sp = true;
    while (pos < len) {
        /* find the next whitespace-delimited chunk */
        size_t cstart = pos;
        while (pos < len) {
            size_t p2 = pos;
            uint32_t cp = nz_utf8_next(line, len, &p2);
            if (nz_classify(cp) == NZ_C_SPACE)
                break;
            pos = p2;
        }
        size_t cend = pos;
        if (cend > cstart) {
            size_t a = cstart, b = cend;
            while (a < b && is_leading_punct((unsigned char)line[a]))
                a++;
            while (b > a && is_trailing_punct((unsigned char)line[b - 1]))
                b--;
            if (b > a && nz_looks_like_url(line + a, b - a)) {
                if (scan(line + cstart, a - cstart, sp, t) < 0)
                    return -ENOMEM;
                struct nz_tok tok = {.s = line + a, .len = (uint32_t)(b - a), .type = NZ_T_URL,
                                     .sp = a == cstart ? sp : false};
                if (push(t, tok) < 0 || scan(line + b, cend - b, false, t) < 0)
                    return -ENOMEM;
            } else if (scan(line + cstart, cend - cstart, sp, t) < 0) {
                return -ENOMEM;
            }
            sp = false;
        }
        /* skip the whitespace */
        while (pos < len) {
            size_t p2 = pos;
            uint32_t cp = nz_utf8_next(line, len, &p2);
            if (nz_classify(cp) != NZ_C_SPACE)
                break;
            pos = p2;
            sp = true;
        }
    }
    return 0;
}
