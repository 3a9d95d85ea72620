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
#include "common/log.h"
#include "common/workers.h"
#include "server/accounting/accounting.h"
#include "server/accounts/accounts.h"
#include "server/alerts/alerts.h"
#include "server/api/api.h"
#include "server/bulletins/bulletins.h"
#include "server/feed/feed.h"
#include "server/http/http.h"
#include "server/media/media.h"
#include "server/registry/registry.h"
#include "server/scheduler/scheduler.h"
#include "server/selftest/selftest.h"
#include "server/lexicon/lexicon.h"
#include "server/icecast/icecast.h"
#include "server/map/map.h"
#include "server/org/org.h"
#include "server/station/station.h"
#include "server/store/store.h"
#include "server/stream/stream.h"
#include "server/server_internal.h"
#include "server/access_log.h"

struct server {
    struct app app;
    uv_loop_t loop;
    uv_signal_t sigint, sigterm;    /* the others: reload.c */
    uv_timer_t grace;
    int grace_ticks;
};

/* ---- dispatch ------------------------------------------------------------------------------ */

/* Answers a request that matched no route: 405 with the methods allowed, or 404. */
static void no_route(struct app *app, struct lc_req *req)
{
    int status;
    char allow[128], extra[160];
    lc_router_match(app->router, req, &status, allow, sizeof allow);
    if (status == 405) {
        snprintf(extra, sizeof extra, "Allow: %s\r\n", allow);
        lc_reply_error_headers(req, 405, extra, "method_not_allowed",
                               "this method is not allowed here");
    } else if (status == 404) {
        lc_reply_error(req, 404, "not_found", "no such resource");
    } else {
        lc_reply_error(req, 503, "busy", "out of memory");
    }
}

/* Checks the caller's token and role against the route. Returns 0 when allowed, -1 after
 * answering 401, 403 or 500. */
static int authorize(struct app *app, struct lc_req *req, const struct lc_route *rt)
{
    req->authorized = true;
    if (rt->roles == LC_ROUTE_OPEN)
        return 0;
    int rc = lc_auth_request(app->accounts, req);
    if (rc == -EACCES) {
        static const char body[] =
            "{\"error\":\"unauthorized\",\"message\":\"a valid bearer token is required\"}";
        lc_http_respond(req, 401, "application/json", "WWW-Authenticate: Bearer\r\n", body,
                        sizeof body - 1);
        return -1;
    }
    if (rc < 0) {
        lc_reply_internal(req, "authentication");
        return -1;
    }
    lc_req_vouch(req, LC_CONN_STAFF);
    if ((rt->roles & req->role) == 0) {
        lc_reply_error(req, 403, "forbidden", "the role '%s' may not do this",
                       lc_role_name(req->role));
        return -1;
    }
    return 0;
}

/* On the headers, before any body byte is read: a request with a body that will be refused
 * (no route, no valid token, a role not admitted, shutting down) is answered now and its body
 * never buffered (the connection closes after the answer). A request without a body is decided
 * in on_request, so that its connection stays open. */
static size_t on_headers(struct lc_req *req, void *ctx)
{
    struct app *app = ctx;
    int status;
    char allow[128];
    const struct lc_route *rt = lc_router_match(app->router, req, &status, allow, sizeof allow);
    req->route = rt;
    if (!req->has_body)
        return 0;
    if (app->stopping) {
        lc_reply_error(req, 503, "shutting_down", "the server is shutting down");
        return (size_t)-1;
    }
    if (rt == NULL) {
        no_route(app, req);
        return (size_t)-1;
    }
    if (authorize(app, req, rt) < 0)
        return (size_t)-1;
    switch (rt->body) {
    case LC_BODY_JSON: return (size_t)app->cfg.max_json_bytes;
    case LC_BODY_AUDIO: return (size_t)app->cfg.max_upload_bytes;
    default: return 64 * 1024;
    }
}

