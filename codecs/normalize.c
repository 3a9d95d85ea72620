/*
 * codecs/normalize.c — the normaliser's driver: lines, list markers, symbols, punctuation, the
 * growth guard; see normalize.h for the contract and normalize_internal.h for the pipeline.
 *
 * Lines: every input line gives one output line (CR LF accepted). A non-empty output line always
 * ends in punctuation, which is the pause espeak-ng makes at a paragraph break or list item;
 * empty lines stay empty.
 *
 * Growth guard: an output line longer than 10x its input line (only reachable with adversarial
 * symbol soups) is replaced by a plain reading of the line (letters kept, digits one by one,
 * everything else a space), which is at most 7x. So the output is never more than 10x the input.
 *
 * Threads: no global state; the lexicon tables are read-only and held for the whole call.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "codecs/normalize_internal.h"

/* ---- output ---- */
static void put(struct nz_ctx *c, const char *s, size_t n)
{
    if (c->rc == 0 && lc_buf_append(c->out, s, n) < 0)
        c->rc = -ENOMEM;
}

void nz_emitn(struct nz_ctx *c, const char *w, size_t n)
{
    if (n == 0)
        return;
    if (c->out->len > 0 && !c->open && c->out->data[c->out->len - 1] != ' ')
        put(c, " ", 1);
    put(c, w, n);
    c->open = false;
}

void nz_emit(struct nz_ctx *c, const char *w)
{
    nz_emitn(c, w, strlen(w));
}

static bool is_pause(unsigned char b)
{
    return b == '.' || b == ',' || b == ';' || b == ':' || b == '!' || b == '?';
}

void nz_emit_punct(struct nz_ctx *c, const char *p)
{
    struct lc_buf *o = c->out;
    if (o->len == 0 || c->open)
        return;
    unsigned char last = o->data[o->len - 1];
    if (is_pause((unsigned char)p[0]) && is_pause(last)) {
        /* "xã, ." -> "xã." ; never two pauses in a row */
        if (p[0] != ',' && (last == ',' || last == ';'))
            o->data[o->len - 1] = (unsigned char)p[0];
        return;
    }
    put(c, p, strlen(p));
}

static void emit_open(struct nz_ctx *c, const char *p)
{
    if (c->out->len > 0 && !c->open && c->out->data[c->out->len - 1] != ' ')
        put(c, " ", 1);
    put(c, p, strlen(p));
    c->open = true;
}

/* ---- list markers ---- */
static bool is_bullet(uint32_t cp)
{
    switch (cp) {
    case '-': case '+': case '*': case '>': case 0x2013: case 0x2014: case 0x2022: case 0xB7:
    case 0x25CF: case 0x25CB: case 0x25AA: case 0x25BA: case 0x27A2: case 0x2713: case 0x2714:
    case 0x25E6: case 0x25A0: case 0x25A1: case 0x2666: case 0x2212: case 0x2043: case 0x27A4:
    case 0x25B6: case 0x2192:
        return true;
    default:
        return false;
    }
}

static bool marker_end(const struct nz_ctx *c, size_t k)
{
    return k >= c->n || c->t[k].sp;
}

