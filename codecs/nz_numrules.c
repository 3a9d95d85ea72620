/*
 * codecs/nz_numrules.c — what a NUM token starts (READING.md "Numbers", "Phone numbers",
 * "Document codes", "Ranges").
 *
 * Tried in this order, first match wins:
 *   phone numbers   0203.3851.246, 0912 345 678, 1900 1006, "gọi 113"  -> digits, "," per group
 *   document codes  2228/QĐ-UBND, 15/2024/NĐ-CP, 12-CT/HU              -> N quyết định ...
 *   dates, N/M      (nz_dates.c)
 *   times           (nz_dates.c)
 *   numbers         1.350 / 2,5 / 1,000,000 / 4.0 / 05 / thứ 4 / tháng 4
 * then a range: "-" or "–" and another number -> "đến".
 */
#include <string.h>

#include "codecs/normalize_internal.h"

long nz_num_val(const struct nz_ctx *c, size_t i)
{
    if (!nz_is_num(c, i) || c->t[i].len > 9)
        return -1;
    long v = 0;
    for (size_t k = 0; k < c->t[i].len; k++)
        v = v * 10 + (c->t[i].s[k] - '0');
    return v;
}

static bool is_dash(const struct nz_ctx *c, size_t i)
{
    return nz_is_sym(c, i, '-') || nz_is_sym(c, i, 0x2013);
}

/* ---- phone numbers ---- */
static bool phone_context(const struct nz_ctx *c, size_t i)
{
    static const char *const single[] = {"đt", "sđt", "hotline", "fax", "zalo", "đtdđ", NULL};
    size_t lo = i > 8 ? i - 8 : 0;
    for (size_t k = i; k-- > lo;) {
        if (nz_is_sym(c, k, '.') || nz_is_sym(c, k, ';'))
            return false;
        if (nz_word_in(c, k, single))
            return true;
        if (k > 0 && ((nz_word_is(c, k, "thoại") && nz_word_is(c, k - 1, "điện")) ||
                      (nz_word_is(c, k, "nóng") && nz_word_is(c, k - 1, "dây")) ||
                      (nz_word_is(c, k, "đài") && nz_word_is(c, k - 1, "tổng")) ||
                      (nz_word_is(c, k, "động") && nz_word_is(c, k - 1, "di"))))
            return true;
    }
    return false;
}

#define MAX_GROUPS 6