static void on_request(struct lc_req *req, void *ctx)
{
    struct app *app = ctx;
    const struct lc_route *rt = req->route;
    if (app->stopping) {
        lc_reply_error(req, 503, "shutting_down", "the server is shutting down");
        return;
    }
    if (rt == NULL) {
        no_route(app, req);
        return;
    }
    if (!req->authorized && authorize(app, req, rt) < 0)
        return;
    lc_route_run(rt, req);
}

static void on_response(struct lc_req *req, int status, size_t bytes, void *ctx)
{
    (void)bytes;
    struct app *app = ctx;
    lc_access_log_write(app->access_log, req, status, bytes);
    if (status >= 100 && status < 600) {
        app->metrics.status[status]++;
        app->metrics.requests[status / 100]++;
    }
    /* A change made by staff (an approval, a withdrawal, a session, an emergency, a cluster's
     * volume...) may change receivers' schedules: the waiting ones are built again. Receivers'
     * own reports (no staff role) change none. */
    if (req->method != HTTP_GET && req->method != HTTP_HEAD && status >= 200 && status < 300 &&
        req->role != 0)
        lc_feed_poke(app->feed);
}

/* The lines of /metrics of the modules above accounting (which may not call them): the
 * streaming engine's, the receivers' schedules', the media route's. */
static void upper_metrics(void *ctx, struct lc_buf *b)
{
    const struct app *app = ctx;
    lc_stream_metrics(app->stream, b);
    lc_feed_metrics(app->feed, b);
    lc_media_metrics(app->media, b);
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

/* Stops what runs on its own (timers, streams, worker threads), in this order: no new session,
 * receivers closed with their last accounting batch written, renders in progress finished. The
 * handles stay allocated until the loop has run out. Used by SIGINT/SIGTERM and a failed start. */
static void stop_modules(struct app *app)
{
    lc_alerts_stop(app->alerts);       /* its worker: waiting alerts are answered 503 */
    lc_selftest_stop(app->selftest);   /* no self-test starts from now on */
    lc_scheduler_stop(app->scheduler); /* sessions stay on_air in the database */
    lc_feed_stop(app->feed);
    lc_accounting_stop(app->accounting);
    lc_streams_stop(app->stream);
    lc_icecast_stop(app->icecast);     /* issue 19: after the streams' EOS pages were queued */
    lc_bulletins_stop(app->bulletins);
    lc_workers_close(app->render_pool);
    app->render_pool = NULL;
    lc_workers_close(app->auth_pool);
    app->auth_pool = NULL;
    lc_workers_close(app->urgent_pool);
    app->urgent_pool = NULL;
    lc_workers_close(app->report_pool); /* a report being built finishes; waiting ones get 503 */
    app->report_pool = NULL;
}

static void on_signal(uv_signal_t *sig, int signum)
{
    struct server *s = sig->data;
    struct app *app = &s->app;
    if (app->stopping)
        return;
    lc_log(LC_LOG_INFO, "%s: shutting down", signum == SIGINT ? "SIGINT" : "SIGTERM");
    app->stopping = true;
    lc_app_signals_stop(app);
    stop_modules(app);
    lc_http_stop(app->http);
    uv_close((uv_handle_t *)&s->sigint, NULL);
    uv_close((uv_handle_t *)&s->sigterm, NULL);
    uv_timer_init(&s->loop, &s->grace);
    s->grace.data = s;
    uv_timer_start(&s->grace, on_grace, 0, 50);
}

/* The registry ended a cluster's credentials: its open stream ends (registry/ is below stream/
 * and does not call it; the assembly connects them). */
static void cluster_revoked(void *ctx, const char *cluster, const char *why)
{
    lc_streams_drop_cluster(ctx, cluster, why);
}

static int add_routes(struct app *app, struct lc_router *r)
{
    int rc = 0;
    if (rc == 0) rc = lc_accounting_routes(app->accounting, r);
    if (rc == 0) rc = lc_accounts_routes(app->accounts, r);
    if (rc == 0) rc = lc_org_routes(app->org, r);              /* issue 19: the tree */
    if (rc == 0) rc = lc_registry_routes(app->registry, r);
    if (rc == 0) rc = lc_bulletins_routes(app->bulletins, r);
    if (rc == 0) rc = lc_scheduler_routes(app->scheduler, r);
    if (rc == 0) rc = lc_stream_routes(app->stream, r);
    if (rc == 0) rc = lc_station_routes(app->station, r);
    if (rc == 0) rc = lc_media_routes(app->media, r);
    if (rc == 0) rc = lc_feed_routes(app->feed, r);
    if (rc == 0) rc = lc_alerts_routes(app->alerts, r);
    if (rc == 0) rc = lc_selftest_routes(app->selftest, r);
    if (rc == 0) rc = lc_stlex_routes(app->stlex, r);          /* issue 20: station lexicon */
    if (rc == 0) rc = lc_map_routes(app->map, r);              /* issue 19: the cluster map */
    if (rc == 0) rc = lc_icecast_routes(app->icecast, r);      /* issue 19: Icecast's URL auth */
    if (rc == 0) rc = lc_static_routes(app->web, r);
    return rc;
}

/* Builds the route table with add_routes(), the code `serve` runs, but opens nothing: the module
 * handles the routes are given are NULL (adding a route stores its handle, never uses it). Prints
 * one route a line, "METHOD PATTERN ROLES", ROLES being "open" or the admitted roles joined by
 * commas; tests/server/roles_test.py reads it. Returns 0 or a negative errno. */
int lc_server_print_routes(FILE *f)
{
    struct app app;
    struct lc_router *r = NULL;
    memset(&app, 0, sizeof app);
    int rc = lc_router_new(&r);
    if (rc == 0)
        rc = add_routes(&app, r);
    for (size_t i = 0; rc == 0 && i < lc_router_count(r); i++) {
        const struct lc_route *rt = lc_router_at(r, i);
        fprintf(f, "%s %s %s", http_method_str((enum http_method)rt->method), rt->pattern,
                rt->roles == LC_ROUTE_OPEN ? "open" : "");
        for (unsigned bit = 1, n = 0; bit & LC_ROLES_STAFF; bit <<= 1)
            if (rt->roles & bit)
                fprintf(f, "%s%s", n++ ? "," : "", lc_role_name(bit));
        fputc('\n', f);
    }
    lc_router_free(r);
    return rc;
}

/* Files the server keeps besides connections: the database and its WAL, audio files being
 * read or written, the listener, libuv's own descriptors, the worker threads' files. */
#define FD_HEADROOM 128

/* Raises the file limit to the hard limit and returns it (0 if unknown). */
static long raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur == RLIM_INFINITY ? 1L << 20 : (long)rl.rlim_cur;
}

