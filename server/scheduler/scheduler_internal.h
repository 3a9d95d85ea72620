/*
 * server/scheduler/scheduler_internal.h — internal header of server/scheduler/: what scheduler.c,
 * scheduler_emergency.c, slots_api.c, sessions_api.c and emergency.c share: reading slots,
 * sessions and candidate bulletins from the store, and building programmes with
 * schedules/programme.h (programme_data.c, which calls no other file of the module). The
 * functions take the store (borrowed), never the server. Loop thread only.
 */
#ifndef LC_SERVER_SCHEDULER_INTERNAL_H
#define LC_SERVER_SCHEDULER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "schedules/localtime.h"
#include "schedules/programme.h"
#include "schedules/slots.h"

struct lc_store;

/* One session of a commune: a broadcasts row, or a slot occurrence not yet in the table. */
struct lc_bsession {
    int64_t id;             /* broadcasts row id; 0 = a slot occurrence not materialised yet */
    char kind[12];          /* slot, adhoc, emergency */
    int64_t start, end;     /* window, Unix s */
    char status[16];        /* scheduled, on_air, done, interrupted, missed */
    int64_t aired_at_ms;    /* 0 = never on air */
    int64_t ended_at_ms;
    int64_t host;           /* emergency inside a running session: that session's id */
    json_t *programme;      /* frozen programme (owned), NULL if not frozen */
};

struct lc_bsessions {
    struct lc_bsession *v;
    size_t n, cap;
};

void lc_bsessions_free(struct lc_bsessions *l);

/* The store's cached statement for sql (static storage, see lc_store_stmt()) with commune bound
 * to ?1: most statements of the module are about one commune. NULL on a preparation error. */
sqlite3_stmt *lc_sched_stmt(struct lc_store *store, const char *sql, const char *commune);

/* The zone of the station (TZ was set from the configuration at start). */
struct lc_tz lc_station_tz(void);

/* Loads the commune's slots (ordered by position) into out (LC_SLOTS_MAX entries). 0 or -EIO. */
int lc_slots_load(struct lc_store *store, const char *commune, struct lc_slot *out, size_t *n);

/* Appends the sessions of commune that start on local date d, sorted by start: the broadcasts
 * rows of that day, then the slot occurrences that have no row yet and overlap no ad-hoc
 * session (an ad-hoc session wins over a slot). 0, -ENOMEM, -EIO. */
int lc_sessions_of_day(struct lc_store *store, const char *commune, struct lc_date d,
                       struct lc_bsessions *out);

/* Loads one broadcasts row. 0, -ENOENT, -EIO. */
int lc_bsession_load(struct lc_store *store, int64_t id, struct lc_bsession *out);

/* The candidate bulletins of commune: approved, targeting it, with its airing counts. The
 * strings are owned by the set. */
struct lc_cands {
    struct lc_candidate *c;
    char **title;
    char **audio;           /* "<hash>.opus" */
    size_t n;
};
int lc_cands_load(struct lc_store *store, const char *commune, struct lc_cands *out);
void lc_cands_free(struct lc_cands *cs);

/* Builds the programme of window [start, end) for commune from cs, gap_ms between items, as the
 * frozen JSON form:
 *   {"items":[{"bulletin","title","audio","offset_ms","duration_ms"}],
 *    "not_fitting":[{"bulletin","title","duration_ms"}], "length_ms"}
 * If count is true, the items' airings are counted in cs (for predicting the next sessions).
 * NULL on allocation failure. */
json_t *lc_programme_make(struct lc_cands *cs, int gap_ms, const char *commune, int64_t start,
                          int64_t end, bool count);

/* The same from the commune's candidates as they are in the store now. NULL on a store or
 * allocation failure. */
json_t *lc_programme_build_for(struct lc_store *store, int gap_ms, const char *commune,
                               int64_t start, int64_t end);

/* Programme JSON for one item (frozen form) from an emergency bulletin, in *prog: 0, -ENOENT
 * (no such bulletin, or it has no audio), -EIO or -ENOMEM. */
int lc_programme_single(struct lc_store *store, int64_t bulletin, json_t **prog);

/* Counts the airings of the sessions that ended and whose accounting is final, from what their
 * receivers were sent whole (airings.c); an emergency session's catchup_ms later. Returns how
 * many ended sessions still wait (> 0: call again soon), or -EIO. */
int lc_airings_settle(struct lc_store *store, int64_t now_ms, int64_t catchup_ms);

/* Unix ms now, from the wall clock (CLOCK_REALTIME). */
int64_t lc_wall_ms(void);

/* The API form of a session: {"id","kind","start","end","minutes","status","aired_at",
 * "aired_at_ms","late_ms","ended_at_ms","frozen","length_s","items":[{"bulletin","title",
 * "offset_s","duration_s"}],"not_fitting":[...]} with programme (borrowed) as its programme. */
json_t *lc_bsession_json(const struct lc_bsession *s, json_t *programme);

/* ---- emergencies (scheduler_emergency.c, used by emergency.c) ------------------------------ */

struct lc_router;
struct lc_scheduler;

/* Puts emergency bulletin `bulletin` on air now in commune: INTERRUPT if a session is on air
 * there, else an emergency session OPENs now. Writes the broadcasts row and counts the airing,
 * in the caller's transaction if one is open. *session gets the emergency row's id and
 * *interrupted whether a running session was interrupted. 0, -ENOENT (no such bulletin or no
 * audio), -EIO, -ESHUTDOWN (the scheduler is stopped). The events are published after the
 * caller's commit: call lc_scheduler_publish_pending() then (or after a rollback,
 * lc_scheduler_drop_pending()). */
int lc_scheduler_emergency(struct lc_scheduler *s, const char *commune, int64_t bulletin,
                           const char *actor, int64_t *session, bool *interrupted);
void lc_scheduler_publish_pending(struct lc_scheduler *s);
void lc_scheduler_drop_pending(struct lc_scheduler *s);

/* The stream spliced an emergency into session `session` (onair.h, lc_onair_spliced_cb): the
 * stored programme and the session's close move by shift_ms from at_ms on. */
void lc_sched_on_spliced(void *ctx, int64_t session, int64_t at_ms, int64_t shift_ms);

/* POST /api/v1/emergency (emergency.c); its handler gets s as its ctx. 0 or -ENOMEM. */
int lc_emergency_routes(struct lc_scheduler *s, struct lc_router *r);
/* GET /api/v1/emergency/{bulletin}, where it arrived per cluster (emergency_report.c). */
int lc_emergency_report_routes(struct lc_scheduler *s, struct lc_router *r);

/* ---- the handlers' routes (slots_api.c, sessions_api.c; ctx = s) --------------------------- */

int lc_slots_routes(struct lc_scheduler *s, struct lc_router *r);
int lc_sessions_routes(struct lc_scheduler *s, struct lc_router *r);

#endif