size_t nz_rule_phone(struct nz_ctx *c, size_t i, bool intl)
{
    const struct nz_tok *t = c->t;
    size_t g[MAX_GROUPS], ng = 1, digits = t[i].len, j = i + 1;
    bool lead0 = (t[i].s[0] == '0' && t[i].len >= 2) || intl;
    bool hot = (t[i].len == 4 || t[i].len == 8) &&
               (memcmp(t[i].s, "1800", 4) == 0 || memcmp(t[i].s, "1900", 4) == 0);
    static const char *const not_phone[] = {"năm", "tháng", "ngày", "lúc", "giờ", "có", "đạt",
                                            "khoảng", "hơn", "gần", "trên", "dưới", "tăng",
                                            "giảm", "được", "với", NULL};
    bool ctx = phone_context(c, i) && !(i > 0 && nz_word_in(c, i - 1, not_phone));
    bool dots_like_thousands = t[i].len <= 3;
    size_t maxg = lead0 || hot ? 8 : 4;
    g[0] = i;
    /* (0203) 3851 246: an area code in brackets */
    bool bracket = lead0 && t[i].len <= 5 && nz_is_sym(c, j, ')') && nz_adj(c, j) && i > 0 &&
                   nz_is_sym(c, i - 1, '(');
    if (bracket)
        j++;
    while (ng < MAX_GROUPS && digits < 13) {
        if (j + 1 < c->n && nz_adj(c, j) && nz_adj(c, j + 1) && nz_is_num(c, j + 1) &&
            (t[j + 1].len >= 2 || (lead0 && !intl && nz_is_sym(c, j, '.'))) &&
            t[j + 1].len <= maxg && (nz_is_sym(c, j, '.') || nz_is_sym(c, j, '-'))) {
            /* 0235.3.888.999: after a leading 0 a dotted group may be one digit (an amount
             * never starts with 0, so "1.500.000" stays a number) */
            if (!nz_is_sym(c, j, '.') || t[j + 1].len != 3)
                dots_like_thousands = false;
            g[ng++] = j + 1;
            digits += t[j + 1].len;
            j += 2;
        } else if ((lead0 || hot || ctx) && nz_is_num(c, j) && t[j].sp && t[j].len >= 2 &&
                   t[j].len <= maxg && !(j + 1 < c->n && nz_adj(c, j + 1) &&
                                      !nz_is_sym(c, j + 1, ',') && !nz_is_sym(c, j + 1, '.'))) {
            dots_like_thousands = false;
            g[ng++] = j;
            digits += t[j].len;
            j++;
        } else {
            break;
        }
    }
    /* what follows must not make it something else (a code, a unit, a decimal) */
    bool glued = j < c->n && nz_adj(c, j) &&
                 (nz_is_sym(c, j, '/') || (nz_is_sym(c, j, ',') && nz_is_num(c, j + 1) &&
                                            nz_adj(c, j + 1)) ||
                  c->t[j].type == NZ_T_WORD || is_dash(c, j));
    bool unit_next = j < c->n && (nz_is_currency(c, j) || nz_is_sym(c, j, '%'));
    if (glued || unit_next)
        return 0;
    bool ok = (intl && digits >= 9 && digits <= 13) ||
              (lead0 && digits >= 9 && digits <= 12) ||
              (hot && (digits == 8 || (ng > 1 && digits >= 7 && digits <= 10))) ||
              (ctx && digits >= 3 && !(ng > 1 && dots_like_thousands) &&
               !(ng == 1 && t[i].len < 3));
    if (!ok && ng == 1 && t[i].len == 3 && t[i].s[0] == '1' && t[i].s[1] == '1' && i > 0 &&
        t[i].sp) {
        /* service numbers: "số 115", "gọi ngay 113", "quay số 114" */
        static const char *const dial[] = {"gọi", "quay", "bấm", "nhấn", "đầu", NULL};
        ok = nz_word_is(c, i - 1, "số");
        for (size_t k = i; k-- > (i > 3 ? i - 3 : 0) && !ok;)
            ok = nz_word_in(c, k, dial);
    }
    if (!ok)
        return 0;
    if (bracket && c->open && c->out->len > 0 && c->out->data[c->out->len - 1] == '(') {
        /* (0235) 3888999: the brackets are silent, the area code is the first group */
        c->out->len--;
        c->open = false;
    }
    if (intl && ng == 1) {
        /* +84912345678: the country code, then threes */
        nz_say_digits(c, t[i].s, 2);
        for (size_t pos = 2; pos < t[i].len; pos += 3) {
            nz_emit_punct(c, ",");
            nz_say_digits(c, t[i].s + pos, t[i].len - pos < 3 ? t[i].len - pos : 3);
        }
        return j;
    }
    if (ng == 1 && t[i].len >= 8) {
        /* unseparated: 10 digits 4-3-3, 11 4-3-4, 9 3-3-3, 8 4-4, else threes */
        static const int plan8[] = {4, 4, 0}, plan9[] = {3, 3, 3, 0}, plan10[] = {4, 3, 3, 0},
                         plan11[] = {4, 3, 4, 0};
        const int *plan = t[i].len == 8 ? plan8 : t[i].len == 9 ? plan9 : t[i].len == 10 ? plan10
                          : t[i].len == 11 ? plan11 : NULL;
        size_t pos = 0;
        for (int k = 0; pos < t[i].len; k++) {
            size_t len = plan && plan[k] ? (size_t)plan[k] : 3;
            if (len > t[i].len - pos)
                len = t[i].len - pos;
            if (pos)
                nz_emit_punct(c, ",");
            nz_say_digits(c, t[i].s + pos, len);
            pos += len;
        }
        return j;
    }
    for (size_t k = 0; k < ng; k++) {
        const char *d = t[g[k]].s;
        size_t len = t[g[k]].len;
        if (k)
            nz_emit_punct(c, ",");
        if (k > 0 && (len == 7 || len == 8)) {
            /* (0235) 3888999 is said as 0235.3.888.999; (024) 38251234 as 3825.1234 */
            size_t first = len == 7 ? 1 : 4;
            nz_say_digits(c, d, first);
            for (size_t pos = first; pos < len; pos += len == 7 ? 3 : 4) {
                nz_emit_punct(c, ",");
                nz_say_digits(c, d + pos, len == 7 ? 3 : 4);
            }
            continue;
        }
        nz_say_digits(c, d, len);
    }
    return j;
}

