/*
 * server/scheduler/scheduler.c — the timer that puts sessions on air and takes them off (issue 5),
 * and the scheduler's life: open, start, stop, free.
 *
 * One uv_timer. Each time it fires, the scheduler reads the wall clock (CLOCK_REALTIME) and:
 *   1. closes the sessions on air whose programme ended or whose window closed (CLOSE);
 *   2. opens the prepared sessions whose start has come (OPEN), unless their commune is busy
 *      with another session (an emergency): they open when it closes;
 *   3. plans: for every commune, the sessions of yesterday, today and tomorrow (local dates):
 *      one that enters its hold window is materialised (slot sessions get their broadcasts row
 *      now), its programme built and frozen in the row, and PREPARE published; a row left
 *      `on_air` by a previous run resumes (OPEN with its real start: the engine plays from
 *      now − start); rows whose window passed while the server was down become `interrupted`
 *      (were on air) or `missed`; approved bulletins past `expires` become `expired`;
 *   4. re-arms itself for the next event (a hold window, a start, a close), at most 1 s ahead.
 *
 * Nothing trusts a monotonic offset for long: the delay is recomputed from the wall clock at
 * every firing and never exceeds 1 s, so a clock step is noticed within a second, midnight is
 * just another instant, and a timer that fires early (libuv counts whole milliseconds of its
 * cached loop time) finds the start not reached and re-arms for the remainder. Starts measured
 * on the real loop: see docs/schedules.md.
 *
 * Session lifecycle (broadcasts.status) and the events published:
 *
 *   from \ at   | start − hold      | start              | programme end / window end
 *   ------------+-------------------+--------------------+---------------------------
 *   (slot)      | row, frozen:      |                    |
 *   scheduled   |   PREPARE         | on_air: OPEN       |
 *   on_air      |                   |                    | done: CLOSE
 *   done, interrupted, missed: its airings counted from what receivers were sent, once the
 *               accounting is final (airings.c);
 *   at a start: on_air and window open → OPEN (resume); window over → interrupted;
 *               scheduled and window over → missed.
 *
 * A programme is frozen at PREPARE. At OPEN, if a frozen bulletin is no longer approved
 * (withdrawn, expired) or has meanwhile aired its `repeat` times in the commune, the programme is
 * built again: nothing unauthorised reaches a speaker.
 *
 * Emergencies: scheduler_emergency.c, which calls this file (lc_scheduler_poke) and never the
 * other way round. The sessions followed, and who owns what: scheduler_state.h,
 * scheduler_active.c. Shutdown is two steps: lc_scheduler_stop() closes the timer,
 * lc_scheduler_free() frees everything once the loop has run out.
 */
#define LC_LOG_MODULE "scheduler"
#include "server/scheduler/scheduler.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/api/api.h"
#include "server/bulletins/bulletins.h"
#include "common/log.h"
#include "server/scheduler/scheduler_internal.h"
#include "server/scheduler/scheduler_state.h"
#include "server/store/store.h"

#define MAX_SLEEP_MS 1000
#define LATE_RESTART_MS 1000    /* opened later than this after its start: play from the top */

/* ---- database steps ------------------------------------------------------------------------ */

static int set_status(struct lc_store *store, int64_t id, const char *status, int64_t ended_ms)
{
    static const char sql[] =
        "UPDATE broadcasts SET status = ?2, ended_at_ms = coalesce(?3, ended_at_ms) WHERE id = ?1";
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
    if (ended_ms)
        sqlite3_bind_int64(st, 3, ended_ms);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    return step == SQLITE_DONE ? 0 : -EIO;
}

static int store_programme(struct lc_store *store, int64_t id, json_t *programme)
{
    static const char sql[] = "UPDATE broadcasts SET programme = ?2, frozen_at = ?3 WHERE id = ?1";
    char *text = json_dumps(programme, JSON_COMPACT);
    if (text == NULL)
        return -ENOMEM;
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    int step = SQLITE_ERROR;
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, lc_now());
        step = sqlite3_step(st);
        sqlite3_reset(st);
    }
    free(text);
    return step == SQLITE_DONE ? 0 : -EIO;
}

