/*
 * server/bulletins/bulletins.h — the door of the bulletins module: creation, rendering, review,
 * preview; the one render service (bulletins and emergencies); the bulletin lifecycle.
 *
 *   POST /api/v1/bulletins {"title","text","voice","rate","communes","priority","repeat",
 *        "not_before","expires"} → 202 the bulletin, `rendering`; rendered on the render pool
 *        → `pending`, or `failed` with "error". Without "text" → 201 a `draft` that waits for
 *        its recording: PUT /api/v1/bulletins/{id}/audio (the file as body; answered when the
 *        recording has been decoded and re-encoded: 200 `pending`, or 415 if it is not audio).
 *   GET /api/v1/bulletins[?status=&commune=&created_by=&before=&limit=] → {"bulletins": [...]}
 *   GET /api/v1/bulletins/{id}, GET /api/v1/bulletins/{id}/audio (audio/ogg, Range)
 *   POST /api/v1/bulletins/{id}/approve | /reject {"reason"} | /withdraw
 *
 * The module owns the tables `bulletins`, `bulletin_communes` and `approval_order`: no other
 * module writes them; the scheduler reports airings and the clock through
 * lc_bulletin_aired() and lc_bulletins_expire_due(), emergencies create their bulletin with
 * lc_bulletin_create_emergency().
 *
 * Lifecycle: every status change goes through one function (bulletin_status.c) that follows
 * the table below (lc_bulletin_transitions(); docs/server.md shows the same table, and
 * tests/server/test_transitions.c checks that both agree). Every change is audited in the same
 * transaction. A bulletin is created `rendering` (a text), `draft` (waits for its recording) or
 * `approved` (an emergency: its own authorisation).
 *
 *   from \ event | render ok | render fails | upload ok | approve | reject  | withdraw  | expire  | aired out
 *   -------------+-----------+--------------+-----------+---------+---------+-----------+---------+----------
 *   draft        |           |              | pending   |         |         | withdrawn |         |
 *   rendering    | pending   | failed       |           |         |         | withdrawn |         |
 *   pending      |           |              | pending   | approved| rejected| withdrawn | expired |
 *   failed       |           |              | pending   |         |         | withdrawn |         |
 *   approved     |           |              |           |         |         | withdrawn | expired | done
 *
 *   who: render ok/fails, expire, aired out — the server; upload ok — the author or an admin;
 *   approve, reject — an approver or an admin, never the bulletin's author (403); withdraw — the
 *   author, an approver or an admin. Anything else is 409 bad_state. `expire` happens when an
 *   approval comes after `expires` (409) and when the clock passes `expires` of an approved
 *   bulletin; `aired out` when it has aired `repeat` times in every commune it targets.
 *
 * Everything here runs on the loop thread.
 */
#ifndef LC_SERVER_BULLETINS_H
#define LC_SERVER_BULLETINS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "common/err.h"

struct lc_store;
struct lc_router;
struct lc_workers;
struct lc_renderer;
struct lc_lexicon;

/* ---- the module ------------------------------------------------------------------------------ */

struct lc_bulletins;

/* What the module uses; none of it is owned by the module. */
struct lc_bulletins_deps {
    uv_loop_t *loop;                    /* the preview's file reads go to its thread pool */
    struct lc_store *store;
    struct lc_workers *render_pool;     /* closed by the caller, after lc_bulletins_stop() */
    struct lc_workers *urgent_pool;     /* reserved for emergencies (one thread), likewise; NULL:
                                         * they go first on the render pool */
    struct lc_renderer *renderer;
    const struct lc_lexicon *lexicon;
    const char *audio_dir;              /* copied */
    int bitrate_kbps;                   /* Opus bitrate of rendered audio */
    double loudness_lufs;               /* loudness target of rendered audio */
    int max_bulletin_s;                 /* longer speech or recordings fail (render: -EFBIG) */
    /* Where bulletin renders are counted (the server's metrics); each may be NULL. */
    uint64_t *renders_ok, *renders_failed;
    double *render_seconds;
};

