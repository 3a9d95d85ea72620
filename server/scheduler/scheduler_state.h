/*
 * server/scheduler/scheduler_state.h — internal header of server/scheduler/: the scheduler's state
 * and the sessions it follows (scheduler_active.c). Included by scheduler.c (the timer: plan,
 * open, close), scheduler_emergency.c (emergencies that interrupt a session or open one) and the
 * handlers (slots_api.c, sessions_api.c: the store, poke). Loop thread only.
 *
 * Ownership: the scheduler owns its struct active list and its pending emergencies; each active
 * owns its frozen programme (JSON) and the lc_onair_item array whose strings point into it. The
 * handles it was given (loop, store, onair) are borrowed.
 */
#ifndef LC_SERVER_SCHEDULER_STATE_H
#define LC_SERVER_SCHEDULER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "server/scheduler/onair.h"

/* A session the scheduler follows: prepared (frozen, PREPARE published) or on air. */
struct active {
    struct active *next;
    int64_t id;                 /* broadcasts row */
    char commune[65];
    int64_t start_ms, end_ms;   /* window */
    int64_t prog_start_ms;      /* offset 0 of the programme (set at OPEN) */
    int64_t close_ms;           /* on air: when it closes */
    bool emergency;
    int64_t host;               /* an emergency inside session `host`: publishes nothing */
    bool on_air;
    bool unstored;              /* opened, its row not yet written (store_opened) */
    int64_t aired_ms;           /* when it went on air */
    json_t *programme;          /* frozen */
    struct lc_onair_item *items;
    size_t nitems;
};

/* An emergency accepted by lc_scheduler_emergency(), published by
 * lc_scheduler_publish_pending(). */
struct pending {
    struct pending *next;
    int64_t id, host, now_ms;
    char commune[65];
    json_t *programme;
};

struct lc_scheduler {
    /* from struct lc_scheduler_deps */
    uv_loop_t *loop;
    struct lc_store *store;
    struct lc_onair *onair;
    struct lc_bulletins *bulletins;
    int hold_s, gap_ms, catchup_s;

    uv_timer_t timer;
    bool stopped;               /* lc_scheduler_stop() was called */
    struct active *active;
    struct pending *pending;
    int64_t next_expiry_check;
};

/* A new active for a broadcasts row, holding a reference to programme. NULL when out of memory. */
struct active *lc_sched_active_new(int64_t id, const char *commune, int64_t start_ms,
                                   int64_t end_ms, json_t *programme);
/* Unlinks a from s's list if it is there, and frees it. NULL is fine. */
void lc_sched_active_drop(struct lc_scheduler *s, struct active *a);
/* Points a->items into a->programme (again, after the programme changed). 0 or -ENOMEM. */
int lc_sched_active_items(struct active *a);
struct active *lc_sched_find_active(struct lc_scheduler *s, int64_t id);
/* The session on air in commune (not an emergency inside another), or NULL. */
struct active *lc_sched_on_air_in(struct lc_scheduler *s, const char *commune);
/* Publishes ev for a with these items (onair.h). */
void lc_sched_publish(struct lc_scheduler *s, enum lc_onair_event ev, const struct active *a,
                      const struct lc_onair_item *items, size_t nitems, int emergency);
/* A programme's "length_ms". */
int64_t lc_sched_length_ms(json_t *programme);
/* Frees every active and every pending emergency of s (the scheduler's end, or a rollback:
 * lc_sched_pending_free() alone). */
void lc_sched_actives_free(struct lc_scheduler *s);
void lc_sched_pending_free(struct lc_scheduler *s);

#endif
