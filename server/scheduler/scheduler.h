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
 *
 * The scheduler (scheduler.c) owns one uv_timer on the loop. It publishes on deps.onair
 * (onair.h): PREPARE at start − hold_s (the programme is frozen then and kept in the database),
 * OPEN at the start, INTERRUPT for an emergency in a commune on air, CLOSE when the programme
 * ended or the window closed. Everything runs on the loop thread.
 *
 * Tables: the module is the only code that writes `broadcasts`, `slots` and `bulletin_airings`.
 * The schema adds two effects of other modules' writes (migration 10, shipped): a new commune gets
 * the two default slots (a trigger), and deleting a commune or a bulletin cascades to these rows.
 * The module reads `communes` and `bulletins`; a bulletin's status changes (done, expired) and
 * an emergency's bulletin and render go through the bulletins module's door.
 *
 * Files, each calling only those below it (no circle):
 *   routes.c                          lc_scheduler_routes(): the module's route table
 *   slots_api.c, sessions_api.c       handlers (ctx = the scheduler)
 *   emergency.c                       POST /api/v1/emergency (lc_scheduler_emergency())
 *   emergency_report.c                GET /api/v1/emergency/{bulletin}: where it arrived
 *   scheduler_emergency.c             emergencies: INTERRUPT, or a session of their own
 *   scheduler.c                       the timer: plan, prepare, open, close; open/start/stop/free
 *   scheduler_active.c                the sessions followed (actives), publishing on onair
 *   programme_data.c                  slots, sessions, candidates from the store; programmes
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

/* Registers the module's routes (the table above); their handlers get s as their ctx. 0 or
 * -ENOMEM. s may be NULL when the table is only listed (lc_server_print_routes). */
int lc_scheduler_routes(struct lc_scheduler *s, struct lc_router *r);

#endif
