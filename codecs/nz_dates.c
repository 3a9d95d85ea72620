/*
 * codecs/nz_dates.c — dates, "N/M" pairs and times (READING.md "Dates", "N/M", "Times").
 *
 *   15/5/2023, 15-5-2023, 15.5.2023  -> [ngày] mười lăm tháng năm năm hai nghìn ...
 *   20-22/4                          -> [ngày] hai mươi đến hai mươi hai tháng tư
 *   ngày 11/112021 (typo)            -> ngày mười một tháng mười một năm ...
 *   5/2023                           -> [tháng] năm năm hai nghìn ...
 *   14/2                             -> [ngày] mười bốn tháng hai
 *   54/54, 12/12 xã                  -> N trên M
 *   6h30, 8g00, 14:00, 14 giờ 30     -> H giờ [M phút]
 *
 * "ngày"/"tháng" are inserted unless the word just before already is one.
 */
#include <string.h>

#include "codecs/normalize_internal.h"

static const char *const day_words[] = {"ngày", "mồng", "mùng", NULL};

/* nouns after "N/M" that make it a count, "12/12 xã" */
static const char *const counted[] = {
    "xã",     "thôn",    "bản",    "chi",    "hộ",     "trường", "giờ",    "đơn",
    "người",  "cơ",      "huyện",  "tỉnh",   "phường", "thị",    "làng",   "ấp",
    "tổ",     "khu",     "đội",    "học",    "em",     "lớp",    "xóm",    "tiêu",
    "chỉ",    "phiếu",   "câu",    "điểm",   "cụm",    "hồ",     "doanh",  "hợp",
    "công",   "dự",      "trạm",   "ca",     "gia",    "cán",    "đảng",   "thành",
    "ban",    "ngành",   "nhiệm",  "nội",    "lượt",   "chiếc",  "con",    "căn",
    "ngôi",   "trận",    "bệnh",   "mô",     "tuyến",  "thửa",   "đợt",    "phòng",
    "khối",   "nhà",     "mục",    "htx",    "cụm",    "bộ",     "sở",     "ngày",
    "tuần",   "đại",     "cử",     "thí",    "vận",    "đoàn",   "hội",    "ủy",
    "số",     "dân",     "diện",   "tổng",   "lượng",  "phần",   "suất",   "gói",
    NULL,
};

