/* tests/schedules/test_localtime.c — civil dates, weekdays, fixed and system zones. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schedules/localtime.h"
#include "tests/check.h"

static void test_civil(void)
{
    CHECK(lc_days_from_civil((struct lc_date){1970, 1, 1}) == 0);
    CHECK(lc_days_from_civil((struct lc_date){2000, 3, 1}) == 11017);
    for (int64_t d = -600000; d < 800000; d += 37) {
        struct lc_date c = lc_civil_from_days(d);
        CHECK(lc_date_valid(c));
        CHECK(lc_days_from_civil(c) == d);
    }
    CHECK(lc_weekday((struct lc_date){2026, 11, 23}) == 0);  /* a Monday */
    CHECK(lc_weekday((struct lc_date){2026, 11, 29}) == 6);
    CHECK(lc_weekday((struct lc_date){1970, 1, 1}) == 3);
    CHECK(lc_weekday((struct lc_date){1969, 12, 28}) == 6);
}

static void test_parse(void)
{
    struct lc_date d;
    CHECK(lc_date_parse("2026-11-24", &d) == 0 && d.year == 2026 && d.month == 11 && d.day == 24);
    CHECK(lc_date_parse("2024-02-29", &d) == 0);
    CHECK(lc_date_parse("2026-02-29", &d) == -EINVAL);
    CHECK(lc_date_parse("2100-02-29", &d) == -EINVAL);
    CHECK(lc_date_parse("2000-02-29", &d) == 0);
    CHECK(lc_date_parse("2026-13-01", &d) == -EINVAL);
    CHECK(lc_date_parse("2026-04-31", &d) == -EINVAL);
    CHECK(lc_date_parse("2026-1-01", &d) == -EINVAL);
    CHECK(lc_date_parse("2026-01-01T", &d) == -EINVAL);
    CHECK(lc_date_parse("", &d) == -EINVAL);
    CHECK(lc_date_parse("0000-01-01", &d) == -EINVAL);
    char b[11];
    lc_date_format((struct lc_date){2026, 1, 5}, b);
    CHECK(strcmp(b, "2026-01-05") == 0);
}

static void test_fixed(void)
{
    struct lc_tz vn = lc_tz_fixed(7 * 3600);
    /* 2026-11-24 06:00 +07:00 = 2026-11-23T23:00:00Z = 1795474800 */
    int64_t t = lc_local_to_unix(&vn, (struct lc_date){2026, 11, 24}, 6 * 3600);
    CHECK(t == 1795474800);
    struct lc_date d = lc_local_date(&vn, t);
    CHECK(d.year == 2026 && d.month == 11 && d.day == 24);
    d = lc_local_date(&vn, t - 6 * 3600 - 1);   /* 23:59:59 the day before */
    CHECK(d.day == 23);
    /* Nepal: +05:45 */
    struct lc_tz np = lc_tz_fixed(5 * 3600 + 45 * 60);
    CHECK(lc_local_to_unix(&np, (struct lc_date){2026, 11, 24}, 0) == 1795457700);
    /* west of UTC, negative days before 1970 */
    struct lc_tz w = lc_tz_fixed(-(9 * 3600 + 30 * 60));
    d = lc_local_date(&w, 0);
    CHECK(d.year == 1969 && d.month == 12 && d.day == 31);
    /* next local days */
    CHECK(lc_local_to_unix(&vn, (struct lc_date){2026, 11, 24}, 86400 + 60) ==
          lc_local_to_unix(&vn, (struct lc_date){2026, 11, 25}, 60));
}

static void test_system(void)
{
    setenv("TZ", "Asia/Ho_Chi_Minh", 1);
    tzset();
    struct lc_tz sys = lc_tz_system(), vn = lc_tz_fixed(7 * 3600);
    for (int64_t t = 1700000000; t < 1800000000; t += 86400 * 13 + 3607) {
        CHECK(sys.to_local(&sys, t) == vn.to_local(&vn, t));
        CHECK(lc_local_to_unix(&sys, lc_local_date(&sys, t), 6 * 3600) ==
              lc_local_to_unix(&vn, lc_local_date(&vn, t), 6 * 3600));
    }
    /* A zone with DST: Europe/Berlin, 2026-03-29 02:30 does not exist, 2026-10-25 02:30 twice. */
    setenv("TZ", "Europe/Berlin", 1);
    tzset();
    sys = lc_tz_system();
    int64_t a = lc_local_to_unix(&sys, (struct lc_date){2026, 3, 29}, 1 * 3600 + 59 * 60);
    int64_t b = lc_local_to_unix(&sys, (struct lc_date){2026, 3, 29}, 3 * 3600);
    CHECK(b - a == 60);   /* 01:59 CET → 03:00 CEST is one minute */
    int64_t c = lc_local_to_unix(&sys, (struct lc_date){2026, 7, 1}, 6 * 3600);
    CHECK(c == 1782878400);   /* 2026-07-01T04:00:00Z */
    /* A POSIX zone with a seconds offset (the integration tests use one). */
    setenv("TZ", "<+0659>-6:59:50", 1);
    tzset();
    sys = lc_tz_system();
    CHECK(sys.to_local(&sys, 1000000) == 1000000 + 6 * 3600 + 59 * 60 + 50);
    unsetenv("TZ");
    tzset();
}

int main(void)
{
    test_civil();
    test_parse();
    test_fixed();
    test_system();
    return check_done();
}