int lc_server_run(const struct lc_config *cfg, struct lc_err *err)
{
    struct server *s = calloc(1, sizeof *s);
    if (s == NULL)
        return lc_err_set(err, -ENOMEM, "out of memory");
    struct app *app = &s->app;
    int rc;
    bool loop_ok = false;
    app->cfg = *cfg;
    app->loop = &s->loop;
    app->metrics.start_time = (uint64_t)time(NULL);
    lc_log_init();

    setenv("TZ", cfg->timezone, 1);
    tzset();
    signal(SIGPIPE, SIG_IGN);
    long files = raise_fd_limit();
    /* [server] max_connections = 0 (the default): as many as the file limit allows. */
    int max_conn = cfg->max_connections;
    if (max_conn == 0)
        max_conn = files > 2 * FD_HEADROOM ? (int)(files - FD_HEADROOM) : 1024;
    else if (files > 0 && max_conn > files - FD_HEADROOM)
        lc_log(LC_LOG_WARN, "max_connections = %d is over what the file limit (%ld) allows",
               max_conn, files);
    app->max_connections = max_conn;
    struct lc_http_trust *trust = NULL;
    char why[160];
    if ((rc = lc_http_trust_parse(&trust, cfg->trusted_proxies, why, sizeof why)) < 0) {
        lc_err_set(err, rc, "[server] trusted_proxies: %s", why);
        goto out;
    }

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
    if ((rc = lc_station_open(&app->station, cfg->data_dir, cfg->station_name, err)) < 0)
        goto out;
    if ((rc = lc_onair_new(&app->onair)) < 0) {
        lc_err_set(err, rc, "out of memory");
        goto out;
    }
    if ((rc = uv_loop_init(&s->loop)) < 0) {
        lc_err_set(err, rc, "event loop: %s", uv_strerror(rc));
        goto out;
    }
    loop_ok = true;
    if ((rc = lc_workers_open(&app->render_pool, &s->loop, cfg->render_workers)) < 0 ||
        (rc = lc_workers_open(&app->auth_pool, &s->loop, 2)) < 0 ||
        (rc = lc_workers_open(&app->urgent_pool, &s->loop, 1)) < 0 ||
        (rc = lc_workers_open(&app->report_pool, &s->loop, 1)) < 0) {
        lc_err_set(err, rc, "cannot start worker threads");
        goto out;
    }
    struct lc_org_deps od = {.store = app->store, .audit = lc_audit,
                             .root_name = cfg->station_name};
    if ((rc = lc_org_open(&app->org, &od)) < 0) {
        lc_err_set(err, rc, "cannot read the organisation tree");
        goto out;
    }
    struct lc_accounts_deps acd = {
        .store = app->store, .auth_pool = app->auth_pool,
        .logins_ok = &app->metrics.logins_ok, .logins_failed = &app->metrics.logins_failed,
        .logins_limited = &app->metrics.logins_limited};
    lc_app_accounts_limits(cfg, &acd);
    if ((rc = lc_accounts_open(&app->accounts, &acd)) < 0) {
        lc_err_set(err, rc, "cannot initialise libsodium");
        goto out;
    }
    struct lc_registry_deps rd = {.store = app->store, .offline_after_s = cfg->offline_after_s,
                                  .active_window_s = cfg->active_window_s,
                                  .unreached_sessions = cfg->unreached_sessions};
    if ((rc = lc_registry_open(&app->registry, &rd)) < 0) {
        lc_err_set(err, rc, "out of memory");
        goto out;
    }
    char pwfile[PATH_MAX + 32];
    snprintf(pwfile, sizeof pwfile, "%s/admin-password", cfg->data_dir);
    if ((rc = lc_auth_bootstrap(app->accounts, pwfile)) < 0) {
        lc_err_set(err, rc, "cannot create the first user");
        goto out;
    }
    if ((rc = lc_lexicon_load(&app->lexicon, cfg->lexicon[0] ? cfg->lexicon : NULL, err)) < 0)
        goto out;
    if ((rc = lc_renderer_open(&app->renderer, 0, err)) < 0)
        goto out;
    if ((rc = lc_static_open(&app->web, cfg->web_dir, cfg->timezone, err)) < 0)
        goto out;
    lc_static_set_map(app->web, cfg->map_tiles, cfg->map_attribution);    /* issue 19: the map */
    struct lc_bulletins_deps bd = {
        .loop = &s->loop, .store = app->store, .render_pool = app->render_pool,
        .urgent_pool = app->urgent_pool, .renderer = app->renderer, .lexicon = app->lexicon, .audio_dir = app->audio_dir,
        .bitrate_kbps = cfg->bitrate_kbps, .loudness_lufs = cfg->loudness_lufs,
        .max_bulletin_s = cfg->max_bulletin_s, .renders_ok = &app->metrics.renders_ok,
        .renders_failed = &app->metrics.renders_failed,
        .render_seconds = &app->metrics.render_seconds};
    if ((rc = lc_bulletins_open(&app->bulletins, &bd)) < 0) {
        lc_err_set(err, rc, "out of memory");
        goto out;
    }
    struct lc_accounting_deps ad = {
        .loop = &s->loop, .store = app->store, .metrics = &app->metrics,
        .render_pool = app->render_pool, .report_pool = app->report_pool,
        .retention_days = cfg->retention_days,
        .audit_days = cfg->audit_days, .offline_after_s = cfg->offline_after_s};
    if ((rc = lc_accounting_open(&app->accounting, &ad)) < 0) {
        lc_err_set(err, rc, "out of memory");
        goto out;
    }
    struct lc_scheduler_deps sd = {.loop = &s->loop, .store = app->store, .onair = app->onair,
                                   .bulletins = app->bulletins,
                                   .hold_s = cfg->hold_s, .gap_ms = cfg->gap_ms,
                                   .catchup_s = cfg->stream_catchup_s};
    if ((rc = lc_scheduler_open(&app->scheduler, &sd)) < 0) {
        lc_err_set(err, rc, "cannot start the scheduler");
        goto out;
    }
    struct lc_stream_opts so = {
        .loop = &s->loop, .store = app->store, .onair = app->onair, .audio_dir = app->audio_dir,
        .bitrate_kbps = cfg->bitrate_kbps, .burst_s = cfg->stream_burst_s,
        .backlog_s = cfg->stream_backlog_s, .hold_s = cfg->hold_s,
        .page_ms = cfg->stream_page_ms, .flush_ms = cfg->stream_batch_ms,
        .lead_ms = cfg->stream_lead_ms, .send_ms = cfg->stream_send_ms,
        .hold_audio = cfg->stream_hold_audio, .catchup_s = cfg->stream_catchup_s,
        .loudness_lufs = cfg->loudness_lufs, .relay_filler = cfg->relay_filler,      /* [relay] */
        .relay_buffer_ms = cfg->relay_buffer_ms, .relay_timeout_ms = cfg->relay_timeout_ms};
    if ((rc = lc_streams_open(&app->stream, &so)) < 0) {
        lc_err_set(err, rc, "cannot start the streaming engine");
        goto out;
    }
    lc_registry_on_revoke(app->registry, cluster_revoked, app->stream);
    struct lc_media_deps md = {.loop = &s->loop, .store = app->store, .accounts = app->accounts,
                               .audio_dir = app->audio_dir, .public_media = cfg->media_public};
    if ((rc = lc_media_open(&app->media, &md)) < 0) {
        lc_err_set(err, rc, "out of memory");
        goto out;
    }
    struct lc_feed_deps fd = {.loop = &s->loop, .store = app->store, .scheduler = app->scheduler,
                              .station = app->station, .onair = app->onair};
    if ((rc = lc_feed_open(&app->feed, &fd)) < 0) {
        lc_err_set(err, rc, "cannot start the receivers' schedules");
        goto out;
    }
    struct lc_alerts_deps ald = {.loop = &s->loop, .store = app->store,
                                 .scheduler = app->scheduler, .lexicon = app->lexicon,
                                 .trusted_senders = cfg->trusted_senders};
    if ((rc = lc_alerts_open(&app->alerts, &ald, err)) < 0)
        goto out;
    struct lc_selftest_deps std = {.loop = &s->loop, .store = app->store,
                                   .scheduler = app->scheduler, .bulletins = app->bulletins,
                                   .hold_s = cfg->hold_s,
                                   .plays_wait_s = cfg->selftest_plays_wait_s};
    if ((rc = lc_selftest_open(&app->selftest, &std)) < 0) {
        lc_err_set(err, rc, "cannot start the self-tests");
        goto out;
    }
    /* issue 20: the station lexicon: its entries go into app->lexicon, shared by renders */
    struct lc_stlex_deps lxd = {.loop = &s->loop, .store = app->store,
                                .render_pool = app->render_pool, .renderer = app->renderer,
                                .lexicon = app->lexicon, .tsv_path = cfg->lexicon,
                                .bitrate_kbps = cfg->bitrate_kbps,
                                .loudness_lufs = cfg->loudness_lufs};
    if ((rc = lc_stlex_open(&app->stlex, &lxd, err)) < 0)
        goto out;
    /* issue 19: the console's cluster map (reads only) */
    struct lc_map_deps mpd = {.store = app->store, .offline_after_s = cfg->offline_after_s,
                              .active_window_s = cfg->active_window_s};
    if ((rc = lc_map_open(&app->map, &mpd)) < 0) {
        lc_err_set(err, rc, "out of memory");
        goto out;
    }
    /* issue 19: fan-out through Icecast: the engine's pages to its source client (a tap) */
    struct lc_icecast_deps icd = {.loop = &s->loop, .store = app->store,
                                  .url = cfg->icecast_url,
                                  .auth_secret = cfg->icecast_auth_secret};
    if ((rc = lc_icecast_open(&app->icecast, &icd, err)) < 0)
        goto out;
    lc_streams_set_tap(app->stream, lc_icecast_tap, app->icecast);
    if ((rc = lc_router_new(&app->router)) < 0 || (rc = add_routes(app, app->router)) < 0) {
        lc_err_set(err, rc, "cannot build the routes");
        goto out;
    }
    struct lc_http_limits limits;
    lc_app_http_limits(cfg, max_conn, &limits);
    if ((rc = lc_access_log_open(&app->access_log, &s->loop, cfg->access_log, err)) < 0)
        goto out;
    struct lc_http_callbacks cbs = {on_headers, on_request, on_response, app};
    if ((rc = lc_http_listen(&app->http, &s->loop, cfg->listen_host, cfg->listen_port, &limits,
                             &cbs)) < 0) {
        lc_err_set(err, rc, "cannot listen on %s:%d: %s", cfg->listen_host, cfg->listen_port,
                   uv_strerror(rc));
        goto out;
    }
    lc_http_set_trust(app->http, trust);
    trust = NULL;
    lc_accounting_watch(app->accounting, app->http, upper_metrics, app);
    uv_signal_init(&s->loop, &s->sigint);
    uv_signal_init(&s->loop, &s->sigterm);
    s->sigint.data = s->sigterm.data = s;
    uv_signal_start(&s->sigint, on_signal, SIGINT);
    uv_signal_start(&s->sigterm, on_signal, SIGTERM);
    if ((rc = lc_app_signals_start(app, &s->loop)) < 0) {
        lc_err_set(err, rc, "cannot handle signals: %s", uv_strerror(rc));
        goto out;
    }
    lc_bulletins_resume(app->bulletins);
    if ((rc = lc_scheduler_start(app->scheduler)) < 0) {
        lc_err_set(err, rc, "cannot start the scheduler");
        goto out;
    }
    if ((rc = lc_selftest_start(app->selftest)) < 0) {
        lc_err_set(err, rc, "cannot start the self-tests: the database cannot be read");
        goto out;
    }
    if ((rc = lc_accounting_start(app->accounting)) < 0) {
        lc_err_set(err, rc, "cannot start delivery-log retention");
        goto out;
    }
    printf("loacast: listening on http://%s:%d/ (data in %s), up to %d connections (file limit"
           " %ld)\n", cfg->listen_host, cfg->listen_port, cfg->data_dir, max_conn, files);
    fflush(stdout);

    uv_run(&s->loop, UV_RUN_DEFAULT);
    rc = 0;
out:
    lc_http_trust_free(trust);
    if (loop_ok) {
        lc_access_log_close(app->access_log);
        /* Start failures land here with handles open: close them and run the loop out. */
        if (!app->stopping) {
            lc_app_signals_stop(app);
            stop_modules(app);
            if (app->http)
                lc_http_close(app->http);
        }
        uv_run(&s->loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&s->loop) != 0)
            lc_log(LC_LOG_ERR, "handles left open at exit");
    }
    lc_selftest_free(app->selftest);
    lc_stlex_free(app->stlex);
    lc_map_free(app->map);
    lc_alerts_free(app->alerts);
    lc_feed_free(app->feed);
    lc_streams_free(app->stream);
    lc_icecast_free(app->icecast);
    lc_router_free(app->router);
    lc_scheduler_free(app->scheduler);
    lc_bulletins_free(app->bulletins);
    lc_accounting_free(app->accounting);
    lc_static_free(app->web);
    lc_onair_free(app->onair);
    lc_renderer_close(app->renderer);
    lc_lexicon_free(app->lexicon);
    lc_registry_free(app->registry);
    lc_accounts_free(app->accounts);
    lc_org_free(app->org);
    lc_station_free(app->station);
    lc_media_free(app->media);
    lc_store_close(app->store);
    free(s);
    return rc;
}
