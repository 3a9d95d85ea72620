/*
 * server/server.c — assembling the server: storage, accounts, routes, pools, the listener, the
 * signal handlers, and the request dispatch (route → authentication → role → handler).
 */
#define LC_LOG_MODULE "server"
#include "server/server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include <http_parser.h>

#include "codecs/normalize.h"
#include "codecs/render.h"
#include "server/api/api.h"
#include "server/accounts/audit.h"
#include "server/accounts/auth.h"
#include "server/bulletins/bulletins.h"
#include "common/workers.h"
#include "server/registry/registry.h"
#include "server/http/router.h"
#include "server/scheduler/scheduler.h"
#include "common/log.h"
#include "server/scheduler/onair.h"
#include "server/http/static.h"
#include "server/store/store.h"
#include "server/stream/stream.h"
#include "server/accounting/coverage.h"
#include "server/accounts/users.h"

struct server {
    struct lc_app app;
    uv_loop_t loop;
    uv_signal_t sigint, sigterm;
    uv_timer_t grace;
    int grace_ticks;
};

/* ---- dispatch ------------------------------------------------------------------------------ */

static size_t on_headers(struct lc_req *req, void *ctx)
{
    struct lc_app *app = ctx;
    req->app = app;
    int status;
    char allow[128];
    const struct lc_route *rt = lc_router_match(app->router, req, &status, allow, sizeof allow);
    req->route = rt;
    if (rt == NULL)
        return 64 * 1024;
    switch (rt->body) {
    case LC_BODY_JSON: return (size_t)app->cfg.max_json_bytes;
    case LC_BODY_AUDIO: return (size_t)app->cfg.max_upload_bytes;
    default: return 64 * 1024;
    }
}

static void on_request(struct lc_req *req, void *ctx)
{
    struct lc_app *app = ctx;
    const struct lc_route *rt = req->route;
    if (app->stopping) {
        lc_reply_error(req, 503, "shutting_down", "the server is shutting down");
        return;
    }
    if (rt == NULL) {
        int status;
        char allow[128], extra[160];
        lc_router_match(app->router, req, &status, allow, sizeof allow);
        if (status == 405) {
            snprintf(extra, sizeof extra, "Allow: %s\r\n", allow);
            json_t *o = json_pack("{s:s,s:s}", "error", "method_not_allowed", "message",
                                  "this method is not allowed here");
            char *s = json_dumps(o, JSON_COMPACT);
            json_decref(o);
            lc_http_respond(req, 405, "application/json", extra, s, s ? strlen(s) : 0);
            free(s);
        } else if (status == 404) {
            lc_reply_error(req, 404, "not_found", "no such resource");
        } else {
            lc_reply_error(req, 503, "busy", "out of memory");
        }
        return;
    }
    if (rt->roles != LC_ROUTE_OPEN) {
        int rc = lc_auth_request(app, req);
        if (rc == -EACCES) {
            static const char body[] =
                "{\"error\":\"unauthorized\",\"message\":\"a valid bearer token is required\"}";
            lc_http_respond(req, 401, "application/json", "WWW-Authenticate: Bearer\r\n", body,
                            sizeof body - 1);
            return;
        }
        if (rc < 0) {
            lc_reply_internal(req, "authentication");
            return;
        }
        if ((rt->roles & req->role) == 0) {
            lc_reply_error(req, 403, "forbidden", "the role '%s' may not do this",
                           lc_role_name(req->role));
            return;
        }
    }
    lc_route_run(rt, req);
}

static void on_response(struct lc_req *req, int status, size_t bytes, void *ctx)
{
    (void)req;
    (void)bytes;
    struct lc_app *app = ctx;
    if (status >= 100 && status < 600) {
        app->metrics.status[status]++;
        app->metrics.requests[status / 100]++;
    }
}

/* ---- start and stop ------------------------------------------------------------------------ */

static int mkdirs(const char *path)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static void on_grace(uv_timer_t *t)
{
    struct server *s = t->data;
    /* Connections finish their answers; after 2 s the rest are cut. */
    if (lc_http_open_connections(s->app.http) > 0 && ++s->grace_ticks < 40)
        return;
    lc_http_close(s->app.http);
    uv_close((uv_handle_t *)&s->grace, NULL);
}

