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
#include "schedules/rules.h"
#include "schedules/slots.h"

struct lc_store;

/* The longest relay URL (SPEC: a slot or session may carry "relay": the upstream's URL). */
#define LC_RELAY_URL_MAX 512
/* 0 if url can be relayed (http or https, a host, no spaces), else -1 with why. */
int lc_relay_url_check(const char *url, char *why, size_t whylen);
/* A relay "loacast:X" carries commune X's live programme (issue 19, point 2: server/stream/
 * stream_carry.h); X must be in service, not commune itself, at commune's node or above it.
 * 0 (also for any other relay), -1 with why set, or -EIO. */
#define LC_CARRY_PREFIX "loacast:"
int lc_carry_check(struct lc_store *store, const char *commune, const char *relay, char *why,
                   size_t whylen);

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
    char relay[LC_RELAY_URL_MAX];   /* a relay session: the upstream's URL; "" otherwise */
    char rule_broken[160];  /* an emergency that broke a broadcast rule: which, in words */
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

/* Loads the commune's slots (ordered by position) into out (LC_SLOTS_MAX entries), and, if relay
 * is not NULL, their relay URLs ("" for none) into relay (LC_SLOTS_MAX entries). 0 or -EIO. */
int lc_slots_load(struct lc_store *store, const char *commune, struct lc_slot *out, size_t *n,
                  char (*relay)[LC_RELAY_URL_MAX]);

/* Appends the sessions of commune that start on local date d, sorted by start: the broadcasts
 * rows of that day, then the slot occurrences that have no row yet and overlap no ad-hoc
 * session (an ad-hoc session wins over a slot), none on a holiday of the commune's rules. A
 * session not yet frozen ends no later than the rules' longest session allows. 0, -ENOMEM,
 * -EIO. */
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
                               const struct lc_bsession *x);

/* The programme of session x: a relay session's one relay item
 * {"bulletin":0,"title","relay","offset_ms":0,"duration_ms"} for its whole window, else
 * lc_programme_make(cs, ...). NULL on allocation failure. */
json_t *lc_sched_programme(struct lc_cands *cs, int gap_ms, const char *commune,
                           const struct lc_bsession *x, bool count);

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

/* ---- broadcast rules (rules_store.c: JSON and the `rules` table; rules_check.c) ------------ */

/* Reads the rules of an API body into r. 0; -EPROTO (a field of the wrong type or unknown: 400)
 * or -EINVAL (a value out of range: 422), with err. */
int lc_rules_from_json(json_t *o, struct lc_rules *r, char *err, size_t errlen);
/* The API form of r (fields without a limit left out). */
json_t *lc_rules_json(const struct lc_rules *r);
/* The rules that apply to scope (a commune id, or "*" for the defaults): its own, else the
 * defaults, else none; *own (may be NULL) says whether they were its own. 0 or -EIO. */
int lc_rules_load(struct lc_store *store, const char *scope, struct lc_rules *r, bool *own);
/* Checks a commune's weekly slots against r: 1 with why ("slot 0 (06:00, 60 min) on Mon: …"),
 * or 0. */
int lc_rules_check_slots(const struct lc_rules *r, const struct lc_slot *v, size_t n,
                         char *why, size_t whylen);
/* Checks a session [start, end) of commune against its rules; with add, the day's totals count
 * it besides the sessions the commune has that day. 1 with why, 0, or -EIO / -ENOMEM. */
int lc_rules_check_session(struct lc_store *store, const char *commune, int64_t start,
                           int64_t end, bool add, char *why, size_t whylen);

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
int lc_rules_routes(struct lc_scheduler *s, struct lc_router *r);   /* rules_api.c */
int lc_sessions_routes(struct lc_scheduler *s, struct lc_router *r);
/* GET /api/v1/onair, every commune's session and item on air now (onair_api.c; issue 20). */
int lc_onair_routes(struct lc_scheduler *s, struct lc_router *r);
/* POST /api/v1/emergency/preview, an emergency's text heard first (emergency_preview.c). */
int lc_emergency_preview_routes(struct lc_scheduler *s, struct lc_router *r);

#endif
