/*
 * server/scheduler/scheduler.h — the door of server/scheduler/ (issue 5): slots and sessions of
 * communes, their programmes, the timer that puts sessions on air, emergencies. Other modules
 * include this header only; it brings the on-air events (onair.h) with it.
 *
 *   GET|PUT /api/v1/communes/{id}/slots        slots_api.c     (PUT: admin, operator)
 *   POST /api/v1/communes/{id}/sessions        sessions_api.c  (admin, operator)
 *   GET /api/v1/communes/{id}/programme?date=  sessions_api.c  (every staff role)
 *   POST /api/v1/emergency                     emergency.c     (admin, approver)
 *   GET /api/v1/emergency/{bulletin}           emergency_report.c  (admin, approver, operator)
 *   POST /api/v1/emergency/preview             emergency_preview.c (admin, approver; issue 20)
 *   GET /api/v1/onair                          onair_api.c     (every staff role; issue 20)
 *   GET|PUT /api/v1/rules, /communes/{id}/rules rules_api.c     (admin, operator)
 *
 * The scheduler (scheduler.c) owns one uv_timer on the loop. It publishes on deps.onair
 * (onair.h): PREPARE at start − hold_s (the programme is frozen then and kept in the database),
 * OPEN at the start, INTERRUPT for an emergency in a commune on air, CLOSE when the programme
 * ended or the window closed. Everything runs on the loop thread.
 *
 * Tables: the module is the only code that writes `broadcasts`, `slots`, `bulletin_airings` and
 * `rules`.
 * The schema adds two effects of other modules' writes (migration 10, shipped): a new commune gets
 * the two default slots (a trigger), and deleting a commune or a bulletin cascades to these rows.
 * The module reads `communes` and `bulletins`; a bulletin's status changes (done, expired) and
 * an emergency's bulletin and render go through the bulletins module's door.
 *
 * Files, each calling only those below it (no circle):
 *   routes.c                          lc_scheduler_routes(): the module's route table
 *   slots_api.c, sessions_api.c       handlers (ctx = the scheduler)
 *   rules_api.c                       the broadcast rules' routes
 *   rules_check.c                     slots and sessions against the rules (lc_scheduler_quiet)
 *   emergency.c                       POST /api/v1/emergency (lc_scheduler_emergency());
 *                                     lc_scheduler_emergency_text() for other modules
 *   emergency_report.c                GET /api/v1/emergency/{bulletin}: where it arrived
 *   emergency_preview.c               an emergency's text spoken, sent nowhere (bulletins' door)
 *   onair_api.c                       every commune on air now (actives, the engine's counts)
 *   scheduler_emergency.c             emergencies: INTERRUPT, or a session of their own
 *   scheduler.c                       the timer: plan, prepare, open, close; open/start/stop/free
 *   scheduler_active.c                the sessions followed (actives), publishing on onair
 *   programme_data.c                  slots, sessions, candidates from the store; programmes
 *   rules_store.c                     the rules in JSON and in the `rules` table
 *   onair.c                           the publish/subscribe hub
 */
#ifndef LC_SERVER_SCHEDULER_H
#define LC_SERVER_SCHEDULER_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "server/scheduler/onair.h"

struct lc_router;
struct lc_store;
struct lc_scheduler;
struct lc_bulletins;

/* What the scheduler uses; the handles are borrowed and must outlive it. */
struct lc_scheduler_deps {
    uv_loop_t *loop;
    struct lc_store *store;
    struct lc_onair *onair;     /* events are published here; the next-session provider too */
    struct lc_bulletins *bulletins; /* emergencies: their text's render and their bulletin */
    int hold_s;                 /* receivers are held this long before a session (PREPARE) */
    int gap_ms;                 /* silence between the items of a programme */
    int catchup_s;              /* the stream sends an emergency from its start to receivers
                                 * joining this long after it began: its airing is counted, and
                                 * its report final, only after that */
};

/* Creates the scheduler (*out, owned by the caller: lc_scheduler_free()) with its timer, not yet
 * armed; routes may be added from now on. deps is copied. 0 or -errno. */
int lc_scheduler_open(struct lc_scheduler **out, const struct lc_scheduler_deps *deps);

/* Registers the next-session provider on deps.onair and arms the timer. Its first firing tidies
 * what a previous run left (sessions on air past their end → interrupted, never aired →
 * missed); a session that was on air resumes at its offset. 0 or -errno. */
int lc_scheduler_start(struct lc_scheduler *s);

/* Shutdown, step one: publishes CLOSE for the sessions on air (they stay `on_air` in the
 * database, so that the next start resumes them), unregisters the provider and closes the timer.
 * Later calls, and emergencies, are refused (-ESHUTDOWN). NULL and a second call are fine. */
