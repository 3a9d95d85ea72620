/*
 * server/scheduler/onair.h — the hand-off between the scheduler (server/scheduler/) and the
 * streaming engine (server/stream/): which commune has which session on air, with which
 * programme.
 *
 * A public piece of server/scheduler/: other modules reach it through the door scheduler.h, which
 * includes it. It is a header of its own because the hub (onair.c) depends on nothing else of
 * the module: a subscriber (the stream module, tests/stream/test_engine.c) links and uses only
 * these event types, never the scheduler's timer or handle.
 *
 * The scheduler publishes events; the streaming engine (and metrics, logs) subscribe. Loop
 * thread only. A published session and its items are valid for the duration of the callbacks:
 * a subscriber copies what it keeps.
 *
 * Lifecycle of one broadcast session of one commune, as the scheduler publishes it:
 *
 *   event          when                                   the engine
 *   PREPARE        start − hold window (default 60 s),    opens the commune's stream "held":
 *                  programme frozen now                   receivers get the Ogg headers, wait
 *   OPEN           start (±50 ms), or at a restart in     plays the programme from
 *                  the middle: offset = now − start        now − start_ms
 *   INTERRUPT      an emergency for this commune while    plays the emergency items at once in
 *                  it is on air (items at offset 0)        the same logical stream, then resumes
 *                                                          the interrupted item from its start
 *   CLOSE          the programme ended or the window      ends the logical stream (EOS page) and
 *                  closed, whichever is first              closes the receivers' responses
 *   MOVED          the stored programme moved (an         nothing (it made the move); the signed
 *                  emergency spliced in, lc_onair_spliced) schedules of receivers are built again
 *
 * An emergency in a commune that is off air is an ordinary session with `emergency` set,
 * published PREPARE (optional) then OPEN at once.
 *
 * Details of the scheduler (scheduler.c and scheduler_emergency.c, added with issue 5):
 *   - OPEN's start_ms is the instant of offset 0 of the programme: the window start for a session
 *     opened on time or resumed after a restart (so now − start_ms is the offset to play from);
 *     the moment it went on air for one opened more than 1 s late for another reason (the
 *     server started after its start, an emergency held the commune): it then plays from the top.
 *   - INTERRUPT carries the interrupted session's id, commune, start_ms and end_ms, emergency = 1,
 *     and the emergency's items (offsets from the interruption), the last one the gap of silence
 *     (bulletin 0, no audio) before the programme goes on. Where it lands is the engine's to
 *     say (lc_onair_spliced): its pages go out ahead of their play time.
 *   - At shutdown the scheduler publishes CLOSE for the sessions on air (they stay on_air in the
 *     database and are resumed by OPEN at the next start).
 */
#ifndef LC_SERVER_ONAIR_H
#define LC_SERVER_ONAIR_H

#include <stddef.h>
#include <stdint.h>

enum lc_onair_event {
    LC_ONAIR_PREPARE,
    LC_ONAIR_OPEN,
    LC_ONAIR_INTERRUPT,
    LC_ONAIR_CLOSE,
    LC_ONAIR_MOVED,
};

struct lc_onair_item {
    int64_t bulletin;       /* bulletin id */
    const char *title;
    const char *audio;      /* file name in the audio store: "<sha256 hex>.opus" */
    int64_t offset_ms;      /* from the session's start (INTERRUPT: from the interruption) */
    int64_t duration_ms;
    const char *relay;      /* a relay item: the upstream stream's URL (audio NULL), else NULL */
};

struct lc_onair_session {
    int64_t id;             /* the broadcast session's row id */
    const char *commune;    /* commune id (slug) */
    int64_t start_ms;       /* window start, Unix time in ms (wall clock) */
    int64_t end_ms;         /* window end */
    int emergency;          /* 1 for an emergency session */
    const struct lc_onair_item *items;
    size_t nitems;
};

typedef void (*lc_onair_cb)(void *ctx, enum lc_onair_event ev, const struct lc_onair_session *s);

/* Tells when the commune's next session starts (Unix ms) at or after now_ms: 0, or -ENOENT if
 * none is known. Provided by the scheduler; used by the engine's 503 answers off air. */
typedef int (*lc_onair_next_cb)(void *ctx, const char *commune, int64_t now_ms,
                                int64_t *start_ms);

/* An emergency's items were spliced into session `session`'s stream: `at_ms` into its programme
 * (from OPEN's start_ms; the stream's next packet, which lies lead_ms and up to a page ahead
 * of what plays), moving what follows by `shift_ms` (the emergency, the gap after it, and the
 * part of an interrupted item that had gone out, which plays again). The scheduler moves the
 * stored programme so: what a restart resumes and what the API shows is what was streamed. */
typedef void (*lc_onair_spliced_cb)(void *ctx, int64_t session, int64_t at_ms, int64_t shift_ms);

struct lc_onair;

int lc_onair_new(struct lc_onair **out);
void lc_onair_free(struct lc_onair *o);

/* Adds a subscriber; callbacks run in subscription order. -ENOMEM. */
int lc_onair_subscribe(struct lc_onair *o, lc_onair_cb cb, void *ctx);

/* Calls every subscriber with (ev, s). */
void lc_onair_publish(struct lc_onair *o, enum lc_onair_event ev,
                      const struct lc_onair_session *s);

/* The scheduler registers how to find the next session; lc_onair_next() asks it (-ENOENT while
 * nothing is registered). */
void lc_onair_set_next(struct lc_onair *o, lc_onair_next_cb cb, void *ctx);
int lc_onair_next(struct lc_onair *o, const char *commune, int64_t now_ms, int64_t *start_ms);

/* The scheduler registers who hears of splices; the stream engine tells lc_onair_spliced()
 * (ignored while nothing is registered). */
void lc_onair_set_spliced(struct lc_onair *o, lc_onair_spliced_cb cb, void *ctx);
void lc_onair_spliced(struct lc_onair *o, int64_t session, int64_t at_ms, int64_t shift_ms);

/* The receivers of each stream now (issue 20, GET /api/v1/onair): the stream engine registers
 * a provider, which calls fn(arg, commune, session, clusters) for every stream held or on air
 * (clusters: receivers of loudspeaker clusters connected; staff listeners are not counted).
 * lc_onair_counts() calls nothing while no provider is registered. Loop thread. */
typedef void (*lc_onair_count_fn)(void *arg, const char *commune, int64_t session,
                                  size_t clusters);
typedef void (*lc_onair_counts_cb)(void *ctx, lc_onair_count_fn fn, void *arg);
void lc_onair_set_counts(struct lc_onair *o, lc_onair_counts_cb cb, void *ctx);
void lc_onair_counts(struct lc_onair *o, lc_onair_count_fn fn, void *arg);

const char *lc_onair_event_name(enum lc_onair_event ev);

#endif
