/* server/bulletins/bulletins_internal.h — shared by bulletins.c and bulletin_audio.c only. */
#ifndef LC_SERVER_BULLETINS_INTERNAL_H
#define LC_SERVER_BULLETINS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "server/app.h"

/* The bulletin as its API object, or NULL if there is none. */
json_t *lc_bulletin_load(struct lc_app *app, int64_t id);

/* The fields of a bulletin the handlers check before acting. */
struct lc_bulletin_head {
    int64_t id;
    char status[16];
    char kind[8];
    char created_by[65];
    char audio_hash[65];
    int64_t expires;        /* 0 = none */
};
/* 0, -ENOENT, or -EIO. */
int lc_bulletin_head(struct lc_app *app, int64_t id, struct lc_bulletin_head *h);

/* Parses the {id} parameter; answers 404 and returns -1 if it is not a positive integer. */
int lc_bulletin_id_param(struct lc_req *req, int64_t *id);

/* Queues the rendering of text bulletin id (status `rendering`). 0 or -errno. */
int lc_bulletin_render_text(struct lc_app *app, int64_t id, const char *title, const char *text,
                            const char *voice, int rate);

/* Routes of bulletin_audio.c. */
int lc_bulletin_audio_routes(struct lc_router *r);

#endif