void lc_scheduler_stop(struct lc_scheduler *s);

/* Step two, after the loop has run out (the timer handle closed): frees s. NULL is fine. */
void lc_scheduler_free(struct lc_scheduler *s);

/* Slots, sessions or bulletins changed: plan again at once (on the next loop iteration). */
void lc_scheduler_poke(struct lc_scheduler *s);

/* The sessions of commune a receiver must know of (SPEC "Receivers that store"): those on air
 * and those not over that start before until_s, in start order, as a new JSON array
 * [{"id" (null while a slot's session has no row yet),"start","end" (Unix s),"kind","status",
 *   "items":[{"bulletin","title","audio" (<sha256>.opus),"offset_ms","duration_ms"}]}]:
 * programmes as frozen, the others as they would be built now (each counting its airings for
 * the next). NULL when the store cannot be read. */
json_t *lc_scheduler_ahead(struct lc_scheduler *s, const char *commune, int64_t now_ms,
                           int64_t until_s);

/* Whether [start_s, end_s) of commune falls in its quiet hours (its broadcast rules, or the
 * defaults): 1 with why in plain words, 0 if not, or -EIO. */
int lc_scheduler_quiet(struct lc_scheduler *s, const char *commune, int64_t start_s, int64_t end_s,
                       char *why, size_t whylen);

/* Registers the module's routes (the table above); their handlers get s as their ctx. 0 or
 * -ENOMEM. s may be NULL when the table is only listed (lc_server_print_routes). */
int lc_scheduler_routes(struct lc_scheduler *s, struct lc_router *r);

/* ---- an emergency for another module (emergency.c; CAP alerts, server/alerts/) ------------- */

struct lc_req;

/* How an emergency ended. rc 0: on air (bulletin, on_air_at_ms, sessions); rc < 0: nothing was
 * written, status (0 when in_tx refused: rc is its return), code and message say why. */
struct lc_emergency_result {
    int rc;
    int status;                 /* 422 the text cannot be spoken, 503 shutting down, 500 */
    const char *code;           /* "invalid", "shutting_down", "internal" (API error codes) */
    char message[300];
    int64_t bulletin;
    int64_t on_air_at_ms;
    json_t *sessions;           /* [{"commune","session","interrupted"}]; borrowed for the call */
};
typedef void (*lc_emergency_done_cb)(const struct lc_emergency_result *r, void *ctx);
/* Runs inside the emergency's transaction after its writes (bulletin is the emergency's): the
 * caller's own writes, so that both are there or neither. A negative return rolls back all. */
typedef int (*lc_emergency_tx_cb)(struct lc_store *store, int64_t bulletin, void *ctx);

struct lc_emergency_text {
    const char *text;               /* UTF-8, not empty; copied */
    const char *title, *voice;      /* NULL: "Thông báo khẩn cấp", "vi"; copied */
    const char (*communes)[65];     /* ids of communes in service, checked by the caller; copied */
    size_t n;                       /* > 0 */
    bool all;                       /* the list is every commune (["*"]) */
    const char *user;               /* who starts it: its bulletin's author and approver */
    struct lc_req *req;             /* the audit entry's request (address), or NULL; kept valid
                                     * (lc_req_hold) by the caller until done */
    lc_emergency_tx_cb in_tx;       /* NULL, or the caller's writes (above) */
    lc_emergency_done_cb done;
    void *ctx;                      /* in_tx's and done's */
};

/* What POST /api/v1/emergency does with {"text","communes"}: renders the text ahead of every
 * waiting render, then in one transaction its bulletin, an emergency session (or INTERRUPT) in
 * each commune, the audit entry "emergency" and in_tx; publishes the events; then done(result,
 * ctx) on the loop, exactly once. 0, or -EINVAL / -ENOMEM / -ESHUTDOWN (done will not run). */
int lc_scheduler_emergency_text(struct lc_scheduler *s, const struct lc_emergency_text *in);

/* ---- self-tests (scheduler_selftest.c; the caller is server/selftest/) ---------------------- */

/* A self-test's session in commune: an `adhoc` row from start_s (Unix s) whose programme is
 * bulletin alone, frozen now (regular programmes never take it), written in the caller's
 * transaction if one is open, by user; the timer is poked. A commune with a session on air,
 * prepared, or whose window meets [now, the test's end) is not interrupted: 1 with why in
 * plain words, nothing written. 0 with *session (the row) and *end_s (its window's end);
 * -ENOENT (no such bulletin, or no audio), -EIO, -ENOMEM, -ESHUTDOWN. */
int lc_scheduler_selftest(struct lc_scheduler *s, const char *commune, int64_t bulletin,
                          int64_t start_s, const char *user, int64_t *session, int64_t *end_s,
                          char *why, size_t whylen);

#endif