/* The row of slot session x, created if needed. */
static int materialise(struct lc_store *store, const char *commune, struct lc_bsession *x)
{
    static const char ins[] =
        "INSERT INTO broadcasts (commune, kind, start_at, end_at, status, created_at, relay)"
        " VALUES (?, 'slot', ?, ?, 'scheduled', ?, nullif(?, '')) ON CONFLICT DO NOTHING";
    static const char sel[] =
        "SELECT id FROM broadcasts WHERE commune = ? AND start_at = ? AND kind = 'slot'";
    sqlite3_stmt *st = lc_sched_stmt(store, ins, commune);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 2, x->start);
    sqlite3_bind_int64(st, 3, x->end);
    sqlite3_bind_int64(st, 4, lc_now());
    sqlite3_bind_text(st, 5, x->relay, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE || (st = lc_sched_stmt(store, sel, commune)) == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 2, x->start);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        x->id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return step == SQLITE_ROW ? 0 : -EIO;
}

/* True if every bulletin of the frozen programme may still air in commune: approved, and aired
 * there fewer than `repeat` times (two sessions of a commune may have frozen the same bulletin
 * when their hold windows met). */
static bool still_authorised(struct lc_store *store, const char *commune, json_t *programme)
{
    static const char sql[] =
        "SELECT b.status = 'approved' AND coalesce(a.aired, 0) < b.repeat FROM bulletins b"
        " LEFT JOIN bulletin_airings a ON a.bulletin = b.id AND a.commune = ?2 WHERE b.id = ?1";
    json_t *it;
    size_t i;
    json_array_foreach(json_object_get(programme, "items"), i, it) {
        if (json_integer_value(json_object_get(it, "bulletin")) == 0)
            continue;   /* a relay, or a gap */
        sqlite3_stmt *st = lc_store_stmt(store, sql);
        if (st == NULL)
            return false;
        sqlite3_bind_int64(st, 1, json_integer_value(json_object_get(it, "bulletin")));
        sqlite3_bind_text(st, 2, commune, -1, SQLITE_TRANSIENT);
        bool ok = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
        sqlite3_reset(st);
        if (!ok)
            return false;
    }
    return true;
}

/* ---- events -------------------------------------------------------------------------------- */

static void close_session(struct lc_scheduler *s, struct active *a, int64_t now)
{
    if (set_status(s->store, a->id, "done", now) < 0)
        lc_log(LC_LOG_ERR, "session %lld: cannot store its end", (long long)a->id);
    if (a->host == 0)
        lc_sched_publish(s, LC_ONAIR_CLOSE, a, a->items, a->nitems, a->emergency);
    lc_sched_active_drop(s, a);
}

/* OPEN: on time, late, or (resume, aired_ms != 0) the continuation of a session on air before
 * a restart. The event goes out first; the row (on_air, aired_at_ms) is written by
 * store_opened() after every session due at this instant has been published, in one
 * transaction, so that twenty communes opening at 06:00 do not wait for twenty commits. Should
 * the process die in between, the session is still `scheduled`: the next start opens it again,
 * from the top, and counts it then. */
static void open_session(struct lc_scheduler *s, struct active *a, int64_t now, int64_t aired_ms)
{
    bool resume = aired_ms != 0;
    if (!resume) {
        if (!still_authorised(s->store, a->commune, a->programme)) {
            struct lc_bsession x = {.start = a->start_ms / 1000, .end = a->end_ms / 1000};
            json_t *p = lc_programme_build_for(s->store, s->gap_ms, a->commune, &x);
            if (p && store_programme(s->store, a->id, p) == 0) {
                json_decref(a->programme);
                a->programme = p;
                lc_sched_active_items(a);
                lc_log(LC_LOG_INFO, "session %lld: a bulletin was withdrawn (or has aired enough)"
                       " since the programme was frozen; built again", (long long)a->id);
            } else {
                json_decref(p);
            }
        }
        aired_ms = now;
        a->aired_ms = now;
        a->unstored = true;
    }
    a->prog_start_ms = aired_ms - a->start_ms < LATE_RESTART_MS ? a->start_ms : aired_ms;
    a->close_ms = a->prog_start_ms + lc_sched_length_ms(a->programme);
    if (a->close_ms > a->end_ms)
        a->close_ms = a->end_ms;
    a->on_air = true;
    int64_t published = lc_wall_ms();
    lc_sched_publish(s, LC_ONAIR_OPEN, a, a->items, a->nitems, a->emergency);
    /* `now` (aired_at_ms) is when the timer fired; `published` when OPEN went out: both are
     * measured against the start. */
    lc_log(LC_LOG_INFO, "session %lld (%s) %s, %+lld ms from its start (OPEN published at %+lld ms)",
           (long long)a->id, a->commune, resume ? "resumes" : "on air",
           (long long)(now - a->start_ms), (long long)(published - a->start_ms));
}

