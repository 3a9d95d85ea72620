/*
 * schedules/rules.h — a commune's broadcast rules (issue 18): when it may broadcast and how much.
 *
 *   windows               allowed spans per weekday: a session must lie inside one of them
 *   max_session_minutes   the longest session
 *   max_day_minutes       the most minutes of sessions on one local date
 *   max_sessions_per_day  the most sessions on one local date
 *   quiet                 spans of every day with no sound at all ("22:00".."05:00")
 *   holidays              local dates with no regular (slot) sessions
 *
 * A missing rule is no limit (0 / no spans / no dates). Spans are local times of day; one whose
 * end is not after its start runs past midnight (22:00 → 05:00), and a window's days are the
 * days it starts on. A session's day is the local date it starts on. The checks write the
 * broken rule in plain words into why (for a 422 and the audit) and return 1; 0 when the
 * session keeps every rule.
 *
 * Pure: no clock, no I/O, no allocation.
 */
#ifndef LC_SCHEDULES_RULES_H
#define LC_SCHEDULES_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schedules/localtime.h"

#define LC_RULES_SPANS_MAX 16
#define LC_RULES_HOLIDAYS_MAX 400

struct lc_rule_span {
    unsigned days;          /* LC_DAYS_* bits of slots.h (bit 0 Monday); 0 = every day */
    int32_t from_s, to_s;   /* seconds after local midnight; to_s <= from_s: past midnight */
};

struct lc_rules {
    struct lc_rule_span windows[LC_RULES_SPANS_MAX];
    size_t nwindows;
    struct lc_rule_span quiet[LC_RULES_SPANS_MAX];   /* days unused: quiet hours are daily */
    size_t nquiet;
    int32_t max_session_minutes, max_day_minutes, max_sessions_per_day;  /* 0 = no limit */
    struct lc_date holidays[LC_RULES_HOLIDAYS_MAX];
    size_t nholidays;
};

/* Checks one session starting on weekday `wday` (0 Monday .. 6 Sunday) at local second
 * `start_s` of its day, `seconds` long, against the windows, the quiet hours and the longest
 * session. 1 with why, or 0. */
int lc_rules_check_span(const struct lc_rules *r, int wday, int32_t start_s, int64_t seconds,
                        char *why, size_t whylen);

/* Checks the totals of one local date, the session being checked included: `sessions` sessions
 * of `seconds` in all. 1 with why, or 0. */
int lc_rules_check_day(const struct lc_rules *r, int sessions, int64_t seconds, char *why,
                       size_t whylen);

/* True if d is one of the holidays. */
bool lc_rules_holiday(const struct lc_rules *r, struct lc_date d);

/* The end of a session of window [start, end) that keeps the longest session: end, or
 * start + max_session_minutes if that is sooner. */
int64_t lc_rules_cap_end(const struct lc_rules *r, int64_t start, int64_t end);

/* Writes a span as "22:00–05:00" (with "Mon, Tue: " before it when it has days). */
void lc_rule_span_format(const struct lc_rule_span *s, bool with_days, char *out, size_t n);

#endif