/* ---- document codes ---- */
static bool code_word(const struct nz_ctx *c, size_t k)
{
    return nz_is_word(c, k) && c->t[k].upper0 &&
           (c->t[k].caps || nz_lex_find(c->lex, c->t[k].s, c->t[k].len) != NULL);
}

static size_t try_doc_code(struct nz_ctx *c, size_t i)
{
    size_t j = i + 1;
    bool word = false;
    /* a code has a few parts; bounding them keeps "1/2/3/4/..." linear */
    while (j < i + 16 && j + 1 < c->n && nz_adj(c, j) && nz_adj(c, j + 1) &&
           (nz_is_sym(c, j, '/') || nz_is_sym(c, j, '-'))) {
        if (code_word(c, j + 1)) {
            word = true;
            j += 2;
            while (j < i + 16 && j + 1 < c->n && nz_adj(c, j) && nz_adj(c, j + 1) &&
                   (nz_is_sym(c, j, '&') || nz_is_sym(c, j, '.')) && code_word(c, j + 1))
                j += 2;
        } else if (nz_is_num(c, j + 1) && !word) {
            j += 2;
        } else {
            break;
        }
    }
    if (!word)
        return 0;
    const struct nz_tok *t = &c->t[i];
    if (t->len > 1 && t->s[0] == '0')
        nz_say_digits(c, t->s, t->len);
    else
        nz_say_int(c, t->s, t->len);
    size_t saved_n = c->n;
    c->n = j; /* word spans must not run past the code */
    for (size_t k = i + 1; k < j;) {
        if (c->t[k].type == NZ_T_SYM) {
            /* "/" and "-" are silent: an announcer says "số 125 quyết định Ủy ban nhân dân",
             * never "trên" (issue 20) */
            k++;
        } else if (nz_is_num(c, k)) {
            /* 15/2024/NĐ-CP: the year part is "năm 2024" */
            long y = nz_num_val(c, k);
            if (c->t[k].len == 4 && y >= 1945 && y <= 2099)
                nz_emit(c, "năm");
            nz_say_int(c, c->t[k].s, c->t[k].len);
            k++;
        } else {
            k = nz_say_word_plain(c, k, true);
        }
    }
    c->n = saved_n;
    return j;
}

/* ---- plain numbers ---- */
static bool sep_group(const struct nz_ctx *c, size_t k, uint32_t sep, bool three)
{
    return nz_is_sym(c, k, sep) && nz_adj(c, k) && nz_is_num(c, k + 1) && nz_adj(c, k + 1) &&
           (!three || c->t[k + 1].len == 3);
}

#define MAX_DIGITS 64

static bool id_context(const struct nz_ctx *c, size_t i)
{
    static const char *const ids[] = {"khoản", "cccd", "cmnd", "mã", "cước", "hiệu", "tk",
                                      "stk", "seri", "serial", NULL};
    size_t lo = i > 4 ? i - 4 : 0;
    for (size_t k = i; k-- > lo;)
        if (nz_word_in(c, k, ids))
            return true;
    return false;
}