static size_t list_marker(struct nz_ctx *c)
{
    size_t i = 0;
    while (i < c->n && c->t[i].type == NZ_T_SYM && is_bullet(c->t[i].cp)) {
        /* "-5°C" and "+84 …" at the start are a temperature and a phone, not bullets */
        if (i + 1 < c->n && nz_adj(c, i + 1) && nz_is_num(c, i + 1) &&
            (c->t[i].cp == '-' || c->t[i].cp == '+'))
            break;
        i++;
    }
    if (i > 0)
        return i;
    if (c->n >= 2 && nz_is_word(c, 0) && nz_adj(c, 1) && marker_end(c, 2)) {
        const struct nz_tok *t = &c->t[0];
        size_t pos = 0;
        nz_utf8_next(t->s, t->len, &pos);
        /* a) b) đ) a/ — and a. b. in lower case */
        if (pos == t->len && (nz_is_sym(c, 1, ')') || nz_is_sym(c, 1, '/') ||
                              (nz_is_sym(c, 1, '.') && !t->upper0))) {
            nz_spell(c, t->s, t->len);
            nz_emit_punct(c, ",");
            return 2;
        }
        /* II. III) IV: */
        int v = t->caps ? nz_roman_value(t->s, t->len) : -1;
        if (v > 0 && (nz_is_sym(c, 1, ')') || nz_is_sym(c, 1, '.') || nz_is_sym(c, 1, ':'))) {
            nz_say_u64(c, (uint64_t)v);
            nz_emit_punct(c, ",");
            return 2;
        }
    }
    /* I - MỤC ĐÍCH, II – NỘI DUNG */
    if (c->n >= 3 && nz_is_word(c, 0) && c->t[0].caps && c->t[1].sp && c->t[2].sp &&
        (nz_is_sym(c, 1, '-') || nz_is_sym(c, 1, 0x2013))) {
        int v = nz_roman_value(c->t[0].s, c->t[0].len);
        if (v > 0) {
            nz_say_u64(c, (uint64_t)v);
            nz_emit_punct(c, ",");
            return 2;
        }
    }
    /* 1. 2) 1.2. */
    size_t k = 0;
    while (nz_is_num(c, k) && c->t[k].len <= 3 && nz_is_sym(c, k + 1, '.') && nz_adj(c, k + 1) &&
           nz_is_num(c, k + 2) && nz_adj(c, k + 2))
        k += 2;
    if (nz_is_num(c, k) && c->t[k].len <= 3 && nz_adj(c, k + 1) &&
        (nz_is_sym(c, k + 1, '.') || nz_is_sym(c, k + 1, ')') || nz_is_sym(c, k + 1, '/')) &&
        marker_end(c, k + 2) &&
        k + 2 < c->n) {
        for (size_t m = 0; m <= k; m += 2) {
            if (m)
                nz_emit(c, "chấm");
            nz_say_int(c, c->t[m].s, c->t[m].len);
        }
        nz_emit_punct(c, ",");
        return k + 2;
    }
    return 0;
}

/* ---- symbols ---- */
static bool negative_context(const struct nz_ctx *c, size_t i)
{
    for (size_t k = i + 1; k < c->n && k < i + 6; k++)
        if (nz_is_sym(c, k, 0xB0) || nz_word_is(c, k, "độ"))
            return true;
    return false;
}

static const char *const unitish[] = {
    "tấn", "tạ", "yến", "sào", "mẫu", "lít", "mét", "giờ", "giây", "phút", "ngày", "tuần",
    "tháng", "năm", "người", "hộ", "con", "cây", "ha", "km", "kg", "m", "km2", "m2", "m3",
    "héc", "ki", "khẩu", "lượt", "chuyến", "ca", NULL,
};

static size_t rule_slash(struct nz_ctx *c, size_t i)
{
    bool prev = i > 0 && !c->t[i].sp;
    bool next = nz_adj(c, i + 1);
    if (!prev || !next)
        return i + 1;
    /* per unit of time: "2 lần/tuần", "500 tấn/năm", "m3/ngày" -> một tuần, một năm */
    static const char *const per_time[] = {"ngày", "tuần", "tháng", "năm", "quý", "vụ", "buổi",
                                           "ca", "lượt", "người", "hộ", "con", NULL};
    if (c->per_chain || nz_is_currency(c, i - 1) || nz_word_in(c, i + 1, per_time)) {
        nz_emit(c, "một");
        c->per_chain = true;
    } else if (nz_is_num(c, i - 1) || nz_is_num(c, i + 1) || nz_word_in(c, i - 1, unitish) ||
               nz_word_in(c, i + 1, unitish) || nz_unit_at_peek(c, i - 1) ||
               nz_unit_at_peek(c, i + 1)) {
        nz_emit(c, "trên");
    }
    return i + 1;
}

static size_t skip_run(const struct nz_ctx *c, size_t i)
{
    uint32_t cp = c->t[i].cp;
    size_t j = i + 1;
    while (nz_is_sym(c, j, cp) && nz_adj(c, j))
        j++;
    return j;
}

