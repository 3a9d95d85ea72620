/*
 * server/selftest/selftest_run.c — self-test runs, the module's timer and its life (see
 * selftest.h, selftest_internal.h).
 *
 * A run, asked for by staff (POST /api/v1/selftest) or by the weekly schedule:
 *   1. the text's bulletin: the one made of that text before (selftest_texts), if it is still
 *      approved with audio; else the text is rendered on the render pool (the request is held)
 *      and, back on the loop, becomes a bulletin through the bulletins module's door;
 *   2. in one transaction: the run's row; per target commune, the quiet hours (the scheduler's
 *      rules) and then the test's session (lc_scheduler_selftest: skipped when the commune is on
 *      air or busy), each commune's row (pending or skipped, with the reason); the audit entry.
 *      The sessions start hold_s after the request (receivers that poll are held in for the
 *      test's first second; every ≤ 30 s poll falls inside a hold of the default 60 s).
 *
 * The timer, one uv_timer on the loop, fires at the next weekly occurrence or within 30 s, and
 * every second while a test waits for its verdict (selftest_report.c settles it). Each firing
 * reads the wall clock again, so a clock step is noticed at the next one. An occurrence is
 * marked started (selftest_schedule.last_due) before its run, so a restart never repeats one; an
 * occurrence missed while the server was down is not made up, unless it is less than
 * LC_SELFTEST_GRACE_S old at start (a restart at that very minute).
 *
 * Ownership: a job (a run being made) owns its copies of the text and the communes, and holds
 * its request; it is freed when the run is answered, whatever the outcome. Loop thread only.
 */
#define LC_LOG_MODULE "selftest"
#include "server/selftest/selftest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "server/accounts/accounts.h"
#include "server/api/api.h"
#include "server/bulletins/bulletins.h"
#include "server/http/http.h"
#include "server/scheduler/scheduler.h"
#include "server/selftest/selftest_internal.h"
#include "server/store/store.h"

#define IDLE_MS 30000   /* the timer's longest sleep */
#define BUSY_MS 1000    /* while a test waits for its verdict */
#define WHY_LEN 256

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_timer(uv_timer_t *t);

/* ---- a run ---------------------------------------------------------------------------------- */

struct job {
    struct lc_selftest *st;
    struct lc_req *req;         /* held until answered; NULL: the weekly run */
    json_t *communes;           /* ids, expanded when the run was asked for (owned) */
    char *text;                 /* owned */
    char user[65];
    bool scheduled;
};

static void job_free(struct job *j)
{
    if (j->req)
        lc_req_release(j->req);
    json_decref(j->communes);
    free(j->text);
    free(j);
}

/* The outcome: the answer to the request, or a line of the log (the weekly run). */
static void job_fail(struct job *j, int status, const char *code, const char *what)
{
    if (j->req)
        lc_reply_error(j->req, status, code, "%s", what);
    else
        lc_log(LC_LOG_ERR, "the weekly self-test did not start: %s", what);
}

/* The bulletin made of text before, still approved with audio: 1 and *id, 0 (none), -EIO. */
static int text_bulletin(struct lc_store *store, const char *text, int64_t *id)
{
    static const char sql[] =
        "SELECT t.bulletin FROM selftest_texts t JOIN bulletins b ON b.id = t.bulletin"
        " WHERE t.text = ?1 AND b.status = 'approved' AND b.audio_hash IS NOT NULL";
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    if (lc_store_done(st) < 0)
        return -EIO;
    return step == SQLITE_ROW;
}

/* What one run writes, in one transaction (run_tx). */
struct run_tx {
    struct job *j;
    const struct lc_bulletin_selftest *made;    /* the rendered text; NULL: bulletin is known */
    int64_t bulletin, run, start;
    json_t *communes;                           /* out (owned): each commune's outcome */
};

