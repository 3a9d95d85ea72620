/*
 * server/bulletins/bulletins_internal.h — internal header of server/bulletins/: the module's
 * handle and what its files share. Other modules include bulletins.h only.
 *
 * The files, and who calls whom (one way only, top to bottom):
 *   bulletins.c       the handle, the routes; create, list, read, review  → all below
 *   bulletin_audio.c  a text's rendering and its outcome, uploads, preview → all below
 *   bulletin_status.c the lifecycle table and the one transition function → bulletin_data.c
 *   bulletin_render.c the render service (render pool jobs)               → nothing here
 *   bulletin_speak.c  speech kept in memory (the emergency preview)       → nothing here
 *   bulletin_media.c  media hashes of audio stored before them (at start)  → nothing here
 *   bulletin_data.c   reading rows, the API object, inserting             → nothing here
 */
#ifndef LC_SERVER_BULLETINS_INTERNAL_H
#define LC_SERVER_BULLETINS_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "server/bulletins/bulletins.h"

struct lc_req;
struct text_render;

struct lc_bulletins {
    uv_loop_t *loop;
    struct lc_store *store;
    struct lc_workers *render_pool;     /* NULL once stopped */
    struct lc_workers *urgent_pool;     /* NULL once stopped, or none */
    struct lc_renderer *renderer;
    const struct lc_lexicon *lexicon;
    int bitrate_kbps;
    double loudness_lufs;
    int max_bulletin_s;
    uint64_t *renders_ok, *renders_failed;
    double *render_seconds;
    char audio_dir[PATH_MAX];
    struct text_render *retrying;       /* outcomes not stored yet (bulletin_audio.c) */
};

/* ---- bulletin_audio.c ----------------------------------------------------------------------- */

/* Closes the retries of render outcomes not stored yet (shutdown). */
void lc_bulletins_stop_retries(struct lc_bulletins *b);

/* ---- bulletin_data.c ------------------------------------------------------------------------ */

/* The bulletin as its API object, or NULL if there is none. */
json_t *lc_bulletin_load(struct lc_store *s, int64_t id);
/* The same in *out: 0, -ENOENT (no such bulletin) or -EIO (a failed read, never "none"). */
int lc_bulletin_find(struct lc_store *s, int64_t id, json_t **out);

/* The fields of a bulletin the handlers check before acting. */
struct lc_bulletin_head {
    int64_t id;
    char status[16];
    char kind[8];
    char created_by[65];
    char audio_hash[65];
    char audio_by[65];      /* who uploaded the audio; "" for the server's speech */
    int64_t expires;        /* 0 = none */
    int64_t node;           /* its author's organisation node (server/org/org.h) */
};
/* 0, -ENOENT, or -EIO. */
int lc_bulletin_head(struct lc_store *s, int64_t id, struct lc_bulletin_head *h);

/* Reads the {id} parameter and the bulletin's head; answers 404 (bad id, no such bulletin, one
 * outside the caller's subtree) or 500 and returns -1 when it cannot. what names the caller in
 * a 500. */
int lc_bulletin_head_param(struct lc_req *req, struct lc_store *s, struct lc_bulletin_head *h,
                           const char *what);

/* Parses the {id} parameter; answers 404 and returns -1 if it is not a positive integer. */
int lc_bulletin_id_param(struct lc_req *req, int64_t *id);

/* A new bulletin from POST /api/v1/bulletins. */
struct lc_bulletin_new {
    const char *title, *text, *voice, *priority;   /* text NULL: a recording (a `draft`) */
    long long rate, repeat;
    bool has_not_before, has_expires;
    int64_t not_before, expires;
    bool all;
    json_t *communes;                               /* ids, when !all */
    const char *user;
    int64_t node;       /* the author's node: `all` means every commune of its subtree */
};
/* Inserts n (`rendering` or `draft`), its communes and its audit entry (req gives address and
 * actor), in the caller's transaction. 0 or -EIO. */
int lc_bulletin_insert(struct lc_store *s, const struct lc_req *req,
                       const struct lc_bulletin_new *n, int64_t *id);