static size_t rule_sym(struct nz_ctx *c, size_t i)
{
    const struct nz_tok *t = &c->t[i];
    switch (t->cp) {
    case '-': case 0x2013: case 0x2014: case 0x2212:
        if (nz_is_num(c, i + 1) && nz_adj(c, i + 1) && (t->sp || i == 0) &&
            negative_context(c, i)) {
            nz_emit(c, "âm");
            return i + 1;
        }
        /* a range after a unit or percent: 10%-15%, 8°C-10°C, 5ha-7ha */
        if (i > 0 && nz_is_num(c, i + 1) &&
            (nz_is_sym(c, i - 1, '%') || nz_unit_at_peek(c, i - 1) ||
             (i > 1 && nz_is_sym(c, i - 2, 0xB0) && nz_is_word(c, i - 1)))) {
            nz_emit(c, "đến");
            return i + 1;
        }
        if (t->sp && (i + 1 >= c->n || c->t[i + 1].sp))
            nz_emit_punct(c, ",");
        return skip_run(c, i);
    case '%':
        nz_emit(c, "phần trăm");
        return skip_run(c, i);
    case '&':
        nz_emit(c, "và");
        return skip_run(c, i);
    case '+':
        /* +84 912 345 678 */
        if (nz_is_num(c, i + 1) && nz_adj(c, i + 1) && c->t[i + 1].len >= 2 &&
            memcmp(c->t[i + 1].s, "84", 2) == 0 && (t->sp || i == 0)) {
            nz_emit(c, "cộng");
            size_t j = nz_rule_phone(c, i + 1, true);
            if (j)
                return j;
        }
        if ((i > 0 && nz_is_num(c, i - 1)) || nz_is_num(c, i + 1))
            nz_emit(c, "cộng");
        return skip_run(c, i);
    case '/':
        return rule_slash(c, i);
    case 0xB0: /* ° */
        if (nz_is_word(c, i + 1) && nz_adj(c, i + 1) && c->t[i + 1].len == 1 &&
            (c->t[i + 1].s[0] == 'C' || c->t[i + 1].s[0] == 'c')) {
            nz_emit(c, "độ xê");
            return i + 2;
        }
        if (nz_is_word(c, i + 1) && nz_adj(c, i + 1) && c->t[i + 1].len == 1 &&
            c->t[i + 1].s[0] == 'F') {
            nz_emit(c, "độ ép");
            return i + 2;
        }
        nz_emit(c, "độ");
        return skip_run(c, i);
    case 0x2103: /* ℃ */
        nz_emit(c, "độ xê");
        return skip_run(c, i);
    case '@':
        nz_emit(c, "a còng");
        return skip_run(c, i);
    case '=':
        nz_emit(c, "bằng");
        return skip_run(c, i);
    case '>':
        nz_emit(c, "lớn hơn");
        return skip_run(c, i);
    case '<':
        nz_emit(c, "nhỏ hơn");
        return skip_run(c, i);
    case 0x2265:
        nz_emit(c, "lớn hơn hoặc bằng");
        return skip_run(c, i);
    case 0x2264:
        nz_emit(c, "nhỏ hơn hoặc bằng");
        return skip_run(c, i);
    case '~': case 0x2248:
        if (!(i > 0 && nz_word_is(c, i - 1, "khoảng")))
            nz_emit(c, "khoảng");
        return skip_run(c, i);
    case '$': case 0x20AC: {
        const char *name = t->cp == '$' ? "đô la" : "ơ rô";
        if (nz_is_num(c, i + 1) && nz_adj(c, i + 1)) {
            size_t j = nz_rule_number(c, i + 1);
            nz_emit(c, name);
            return j;
        }
        nz_emit(c, name);
        return skip_run(c, i);
    }
    case '.': case ',': case ';': case ':': case '!': case '?': {
        char p[2] = {(char)t->cp, 0};
        nz_emit_punct(c, p);
        return skip_run(c, i);
    }
    case 0x2026:
        nz_emit_punct(c, "…");
        return skip_run(c, i);
    case '(': case '[': case '{':
        emit_open(c, "(");
        return skip_run(c, i);
    case ')': case ']': case '}':
        nz_emit_punct(c, ")");
        return skip_run(c, i);
    case 0x201C: case 0xAB: case 0x2018:
        emit_open(c, "“");
        return skip_run(c, i);
    case 0x201D: case 0xBB: case 0x2019:
        nz_emit_punct(c, "”");
        return skip_run(c, i);
    default:
        return skip_run(c, i);
    }
}

/* ---- lines ---- */
static bool has_speech(const unsigned char *s, size_t n)
{
    size_t pos = 0;
    while (pos < n) {
        uint32_t cp = nz_utf8_next((const char *)s, n, &pos);
        enum nz_class k = nz_classify(cp);
        if (k == NZ_C_LETTER || k == NZ_C_DIGIT)
            return true;
    }
    return false;
}

