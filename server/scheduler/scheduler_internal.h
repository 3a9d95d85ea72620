/*
 * server/scheduler/scheduler_internal.h — what scheduler.c, slots_api.c, sessions_api.c and emergency.c
 * share: reading slots, sessions and candidate bulletins from the database, and building
 * programmes with schedules/programme.h (programme_data.c). Loop thread only.
 */
#ifndef LC_SERVER_SCHEDULER_INTERNAL_H
#define LC_SERVER_SCHEDULER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "schedules/localtime.h"
#include "schedules/programme.h"
#include "schedules/slots.h"

struct lc_app;

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

/* The zone of the station (TZ was set from the configuration at start). */
struct lc_tz lc_station_tz(void);

/* Loads the commune's slots (ordered by position) into out (LC_SLOTS_MAX entries). 0 or -EIO. */
int lc_slots_load(struct lc_app *app, const char *commune, struct lc_slot *out, size_t *n);

/* Appends the sessions of commune that start on local date d, sorted by start: the broadcasts
 * rows of that day, then the slot occurrences that have no row yet and overlap no ad-hoc
 * session (an ad-hoc session wins over a slot). 0, -ENOMEM, -EIO. */
int lc_sessions_of_day(struct lc_app *app, const char *commune, struct lc_date d,
                       struct lc_bsessions *out);

/* Loads one broadcasts row. 0, -ENOENT, -EIO. */
int lc_bsession_load(struct lc_app *app, int64_t id, struct lc_bsession *out);

/* The candidate bulletins of commune: approved, targeting it, with its airing counts. The
 * strings are owned by the set. */
struct lc_cands {
    struct lc_candidate *c;
    char **title;
    char **audio;           /* "<hash>.opus" */
    size_t n;
};
int lc_cands_load(struct lc_app *app, const char *commune, struct lc_cands *out);
void lc_cands_free(struct lc_cands *cs);

/* Builds the programme of window [start, end) for commune from cs (gap from the configuration)
 * as the frozen JSON form:
 *   {"items":[{"bulletin","title","audio","offset_ms","duration_ms"}],
 *    "not_fitting":[{"bulletin","title","duration_ms"}], "length_ms"}
 * If count is true, the items' airings are counted in cs (for predicting the next sessions).
 * NULL on allocation failure. */
json_t *lc_programme_make(struct lc_app *app, struct lc_cands *cs, const char *commune,
                          int64_t start, int64_t end, bool count);

/* Programme JSON for one item (frozen form) from an emergency bulletin: NULL if the bulletin
 * has no audio. */
json_t *lc_programme_single(struct lc_app *app, int64_t bulletin);

/* Counts one airing of each item of programme in commune; bulletins that have now aired `repeat`
 * times in every target commune become `done` (audited). Inside the caller's transaction.
 * 0 or -EIO. */
int lc_airings_count(struct lc_app *app, const char *commune, json_t *programme);

/* Unix ms now, from the wall clock (CLOCK_REALTIME). */
int64_t lc_wall_ms(void);

/* The API form of a session: {"id","kind","start","end","minutes","status","aired_at",
 * "aired_at_ms","late_ms","ended_at_ms","frozen","length_s","items":[{"bulletin","title",
 * "offset_s","duration_s"}],"not_fitting":[...]} with programme (borrowed) as its programme. */
json_t *lc_bsession_json(const struct lc_bsession *s, json_t *programme);

#endif