static size_t say_number(struct nz_ctx *c, size_t i)
{
    const struct nz_tok *t = c->t;
    char digits[MAX_DIGITS];
    size_t nd = 0, j = i + 1;
    bool grouped = false;

    if (t[i].len <= 3 && sep_group(c, j, '.', true)) {
        /* 1.350 / 45.500.000: "." + three digits is the thousands separator */
        memcpy(digits, t[i].s, t[i].len);
        nd = t[i].len;
        while (sep_group(c, j, '.', true) && nd + 3 < MAX_DIGITS) {
            memcpy(digits + nd, t[j + 1].s, 3);
            nd += 3;
            j += 2;
        }
        grouped = true;
    } else if (t[i].len <= 3 && sep_group(c, j, ',', true) && sep_group(c, j + 2, ',', true)) {
        /* 1,000,000: English thousands (two or more ",ddd" groups) */
        memcpy(digits, t[i].s, t[i].len);
        nd = t[i].len;
        while (sep_group(c, j, ',', true) && nd + 3 < MAX_DIGITS) {
            memcpy(digits + nd, t[j + 1].s, 3);
            nd += 3;
            j += 2;
        }
        nz_say_int(c, digits, nd);
        while (sep_group(c, j, '.', false)) {
            nz_emit(c, "chấm");
            nz_say_fraction(c, t[j + 1].s, t[j + 1].len);
            j += 2;
        }
        return j;
    }

    if (grouped) {
        nz_say_int(c, digits, nd);
    } else if (sep_group(c, j, ',', false) || sep_group(c, j, '.', false)) {
        nz_say_int(c, t[i].s, t[i].len);
    } else if (i > 0 && t[i].sp && nz_word_is(c, i - 1, "thứ") && t[i].len <= 3) {
        nz_say_ordinal(c, (uint64_t)nz_num_val(c, i));
        return j;
    } else if (i > 0 && t[i].sp && nz_word_is(c, i - 1, "tháng") && nz_num_val(c, i) >= 1 &&
               nz_num_val(c, i) <= 12) {
        nz_say_month(c, (int)nz_num_val(c, i));
        return j;
    } else if (t[i].len > 12 || (t[i].len >= 6 && id_context(c, i))) {
        /* account, ID card and code numbers are read digit by digit */
        nz_say_digits(c, t[i].s, t[i].len);
        return j;
    } else if (t[i].len > 1 && t[i].s[0] == '0' &&
               !(i > 0 && t[i].sp &&
                 nz_word_in(c, i - 1, (const char *const[]){"ngày", "mồng", "mùng", "giờ",
                                                            "lúc", "phút", NULL}))) {
        nz_say_digits(c, t[i].s, t[i].len);
        return j;
    } else {
        nz_say_int(c, t[i].s, t[i].len);
    }

    if (sep_group(c, j, ',', false)) {
        /* 2,5 / 3,08 / 1.234,5 */
        nz_emit(c, "phẩy");
        nz_say_fraction(c, t[j + 1].s, t[j + 1].len);
        j += 2;
    }
    while (sep_group(c, j, '.', false)) {
        /* 4.0, 1.2.3 */
        nz_emit(c, "chấm");
        nz_say_fraction(c, t[j + 1].s, t[j + 1].len);
        j += 2;
    }
    return j;
}

/* After a number-like reading: "X-Y" / "X – Y" is a range. */
static size_t range_after(struct nz_ctx *c, size_t j, long left)
{
    /* "-" / "–" with or without spaces; "2021 -2025" too, but not "5 -3°C" (a temperature) */
    if (j + 1 < c->n && is_dash(c, j) && nz_is_num(c, j + 1) &&
        !(c->t[j].sp && !c->t[j + 1].sp && nz_is_sym(c, j + 2, 0xB0))) {
        /* a score ("thắng 3-1", left is a plain one-token number) goes down: no "đến" */
        if (!(left >= 0 && c->t[j + 1].len <= 2 && left > nz_num_val(c, j + 1)))
            nz_emit(c, "đến");
        return j + 1;
    }
    return j;
}

size_t nz_rule_number(struct nz_ctx *c, size_t i)
{
    size_t j;
    if ((j = nz_rule_phone(c, i, false)))
        return j;
    if ((j = try_doc_code(c, i)))
        return j;
    if ((j = nz_rule_date(c, i)))
        return range_after(c, j, -1);
    if ((j = nz_rule_time(c, i)))
        return range_after(c, j, -1);
    j = say_number(c, i);
    return range_after(c, j, j == i + 1 && c->t[i].len <= 2 ? nz_num_val(c, i) : -1);
}