bool nz_valid_day_month(long d, long m)
{
    static const int days[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m >= 1 && m <= 12 && d >= 1 && d <= days[m];
}

static bool prev_is(const struct nz_ctx *c, size_t i, const char *const *words)
{
    return i > 0 && c->t[i].sp && nz_word_in(c, i - 1, words);
}

static void say_year(struct nz_ctx *c, size_t k)
{
    nz_emit(c, "năm");
    nz_say_int(c, c->t[k].s, c->t[k].len);
}

static void say_day_month(struct nz_ctx *c, size_t i, long d, long m)
{
    if (!prev_is(c, i, day_words))
        nz_emit(c, "ngày");
    nz_say_u64(c, (uint64_t)d);
    nz_emit(c, "tháng");
    nz_say_month(c, (int)m);
}

static bool is_dash(const struct nz_ctx *c, size_t i)
{
    return nz_is_sym(c, i, '-') || nz_is_sym(c, i, 0x2013);
}

static bool sep_num(const struct nz_ctx *c, size_t i, uint32_t sep, size_t maxlen)
{
    return nz_is_sym(c, i, sep) && nz_adj(c, i) && nz_is_num(c, i + 1) && nz_adj(c, i + 1) &&
           c->t[i + 1].len <= maxlen;
}

static bool year_tok(const struct nz_ctx *c, size_t k)
{
    return nz_is_num(c, k) && c->t[k].len == 4;
}

size_t nz_rule_date(struct nz_ctx *c, size_t i)
{
    const struct nz_tok *t = c->t;
    if (t[i].len > 2 && !(t[i].len <= 4 && sep_num(c, i + 1, '/', 4)))
        return 0;
    long a = nz_num_val(c, i);

    /* d1-d2/m[/yyyy] */
    if (t[i].len <= 2 && is_dash(c, i + 1) && nz_adj(c, i + 1) && nz_is_num(c, i + 2) &&
        nz_adj(c, i + 2) && t[i + 2].len <= 2 && sep_num(c, i + 3, '/', 2)) {
        long d2 = nz_num_val(c, i + 2), m = nz_num_val(c, i + 4);
        if (a < d2 && nz_valid_day_month(a, m) && nz_valid_day_month(d2, m)) {
            if (!prev_is(c, i, day_words))
                nz_emit(c, "ngày");
            nz_say_u64(c, (uint64_t)a);
            nz_emit(c, "đến");
            nz_say_u64(c, (uint64_t)d2);
            nz_emit(c, "tháng");
            nz_say_month(c, (int)m);
            if (sep_num(c, i + 5, '/', 4) && year_tok(c, i + 6)) {
                say_year(c, i + 6);
                return i + 7;
            }
            return i + 5;
        }
    }

    /* d/m/yyyy, d-m-yyyy, d.m.yyyy */
    static const uint32_t seps[] = {'/', '-', '.'};
    for (size_t s = 0; s < 3 && t[i].len <= 2; s++) {
        /* the year has four digits, or two ("15/5/23") */
        if (sep_num(c, i + 1, seps[s], 2) && sep_num(c, i + 3, seps[s], 4) &&
            (year_tok(c, i + 4) || c->t[i + 4].len == 2) &&
            nz_valid_day_month(a, nz_num_val(c, i + 2)) &&
            !(i + 5 < c->n && nz_adj(c, i + 5) && c->t[i + 5].type == NZ_T_NUM)) {
            say_day_month(c, i, a, nz_num_val(c, i + 2));
            say_year(c, i + 4);
            return i + 5;
        }
    }

    /* ngày 30-4, mồng 2-9: after a day word, d-m is a date, not a range */
    if (t[i].len <= 2 && sep_num(c, i + 1, '-', 2) && prev_is(c, i, day_words) &&
        nz_valid_day_month(a, nz_num_val(c, i + 2)) &&
        !(nz_adj(c, i + 3) && (nz_is_sym(c, i + 3, '-') || nz_is_sym(c, i + 3, '/')) &&
          nz_is_num(c, i + 4))) {
        say_day_month(c, i, a, nz_num_val(c, i + 2));
        return i + 3;
    }
    if (!sep_num(c, i + 1, '/', 6))
        return 0;
    size_t b_len = t[i + 2].len;
    long b = nz_num_val(c, i + 2);
    /* the next part must not continue the chain (1/2/3 or a document code) */
    if (i + 3 < c->n && nz_adj(c, i + 3) && (nz_is_sym(c, i + 3, '/') || is_dash(c, i + 3)) &&
        i + 4 < c->n && nz_adj(c, i + 4) && c->t[i + 4].type != NZ_T_SYM)
        return 0;

    /* ngày 11/112021: a typo for 11/11/2021 */
    if (b_len >= 5 && t[i].len <= 2 && prev_is(c, i, day_words)) {
        const char *d = t[i + 2].s;
        long y = nz_num_val(c, i + 2) % 10000, m = nz_num_val(c, i + 2) / 10000;
        if ((y / 100 == 19 || y / 100 == 20) && nz_valid_day_month(a, m)) {
            say_day_month(c, i, a, m);
            nz_emit(c, "năm");
            nz_say_int(c, d + b_len - 4, 4);
            return i + 3;
        }
    }
    if (b_len > 4)
        return 0;
    /* "có 12/12 xã" counts, but "Sáng 15/5 xã tổ chức" is a date: a time word before wins */
    static const char *const date_before[] = {"ngày", "mồng", "mùng", "sáng", "trưa", "chiều",
                                              "tối", "đêm", "hôm", "vào", "từ", "đến", "trước",
                                              "sau", "dịp", "hết", "lúc", NULL};
    bool counted_next = i + 3 < c->n && c->t[i + 3].sp && nz_word_in(c, i + 3, counted) &&
                        !prev_is(c, i, date_before);

    /* quý 3/2024 */
    if (b_len == 4 && t[i].len == 1 && a >= 1 && a <= 4 && prev_is(c, i, (const char *const[]){"quý", NULL})) {
        nz_say_u64(c, (uint64_t)a);
        say_year(c, i + 2);
        return i + 3;
    }
    /* m/yyyy */
    if (b_len == 4 && t[i].len <= 2 && a >= 1 && a <= 12 && b >= 1000 && !counted_next) {
        if (!prev_is(c, i, (const char *const[]){"tháng", NULL}))
            nz_emit(c, "tháng");
        nz_say_month(c, (int)a);
        say_year(c, i + 2);
        return i + 3;
    }
    /* d/m ("24/7", round the clock, is not a date) */
    if (!(a == 24 && b == 7) && t[i].len <= 2 && b_len <= 2 && nz_valid_day_month(a, b) && !counted_next) {
        say_day_month(c, i, a, b);
        return i + 3;
    }
    /* năm học 2022/2023: a span of years */
    if (t[i].len == 4 && b_len == 4 && a >= 1900 && b == a + 1) {
        nz_say_u64(c, (uint64_t)a);
        nz_emit(c, "đến");
        nz_say_u64(c, (uint64_t)b);
        return i + 3;
    }
    /* N trên M */
    nz_say_int(c, t[i].s, t[i].len);
    nz_emit(c, "trên");
    nz_say_int(c, t[i + 2].s, t[i + 2].len);
    return i + 3;
}

static void say_hm(struct nz_ctx *c, long h, long m)
{
    nz_say_u64(c, (uint64_t)h);
    nz_emit(c, "giờ");
    if (m > 0) {
        nz_say_u64(c, (uint64_t)m);
        nz_emit(c, "phút");
    }
}

size_t nz_rule_time(struct nz_ctx *c, size_t i)
{
    const struct nz_tok *t = c->t;
    if (t[i].len > 2)
        return 0;
    long h = nz_num_val(c, i);
    if (h > 24)
        return 0;
    /* 6h30, 8g00, 5h */
    if (nz_is_word(c, i + 1) && nz_adj(c, i + 1) && t[i + 1].len == 1 &&
        (t[i + 1].s[0] == 'h' || t[i + 1].s[0] == 'H' || t[i + 1].s[0] == 'g')) {
        if (nz_is_num(c, i + 2) && nz_adj(c, i + 2) && t[i + 2].len == 2 &&
            nz_num_val(c, i + 2) <= 59) {
            say_hm(c, h, nz_num_val(c, i + 2));
            size_t j = i + 3;
            if (nz_word_is(c, j, "phút") || nz_word_in(c, j, (const char *const[]){"p", "ph", NULL}))
                j++;
            return j;
        }
        if (t[i + 1].s[0] != 'g' && !(i + 2 < c->n && nz_adj(c, i + 2) &&
                                      c->t[i + 2].type != NZ_T_SYM)) {
            say_hm(c, h, 0);
            return i + 2;
        }
        return 0;
    }
    /* 14:00, 06:30:15 */
    if (sep_num(c, i + 1, ':', 2) && t[i + 2].len == 2 && nz_num_val(c, i + 2) <= 59) {
        say_hm(c, h, nz_num_val(c, i + 2));
        if (sep_num(c, i + 3, ':', 2) && t[i + 4].len == 2 && nz_num_val(c, i + 4) <= 59) {
            if (nz_num_val(c, i + 4) > 0) {
                nz_say_u64(c, (uint64_t)nz_num_val(c, i + 4));
                nz_emit(c, "giây");
            }
            return i + 5;
        }
        return i + 3;
    }
    /* 14 giờ 30 [phút]; 16 giờ 00 phút -> mười sáu giờ */
    if (nz_word_is(c, i + 1, "giờ") && t[i + 1].sp && nz_is_num(c, i + 2) && t[i + 2].sp &&
        t[i + 2].len <= 2 && nz_num_val(c, i + 2) <= 59 &&
        !(i + 3 < c->n && nz_adj(c, i + 3) && !nz_is_sym(c, i + 3, ',') &&
          !nz_is_sym(c, i + 3, '.') && !nz_is_sym(c, i + 3, ';'))) {
        long m = nz_num_val(c, i + 2);
        say_hm(c, h, m);
        size_t j = i + 3;
        if (nz_word_is(c, j, "phút"))
            j++;
        return j;
    }
    return 0;
}