struct opened_tx {
    struct lc_scheduler *s;
    bool began;                 /* the transaction began (else the rows are tried again later) */
};

static int opened_tx(struct lc_store *store, void *arg)
{
    static const char sql[] =
        "UPDATE broadcasts SET status = 'on_air', aired_at_ms = ?2 WHERE id = ?1";
    struct opened_tx *t = arg;
    int rc = 0;
    t->began = true;
    for (struct active *a = t->s->active; a && rc == 0; a = a->next) {
        if (!a->unstored)
            continue;
        sqlite3_stmt *st = lc_store_stmt(store, sql);
        if (st == NULL)
            return -EIO;
        sqlite3_bind_int64(st, 1, a->id);
        sqlite3_bind_int64(st, 2, a->aired_ms);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
        sqlite3_reset(st);
    }
    return rc;
}

/* Writes the sessions opened since the last call: on_air, aired_at_ms. */
static void store_opened(struct lc_scheduler *s)
{
    struct opened_tx t = {s, false};
    bool any = false;
    for (struct active *a = s->active; a; a = a->next)
        any = any || a->unstored;
    if (!any)
        return;
    if (lc_store_tx(s->store, opened_tx, &t) < 0) {
        if (!t.began)
            return;
        lc_log(LC_LOG_ERR, "cannot store that sessions went on air");
    }
    for (struct active *a = s->active; a; a = a->next)
        a->unstored = false;
}

struct prepare_tx {
    struct lc_scheduler *s;
    const char *commune;
    struct lc_bsession *x;
    json_t *prog;               /* out: the frozen programme (a reference) */
};

/* The row of x (materialised if needed) and its programme, frozen in it. */
static int prepare_tx(struct lc_store *store, void *arg)
{
    struct prepare_tx *t = arg;
    struct lc_bsession *x = t->x;
    if (x->id == 0 && materialise(store, t->commune, x) < 0)
        return -EIO;
    if (x->programme) {
        t->prog = json_incref(x->programme);
        return 0;
    }
    t->prog = lc_programme_build_for(store, t->s->gap_ms, t->commune, x);
    if (t->prog == NULL)
        return -EIO;
    return store_programme(store, x->id, t->prog);
}

/* Session x of commune is in its hold window or its window: row, frozen programme, PREPARE
 * (and OPEN when it was on air before a restart). */
static void prepare_session(struct lc_scheduler *s, const char *commune, struct lc_bsession *x,
                            int64_t now)
{
    struct prepare_tx t = {s, commune, x, NULL};
    if (lc_store_tx(s->store, prepare_tx, &t) < 0) {
        json_decref(t.prog);
        lc_log(LC_LOG_ERR, "%s: cannot prepare the session at %lld", commune, (long long)x->start);
        return;
    }
    struct active *a = lc_sched_active_new(x->id, commune, x->start * 1000, x->end * 1000, t.prog);
    json_decref(t.prog);
    if (a == NULL)
        return;
    a->emergency = strcmp(x->kind, "emergency") == 0;
    a->next = s->active;
    s->active = a;
    if (strcmp(x->status, "on_air") == 0) {
        int64_t aired = x->aired_at_ms ? x->aired_at_ms : now;
        int64_t from = aired - a->start_ms < LATE_RESTART_MS ? a->start_ms : aired;
        int64_t end = from + lc_sched_length_ms(a->programme);
        if (end > a->end_ms)
            end = a->end_ms;
        if (end <= now) {
            /* its programme ended while we were away: nothing to resume */
            set_status(s->store, a->id, "done", end);
            lc_sched_active_drop(s, a);
            return;
        }
        open_session(s, a, now, aired);
        return;
    }
    lc_sched_publish(s, LC_ONAIR_PREPARE, a, a->items, a->nitems, a->emergency);
}

