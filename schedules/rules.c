/*
 * schedules/rules.c — broadcast rules checks (see rules.h).
 */
#include "schedules/rules.h"

#include <stdio.h>
#include <string.h>

#include "schedules/slots.h"

#define DAY 86400

void lc_rule_span_format(const struct lc_rule_span *s, bool with_days, char *out, size_t n)
{
    static const char *const names[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    char a[9], b[9];
    size_t len = 0;
    out[0] = '\0';
    if (with_days && s->days != 0 && s->days != LC_DAYS_ALL) {
        for (int i = 0; i < 7 && len < n; i++)
            if (s->days & (1u << i))
                len += (size_t)snprintf(out + len, n - len, "%s%s", len ? ", " : "", names[i]);
        if (len < n)
            len += (size_t)snprintf(out + len, n - len, ": ");
    }
    lc_slot_format_start(s->from_s, a);
    lc_slot_format_start(s->to_s, b);
    if (len < n)
        snprintf(out + len, n - len, "%s–%s", a, b);
}

/* The span's end after its start, in seconds after the midnight it starts from. */
static int32_t span_end(const struct lc_rule_span *s)
{
    return s->to_s > s->from_s ? s->to_s : s->to_s + DAY;
}

static bool has_day(unsigned days, int wday)
{
    return days == 0 || (days & (1u << ((wday % 7 + 7) % 7)));
}

int lc_rules_check_span(const struct lc_rules *r, int wday, int32_t start_s, int64_t seconds,
                        char *why, size_t whylen)
{
    int64_t a = start_s, b = start_s + seconds;
    if (r->max_session_minutes > 0 && seconds > (int64_t)r->max_session_minutes * 60) {
        snprintf(why, whylen, "a session may last at most %d minutes (max_session_minutes);"
                 " this one lasts %lld", (int)r->max_session_minutes,
                 (long long)((seconds + 59) / 60));
        return 1;
    }
    for (size_t i = 0; i < r->nquiet; i++) {
        const struct lc_rule_span *q = &r->quiet[i];
        /* the quiet span of the day before, of the day, and of the day after */
        for (int64_t off = -DAY; off <= DAY; off += DAY) {
            if (lc_windows_overlap(a, b, q->from_s + off, span_end(q) + off)) {
                char span[32];
                lc_rule_span_format(q, false, span, sizeof span);
                snprintf(why, whylen, "it falls in the quiet hours %s (quiet)", span);
                return 1;
            }
        }
    }
    if (r->nwindows == 0)
        return 0;
    for (size_t i = 0; i < r->nwindows; i++) {
        const struct lc_rule_span *w = &r->windows[i];
        /* a window starting on this day, or one that started the day before */
        if (has_day(w->days, wday) && a >= w->from_s && b <= span_end(w))
            return 0;
        if (has_day(w->days, wday - 1) && span_end(w) > DAY && b <= span_end(w) - DAY)
            return 0;
    }
    size_t len = (size_t)snprintf(why, whylen, "it lies outside the allowed windows (windows):");
    for (size_t i = 0; i < r->nwindows && len < whylen; i++) {
        char span[64];
        lc_rule_span_format(&r->windows[i], true, span, sizeof span);
        len += (size_t)snprintf(why + len, whylen - len, "%s %s", i ? ";" : "", span);
    }
    return 1;
}

int lc_rules_check_day(const struct lc_rules *r, int sessions, int64_t seconds, char *why,
                       size_t whylen)
{
    if (r->max_sessions_per_day > 0 && sessions > r->max_sessions_per_day) {
        snprintf(why, whylen, "at most %d sessions a day (max_sessions_per_day); this would be"
                 " session %d of the day", (int)r->max_sessions_per_day, sessions);
        return 1;
    }
    if (r->max_day_minutes > 0 && seconds > (int64_t)r->max_day_minutes * 60) {
        snprintf(why, whylen, "at most %d minutes of sessions a day (max_day_minutes); this would"
                 " make %lld", (int)r->max_day_minutes, (long long)((seconds + 59) / 60));
        return 1;
    }
    return 0;
}

bool lc_rules_holiday(const struct lc_rules *r, struct lc_date d)
{
    for (size_t i = 0; i < r->nholidays; i++)
        if (r->holidays[i].year == d.year && r->holidays[i].month == d.month &&
            r->holidays[i].day == d.day)
            return true;
    return false;
}

int64_t lc_rules_cap_end(const struct lc_rules *r, int64_t start, int64_t end)
{
    if (r->max_session_minutes > 0 && end - start > (int64_t)r->max_session_minutes * 60)
        return start + (int64_t)r->max_session_minutes * 60;
    return end;
}