/* Creates the module. 0, -ENOMEM or -ENAMETOOLONG (audio_dir). */
int lc_bulletins_open(struct lc_bulletins **out, const struct lc_bulletins_deps *deps);
/* Frees the module (after the loop has run out). NULL is fine. */
void lc_bulletins_free(struct lc_bulletins *b);
/* Adds the routes above, with b as their handle. 0 or -errno. */
int lc_bulletins_routes(struct lc_bulletins *b, struct lc_router *r);
/* At start: queues again the text bulletins left `rendering` by a previous run, and hashes the
 * stored audio that has no media hash yet (bulletin_media.c). */
void lc_bulletins_resume(struct lc_bulletins *b);
/* Shutdown: the render pool is about to close; later renders fail with -ESHUTDOWN. */
void lc_bulletins_stop(struct lc_bulletins *b);

/* ---- the render service --------------------------------------------------------------------- */

/* What to render: a text (spoken with voice at rate_wpm) or a recording (decoded, resampled,
 * loudness-normalised, encoded). */
struct lc_render_in {
    const char *title;          /* OpusTags TITLE; copied */
    const char *text;           /* copied; NULL for a recording */
    const void *audio;          /* a recording: borrowed, must stay valid until done runs */
    size_t audio_len;
    const char *voice;          /* copied */
    int rate_wpm;               /* 0: the renderer's default */
};

/* The outcome, valid during the done callback only. */
struct lc_render_out {
    int rc;                     /* 0, or -errno with err set (-EINVAL/-ENODATA: bad input) */
    const struct lc_err *err;
    const char *hash;           /* content hash: the file is <audio_dir>/<hash>.opus */
    const char *media_hash;     /* what receivers fetch it by: /media/<media_hash>.opus */
    size_t bytes;
    double duration_s;
    double seconds;             /* wall time the render took */
};

/* Runs on the loop thread exactly once per accepted render; cancelled = 1 when the pool closed
 * before the render started (out is then not meaningful). */
typedef void (*lc_render_done_cb)(const struct lc_render_out *out, int cancelled, void *arg);

/* Renders in on the render pool and stores the Ogg Opus file durably under its content hash;
 * then done(out, cancelled, arg) on the loop. first: ahead of every waiting render (emergencies;
 * running renders are not interrupted). 0, or -ENOMEM / -ESHUTDOWN (done will not run). */
int lc_bulletins_render(struct lc_bulletins *b, const struct lc_render_in *in, bool first,
                        lc_render_done_cb done, void *arg);

/* Speech in memory (bulletin_speak.c, issue 20: the emergency preview): text spoken as a render
 * would (voice, lexicon, loudness), on the urgent pool behind what waits there; nothing stored.
 * done runs on the loop exactly once per accepted call; out->ogg (out->len bytes, Ogg Opus) is
 * valid during it only. 0, or -ENOMEM / -ESHUTDOWN (done will not run). */
struct lc_spoken {
    int rc;                     /* 0, or -errno with err set (-EINVAL/-ENODATA: bad input) */
    const struct lc_err *err;
    const void *ogg;
    size_t len;
    double duration_s;
};
typedef void (*lc_speak_done_cb)(const struct lc_spoken *out, int cancelled, void *arg);
int lc_bulletins_speak(struct lc_bulletins *b, const char *text, const char *voice,
                       lc_speak_done_cb done, void *arg);

/* ---- doors for the scheduler ---------------------------------------------------------------- */

/* An emergency bulletin: a rendered text, approved by its author at creation. */
struct lc_bulletin_emergency {
    const char *title, *text, *voice;
    bool all;                   /* every commune; else communes[0..n) */
    const char (*communes)[65];
    size_t n;
    const char *hash;           /* its rendered audio */
    const char *media_hash;     /* the same file's media hash (audiostore.h) */
    size_t bytes;
    double duration_s;
    const char *user;           /* author and approver */
    int64_t node;               /* the author's node: `all` is every commune of its subtree
                                 * (server/org/org.h); 0: the root */
};

