/* tests/schedules/test_slots.c — slot parsing, validation, overlap (across midnight and days),
 * expansion into dated sessions in several zones. */
#include <errno.h>
#include <string.h>

#include "schedules/slots.h"
#include "tests/check.h"

#define HM(h, m) ((h) * 3600 + (m) * 60)

static void test_parse(void)
{
    int32_t s;
    CHECK(lc_slot_parse_start("06:00", &s) == 0 && s == HM(6, 0));
    CHECK(lc_slot_parse_start("06:00:30", &s) == 0 && s == HM(6, 0) + 30);
    CHECK(lc_slot_parse_start("00:00", &s) == 0 && s == 0);
    CHECK(lc_slot_parse_start("23:59:59", &s) == 0 && s == 86399);
    const char *bad[] = {"25:00", "24:00", "6:00", "06:60", "06:00:60", "06-00", "0600", "",
                         "06:00:", "06:00:0", "06:00 ", " 06:00", "aa:bb", "-1:00", "06:00:00:00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECKF(lc_slot_parse_start(bad[i], &s) == -EINVAL, "%s", bad[i]);
    char b[9];
    lc_slot_format_start(HM(6, 0), b);
    CHECK(strcmp(b, "06:00") == 0);
    lc_slot_format_start(HM(17, 5) + 9, b);
    CHECK(strcmp(b, "17:05:09") == 0);
    unsigned bit;
    CHECK(lc_day_parse("Mon", &bit) == 0 && bit == 1);
    CHECK(lc_day_parse("sun", &bit) == 0 && bit == 64);
    CHECK(lc_day_parse("monday", &bit) == -EINVAL);
    CHECK(strcmp(lc_day_name(2), "wed") == 0);
}

static void test_check(void)
{
    size_t a = 99, b = 99;
    struct lc_slot def[] = {{HM(6, 0), 60, 0}, {HM(17, 0), 60, 0}};
    CHECK(lc_slots_check(def, 2, &a, &b) == 0);
    CHECK(lc_slots_check(def, 0, &a, &b) == 0);
    struct lc_slot bad_len[] = {{HM(6, 0), 60, 0}, {HM(8, 0), 0, 0}};
    CHECK(lc_slots_check(bad_len, 2, &a, &b) == -EINVAL && a == 1);
    struct lc_slot neg[] = {{HM(6, 0), -5, 0}};
    CHECK(lc_slots_check(neg, 1, &a, &b) == -EINVAL && a == 0);
    struct lc_slot too_long[] = {{HM(6, 0), 241, 0}};
    CHECK(lc_slots_check(too_long, 1, &a, &b) == -EINVAL);
    struct lc_slot max_len[] = {{HM(6, 0), 240, 0}};
    CHECK(lc_slots_check(max_len, 1, &a, &b) == 0);
    struct lc_slot bad_start[] = {{86400, 60, 0}};
    CHECK(lc_slots_check(bad_start, 1, &a, &b) == -EINVAL);
    struct lc_slot bad_days[] = {{HM(6, 0), 60, 0x80}};
    CHECK(lc_slots_check(bad_days, 1, &a, &b) == -EINVAL);
    /* Plain overlap; touching is fine. */
    struct lc_slot ov[] = {{HM(6, 0), 60, 0}, {HM(17, 0), 60, 0}, {HM(6, 30), 10, 0}};
    CHECK(lc_slots_check(ov, 3, &a, &b) == -EEXIST && a == 0 && b == 2);
    struct lc_slot touch[] = {{HM(6, 0), 60, 0}, {HM(7, 0), 60, 0}};
    CHECK(lc_slots_check(touch, 2, &a, &b) == 0);
    struct lc_slot same[] = {{HM(6, 0), 60, 0}, {HM(6, 0), 60, 0}};
    CHECK(lc_slots_check(same, 2, &a, &b) == -EEXIST);
    /* Across midnight: 23:30 + 60 min overlaps 00:15 of the next day. */
    struct lc_slot mid[] = {{HM(0, 15), 30, 0}, {HM(23, 30), 60, 0}};
    CHECK(lc_slots_check(mid, 2, &a, &b) == -EEXIST && a == 0 && b == 1);
    struct lc_slot mid_ok[] = {{HM(0, 30), 30, 0}, {HM(23, 30), 60, 0}};
    CHECK(lc_slots_check(mid_ok, 2, &a, &b) == 0);
    /* Days: same time on different days is fine; Sunday 23:30+60 vs Monday 00:15 wraps the week. */
    struct lc_slot days[] = {{HM(6, 0), 60, 1u << 0}, {HM(6, 0), 60, 1u << 1}};
    CHECK(lc_slots_check(days, 2, &a, &b) == 0);
    struct lc_slot wrap[] = {{HM(23, 30), 60, 1u << 6}, {HM(0, 15), 30, 1u << 0}};
    CHECK(lc_slots_check(wrap, 2, &a, &b) == -EEXIST);
    struct lc_slot nowrap[] = {{HM(23, 30), 60, 1u << 6}, {HM(0, 15), 30, 1u << 2}};
    CHECK(lc_slots_check(nowrap, 2, &a, &b) == 0);
    /* An every-day slot meets a Wednesday-only slot on Wednesday. */
    struct lc_slot mixed[] = {{HM(6, 0), 60, 0}, {HM(6, 59), 5, 1u << 2}};
    CHECK(lc_slots_check(mixed, 2, &a, &b) == -EEXIST);
    struct lc_slot many[LC_SLOTS_MAX + 1];
    for (int i = 0; i <= LC_SLOTS_MAX; i++)
        many[i] = (struct lc_slot){i * 1800, 1, 0};
    CHECK(lc_slots_check(many, LC_SLOTS_MAX, &a, &b) == 0);
    CHECK(lc_slots_check(many, LC_SLOTS_MAX + 1, &a, &b) == -E2BIG);
}

static void test_expand(void)
{
    struct lc_tz vn = lc_tz_fixed(7 * 3600);
    struct lc_slot def[] = {{HM(17, 0), 60, 0}, {HM(6, 0), 60, 0}};
    struct lc_window w[4];
    struct lc_date d = {2026, 11, 24};
    size_t n = lc_slots_expand(def, 2, d, &vn, w);
    CHECK(n == 2);
    CHECK(w[0].start == 1795474800 && w[0].end == 1795474800 + 3600 && w[0].slot == 1);
    CHECK(w[1].start == 1795474800 + 11 * 3600 && w[1].slot == 0);
    /* A slot across midnight belongs to the day it starts on; its end is on the next day. */
    struct lc_slot late[] = {{HM(23, 30), 60, 0}};
    n = lc_slots_expand(late, 1, d, &vn, w);
    CHECK(n == 1 && w[0].start == 1795474800 + HM(17, 30));
    CHECK(w[0].end == lc_local_to_unix(&vn, (struct lc_date){2026, 11, 25}, HM(0, 30)));
    /* Days of the week: 2026-11-24 is a Tuesday. */
    struct lc_slot tue[] = {{HM(6, 0), 60, 1u << 1}, {HM(8, 0), 60, 1u << 0}};
    n = lc_slots_expand(tue, 2, d, &vn, w);
    CHECK(n == 1 && w[0].slot == 0);
    n = lc_slots_expand(tue, 2, (struct lc_date){2026, 11, 23}, &vn, w);
    CHECK(n == 1 && w[0].slot == 1);
    /* Another zone (+05:45, no DST) and a zone west of UTC (-03:00). */
    struct lc_tz np = lc_tz_fixed(HM(5, 45));
    n = lc_slots_expand(def, 2, d, &np, w);
    CHECK(n == 2 && w[0].start == 1795457700 + HM(6, 0));
    struct lc_tz br = lc_tz_fixed(-HM(3, 0));
    n = lc_slots_expand(def, 2, d, &br, w);
    CHECK(n == 2 && w[0].start == 1795474800 + HM(10, 0));
    CHECK(lc_local_date(&br, w[0].start).day == 24);
    /* Month and year ends. */
    n = lc_slots_expand(late, 1, (struct lc_date){2026, 12, 31}, &vn, w);
    CHECK(n == 1 && lc_local_date(&vn, w[0].end).year == 2027);
    /* Zero slots. */
    CHECK(lc_slots_expand(def, 0, d, &vn, w) == 0);
    CHECK(lc_windows_overlap(0, 10, 10, 20) == 0 && lc_windows_overlap(0, 11, 10, 20) == 1);
}

int main(void)
{
    test_parse();
    test_check();
    test_expand();
    return check_done();
}
