/*
 * schedules/localtime.h — civil dates and local time of a station, without a clock.
 *
 * The schedules module never reads the clock: "now" is always an argument. Local time is a
 * converter (struct lc_tz) so that the pure code can be tested in any zone: lc_tz_fixed() for a
 * fixed offset (any number of seconds east of UTC), lc_tz_system() for the process's zone (the
 * server sets TZ from its `timezone` setting once at start and calls tzset(); libc then reads the
 * system tz database — the only place here that touches anything outside memory).
 *
 * "Local seconds" are the seconds of a civil local date and time counted as if the zone were UTC:
 * days_from_civil(date) * 86400 + seconds of the day. Unix seconds are real UTC instants.
 */
#ifndef LC_SCHEDULES_LOCALTIME_H
#define LC_SCHEDULES_LOCALTIME_H

#include <stdbool.h>
#include <stdint.h>

struct lc_date {
    int year, month, day;   /* proleptic Gregorian; month 1..12, day 1..31 */
};

/* A zone: converts between Unix seconds and local seconds. */
struct lc_tz {
    /* Unix seconds of a local civil time (for a time skipped by a DST jump, the instant a clock
     * that ignored the jump would show; for a repeated time, the first one). */
    int64_t (*to_unix)(const struct lc_tz *tz, int64_t local_s);
    /* Local seconds of a Unix instant. */
    int64_t (*to_local)(const struct lc_tz *tz, int64_t unix_s);
    int32_t offset_s;       /* lc_tz_fixed only: seconds east of UTC */
};

/* A zone with a fixed offset (seconds east of UTC, e.g. 7 * 3600 for Vietnam; any value in
 * -26 h..+26 h, seconds allowed). */
struct lc_tz lc_tz_fixed(int32_t offset_s);
/* The process's zone (TZ), through mktime()/localtime_r(). */
struct lc_tz lc_tz_system(void);

/* Days since 1970-01-01 of a civil date (negative before); and back. */
int64_t lc_days_from_civil(struct lc_date d);
struct lc_date lc_civil_from_days(int64_t days);
/* Day of the week: 0 = Monday .. 6 = Sunday. */
int lc_weekday(struct lc_date d);
/* True for a real calendar date (year 1..9999). */
bool lc_date_valid(struct lc_date d);

/* Parses "YYYY-MM-DD" (exactly). 0 or -EINVAL. */
int lc_date_parse(const char *s, struct lc_date *out);
/* Writes "YYYY-MM-DD". */
void lc_date_format(struct lc_date d, char out[11]);

/* The local date of a Unix instant in tz. */
struct lc_date lc_local_date(const struct lc_tz *tz, int64_t unix_s);
/* The Unix instant of local date d at seconds-of-day secs (may be 86400 or more: the next days). */
int64_t lc_local_to_unix(const struct lc_tz *tz, struct lc_date d, int64_t secs);

#endif
