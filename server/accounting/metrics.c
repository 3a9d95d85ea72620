/*
 * server/accounting/metrics.c — GET /metrics in the Prometheus text exposition format and
 * GET /healthz; see metrics.h. The text is built on each scrape from the accounting handle: the
 * server's counters (deps.metrics), the render pool's queue, the listener's stats and the
 * lines of the source lc_accounting_watch() was given (the streaming engine's).
 */
#include "server/accounting/accounting_internal.h"
#include "server/accounting/coverage.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <http_parser.h>

#include "common/buf.h"
#include "server/api/api.h"
#include "common/workers.h"
#include "server/http/http.h"
#include "server/store/store.h"

/* The HELP and TYPE lines of a metric. */
static void head(struct lc_buf *b, const char *name, const char *type, const char *help)
{
    lc_metrics_put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A metric of one unlabelled value. */
static void one(struct lc_buf *b, const char *name, const char *type, const char *help,
                unsigned long long v)
{
    head(b, name, type, help);
    lc_metrics_put(b, "%s %llu\n", name, v);
}

/* One sample of a metric labelled by result. */
static void by_result(struct lc_buf *b, const char *name, const char *result, uint64_t v)
{
    lc_metrics_put(b, "%s{result=\"%s\"} %llu\n", name, result, (unsigned long long)v);
}

static void get_metrics(struct lc_req *req, void *ctx)
{
    struct lc_accounting *a = ctx;
    const struct lc_metrics *m = a->d.metrics;
    struct lc_http_stats hs = {0};
    if (a->http != NULL)
        lc_http_get_stats(a->http, &hs);
    struct lc_buf b = {0};
    head(&b, "loacast_http_requests_total", "counter", "HTTP responses by status code.");
    for (int s = 100; s < 600; s++)
        if (m->status[s])
            lc_metrics_put(&b, "loacast_http_requests_total{code=\"%d\"} %llu\n", s,
                (unsigned long long)m->status[s]);
    one(&b, "loacast_http_connections", "gauge", "Open HTTP connections.",
        (unsigned long long)hs.open);
    head(&b, "loacast_http_connections_by_kind", "gauge",
         "Open HTTP connections by what their token proved (probation: past the anonymous bounds).");
    lc_metrics_put(&b, "loacast_http_connections_by_kind{kind=\"anonymous\"} %d\n", hs.anonymous);
    lc_metrics_put(&b, "loacast_http_connections_by_kind{kind=\"probation\"} %d\n", hs.probation);
    lc_metrics_put(&b, "loacast_http_connections_by_kind{kind=\"staff\"} %d\n", hs.staff);
    lc_metrics_put(&b, "loacast_http_connections_by_kind{kind=\"receiver\"} %d\n", hs.receivers);
    one(&b, "loacast_http_connections_total", "counter", "Accepted HTTP connections.",
        hs.accepted);
    one(&b, "loacast_http_rejected_total", "counter",
        "Connections refused (over max_connections, or an address over its bound).", hs.rejected);
    one(&b, "loacast_http_probation_closed_total", "counter",
        "Connections admitted on probation and closed without showing a token.",
        hs.probation_closed);
    one(&b, "loacast_http_evicted_total", "counter",
        "Idle connections without a token closed for a newcomer when every connection was taken.",
        hs.evicted);
    one(&b, "loacast_http_receivers_refused_total", "counter",
        "Receiver requests refused because receivers held all but the staff's reserve.",
        hs.receivers_refused);
    one(&b, "loacast_http_timeouts_total", "counter",
        "Connections closed for slowness or idleness.", hs.timeouts);
    one(&b, "loacast_http_bad_requests_total", "counter",
        "Protocol errors (malformed, oversized).", hs.bad_requests);
    one(&b, "loacast_render_queue", "gauge", "Bulletins waiting for or in rendering.",
        a->d.render_pool ? lc_workers_pending(a->d.render_pool) : 0);
    head(&b, "loacast_renders_total", "counter", "Finished renders by result.");
    by_result(&b, "loacast_renders_total", "ok", m->renders_ok);
    by_result(&b, "loacast_renders_total", "failed", m->renders_failed);
    head(&b, "loacast_render_seconds_total", "counter", "Wall-clock seconds spent rendering.");
    lc_metrics_put(&b, "loacast_render_seconds_total %.3f\n", m->render_seconds);
    head(&b, "loacast_logins_total", "counter", "Login attempts by result.");
    by_result(&b, "loacast_logins_total", "ok", m->logins_ok);
    by_result(&b, "loacast_logins_total", "failed", m->logins_failed);
    by_result(&b, "loacast_logins_total", "limited", m->logins_limited);
    one(&b, "loacast_start_time_seconds", "gauge", "Start of the server, Unix time.",
        m->start_time);
    one(&b, "loacast_store_corrupt", "gauge",
        "1 once SQLite reported the database corrupt (restore it from a backup).",
        lc_store_corrupt() ? 1 : 0);
    lc_metrics_fleet(a, &b); /* per commune, per cluster */
    if (a->source)
        a->source(a->source_ctx, &b); /* receivers, bytes sent, sessions on air, drops */
    lc_http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, b.data, b.len);
    lc_buf_free(&b);
}

static void get_healthz(struct lc_req *req, void *ctx)
{
    const struct lc_accounting *a = ctx;
    const char *status = a->stopping ? "stopping" : lc_store_corrupt() ? "database_corrupt" : "ok";
    lc_reply_json(req, strcmp(status, "ok") == 0 ? 200 : 503,
                  json_pack("{s:s,s:s}", "status", status, "version", LOACAST_VERSION));
}

int lc_metrics_routes(struct lc_accounting *a, struct lc_router *r)
{
    int rc = lc_router_add(r, HTTP_GET, "/metrics", LC_ROUTE_OPEN, LC_BODY_NONE, get_metrics,
                               a);
    if (rc == 0)
        rc = lc_router_add(r, HTTP_GET, "/healthz", LC_ROUTE_OPEN, LC_BODY_NONE, get_healthz,
                               a);
    return rc;
}
