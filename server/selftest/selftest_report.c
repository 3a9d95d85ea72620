/*
 * server/selftest/selftest_report.c — the verdicts of the self-tests that are over, and the
 * broken-cluster report; see selftest_internal.h. Loop thread only; calls no other file of the
 * module.
 *
 * When a test is judged. Its session must be `done` with its accounting final: the scheduler
 * counts a session's airings (broadcasts.airings_counted, server/scheduler/airings.c) only once
 * it ended a few seconds ago and the stream wrote its last delivery batch. Then plays_wait_s
 * more, for receivers that store to report what they played. A session that never went on air
 * (missed: the server was down; interrupted: it stopped during the test) judges nobody: the
 * test is `not_aired` and every cluster keeps its state.
 *
 * A cluster's verdict, for the test's session S and bulletin B (clusters of the commune in
 * service and registered before the test):
 *
 *   it reported a play of B in S of at least 90 % of B's length     → passed
 *   it reported a shorter play of B in S                             → not_played
 *   no delivery row for S (it never connected to the stream)         → not_connected
 *   B is not among the bulletins S sent it whole                     → incomplete
 *   it reports plays (any play received in the last 30 days), none   → not_played
 *   otherwise                                                         → passed
 *
 * "Failing since" is read from the verdicts: the first test after the cluster's last pass.
 */
#define LC_LOG_MODULE "selftest"
#include "server/selftest/selftest_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "server/api/api.h"
#include "server/org/org.h"
#include "server/selftest/selftest.h"
#include "server/store/store.h"

#define BATCH 32
#define REPORTS_PLAYS_S (30 * 86400)

/* A reason's code in plain Vietnamese words (the CSV's reason_text; the console has its own). */
static const char *reason_words(const char *code)
{
    if (strcmp(code, "not_connected") == 0)
        return "Không kết nối trong buổi phát thử";
    if (strcmp(code, "incomplete") == 0)
        return "Không nhận đủ bản tin phát thử";
    if (strcmp(code, "not_played") == 0)
        return "Nhận được nhưng không phát ra loa";
    return code;
}

/* ---- verdicts ------------------------------------------------------------------------------- */

struct judge_tx {
    int64_t run, session, bulletin, start_at, now;
    const char *commune;
    int passed, failed;
};