/* ---- the timer ----------------------------------------------------------------------------- */

static void expire_bulletins(struct lc_scheduler *s, int64_t now)
{
    lc_bulletins_expire_due(s->store, now / 1000);
}

static void plan_commune(struct lc_scheduler *s, const char *commune, int64_t now, int64_t *next)
{
    struct lc_tz tz = lc_station_tz();
    struct lc_date today = lc_local_date(&tz, now / 1000);
    int64_t days = lc_days_from_civil(today);
    struct lc_bsessions l = {0};
    for (int64_t d = days - 1; d <= days + 1; d++)
        if (lc_sessions_of_day(s->store, commune, lc_civil_from_days(d), &l) < 0) {
            lc_log(LC_LOG_ERR, "%s: cannot read its sessions", commune);
            goto out;
        }
    const int64_t hold = (int64_t)s->hold_s * 1000;
    for (size_t i = 0; i < l.n; i++) {
        struct lc_bsession *x = &l.v[i];
        bool on_air = strcmp(x->status, "on_air") == 0;
        if (!on_air && strcmp(x->status, "scheduled") != 0)
            continue;
        if (x->id && lc_sched_find_active(s, x->id))
            continue;
        int64_t start = x->start * 1000, end = x->end * 1000;
        if (x->host != 0 || now >= end) {
            /* over while we were away (or an emergency inside a session we no longer run) */
            if (x->id)
                set_status(s->store, x->id, on_air ? "interrupted" : "missed", 0);
            continue;
        }
        if (now < start - hold) {
            if (start - hold < *next)
                *next = start - hold;
            continue;
        }
        prepare_session(s, commune, x, now);
    }
out:
    lc_bsessions_free(&l);
}

static void plan(struct lc_scheduler *s, int64_t now, int64_t *next)
{
    static const char sql[] = "SELECT id FROM communes WHERE retired_at IS NULL ORDER BY id";
    char (*ids)[65] = NULL;
    size_t n = 0, cap = 0;
    sqlite3_stmt *st = lc_store_stmt(s->store, sql);
    if (st == NULL)
        return;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char (*v)[65] = realloc(ids, cap * sizeof *v);
            if (v == NULL)
                break;
            ids = v;
        }
        snprintf(ids[n++], 65, "%s", lc_col_text(st, 0));
    }
    lc_store_done(st); /* a failed read is logged; planned again within a second */
    for (size_t i = 0; i < n; i++)
        plan_commune(s, ids[i], now, next);
    free(ids);
}

static void close_and_open(struct lc_scheduler *s, int64_t now)
{
    struct active *a, *nx;
    for (a = s->active; a; a = nx) {
        nx = a->next;
        if (a->on_air && now >= a->close_ms) {
            close_session(s, a, now);
        } else if (!a->on_air && now >= a->end_ms) {
            /* held back for its whole window (an emergency kept the commune busy) */
            set_status(s->store, a->id, "missed", 0);
            lc_sched_publish(s, LC_ONAIR_CLOSE, a, a->items, a->nitems, a->emergency);
            lc_sched_active_drop(s, a);
        }
    }
    for (a = s->active; a; a = a->next)
        if (!a->on_air && now >= a->start_ms && lc_sched_on_air_in(s, a->commune) == NULL)
            open_session(s, a, now, 0);
}

static void arm(struct lc_scheduler *s, int64_t next);

