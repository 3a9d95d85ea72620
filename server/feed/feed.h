/*
 * server/feed/feed.h — the door of server/feed/: each receiver's signed schedule (SPEC.md,
 * "Receivers that store"), with long-poll:
 *
 *   GET /api/v1/receivers/{cluster}/schedule[?since=V&wait=S]   (the cluster's receiver token)
 *     → 200 {"payload": base64 of the UTF-8 JSON, "signature": base64 Ed25519 of those bytes}
 *     → 304 when since is the current version and nothing changed within S seconds (≤ 60)
 *
 * The payload (feed_payload.c): {"cluster","version","issued_at","expires_at","volume","muted",
 * "sessions":[{"id","start","end","kind","items":[{"bulletin","title","media","hash","bytes",
 * "duration_s","offset_s"}]}]} — the sessions on air and those starting within the next 36 h
 * (the scheduler's lc_scheduler_ahead()), each item's media named by the BLAKE2b-256 of its file
 * (GET /media/{hash}.opus). A cluster's version names one content: it grows (and only then)
 * when what the payload says changes, and it is kept in `receiver_schedules`, which this module
 * alone writes; a version is never below the wall clock in ms when it was made, so versions keep
 * growing even over a restored database.
 *
 * Long-poll (feed.c): a request with since = the current version waits, holding its request
 * only (no buffer of its own). lc_feed_poke() — called by the assembly after every write that
 * answered 2xx, and on every on-air event — has every waiting schedule built again on the next
 * loop turn and answers those whose version moved: an emergency reaches a long-polling receiver
 * as soon as its session row is written. A waiting request ends at its deadline (304), when its
 * client goes, or at shutdown (503). Time alone changes schedules too (a session ends and drops
 * out): waiting ones are built again every 30 s.
 *
 * Threads: the loop thread only. Shutdown: lc_feed_stop() answers the waiting requests and closes
 * the timers; lc_feed_free() after the loop ran out.
 */
#ifndef LC_SERVER_FEED_H
#define LC_SERVER_FEED_H

#include <uv.h>

struct lc_feed;
struct lc_onair;
struct lc_router;
struct lc_scheduler;
struct lc_station;
struct lc_store;

struct lc_feed_deps {
    uv_loop_t *loop;
    struct lc_store *store;
    struct lc_scheduler *scheduler;     /* the sessions ahead */
    struct lc_onair *onair;             /* on-air events poke the waiting schedules */
    struct lc_station *station;         /* signs the payloads */
};

int lc_feed_open(struct lc_feed **out, const struct lc_feed_deps *deps);
/* Schedules may have changed: the waiting ones are built again on the next loop turn. */
void lc_feed_poke(struct lc_feed *f);
/* Long-polls held now (for the benchmark). */
size_t lc_feed_waiting(const struct lc_feed *f);
/* The module's lines of /metrics (Prometheus text) appended to b. */
struct lc_buf;
void lc_feed_metrics(const struct lc_feed *f, struct lc_buf *b);
void lc_feed_stop(struct lc_feed *f);
void lc_feed_free(struct lc_feed *f);
/* f may be NULL when the table is only listed. */
int lc_feed_routes(struct lc_feed *f, struct lc_router *r);

#endif