static int judge_tx(struct lc_store *store, void *arg)
{
    static const char clusters[] =
        "SELECT c.id,"
        " EXISTS (SELECT 1 FROM deliveries d WHERE d.session = ?2 AND d.cluster = c.id),"
        " EXISTS (SELECT 1 FROM delivery_bulletins x WHERE x.session = ?2 AND x.cluster = c.id"
        "         AND x.bulletin = ?3),"
        " EXISTS (SELECT 1 FROM plays p WHERE p.cluster = c.id AND p.received_at >= ?4),"
        " (SELECT max(p.played_s) FROM plays p WHERE p.session = ?2 AND p.cluster = c.id"
        "  AND p.bulletin = ?3),"
        " (SELECT coalesce(duration_s, 0) FROM bulletins WHERE id = ?3)"
        " FROM clusters c WHERE c.commune = ?1 AND c.retired_at IS NULL AND c.created_at <= ?5"
        " ORDER BY c.id";
    static const char ins[] =
        "INSERT OR REPLACE INTO selftest_results (cluster, run, commune, at, ok, reason)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    static const char done[] =
        "UPDATE selftests SET state = 'judged', settled_at = ?3 WHERE run = ?1 AND commune = ?2";
    struct judge_tx *t = arg;
    struct verdict {
        char cluster[65];
        const char *reason;     /* static; NULL: passed */
    } *v = NULL;
    size_t n = 0, cap = 0;
    int rc = -EIO, step;
    sqlite3_stmt *st = lc_store_stmt(store, clusters);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, t->commune, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, t->session);
    sqlite3_bind_int64(st, 3, t->bulletin);
    sqlite3_bind_int64(st, 4, t->start_at - REPORTS_PLAYS_S);
    sqlite3_bind_int64(st, 5, t->start_at);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct verdict *g = lc_grow(v, n, &cap, sizeof *v, 16);
        if (g == NULL) {
            sqlite3_reset(st);
            rc = -ENOMEM;
            goto out;
        }
        v = g;
        bool connected = sqlite3_column_int(st, 1), whole = sqlite3_column_int(st, 2);
        bool reports = sqlite3_column_int(st, 3), played_any = !lc_col_is_null(st, 4);
        double played = sqlite3_column_double(st, 4), len = sqlite3_column_double(st, 5);
        const char *reason = NULL;
        if (played_any && played >= LC_SELFTEST_PLAYED * len)
            reason = NULL;
        else if (played_any)
            reason = "not_played";
        else if (!connected)
            reason = "not_connected";
        else if (!whole)
            reason = "incomplete";
        else if (reports)
            reason = "not_played";
        snprintf(v[n].cluster, sizeof v[n].cluster, "%s", lc_col_text(st, 0));
        v[n++].reason = reason;
    }
    if (lc_store_done(st) < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if ((st = lc_store_stmt(store, ins)) == NULL)
            goto out;
        sqlite3_bind_text(st, 1, v[i].cluster, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, t->run);
        sqlite3_bind_text(st, 3, t->commune, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, t->start_at);
        sqlite3_bind_int(st, 5, v[i].reason == NULL);
        if (v[i].reason)
            sqlite3_bind_text(st, 6, v[i].reason, -1, SQLITE_STATIC);
        step = sqlite3_step(st);
        sqlite3_reset(st);
        if (step != SQLITE_DONE)
            goto out;
        if (v[i].reason)
            t->failed++;
        else
            t->passed++;
    }
    if ((st = lc_store_stmt(store, done)) == NULL)
        goto out;
    sqlite3_bind_int64(st, 1, t->run);
    sqlite3_bind_text(st, 2, t->commune, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, t->now);
    step = sqlite3_step(st);
    sqlite3_reset(st);
    rc = step == SQLITE_DONE ? 0 : -EIO;
out:
    free(v);
    return rc;
}

static int not_aired(struct lc_store *store, int64_t run, const char *commune, int64_t now,
                     const char *why)
{
    static const char sql[] =
        "UPDATE selftests SET state = 'not_aired', reason = ?3, settled_at = ?4"
        " WHERE run = ?1 AND commune = ?2";
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, run);
    sqlite3_bind_text(st, 2, commune, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, why, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    lc_log(LC_LOG_WARN, "self-test %lld in %s judges nobody: %s", (long long)run, commune, why);
    return step == SQLITE_DONE ? 0 : -EIO;
}