/* GET /api/v1/bulletins: newest first; NULL or 0 filters are not applied. */
struct lc_bulletin_filter {
    const char *status, *created_by, *commune;
    int64_t before;
    int64_t scope;      /* the caller's node: only bulletins of its subtree (org.h) */
    long long limit;
};
/* *out gets the list of API objects (owned by the caller). 0 or -EIO. */
int lc_bulletin_list(struct lc_store *s, const struct lc_bulletin_filter *f, json_t **out);

/* "123" for the audit log. */
void lc_bulletin_target(int64_t id, char out[32]);

/* A bulletin made approved, with its rendered audio, by the system's own paths (an emergency's
 * text, a self-test's): no state machine, no second person. */
struct lc_bulletin_approved {
    const char *title, *text, *voice;
    const char *priority;       /* static: "emergency", "normal" */
    int64_t repeat;
    bool all;                   /* targets every commune (the caller adds its communes else) */
    const char *hash, *media_hash;
    size_t bytes;
    double duration_s;
    const char *user, *approver;
    int64_t node;               /* its organisation node (0: the root) */
};
/* Inserts b (bulletin_data.c): *id its row. No audit (the caller's). 0 or -EIO. */
int lc_bulletin_insert_approved(struct lc_store *s, const struct lc_bulletin_approved *b,
                                int64_t *id);

/* ---- bulletin_status.c ---------------------------------------------------------------------- */

/* A status change and what it writes besides the status. */
struct lc_bulletin_change {
    enum lc_bulletin_event event;
    const struct lc_req *req;   /* the request behind it, or NULL; for events not caused by
                                 * the server it is the actor (user, role) */
    const char *text;           /* render fails: the error; reject: the reason */
    const char *hash;           /* render ok, upload ok: the new audio */
    const char *media_hash;     /* ... and its media hash (audiostore.h) */
    int64_t bytes;
    double duration_s;
    int aired;                  /* aired out: the count */
    json_t *detail;             /* audit detail: stolen, also on failure */
    int64_t now;                /* Unix s */
};

/* The status that event ev leads to from status `from`, or NULL if the table has none. */
const char *lc_bulletin_next(const char *from, enum lc_bulletin_event ev);

/* Whether the request's user may cause ev on the bulletin h, and whether its status allows it:
 * 0, -EACCES or -EPERM (checked in that order). */
int lc_bulletin_check(const struct lc_bulletin_head *h, enum lc_bulletin_event ev,
                      const struct lc_req *req);

/* THE status change: in the caller's transaction, moves bulletin id by c->event from its status
 * as the table allows, writes the fields of the event and the audit entry (actor: the request's
 * user, or "system" for the server's events). 0, -ENOENT, -EACCES (who may not), -EPERM (its
 * status does not allow it; nothing written), -EIO. */
int lc_bulletin_transition(struct lc_store *s, int64_t id, struct lc_bulletin_change *c);

/* ---- bulletin_audio.c ----------------------------------------------------------------------- */

/* Queues the rendering of text bulletin id (status `rendering`); its outcome is stored by the
 * transition `render ok` or `render fails`. 0 or -errno. */
int lc_bulletin_render_text(struct lc_bulletins *b, int64_t id, const char *title,
                            const char *text, const char *voice, int rate);

/* Routes of bulletin_audio.c. */
int lc_bulletin_audio_routes(struct lc_bulletins *b, struct lc_router *r);

/* ---- bulletin_media.c ----------------------------------------------------------------------- */

/* At start: bulletins with audio but no media hash (stored before migration 36) get it; their
 * files are read and hashed on the render pool, the rows updated on the loop. */
void lc_bulletins_hash_media(struct lc_bulletins *b);

/* ---- bulletin_preview.c --------------------------------------------------------------------- */

/* GET /api/v1/bulletins/{id}/audio (ctx: the module): the stored file, read off the loop. */
void lc_bulletin_get_audio(struct lc_req *req, void *ctx);

#endif