/* The fallback reading for the growth guard: letters as they are, digits one by one. */
static void plain_line(struct nz_ctx *c, const char *s, size_t n)
{
    size_t pos = 0;
    while (pos < n) {
        size_t start = pos;
        uint32_t cp = nz_utf8_next(s, n, &pos);
        enum nz_class k = nz_classify(cp);
        if (k == NZ_C_DIGIT) {
            nz_emit(c, nz_digit_words[cp - '0']);
        } else if (k == NZ_C_LETTER || k == NZ_C_MARK) {
            while (pos < n) {
                size_t p2 = pos;
                enum nz_class k2 = nz_classify(nz_utf8_next(s, n, &p2));
                if (k2 != NZ_C_LETTER && k2 != NZ_C_MARK)
                    break;
                pos = p2;
            }
            nz_emitn(c, s + start, pos - start);
        }
    }
    if (c->out->len > 0)
        nz_emit_punct(c, ".");
}

static int normalize_line(struct nz_ctx *c, const char *line, size_t len, struct nz_toks *toks)
{
    int rc = nz_tokenize(line, len, toks);
    if (rc < 0)
        return rc;
    c->t = toks->v;
    c->n = toks->n;
    c->open = false;
    c->per_chain = false;
    /* the ctx writes into a buffer of its own per line so the guard can replace it */
    struct lc_buf *whole = c->out, lineout = {0};
    c->out = &lineout;
    size_t i = list_marker(c);
    while (i < c->n && c->rc == 0) {
        const struct nz_tok *t = &c->t[i];
        size_t j = 0;
        if (t->sp)
            c->per_chain = false;
        switch (t->type) {
        case NZ_T_URL:
            nz_say_url(c, t->s, t->len);
            j = i + 1;
            break;
        case NZ_T_NUM:
            j = nz_rule_number(c, i);
            break;
        case NZ_T_WORD:
            j = nz_rule_word(c, i);
            break;
        default:
            j = rule_sym(c, i);
            break;
        }
        i = j > i ? j : i + 1;
    }
    if (lineout.len > 0 && has_speech(lineout.data, lineout.len))
        nz_emit_punct(c, ".");
    else
        lineout.len = 0;
    if (c->rc == 0 && lineout.len > 10 * len) {
        lineout.len = 0;
        plain_line(c, line, len);
    }
    c->out = whole;
    if (c->rc == 0 && lc_buf_append(whole, lineout.data, lineout.len) < 0)
        c->rc = -ENOMEM;
    lc_buf_free(&lineout);
    return c->rc;
}

int lc_normalize(const struct lc_lexicon *lex, const char *text, size_t len, char **out,
                 struct lc_err *err)
{
    struct lc_buf nfc = {0}, res = {0};
    struct nz_toks toks = {0};
    const struct nz_lexdata *ld = NULL;
    size_t bad = 0;
    int rc;
    *out = NULL;

    if (nz_utf8_validate(text, len, &bad) < 0) {
        size_t line = 1;
        for (size_t k = 0; k < bad; k++)
            line += text[k] == '\n';
        return lc_err_set(err, -EILSEQ, "the text is not valid UTF-8 (line %zu, byte %zu)",
                          line, bad + 1);
    }
    rc = nz_nfc(text, len, &nfc);
    if (rc < 0)
        goto nomem;
    rc = lc_buf_reserve(&res, nfc.len + nfc.len / 2 + 16);
    if (rc < 0)
        goto nomem;

    ld = nz_lex_acquire(lex);   /* this text is read with one lexicon, whatever swaps meanwhile */
    struct nz_ctx c = {.lex = ld, .out = &res};
    const char *s = (const char *)nfc.data;
    size_t n = nfc.len, pos = 0;
    bool speech = false;
    while (pos < n || (pos == 0 && n == 0)) {
        const char *nl = memchr(s + pos, '\n', n - pos);
        size_t ll = nl ? (size_t)(nl - (s + pos)) : n - pos;
        size_t before = res.len;
        rc = normalize_line(&c, s + pos, ll, &toks);
        if (rc < 0)
            goto nomem;
        speech = speech || res.len > before;
        pos += ll;
        if (nl) {
            pos++;
            rc = lc_buf_append(&res, "\n", 1);
            if (rc < 0)
                goto nomem;
        } else {
            break;
        }
    }
    if (!speech) {
        rc = lc_err_set(err, -ENODATA, "the text has nothing to speak (empty after normalisation)");
        goto fail;
    }
    rc = lc_buf_terminate(&res);
    if (rc < 0)
        goto nomem;
    *out = (char *)lc_buf_steal(&res, NULL);
    rc = 0;
    goto fail;
nomem:
    rc = lc_err_set(err, -ENOMEM, "out of memory");
fail:
    nz_lex_release(ld);
    lc_buf_free(&nfc);
    lc_buf_free(&res);
    nz_toks_free(&toks);
    return rc;
}