static int insert_test(struct lc_store *store, int64_t run, const char *commune, int64_t session,
                       int64_t start, int64_t end, const char *skipped)
{
    static const char sql[] =
        "INSERT INTO selftests (run, commune, session, start_at, end_at, state, reason)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, run);
    sqlite3_bind_text(st, 2, commune, -1, SQLITE_TRANSIENT);
    if (!skipped) {
        sqlite3_bind_int64(st, 3, session);
        sqlite3_bind_int64(st, 4, start);
        sqlite3_bind_int64(st, 5, end);
    }
    sqlite3_bind_text(st, 6, skipped ? "skipped" : "pending", -1, SQLITE_STATIC);
    if (skipped)
        sqlite3_bind_text(st, 7, skipped, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    return step == SQLITE_DONE ? 0 : -EIO;
}

/* The run's row and the tests of its communes (see the top of the file). */
static int run_tx(struct lc_store *store, void *arg)
{
    static const char map[] = "INSERT OR REPLACE INTO selftest_texts (text, bulletin) VALUES (?1, ?2)";
    static const char dur[] = "SELECT coalesce(duration_s, 0) FROM bulletins WHERE id = ?1";
    static const char ins[] =
        "INSERT INTO selftest_runs (started_at, started_by, scheduled, bulletin)"
        " VALUES (?1, ?2, ?3, ?4)";
    struct run_tx *t = arg;
    struct job *j = t->j;
    struct lc_selftest *st = j->st;
    int rc, step;
    sqlite3_stmt *s;
    if (t->made != NULL) {
        if ((rc = lc_bulletin_create_selftest(store, t->made, &t->bulletin)) < 0)
            return rc;
        if ((s = lc_store_stmt(store, map)) == NULL)
            return -EIO;
        sqlite3_bind_text(s, 1, j->text, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 2, t->bulletin);
        step = sqlite3_step(s);
        sqlite3_reset(s);
        if (step != SQLITE_DONE)
            return -EIO;
    }
    if ((s = lc_store_stmt(store, dur)) == NULL)
        return -EIO;
    sqlite3_bind_int64(s, 1, t->bulletin);
    double seconds = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_double(s, 0) : 0;
    if (lc_store_done(s) < 0)
        return -EIO;
    int64_t now = lc_now();
    t->start = now + st->hold_s + 1;
    int64_t end = t->start + (int64_t)seconds + 2;  /* the scheduler's window, near enough */
    if ((s = lc_store_stmt(store, ins)) == NULL)
        return -EIO;
    sqlite3_bind_int64(s, 1, now);
    sqlite3_bind_text(s, 2, j->user, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 3, j->scheduled);
    sqlite3_bind_int64(s, 4, t->bulletin);
    step = sqlite3_step(s);
    sqlite3_reset(s);
    if (step != SQLITE_DONE)
        return -EIO;
    t->run = lc_store_last_id(store);
    size_t i;
    json_t *c;
    json_array_foreach(j->communes, i, c) {
        const char *commune = json_string_value(c);
        char why[WHY_LEN], skipped[WHY_LEN + 32];
        int64_t session = 0, end_s = 0;
        rc = lc_scheduler_quiet(st->scheduler, commune, t->start, end, why, sizeof why);
        if (rc < 0)
            return rc;
        if (rc > 0) {
            snprintf(skipped, sizeof skipped, "%s", why);   /* it names the quiet hours */
        } else {
            rc = lc_scheduler_selftest(st->scheduler, commune, t->bulletin, t->start, j->user,
                                       &session, &end_s, why, sizeof why);
            if (rc < 0)
                return rc;
            snprintf(skipped, sizeof skipped, "%s", why);
        }
        json_t *o = rc > 0 ? json_pack("{s:s,s:b,s:s}", "commune", commune, "skipped", 1,
                                       "reason", skipped)
                           : json_pack("{s:s,s:I,s:o,s:o}", "commune", commune, "session",
                                       (json_int_t)session, "start", lc_time_json(t->start),
                                       "end", lc_time_json(end_s));
        if (o == NULL || json_array_append_new(t->communes, o) < 0)
            return -ENOMEM;
        if (insert_test(store, t->run, commune, session, t->start, end_s,
                        rc > 0 ? skipped : NULL) < 0)
            return -EIO;
    }
    char target[32];
    snprintf(target, sizeof target, "%lld", (long long)t->run);
    return lc_audit(store, j->req, j->req ? NULL : "system", "selftest_run", target,
                    json_pack("{s:I,s:b,s:O}", "bulletin", (json_int_t)t->bulletin, "scheduled",
                              j->scheduled, "communes", t->communes));
}

/* The bulletin is known (or made): the run, in one transaction, then the answer. */
static void go_on_air(struct job *j, int64_t bulletin, const struct lc_bulletin_selftest *made)
{
    struct lc_selftest *st = j->st;
    struct run_tx t = {.j = j, .made = made, .bulletin = bulletin, .communes = json_array()};
    int rc = st->stopped ? -ESHUTDOWN : t.communes ? lc_store_tx(st->store, run_tx, &t) : -ENOMEM;
    if (rc == -ESHUTDOWN) {
        job_fail(j, 503, "shutting_down", "the server is shutting down");
    } else if (rc < 0) {
        lc_log(LC_LOG_ERR, "self-test: the run could not be stored (%d)", rc);
        job_fail(j, 500, "internal", "the self-test could not be stored");
    } else {
        size_t on = 0, i;
        json_t *c;
        json_array_foreach(t.communes, i, c)
            on += json_object_get(c, "session") != NULL;
        lc_log(LC_LOG_INFO, "self-test %lld (%s, bulletin %lld): on air in %zu of %zu commune(s)"
               " at %lld", (long long)t.run, j->user, (long long)t.bulletin, on,
               json_array_size(t.communes), (long long)t.start);
        if (j->req)
            lc_reply_json(j->req, 201,
                          json_pack("{s:I,s:I,s:s,s:o,s:O}", "run", (json_int_t)t.run,
                                    "bulletin", (json_int_t)t.bulletin, "text", j->text,
                                    "start", lc_time_json(t.start), "communes", t.communes));
        /* its verdict is waited for every second from now on */
        if (!st->stopped)
            uv_timer_start(&st->timer, on_timer, BUSY_MS, 0);
    }
    json_decref(t.communes);
}

static void on_rendered(const struct lc_render_out *out, int cancelled, void *arg)
{
    struct job *j = arg;
    if (cancelled) {
        job_fail(j, 503, "shutting_down", "the server is shutting down");
    } else if (out->rc < 0) {
        char what[300];
        snprintf(what, sizeof what, "the text cannot be spoken: %s", lc_err_msg(out->err));
        job_fail(j, 422, "invalid", what);
    } else {
        struct lc_bulletin_selftest b = {
            .title = LC_SELFTEST_TITLE, .text = j->text, .voice = "vi", .hash = out->hash,
            .media_hash = out->media_hash, .bytes = out->bytes, .duration_s = out->duration_s,
            .user = j->user};
        go_on_air(j, 0, &b);
    }
    job_free(j);
}

void lc_st_run(struct lc_selftest *st, struct lc_req *req, const json_t *communes,
               const char *text, const char *user, bool scheduled)
{
    struct job *j = calloc(1, sizeof *j);
    if (j == NULL) {
        if (req)
            lc_reply_internal(req, "selftest: memory");
        return;
    }
    j->st = st;
    j->scheduled = scheduled;
    snprintf(j->user, sizeof j->user, "%s", user);
    if (req) {
        lc_req_hold(req);
        j->req = req;
    }
    int64_t bulletin = 0;
    int rc;
    if (st->stopped) {
        job_fail(j, 503, "shutting_down", "the server is shutting down");
        goto out;
    }
    if ((j->text = strdup(text)) == NULL ||
        (j->communes = lc_st_expand_communes(st->store, communes)) == NULL) {
        job_fail(j, 500, "internal", "the communes cannot be read");
        goto out;
    }
    if (json_array_size(j->communes) == 0) {
        job_fail(j, 422, "invalid", "there is no commune in service to test");
        goto out;
    }
    if ((rc = text_bulletin(st->store, text, &bulletin)) < 0) {
        job_fail(j, 500, "internal", "the test's bulletin cannot be read");
        goto out;
    }
    if (rc > 0) {
        go_on_air(j, bulletin, NULL);
        goto out;
    }
    struct lc_render_in in = {.title = LC_SELFTEST_TITLE, .text = j->text, .voice = "vi"};
    rc = lc_bulletins_render(st->bulletins, &in, false, on_rendered, j);
    if (rc == 0)
        return;     /* on_rendered answers and frees j */
    if (rc == -ESHUTDOWN)
        job_fail(j, 503, "shutting_down", "the server is shutting down");
    else
        job_fail(j, 500, "internal", "the text cannot be rendered: out of memory");
out:
    job_free(j);
}

/* ---- the timer ------------------------------------------------------------------------------ */

static void arm(struct lc_selftest *st, bool busy)
{
    if (st->stopped)
        return;
    int64_t delay = busy ? BUSY_MS : IDLE_MS;
    if (st->next_due) {
        int64_t until = st->next_due * 1000 - wall_ms();
        if (until < delay)
            delay = until < 0 ? 0 : until;
    }
    uv_update_time(st->loop);
    uv_timer_start(&st->timer, on_timer, (uint64_t)delay, 0);
}

/* The occurrence due has come: marked started, then run (or, disabled meanwhile, nothing). */
static void weekly_run(struct lc_selftest *st, int64_t now_s)
{
    struct lc_st_schedule sc;
    int64_t due = st->next_due;
    if (lc_st_schedule_load(st->store, &sc) < 0) {
        lc_log(LC_LOG_ERR, "the self-test schedule cannot be read; tried again soon");
        return;
    }
    if (sc.enabled && lc_st_schedule_mark(st->store, due) == 0) {
        sc.last_due = due;
        lc_log(LC_LOG_INFO, "the weekly self-test is due (%lld)", (long long)due);
        lc_st_run(st, NULL, sc.communes, sc.text, "system", true);
    } else if (sc.enabled) {
        lc_log(LC_LOG_ERR, "the weekly self-test cannot be marked started; tried again soon");
        lc_st_schedule_free(&sc);
        return;
    }
    st->next_due = lc_st_next_due(&sc, now_s + 1);
    lc_st_schedule_free(&sc);
}

static void on_timer(uv_timer_t *t)
{
    struct lc_selftest *st = t->data;
    int64_t now = wall_ms();
    int waiting = lc_st_settle(st->store, now, st->plays_wait_s);   /* failures: logged */
    if (st->next_due && now >= st->next_due * 1000)
        weekly_run(st, now / 1000);
    arm(st, waiting != 0);
}

void lc_st_reschedule(struct lc_selftest *st)
{
    struct lc_st_schedule sc;
    if (st->stopped || lc_st_schedule_load(st->store, &sc) < 0)
        return;
    st->next_due = lc_st_next_due(&sc, lc_now());
    lc_st_schedule_free(&sc);
    uv_timer_start(&st->timer, on_timer, 0, 0);
}

/* ---- life ----------------------------------------------------------------------------------- */

int lc_selftest_open(struct lc_selftest **out, const struct lc_selftest_deps *deps)
{
    struct lc_selftest *st = calloc(1, sizeof *st);
    *out = NULL;
    if (st == NULL)
        return -ENOMEM;
    *st = (struct lc_selftest){.loop = deps->loop, .store = deps->store,
                               .scheduler = deps->scheduler, .bulletins = deps->bulletins,
                               .hold_s = deps->hold_s, .plays_wait_s = deps->plays_wait_s};
    int rc = uv_timer_init(st->loop, &st->timer);
    if (rc < 0) {
        free(st);
        return rc;
    }
    st->timer.data = st;
    *out = st;
    return 0;
}

int lc_selftest_start(struct lc_selftest *st)
{
    struct lc_st_schedule sc;
    if (st->stopped)
        return -ESHUTDOWN;
    int rc = lc_st_schedule_load(st->store, &sc);
    if (rc < 0)
        return rc;
    st->next_due = lc_st_next_due(&sc, lc_now() - LC_SELFTEST_GRACE_S);
    lc_st_schedule_free(&sc);
    uv_timer_start(&st->timer, on_timer, 0, 0);
    return 0;
}

void lc_selftest_stop(struct lc_selftest *st)
{
    if (st == NULL || st->stopped)
        return;
    st->stopped = true;
    uv_timer_stop(&st->timer);
    uv_close((uv_handle_t *)&st->timer, NULL);
}

void lc_selftest_free(struct lc_selftest *st)
{
    free(st);
}
