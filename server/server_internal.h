/*
 * server/server_internal.h — the assembly's handles, shared by server.c (start, dispatch,
 * shutdown) and reload.c (SIGHUP and the other signals that do not stop the server). No module
 * sees this: each gets its own handles through its deps.
 */
#ifndef LC_SERVER_SERVER_INTERNAL_H
#define LC_SERVER_SERVER_INTERNAL_H

#include <limits.h>
#include <stdbool.h>

#include <uv.h>

#include "server/accounting/accounting.h"
#include "server/config.h"

struct lc_store;
struct lc_router;
struct lc_http;
struct lc_workers;
struct lc_renderer;
struct lc_lexicon;
struct lc_org;
struct lc_accounts;
struct lc_registry;
struct lc_onair;
struct lc_bulletins;
struct lc_scheduler;
struct lc_static;
struct lc_streams;
struct lc_station;
struct lc_media;
struct lc_feed;
struct lc_alerts;
struct lc_selftest;
struct lc_stlex;
struct lc_map;
struct lc_icecast;
struct lc_access_log;

/* The assembly's handles: every module, created here with the handles it needs and given to no
 * one whole (handlers get their own module's handle as the route's ctx). Loop thread only. */
struct app {
    uv_loop_t *loop;
    struct lc_config cfg;
    struct lc_store *store;
    struct lc_router *router;
    struct lc_http *http;
    struct lc_workers *render_pool;    /* bulletin rendering (blocking lc_render_*) */
    struct lc_workers *auth_pool;      /* Argon2id hashing and verification */
    struct lc_workers *urgent_pool;    /* emergencies' renders: one thread, never busy with others */
    struct lc_workers *report_pool;    /* coverage reports' reads: one thread, off the loop */
    struct lc_renderer *renderer;
    struct lc_lexicon *lexicon;
    struct lc_org *org;             /* the organisation tree, staff's scope (org/org.h) */
    struct lc_accounts *accounts;   /* users, login, audit (server/accounts/accounts.h) */
    struct lc_registry *registry;   /* communes, clusters (server/registry/registry.h) */
    struct lc_onair *onair;         /* on-air events: the scheduler publishes, the streaming
                                     * engine subscribes (server/scheduler/onair.h) */
    struct lc_bulletins *bulletins;  /* bulletins, the render service (bulletins/bulletins.h) */
    struct lc_scheduler *scheduler; /* slots, sessions, timers (server/scheduler/scheduler.h) */
    struct lc_static *web;          /* the web console's files (none when none were found) */
    struct lc_streams *stream;      /* the streaming engine (server/stream/stream.h) */
    struct lc_accounting *accounting; /* deliveries, coverage, metrics (accounting.h) */
    struct lc_station *station;     /* the station key, time (server/station/station.h) */
    struct lc_media *media;         /* GET /media/{hash}.opus (server/media/media.h) */
    struct lc_feed *feed;           /* receivers' signed schedules (server/feed/feed.h) */
    struct lc_alerts *alerts;       /* CAP 1.2 alerts (server/alerts/alerts.h) */
    struct lc_selftest *selftest;   /* weekly self-test, broken clusters (selftest/selftest.h) */
    struct lc_stlex *stlex;         /* the station lexicon, swapped into lexicon (issue 20;
                                     * lexicon/lexicon.h); SIGHUP: lc_stlex_reload() */
    struct lc_map *map;             /* the console's cluster map (issue 19, map/map.h) */
    struct lc_icecast *icecast;     /* fan-out through Icecast (issue 19, icecast/icecast.h) */
    struct lc_metrics metrics;      /* the server's counters; modules get &metrics in their deps */
    char audio_dir[PATH_MAX];       /* <data_dir>/audio */
    struct lc_access_log *access_log; /* none when [server] access_log is empty */
    int max_connections;            /* in effect: [server] max_connections or the file limit's */
    bool stopping;
};

/* reload.c: the [limits] of cfg as the HTTP layer takes them, with max_connections in effect. */
struct lc_http_limits;
void lc_app_http_limits(const struct lc_config *cfg, int max_connections,
                        struct lc_http_limits *out);
/* The [auth] limits of cfg as the accounts module takes them. */
struct lc_accounts_deps;
void lc_app_accounts_limits(const struct lc_config *cfg, struct lc_accounts_deps *out);

/* reload.c: SIGHUP reads the configuration file again and applies what can change while running
 * (its log line says what it applied and what waits for a restart), reopens the logs and reloads
 * the lexicon; SIGUSR1 only reopens the logs; other signals a daemon may be sent by mistake are
 * logged and ignored. */
int lc_app_signals_start(struct app *app, uv_loop_t *loop);
void lc_app_signals_stop(struct app *app);

#endif