int lc_st_settle(struct lc_store *store, int64_t now_ms, int plays_wait_s)
{
    static const char sql[] =
        "SELECT t.run, t.commune, t.session, coalesce(t.start_at, 0), r.bulletin, b.id IS NULL,"
        " coalesce(b.status, ''), coalesce(b.airings_counted, 0), coalesce(b.aired_at_ms, 0),"
        " coalesce(b.ended_at_ms, b.end_at * 1000, 0)"
        " FROM selftests t JOIN selftest_runs r ON r.id = t.run"
        " LEFT JOIN broadcasts b ON b.id = t.session"
        " WHERE t.state = 'pending' ORDER BY t.run, t.commune LIMIT 32";
    struct {
        struct judge_tx t;
        char commune[65];
        const char *why;    /* not aired: why; NULL: judge */
    } due[BATCH];
    int n = 0, waiting = 0, step;
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL)
        return -EIO;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *status = lc_col_text(st, 6);
        const char *why = NULL;
        if (sqlite3_column_int(st, 5))
            why = "its session is gone (the commune was deleted)";
        else if (!sqlite3_column_int(st, 7)) {
            waiting++;      /* not over, or its accounting not final yet */
            continue;
        } else if (strcmp(status, "missed") == 0 || sqlite3_column_int64(st, 8) == 0)
            why = "its session never went on air (the server was not running)";
        else if (strcmp(status, "done") != 0)
            why = "its session was interrupted (the server stopped during the test)";
        else if (now_ms < sqlite3_column_int64(st, 9) + (int64_t)plays_wait_s * 1000) {
            waiting++;      /* receivers that store may still report their plays */
            continue;
        }
        due[n].t = (struct judge_tx){.run = sqlite3_column_int64(st, 0),
                                     .session = sqlite3_column_int64(st, 2),
                                     .start_at = sqlite3_column_int64(st, 3),
                                     .bulletin = sqlite3_column_int64(st, 4),
                                     .now = now_ms / 1000};
        snprintf(due[n].commune, sizeof due[n].commune, "%s", lc_col_text(st, 1));
        due[n].why = why;
        n++;
    }
    if (lc_store_done(st) < 0)
        return -EIO;
    for (int i = 0; i < n; i++) {
        struct judge_tx *t = &due[i].t;
        t->commune = due[i].commune;
        int rc = due[i].why ? not_aired(store, t->run, t->commune, t->now, due[i].why)
                            : lc_store_tx(store, judge_tx, t);
        if (rc < 0) {
            lc_log(LC_LOG_ERR, "self-test %lld in %s: cannot store its verdicts",
                   (long long)t->run, t->commune);
            return -EIO;
        }
        if (!due[i].why)
            lc_log(LC_LOG_INFO, "self-test %lld in %s: %d cluster(s) passed, %d failed",
                   (long long)t->run, t->commune, t->passed, t->failed);
    }
    return waiting + (n == BATCH);
}

/* ---- the report ----------------------------------------------------------------------------- */

