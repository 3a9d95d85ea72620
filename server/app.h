/*
 * server/app.h — the server's context, shared by the modules of server/ (internal header).
 *
 * One struct lc_app per `loacast serve`, created and freed by server.c, used on the loop thread
 * only. Handlers reach it through req->app (lc_app()). Workers get copies of what they need,
 * never this struct.
 */
#ifndef LC_SERVER_APP_H
#define LC_SERVER_APP_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "server/config.h"
#include "server/http/http.h"
#include "server/accounting/metrics.h"

struct lc_store;
struct lc_router;
struct lc_workers;
struct lc_renderer;
struct lc_lexicon;
struct lc_auth;
struct lc_onair;
struct lc_scheduler;
struct lc_streams;
struct lc_static;
struct lc_retention;

struct lc_app {
    uv_loop_t *loop;
    struct lc_config cfg;
    struct lc_store *store;
    struct lc_router *router;
    struct lc_http *http;
    struct lc_workers *render_pool;    /* bulletin rendering (blocking lc_render_*) */
    struct lc_workers *auth_pool;      /* Argon2id hashing and verification */
    struct lc_renderer *renderer;
    struct lc_lexicon *lexicon;
    struct lc_auth *auth;           /* login rate limits, dummy hash */
    struct lc_onair *onair;         /* on-air events: the scheduler publishes, the streaming
                                     * engine subscribes (server/scheduler/onair.h) */
    struct lc_scheduler *scheduler; /* slots, sessions, timers (server/scheduler/scheduler.h) */
    struct lc_static *web;          /* the web console's files (NULL: none found) */
    struct lc_streams *stream;      /* the streaming engine (server/stream/stream.h) */
    struct lc_retention *retention; /* pruning of old delivery rows (server/accounting/coverage.h) */
    struct lc_metrics metrics;
    char audio_dir[PATH_MAX];       /* <data_dir>/audio */
    bool stopping;
};

static inline struct lc_app *lc_app(const struct lc_req *req)
{
    return (struct lc_app *)req->app;
}

#endif