static void on_signal(uv_signal_t *sig, int signum)
{
    struct server *s = sig->data;
    struct lc_app *app = &s->app;
    if (app->stopping)
        return;
    lc_log(LC_LOG_INFO, "%s: shutting down", signum == SIGINT ? "SIGINT" : "SIGTERM");
    app->stopping = true;
    lc_scheduler_stop(app->scheduler); /* sessions stay on_air in the database */
    lc_retention_stop(app);
    lc_streams_stop(app->stream); /* receivers closed, last accounting batch written */
    app->stream = NULL;
    lc_http_stop(app->http);
    lc_workers_close(app->render_pool);
    app->render_pool = NULL;
    lc_workers_close(app->auth_pool);
    app->auth_pool = NULL;
    uv_close((uv_handle_t *)&s->sigint, NULL);
    uv_close((uv_handle_t *)&s->sigterm, NULL);
    uv_timer_init(&s->loop, &s->grace);
    s->grace.data = s;
    uv_timer_start(&s->grace, on_grace, 0, 50);
}

static int add_routes(struct lc_router *r)
{
    int rc = 0;
    if (rc == 0) rc = lc_metrics_routes(r);
    if (rc == 0) rc = lc_auth_routes(r);
    if (rc == 0) rc = lc_users_routes(r);
    if (rc == 0) rc = lc_audit_routes(r);
    if (rc == 0) rc = lc_communes_routes(r);
    if (rc == 0) rc = lc_clusters_routes(r);
    if (rc == 0) rc = lc_receivers_routes(r);
    if (rc == 0) rc = lc_bulletins_routes(r);
    if (rc == 0) rc = lc_slots_routes(r);
    if (rc == 0) rc = lc_sessions_routes(r);
    if (rc == 0) rc = lc_emergency_routes(r);
    if (rc == 0) rc = lc_stream_routes(r);
    if (rc == 0) rc = lc_coverage_routes(r);
    if (rc == 0) rc = lc_static_routes(r);
    return rc;
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int lc_server_run(const struct lc_config *cfg, struct lc_err *err)
{
    struct server *s = calloc(1, sizeof *s);
    if (s == NULL)
        return lc_err_set(err, -ENOMEM, "out of memory");
    struct lc_app *app = &s->app;
    int rc;
    bool loop_ok = false;
    app->cfg = *cfg;
    app->loop = &s->loop;
    app->metrics.start_time = (uint64_t)time(NULL);

    setenv("TZ", cfg->timezone, 1);
    tzset();
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();

    char dbpath[PATH_MAX + 32];
    if (strlen(cfg->data_dir) + sizeof "/audio" > sizeof app->audio_dir) {
        rc = lc_err_set(err, -ENAMETOOLONG, "data_dir is too long");
        goto out;
    }
    memcpy(app->audio_dir, cfg->data_dir, strlen(cfg->data_dir));
    memcpy(app->audio_dir + strlen(cfg->data_dir), "/audio", sizeof "/audio");
    if ((rc = mkdirs(cfg->data_dir)) < 0 || (rc = mkdirs(app->audio_dir)) < 0) {
        lc_err_set(err, rc, "%s: cannot create: %s", cfg->data_dir, strerror(-rc));
        goto out;
    }
    snprintf(dbpath, sizeof dbpath, "%s/loacast.db", cfg->data_dir);
    if ((rc = lc_store_open(&app->store, dbpath, err)) < 0)
        goto out;
    if ((rc = lc_onair_new(&app->onair)) < 0) {
        lc_err_set(err, rc, "out of memory");
        goto out;
    }
    if ((rc = lc_auth_open(&app->auth)) < 0) {
        lc_err_set(err, rc, "cannot initialise libsodium");
        goto out;
    }
    if ((rc = lc_auth_bootstrap(app)) < 0) {
        lc_err_set(err, rc, "cannot create the first user");
        goto out;
    }
    if ((rc = lc_lexicon_load(&app->lexicon, cfg->lexicon[0] ? cfg->lexicon : NULL, err)) < 0)
        goto out;
    if ((rc = lc_renderer_open(&app->renderer, 0, err)) < 0)
        goto out;
    if ((rc = lc_static_open(&app->web, cfg, err)) < 0)
        goto out;
    if ((rc = uv_loop_init(&s->loop)) < 0) {
        lc_err_set(err, rc, "event loop: %s", uv_strerror(rc));
        goto out;
    }
    loop_ok = true;
    if ((rc = lc_workers_open(&app->render_pool, &s->loop, cfg->render_workers)) < 0 ||
        (rc = lc_workers_open(&app->auth_pool, &s->loop, 2)) < 0) {
        lc_err_set(err, rc, "cannot start worker threads");
        goto out;
    }
    if ((rc = lc_router_new(&app->router)) < 0 || (rc = add_routes(app->router)) < 0) {
        lc_err_set(err, rc, "cannot build the routes");
        goto out;
    }
    struct lc_http_limits limits = {
        .max_header_bytes = (size_t)cfg->max_header_bytes,
        .max_connections = cfg->max_connections,
        .header_timeout_ms = (unsigned)cfg->header_timeout_ms,
        .body_timeout_ms = (unsigned)cfg->body_timeout_ms,
        .idle_timeout_ms = (unsigned)cfg->idle_timeout_ms,
    };
    struct lc_http_callbacks cbs = {on_headers, on_request, on_response, app};
    if ((rc = lc_http_listen(&app->http, &s->loop, cfg->listen_host, cfg->listen_port, &limits,
                             &cbs)) < 0) {
        lc_err_set(err, rc, "cannot listen on %s:%d: %s", cfg->listen_host, cfg->listen_port,
                   uv_strerror(rc));
        goto out;
    }
    struct lc_stream_opts so = {
        .loop = &s->loop, .store = app->store, .onair = app->onair, .audio_dir = app->audio_dir,
        .bitrate_kbps = cfg->bitrate_kbps, .burst_s = cfg->stream_burst_s,
        .backlog_s = cfg->stream_backlog_s, .hold_s = cfg->hold_s,
        .page_ms = cfg->stream_page_ms, .flush_ms = cfg->stream_batch_ms};
    if ((rc = lc_streams_open(&app->stream, &so)) < 0) {
        lc_err_set(err, rc, "cannot start the streaming engine");
        goto out;
    }
    uv_signal_init(&s->loop, &s->sigint);
    uv_signal_init(&s->loop, &s->sigterm);
    s->sigint.data = s->sigterm.data = s;
    uv_signal_start(&s->sigint, on_signal, SIGINT);
    uv_signal_start(&s->sigterm, on_signal, SIGTERM);
    lc_bulletins_resume(app);
    if ((rc = lc_scheduler_start(app)) < 0) {
        lc_err_set(err, rc, "cannot start the scheduler");
        goto out;
    }
    if ((rc = lc_retention_start(app)) < 0) {
        lc_err_set(err, rc, "cannot start delivery-log retention");
        goto out;
    }
    printf("loacast: listening on http://%s:%d/ (data in %s)\n", cfg->listen_host,
           cfg->listen_port, cfg->data_dir);
    fflush(stdout);

    uv_run(&s->loop, UV_RUN_DEFAULT);
    rc = 0;
out:
    if (loop_ok) {
        /* Start failures land here with handles open: close them and run the loop out. */
        if (!app->stopping) {
            lc_scheduler_stop(app->scheduler);
            lc_streams_stop(app->stream);
            app->stream = NULL;
            lc_workers_close(app->render_pool);
            lc_workers_close(app->auth_pool);
            if (app->http)
                lc_http_close(app->http);
        }
        uv_run(&s->loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&s->loop) != 0)
            lc_log(LC_LOG_ERR, "handles left open at exit");
    }
    lc_router_free(app->router);
    lc_static_free(app->web);
    lc_onair_free(app->onair);
    lc_renderer_close(app->renderer);
    lc_lexicon_free(app->lexicon);
    lc_auth_free(app->auth);
    lc_store_close(app->store);
    free(s);
    return rc;
}
