/*
 * server/selftest/selftest_internal.h — internal header of server/selftest/: the module's state
 * and what its files share (see selftest.h for the files and who calls whom). Loop thread only.
 */
#ifndef LC_SERVER_SELFTEST_INTERNAL_H
#define LC_SERVER_SELFTEST_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

struct lc_req;
struct lc_store;

#define LC_SELFTEST_TEXT_CHARS 300      /* a test is a few seconds: a sentence or two */
#define LC_SELFTEST_DEFAULT_TEXT \
    "Đây là buổi phát thử nghiệm hệ thống truyền thanh. Xin cảm ơn bà con."
#define LC_SELFTEST_TITLE "Phát thử nghiệm hệ thống"
#define LC_SELFTEST_PLAYED 0.9          /* a play counts when it lasted 90 % of the test */
#define LC_SELFTEST_GRACE_S 60          /* at start, an occurrence this recent is still run */

struct lc_selftest {
    /* from struct lc_selftest_deps */
    uv_loop_t *loop;
    struct lc_store *store;
    struct lc_scheduler *scheduler;
    struct lc_bulletins *bulletins;
    int hold_s, plays_wait_s;

    uv_timer_t timer;
    bool stopped;
    int64_t next_due;           /* the next scheduled run (Unix s), 0: none */
};

/* ---- the schedule (selftest_data.c) --------------------------------------------------------- */

struct lc_st_schedule {
    unsigned days;              /* bit 0 Monday .. bit 6 Sunday */
    int32_t time_s;             /* local seconds of the day (whole minutes) */
    char *text;                 /* owned */
    json_t *communes;           /* owned: ["*"] or ids */
    bool enabled;
    int64_t last_due;           /* the last occurrence started (Unix s) */
    bool stored;                /* false: the defaults (no row yet) */
};

/* Loads the schedule (the defaults when there is no row: every Monday at 08:00, the default
 * text, every commune, disabled). 0, -EIO or -ENOMEM. Free with lc_st_schedule_free(). */
int lc_st_schedule_load(struct lc_store *store, struct lc_st_schedule *out);
void lc_st_schedule_free(struct lc_st_schedule *sc);
/* Writes sc (not last_due, which is kept) by user, in the caller's transaction. 0 or -EIO. */
int lc_st_schedule_store(struct lc_store *store, const struct lc_st_schedule *sc,
                         const char *user);
/* Records that the occurrence due (Unix s) was started. 0 or -EIO. */
int lc_st_schedule_mark(struct lc_store *store, int64_t due);
/* The API form: {"days","time","text","communes","enabled","next_run"} (a new reference). */
json_t *lc_st_schedule_json(const struct lc_st_schedule *sc, int64_t next_due);
/* The next occurrence of sc's days and time at or after from (Unix s) and after sc->last_due;
 * 0 when sc is disabled. */
int64_t lc_st_next_due(const struct lc_st_schedule *sc, int64_t from);

/* Reads "communes" of body: ["*"] or a non-empty list of ids of communes in service. On error
 * answers (400 bad_field, 422 unknown commune) and returns -1; else *out gets a new reference,
 * without duplicates. */
int lc_st_read_communes(struct lc_req *req, struct lc_store *store, json_t *body, json_t **out);
/* The communes a list names now: ["*"] → every commune in service; ids → those still in
 * service. A new JSON array of ids, or NULL on a store failure. */
json_t *lc_st_expand_communes(struct lc_store *store, const json_t *communes);

/* ---- verdicts and the report (selftest_report.c) -------------------------------------------- */

/* Settles the tests whose session is over: judged (each cluster's verdict written) when the
 * accounting is final and plays_wait_s have passed since the session ended, `not_aired` when
 * it never went on air. now_ms: the wall clock. Returns how many still wait (> 0: call again
 * soon), or -EIO. */
int lc_st_settle(struct lc_store *store, int64_t now_ms, int plays_wait_s);
/* The broken clusters, by commune (the rows of GET report), as a new JSON array; NULL on a
 * store failure. */
json_t *lc_st_broken(struct lc_store *store, int64_t scope);
/* The last n runs with each commune's state, newest first; NULL on a store failure. */
json_t *lc_st_runs(struct lc_store *store, int n, int64_t scope);

/* ---- runs (selftest_run.c) ------------------------------------------------------------------ */

/* Starts a run of text in communes (["*"] or ids; borrowed) for user. With req (held until
 * then), the request is answered: 201 with the run, 422 if the text cannot be spoken, 503
 * shutting down, 500. Without (the weekly run), the outcome is logged. The text is rendered
 * first if no bulletin has it yet. */
void lc_st_run(struct lc_selftest *st, struct lc_req *req, const json_t *communes,
               const char *text, const char *user, bool scheduled);
/* The schedule changed: the next occurrence is read again and the timer re-armed. */
void lc_st_reschedule(struct lc_selftest *st);

#endif
