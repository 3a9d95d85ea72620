/*
 * server/scheduler/rules_check.c — slots and sessions checked against a commune's broadcast rules
 * (schedules/rules.h; loaded by rules_store.c); see scheduler_internal.h. Loop thread only.
 */
#include "server/scheduler/scheduler_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "server/scheduler/scheduler.h"
#include "server/scheduler/scheduler_state.h"

/* ---- checks --------------------------------------------------------------------------------- */

int lc_rules_check_slots(const struct lc_rules *r, const struct lc_slot *v, size_t n,
                         char *why, size_t whylen)
{
    static const char *const names[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    char broken[320];
    for (int d = 0; d < 7; d++) {
        int count = 0;
        int64_t seconds = 0;
        for (size_t i = 0; i < n; i++) {
            if (v[i].days && !(v[i].days & (1u << d)))
                continue;
            count++;
            seconds += (int64_t)v[i].minutes * 60;
            if (lc_rules_check_span(r, d, v[i].start_s, (int64_t)v[i].minutes * 60, broken,
                                    sizeof broken)) {
                char start[9];
                lc_slot_format_start(v[i].start_s, start);
                snprintf(why, whylen, "slot %zu (%s, %d min) on %s: %s", i, start,
                         (int)v[i].minutes, names[d], broken);
                return 1;
            }
        }
        if (lc_rules_check_day(r, count, seconds, broken, sizeof broken)) {
            snprintf(why, whylen, "the slots of %s: %s", names[d], broken);
            return 1;
        }
    }
    return 0;
}

/* Sessions that count in a day's totals: what is or was on air, or will be (not emergencies). */
static bool counts(const struct lc_bsession *x)
{
    return strcmp(x->kind, "emergency") != 0 && strcmp(x->status, "missed") != 0;
}

int lc_rules_check_session(struct lc_store *store, const char *commune, int64_t start,
                           int64_t end, bool add, char *why, size_t whylen)
{
    struct lc_rules r;
    struct lc_tz tz = lc_station_tz();
    int rc = lc_rules_load(store, commune, &r, NULL);
    if (rc < 0)
        return rc;
    struct lc_date d = lc_local_date(&tz, start);
    int32_t start_s = (int32_t)(tz.to_local(&tz, start) - lc_days_from_civil(d) * 86400);
    if (lc_rules_check_span(&r, lc_weekday(d), start_s, end - start, why, whylen))
        return 1;
    if (!add)
        return 0;
    struct lc_bsessions l = {0};
    if ((rc = lc_sessions_of_day(store, commune, d, &l)) < 0) {
        lc_bsessions_free(&l);
        return rc;
    }
    int count = 1;
    int64_t seconds = end - start;
    for (size_t i = 0; i < l.n; i++) {
        if (counts(&l.v[i])) {
            count++;
            seconds += l.v[i].end - l.v[i].start;
        }
    }
    lc_bsessions_free(&l);
    return lc_rules_check_day(&r, count, seconds, why, whylen);
}

int lc_scheduler_quiet(struct lc_scheduler *s, const char *commune, int64_t start_s, int64_t end_s,
                       char *why, size_t whylen)
{
    struct lc_rules r;
    struct lc_tz tz = lc_station_tz();
    int rc = lc_rules_load(s->store, commune, &r, NULL);
    if (rc < 0)
        return rc;
    /* only the quiet hours */
    r.nwindows = 0;
    r.max_session_minutes = 0;
    struct lc_date d = lc_local_date(&tz, start_s);
    int32_t at = (int32_t)(tz.to_local(&tz, start_s) - lc_days_from_civil(d) * 86400);
    return lc_rules_check_span(&r, lc_weekday(d), at, end_s - start_s, why, whylen);
}