static void on_timer(uv_timer_t *t)
{
    struct lc_scheduler *s = t->data;
    int64_t now = lc_wall_ms();
    close_and_open(s, now);
    store_opened(s);
    int64_t next = now + MAX_SLEEP_MS;
    plan(s, now, &next);
    if (now >= s->next_expiry_check) {
        expire_bulletins(s, now);
        /* a failure is logged; tried again in a second */
        lc_airings_settle(s->store, now, (int64_t)s->catchup_s * 1000);
        s->next_expiry_check = now + 1000;
    }
    now = lc_wall_ms();
    close_and_open(s, now);
    store_opened(s);
    for (struct active *a = s->active; a; a = a->next) {
        int64_t at = a->on_air ? a->close_ms : a->start_ms;
        if (at < next)
            next = at;
    }
    arm(s, next);
}

static void arm(struct lc_scheduler *s, int64_t next)
{
    int64_t delay = next - lc_wall_ms();
    if (delay < 0)
        delay = 0;
    if (delay > MAX_SLEEP_MS)
        delay = MAX_SLEEP_MS;
    uv_update_time(s->loop);
    uv_timer_start(&s->timer, on_timer, (uint64_t)delay, 0);
}

/* ---- the next session (for the engine's 503 answers) ---------------------------------------- */

static int on_next(void *ctx, const char *commune, int64_t now_ms, int64_t *start_ms)
{
    struct lc_scheduler *s = ctx;
    struct lc_tz tz = lc_station_tz();
    int64_t today = lc_days_from_civil(lc_local_date(&tz, now_ms / 1000));
    for (int64_t d = today; d <= today + 7; d++) {
        struct lc_bsessions l = {0};
        int rc = lc_sessions_of_day(s->store, commune, lc_civil_from_days(d), &l);
        for (size_t i = 0; rc == 0 && i < l.n; i++)
            if (l.v[i].start * 1000 >= now_ms && strcmp(l.v[i].status, "scheduled") == 0) {
                *start_ms = l.v[i].start * 1000;
                lc_bsessions_free(&l);
                return 0;
            }
        lc_bsessions_free(&l);
        if (rc < 0)
            return rc;
    }
    return -ENOENT;
}

/* ---- life ---------------------------------------------------------------------------------- */

void lc_scheduler_poke(struct lc_scheduler *s)
{
    if (s && !s->stopped && !uv_is_closing((uv_handle_t *)&s->timer))
        uv_timer_start(&s->timer, on_timer, 0, 0);
}

int lc_scheduler_open(struct lc_scheduler **out, const struct lc_scheduler_deps *deps)
{
    struct lc_scheduler *s = calloc(1, sizeof *s);
    *out = NULL;
    if (s == NULL)
        return -ENOMEM;
    *s = (struct lc_scheduler){.loop = deps->loop, .store = deps->store, .onair = deps->onair,
                               .bulletins = deps->bulletins, .hold_s = deps->hold_s,
                               .gap_ms = deps->gap_ms, .catchup_s = deps->catchup_s};
    int rc = uv_timer_init(s->loop, &s->timer);
    if (rc < 0) {
        free(s);
        return rc;
    }
    s->timer.data = s;
    *out = s;
    return 0;
}

int lc_scheduler_start(struct lc_scheduler *s)
{
    if (s->stopped)
        return -ESHUTDOWN;
    lc_onair_set_next(s->onair, on_next, s);
    uv_timer_start(&s->timer, on_timer, 0, 0);
    return 0;
}

void lc_scheduler_stop(struct lc_scheduler *s)
{
    if (s == NULL || s->stopped)
        return;
    s->stopped = true;
    /* Receivers are let go; the rows stay on_air so that the next start resumes them. */
    for (struct active *a = s->active; a; a = a->next)
        if (a->on_air && a->host == 0)
            lc_sched_publish(s, LC_ONAIR_CLOSE, a, a->items, a->nitems, a->emergency);
    lc_onair_set_next(s->onair, NULL, NULL);
    lc_onair_set_spliced(s->onair, NULL, NULL);
    uv_timer_stop(&s->timer);
    uv_close((uv_handle_t *)&s->timer, NULL);
}

void lc_scheduler_free(struct lc_scheduler *s)
{
    if (s == NULL)
        return;
    lc_sched_actives_free(s);
    free(s);
}
