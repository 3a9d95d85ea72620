/* schedules/localtime.c — civil date arithmetic and zone converters; see localtime.h. */
#include "schedules/localtime.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

/* Howard Hinnant's days_from_civil / civil_from_days (public domain algorithms). */
int64_t lc_days_from_civil(struct lc_date d)
{
    int64_t y = d.year - (d.month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (d.month + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + d.day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

struct lc_date lc_civil_from_days(int64_t z)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    return (struct lc_date){(int)(y + (m <= 2)), (int)m, (int)d};
}

int lc_weekday(struct lc_date d)
{
    int64_t days = lc_days_from_civil(d);      /* 1970-01-01 was a Thursday (3) */
    int64_t w = (days + 3) % 7;
    return (int)(w < 0 ? w + 7 : w);
}

bool lc_date_valid(struct lc_date d)
{
    if (d.year < 1 || d.year > 9999 || d.month < 1 || d.month > 12 || d.day < 1)
        return false;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (d.year % 4 == 0 && d.year % 100 != 0) || d.year % 400 == 0;
    return d.day <= mdays[d.month - 1] + (d.month == 2 ? leap : 0);
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int lc_date_parse(const char *s, struct lc_date *out)
{
    struct lc_date d;
    if (digits(s, 4, &d.year) || s[4] != '-' || digits(s + 5, 2, &d.month) || s[7] != '-' ||
        digits(s + 8, 2, &d.day) || s[10] != '\0' || !lc_date_valid(d))
        return -EINVAL;
    *out = d;
    return 0;
}

void lc_date_format(struct lc_date d, char out[11])
{
    snprintf(out, 11, "%04u-%02u-%02u", (unsigned)d.year % 10000u, (unsigned)d.month % 100u,
             (unsigned)d.day % 100u);
}

static int64_t floordiv(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && ((a < 0) != (b < 0)));
}

struct lc_date lc_local_date(const struct lc_tz *tz, int64_t unix_s)
{
    return lc_civil_from_days(floordiv(tz->to_local(tz, unix_s), 86400));
}

int64_t lc_local_to_unix(const struct lc_tz *tz, struct lc_date d, int64_t secs)
{
    return tz->to_unix(tz, lc_days_from_civil(d) * 86400 + secs);
}

/* ---- fixed offset ---------------------------------------------------------------------------- */

static int64_t fixed_to_unix(const struct lc_tz *tz, int64_t local_s)
{
    return local_s - tz->offset_s;
}

static int64_t fixed_to_local(const struct lc_tz *tz, int64_t unix_s)
{
    return unix_s + tz->offset_s;
}

struct lc_tz lc_tz_fixed(int32_t offset_s)
{
    return (struct lc_tz){fixed_to_unix, fixed_to_local, offset_s};
}

/* ---- the process's zone ---------------------------------------------------------------------- */

static int64_t system_to_unix(const struct lc_tz *tz, int64_t local_s)
{
    (void)tz;
    int64_t days = floordiv(local_s, 86400), secs = local_s - days * 86400;
    struct lc_date d = lc_civil_from_days(days);
    struct tm tm = {.tm_year = d.year - 1900, .tm_mon = d.month - 1, .tm_mday = d.day,
                    .tm_hour = (int)(secs / 3600), .tm_min = (int)(secs / 60 % 60),
                    .tm_sec = (int)(secs % 60), .tm_isdst = -1};
    return (int64_t)mktime(&tm);
}

static int64_t system_to_local(const struct lc_tz *tz, int64_t unix_s)
{
    (void)tz;
    time_t t = (time_t)unix_s;
    struct tm tm;
    localtime_r(&t, &tm);
    return unix_s + tm.tm_gmtoff;
}

struct lc_tz lc_tz_system(void)
{
    return (struct lc_tz){system_to_unix, system_to_local, 0};
}
