/*
 * server/scheduler/scheduler.h — schedules on the server (issue 5): slots and sessions of communes, their
 * programmes, the timers that put sessions on air, emergencies. Internal header of server/.
 *
 *   GET|PUT /api/v1/communes/{id}/slots        slots_api.c     (PUT: admin, operator)
 *   POST /api/v1/communes/{id}/sessions        sessions_api.c  (admin, operator)
 *   GET /api/v1/communes/{id}/programme?date=  sessions_api.c  (every staff role)
 *   POST /api/v1/emergency                     emergency.c     (admin, approver)
 *
 * The scheduler (scheduler.c) owns one uv_timer on the loop. It publishes on app->onair
 * (server/scheduler/onair.h): PREPARE at start − hold_s (the programme is frozen then and kept in the
 * database), OPEN at the start, INTERRUPT for an emergency in a commune on air, CLOSE when the
 * programme ended or the window closed. Everything runs on the loop thread.
 */
#ifndef LC_SERVER_SCHEDULER_H
#define LC_SERVER_SCHEDULER_H

#include <stdbool.h>
#include <stdint.h>

struct lc_app;
struct lc_router;
struct lc_scheduler;

/* Creates the scheduler (app->scheduler), registers the next-session provider on app->onair,
 * tidies what a previous run left (sessions on air past their end → interrupted, never aired →
 * missed) and arms the timer: a session that was on air resumes at its offset. 0 or -errno. */
int lc_scheduler_start(struct lc_app *app);

/* Closes the timer (shutdown, step one). Sessions on air stay `on_air` in the database, so that
 * the next start resumes them. The scheduler is freed when its handle has closed. NULL is fine. */
void lc_scheduler_stop(struct lc_scheduler *s);

/* Slots, sessions or bulletins changed: plan again at once (on the next loop iteration). */
void lc_scheduler_poke(struct lc_scheduler *s);

/* Puts emergency bulletin `bulletin` on air now in commune: INTERRUPT if a session is on air
 * there, else an emergency session OPENs now. Writes the broadcasts row and counts the airing,
 * in the caller's transaction if one is open. *session gets the emergency row's id and
 * *interrupted whether a running session was interrupted. 0, -ENOENT (no such bulletin or no
 * audio), -EIO. The events are published after the caller's commit: call
 * lc_scheduler_publish_pending() then (or after a rollback, lc_scheduler_drop_pending()). */
int lc_scheduler_emergency(struct lc_scheduler *s, const char *commune, int64_t bulletin,
                           const char *actor, int64_t *session, bool *interrupted);
void lc_scheduler_publish_pending(struct lc_scheduler *s);
void lc_scheduler_drop_pending(struct lc_scheduler *s);

int lc_slots_routes(struct lc_router *r);
int lc_sessions_routes(struct lc_router *r);
int lc_emergency_routes(struct lc_router *r);

#endif
