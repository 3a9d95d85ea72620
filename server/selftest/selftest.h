/*
 * server/selftest/selftest.h — the door of server/selftest/ (issue 18, point 3): the weekly
 * self-test of every commune's loudspeaker clusters and the broken-cluster report.
 *
 *   POST /api/v1/selftest {"communes":["*"]|ids, "text"?}   selftest_api.c  (admin, operator)
 *     → 201 {"run","bulletin","text","communes":[{"commune","session","start","end"} |
 *            {"commune","skipped","reason"}]}
 *   GET|PUT /api/v1/selftest/schedule                        selftest_api.c  (admin, operator)
 *     {"days":[1..7],"time":"HH:MM","text","communes":["*"]|ids,"enabled"} (+ "next_run" out)
 *   GET /api/v1/selftest/report[?format=csv]                 selftest_api.c  (admin, operator)
 *     → {"clusters":[{"cluster","cluster_name","commune","commune_name","failing_since",
 *        "last_test","reason","failed_tests"}], "runs":[...]}
 *
 * A run puts the test text (rendered once per text into a bulletin through the bulletins
 * module's door) on air in each target commune as a short session of its own, hold_s after the
 * request (the scheduler's door: lc_scheduler_selftest()); a commune on air, with a session
 * that the test would meet, or in its quiet hours is skipped with the reason. Once a test's
 * session is over, its accounting final and plays_wait_s more have passed, every cluster of
 * the commune is judged from what it was sent (`deliveries`, `delivery_bulletins`) and what it
 * reported playing (`plays`): not_connected, incomplete, not_played, or passed. The report
 * lists the clusters whose last verdict failed, with the first test of their current unbroken
 * run of failures. docs/schedules.md, "Self-test", says every rule.
 *
 * Tables: the module is the only writer of `selftest_schedule`, `selftest_texts`,
 * `selftest_runs`, `selftests` and `selftest_results` (migration 42); it reads `communes`,
 * `clusters`, `bulletins`, `broadcasts`, `deliveries`, `delivery_bulletins` and `plays`.
 * Everything runs on the loop thread; the one timer (the weekly run, the verdicts) is a
 * uv_timer of the module's own.
 *
 * Files, each calling only those below it (no circle):
 *   selftest_api.c     the routes' handlers
 *   selftest_run.c     runs (render, sessions), the timer, the module's life
 *   selftest_report.c  verdicts of the tests that are over; the report
 *   selftest_data.c    the schedule's row, its next occurrence, the target communes
 */
#ifndef LC_SERVER_SELFTEST_H
#define LC_SERVER_SELFTEST_H

#include <jansson.h>
#include <uv.h>

struct lc_store;
struct lc_router;
struct lc_scheduler;
struct lc_bulletins;
struct lc_selftest;

/* What the module uses; the handles are borrowed and must outlive it. */
struct lc_selftest_deps {
    uv_loop_t *loop;
    struct lc_store *store;
    struct lc_scheduler *scheduler;     /* the tests' sessions; quiet hours */
    struct lc_bulletins *bulletins;     /* the test text's render and bulletin */
    int hold_s;                         /* [schedules] hold_s: a test starts this long after
                                         * it was asked for, so polling receivers are held in */
    int plays_wait_s;                   /* [selftest] plays_wait_s: judged this long after the
                                         * test's accounting is final */
};

/* Creates the module (*out, freed by lc_selftest_free()) with its timer, not yet armed; routes
 * may be added from now on. deps is copied. 0 or -errno. */
int lc_selftest_open(struct lc_selftest **out, const struct lc_selftest_deps *deps);
/* Reads the schedule and arms the timer. 0 or -errno. */
int lc_selftest_start(struct lc_selftest *st);
/* Shutdown, step one: closes the timer; later runs are refused (503). NULL and twice are fine. */
void lc_selftest_stop(struct lc_selftest *st);
/* Step two, after the loop has run out: frees st. NULL is fine. */
void lc_selftest_free(struct lc_selftest *st);

/* Issue 19 (the map): the clusters in service whose last self-test failed, as a new array of
 * the report's rows ({"cluster","commune","failing_since","reason",...}); one statement. NULL
 * when the database cannot be read. */
json_t *lc_selftest_broken(struct lc_store *store);

/* Adds the routes above with st as their handle. st may be NULL when the table is only listed
 * (lc_server_print_routes). 0 or -ENOMEM. */
int lc_selftest_routes(struct lc_selftest *st, struct lc_router *r);

#endif