/* Inserts the emergency bulletin e (`approved`, priority `emergency`, first in the approval
 * order) with its communes and its audit entry, in the caller's transaction. *id gets its id.
 * 0 or -EIO. */
int lc_bulletin_create_emergency(struct lc_store *s, const struct lc_bulletin_emergency *e,
                                 int64_t *id);

/* 1 if bulletin id lies in the subtree of the organisation node scope (its author's node does;
 * 0: any), 0 if it does not or there is no such bulletin, -EIO (server/org/org.h). */
int lc_bulletin_in_scope(struct lc_store *s, int64_t scope, int64_t id);

/* 1 if bulletin id is approved and has audio, 0 if it exists but is not, -ENOENT, -EIO. */
int lc_bulletin_airable(struct lc_store *s, int64_t id);

/* ---- a door for the self-tests (bulletin_selftest.c; the caller is server/selftest/) -------- */

/* A self-test's bulletin: its text, rendered. */
struct lc_bulletin_selftest {
    const char *title, *text, *voice;
    const char *hash;           /* its rendered audio */
    const char *media_hash;     /* the same file's media hash (audiostore.h) */
    size_t bytes;
    double duration_s;
    const char *user;           /* its author (who set the text, or "system") */
};

/* Inserts the self-test bulletin e — `approved` by the system, targeting no commune (no
 * programme takes it; it airs only in the sessions that name it), a `repeat` no count reaches
 * (never `done`) — with its audit entry, in the caller's transaction. *id gets its id. 0 or
 * -EIO. */
int lc_bulletin_create_selftest(struct lc_store *s, const struct lc_bulletin_selftest *e,
                                int64_t *id);

/* Bulletin id has aired once more (the caller counted it in bulletin_airings): records its
 * `aired` count — the fewest airings over its target communes — and once that reaches
 * `repeat`, `approved` → `done` (audited). In the caller's transaction; now in Unix s. 0 or
 * -EIO. */
int lc_bulletin_aired(struct lc_store *s, int64_t id, int64_t now);

/* Approved bulletins whose `expires` is <= now (Unix s) become `expired`, each in its own
 * transaction, audited; at most 100 per call. */
void lc_bulletins_expire_due(struct lc_store *s, int64_t now);

/* ---- the lifecycle table -------------------------------------------------------------------- */

enum lc_bulletin_event {
    LC_BEV_RENDER_OK,
    LC_BEV_RENDER_FAILED,
    LC_BEV_UPLOAD_OK,
    LC_BEV_APPROVE,
    LC_BEV_REJECT,
    LC_BEV_WITHDRAW,
    LC_BEV_EXPIRE,
    LC_BEV_AIRED_OUT,
    LC_BEV_COUNT
};

/* Who may cause an event (bits). */
#define LC_BWHO_SERVER 0x1u         /* the server itself: render pool, clock, scheduler */
#define LC_BWHO_AUTHOR 0x2u         /* the bulletin's author */
#define LC_BWHO_APPROVER 0x4u       /* a user with the approver role */
#define LC_BWHO_ADMIN 0x8u          /* a user with the admin role */
#define LC_BWHO_NOT_AUTHOR 0x10u    /* ... but never the bulletin's author */

/* One allowed status change. */
struct lc_bulletin_transition {
    const char *from;
    enum lc_bulletin_event event;
    const char *to;
    const char *audit;          /* the audit action that records it */
};

/* The table of allowed changes (*n entries). Anything not in it is refused. */
const struct lc_bulletin_transition *lc_bulletin_transitions(size_t *n);
/* The event's name as docs/server.md writes it ("render ok", "aired out"). */
const char *lc_bulletin_event_name(enum lc_bulletin_event ev);
/* LC_BWHO_* bits of who may cause ev. */
unsigned lc_bulletin_event_who(enum lc_bulletin_event ev);

#endif
