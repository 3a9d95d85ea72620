/*
 * server/scheduler/scheduler_selftest.c — a self-test's session (issue 18, point 3; the caller
 * is server/selftest/): an ad-hoc session of its own in one commune whose programme is exactly
 * the test bulletin, frozen when the row is written, so that PREPARE (scheduler.c, prepare_tx)
 * takes it as it is and never builds it from the commune's queue of bulletins.
 *
 * A self-test never interrupts a programme: a commune with a session on air, prepared, or whose
 * window meets the test's [now, end) is skipped, with the reason in words. The row is an
 * ordinary `adhoc` row (the table's kinds are slot, adhoc, emergency): what makes it a test is
 * server/selftest/'s own table, which names its id.
 *
 * Calls go one way: this file reads sessions (programme_data.c) and the actives
 * (scheduler_active.c) and pokes the timer (scheduler.c); nothing in the module calls it.
 */
#define LC_LOG_MODULE "scheduler"
#include "server/scheduler/scheduler.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "server/api/api.h"
#include "server/scheduler/scheduler_internal.h"
#include "server/scheduler/scheduler_state.h"
#include "server/store/store.h"

/* 1 and why when commune has a session that a test in [now_s, end_s) would meet: on air,
 * prepared (in its hold window), or not over with a window overlapping; 0 if none; -EIO. */
static int busy(struct lc_scheduler *s, const char *commune, int64_t now_s, int64_t end_s,
                char *why, size_t whylen)
{
    struct active *a = lc_sched_on_air_in(s, commune);
    if (a != NULL) {
        snprintf(why, whylen, "a %s is on air", a->emergency ? "emergency" : "session");
        return 1;
    }
    for (a = s->active; a; a = a->next)
        if (strcmp(a->commune, commune) == 0 && a->start_ms < end_s * 1000 &&
            a->end_ms > now_s * 1000) {
            char at[40];
            lc_time_format(a->start_ms / 1000, at);
            snprintf(why, whylen, "a session starts at %s", at);
            return 1;
        }
    struct lc_tz tz = lc_station_tz();
    int64_t d0 = lc_days_from_civil(lc_local_date(&tz, now_s)) - 1;
    int64_t d1 = lc_days_from_civil(lc_local_date(&tz, end_s));
    int found = 0;
    for (int64_t d = d0; d <= d1 && !found; d++) {
        struct lc_bsessions l = {0};
        if (lc_sessions_of_day(s->store, commune, lc_civil_from_days(d), &l) < 0) {
            lc_bsessions_free(&l);
            return -EIO;
        }
        for (size_t i = 0; i < l.n && !found; i++) {
            const struct lc_bsession *x = &l.v[i];
            if (strcmp(x->status, "scheduled") != 0 && strcmp(x->status, "on_air") != 0)
                continue;   /* over: a programme may end before its window */
            if (x->start < end_s && x->end > now_s) {
                char at[40], to[40];
                lc_time_format(x->start, at);
                lc_time_format(x->end, to);
                snprintf(why, whylen, "it meets the %s session %s .. %s", x->kind, at, to);
                found = 1;
            }
        }
        lc_bsessions_free(&l);
    }
    return found;
}

int lc_scheduler_selftest(struct lc_scheduler *s, const char *commune, int64_t bulletin,
                          int64_t start_s, const char *user, int64_t *session, int64_t *end_s,
                          char *why, size_t whylen)
{
    static const char ins[] =
        "INSERT INTO broadcasts (commune, kind, start_at, end_at, status, programme, frozen_at,"
        " created_by, created_at) VALUES (?1, 'adhoc', ?2, ?3, 'scheduled', ?4, ?5, ?6, ?5)";
    if (s->stopped)
        return -ESHUTDOWN;
    json_t *prog = NULL;
    char *text = NULL;
    int rc = lc_programme_single(s->store, bulletin, &prog);
    if (rc < 0)
        return rc;
    /* the window: the programme and a second to spare; the session closes when it ends */
    int64_t end = start_s + (lc_sched_length_ms(prog) + 999) / 1000 + 1;
    int64_t now = lc_now();
    if ((rc = busy(s, commune, now < start_s ? now : start_s, end, why, whylen)) != 0)
        goto out;
    rc = -ENOMEM;
    if ((text = json_dumps(prog, JSON_COMPACT)) == NULL)
        goto out;
    rc = -EIO;
    sqlite3_stmt *st = lc_sched_stmt(s->store, ins, commune);
    if (st == NULL)
        goto out;
    sqlite3_bind_int64(st, 2, start_s);
    sqlite3_bind_int64(st, 3, end);
    sqlite3_bind_text(st, 4, text, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, now);
    sqlite3_bind_text(st, 6, user, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        goto out;
    *session = lc_store_last_id(s->store);
    *end_s = end;
    rc = 0;
    /* planned on the next loop turn: after the caller's commit, within its hold window */
    lc_scheduler_poke(s);
out:
    free(text);
    json_decref(prog);
    return rc;
}