json_t *lc_st_broken(struct lc_store *store, int64_t scope)
{
    /* the last verdict of each cluster in service; failing: since the first test after its
     * last pass */
    static const char sql[] =
        "SELECT r.cluster, c.name, r.commune, coalesce(k.name, r.commune), r.reason, r.at,"
        " (SELECT min(x.at) FROM selftest_results x WHERE x.cluster = r.cluster AND x.run >"
        "   coalesce((SELECT max(y.run) FROM selftest_results y WHERE y.cluster = r.cluster"
        "             AND y.ok = 1), 0)),"
        " (SELECT count(*) FROM selftest_results x WHERE x.cluster = r.cluster AND x.run >"
        "   coalesce((SELECT max(y.run) FROM selftest_results y WHERE y.cluster = r.cluster"
        "             AND y.ok = 1), 0))"
        " FROM selftest_results r JOIN clusters c ON c.id = r.cluster AND c.retired_at IS NULL"
        " LEFT JOIN communes k ON k.id = r.commune"
        " WHERE r.ok = 0 AND r.run = (SELECT max(z.run) FROM selftest_results z"
        "                             WHERE z.cluster = r.cluster)"
        "   AND r.commune IN " LC_SCOPE_COMMUNES
        " ORDER BY r.commune, r.cluster";
    json_t *out = json_array();
    sqlite3_stmt *st = out ? lc_store_stmt(store, sql) : NULL;
    if (st == NULL) {
        json_decref(out);
        return NULL;
    }
    lc_store_bind_scope(st, scope);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *reason = lc_col_text(st, 4);
        json_array_append_new(
            out, json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:s,s:s,s:I}", "cluster", lc_col_text(st, 0),
                           "cluster_name", lc_col_text(st, 1), "commune", lc_col_text(st, 2),
                           "commune_name", lc_col_text(st, 3), "failing_since",
                           lc_time_json(sqlite3_column_int64(st, 6)), "last_test",
                           lc_time_json(sqlite3_column_int64(st, 5)), "reason", reason,
                           "reason_text", reason_words(reason), "failed_tests",
                           (json_int_t)sqlite3_column_int64(st, 7)));
    }
    if (lc_store_done(st) < 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

json_t *lc_selftest_broken(struct lc_store *store)     /* the door's name (selftest.h) */
{
    return lc_st_broken(store, 0);
}

/* The communes of run: [{"commune","session","start","state","reason","passed","failed"}]. */
static json_t *run_communes(struct lc_store *store, int64_t run, int64_t scope)
{
    static const char sql[] =
        "SELECT t.commune, t.session, t.start_at, t.state, t.reason,"
        " (SELECT count(*) FROM selftest_results x WHERE x.run = t.run AND x.commune = t.commune"
        "  AND x.ok = 1),"
        " (SELECT count(*) FROM selftest_results x WHERE x.run = t.run AND x.commune = t.commune"
        "  AND x.ok = 0)"
        " FROM selftests t WHERE t.run = ?1 AND t.commune IN " LC_SCOPE_COMMUNES
        " ORDER BY t.commune";
    json_t *out = json_array();
    sqlite3_stmt *st = out ? lc_store_stmt(store, sql) : NULL;
    if (st == NULL) {
        json_decref(out);
        return NULL;
    }
    sqlite3_bind_int64(st, 1, run);
    lc_store_bind_scope(st, scope);
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_array_append_new(
            out, json_pack("{s:s,s:o,s:o,s:s,s:o,s:I,s:I}", "commune", lc_col_text(st, 0),
                           "session", lc_col_is_null(st, 1) ? json_null()
                                                            : json_integer(sqlite3_column_int64(st, 1)),
                           "start", lc_col_is_null(st, 2) ? json_null()
                                                          : lc_time_json(sqlite3_column_int64(st, 2)),
                           "state", lc_col_text(st, 3),
                           "reason", lc_col_is_null(st, 4) ? json_null() : json_string(lc_col_text(st, 4)),
                           "passed", (json_int_t)sqlite3_column_int64(st, 5),
                           "failed", (json_int_t)sqlite3_column_int64(st, 6)));
    }
    if (lc_store_done(st) < 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

json_t *lc_st_runs(struct lc_store *store, int n, int64_t scope)
{
    static const char sql[] =
        "SELECT id, started_at, started_by, scheduled, bulletin FROM selftest_runs"
        " ORDER BY id DESC LIMIT ?1";
    struct {
        int64_t id, at, bulletin;
        char by[65];
        bool scheduled;
    } runs[20];
    int k = 0;
    if (n > 20)
        n = 20;
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL)
        return NULL;
    sqlite3_bind_int(st, 1, n);
    while (k < n && sqlite3_step(st) == SQLITE_ROW) {
        runs[k].id = sqlite3_column_int64(st, 0);
        runs[k].at = sqlite3_column_int64(st, 1);
        snprintf(runs[k].by, sizeof runs[k].by, "%s", lc_col_text(st, 2));
        runs[k].scheduled = sqlite3_column_int(st, 3) != 0;
        runs[k].bulletin = sqlite3_column_int64(st, 4);
        k++;
    }
    if (lc_store_done(st) < 0)
        return NULL;
    json_t *out = json_array();
    for (int i = 0; out && i < k; i++) {
        json_t *c = run_communes(store, runs[i].id, scope);
        if (c == NULL) {
            json_decref(out);
            return NULL;
        }
        if (json_array_size(c) == 0 && scope != 0) {    /* a run of none of the caller's */
            json_decref(c);
            continue;
        }
        json_array_append_new(out, json_pack("{s:I,s:o,s:s,s:b,s:I,s:o}", "run",
                                             (json_int_t)runs[i].id, "started_at",
                                             lc_time_json(runs[i].at), "started_by", runs[i].by,
                                             "scheduled", runs[i].scheduled, "bulletin",
                                             (json_int_t)runs[i].bulletin, "communes", c));
    }
    return out;
}
