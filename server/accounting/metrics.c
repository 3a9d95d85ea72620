/* server/accounting/metrics.c — GET /metrics in the Prometheus text exposition format; see metrics.h. */
#include "server/accounting/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <http_parser.h>

#include "common/buf.h"
#include "server/api/api.h"
#include "common/workers.h"
#include "server/http/router.h"
#include "server/stream/stream.h"

static void put(struct lc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct lc_buf *b, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0)
        lc_buf_append(b, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static void get_metrics(struct lc_req *req)
{
    struct lc_app *app = lc_app(req);
    struct lc_metrics *m = &app->metrics;
    struct lc_http_stats hs;
    lc_http_get_stats(app->http, &hs);
    struct lc_buf b = {0};
    put(&b, "# HELP loacast_http_requests_total HTTP responses by status code.\n"
            "# TYPE loacast_http_requests_total counter\n");
    for (int s = 100; s < 600; s++)
        if (m->status[s])
            put(&b, "loacast_http_requests_total{code=\"%d\"} %llu\n", s,
                (unsigned long long)m->status[s]);
    put(&b, "# HELP loacast_http_connections Open HTTP connections.\n"
            "# TYPE loacast_http_connections gauge\nloacast_http_connections %d\n", hs.open);
    put(&b, "# HELP loacast_http_connections_total Accepted HTTP connections.\n"
            "# TYPE loacast_http_connections_total counter\nloacast_http_connections_total %llu\n",
        (unsigned long long)hs.accepted);
    put(&b, "# HELP loacast_http_rejected_total Connections refused over max_connections.\n"
            "# TYPE loacast_http_rejected_total counter\nloacast_http_rejected_total %llu\n",
        (unsigned long long)hs.rejected);
    put(&b, "# HELP loacast_http_timeouts_total Connections closed for slowness or idleness.\n"
            "# TYPE loacast_http_timeouts_total counter\nloacast_http_timeouts_total %llu\n",
        (unsigned long long)hs.timeouts);
    put(&b, "# HELP loacast_http_bad_requests_total Protocol errors (malformed, oversized).\n"
            "# TYPE loacast_http_bad_requests_total counter\nloacast_http_bad_requests_total %llu\n",
        (unsigned long long)hs.bad_requests);
    put(&b, "# HELP loacast_render_queue Bulletins waiting for or in rendering.\n"
            "# TYPE loacast_render_queue gauge\nloacast_render_queue %zu\n",
        app->render_pool ? lc_workers_pending(app->render_pool) : 0);
    put(&b, "# HELP loacast_renders_total Finished renders by result.\n"
            "# TYPE loacast_renders_total counter\n"
            "loacast_renders_total{result=\"ok\"} %llu\nloacast_renders_total{result=\"failed\"} %llu\n",
        (unsigned long long)m->renders_ok, (unsigned long long)m->renders_failed);
    put(&b, "# HELP loacast_render_seconds_total Wall-clock seconds spent rendering.\n"
            "# TYPE loacast_render_seconds_total counter\nloacast_render_seconds_total %.3f\n",
        m->render_seconds);
    put(&b, "# HELP loacast_logins_total Login attempts by result.\n"
            "# TYPE loacast_logins_total counter\n"
            "loacast_logins_total{result=\"ok\"} %llu\nloacast_logins_total{result=\"failed\"} %llu\n"
            "loacast_logins_total{result=\"limited\"} %llu\n",
        (unsigned long long)m->logins_ok, (unsigned long long)m->logins_failed,
        (unsigned long long)m->logins_limited);
    put(&b, "# HELP loacast_start_time_seconds Start of the server, Unix time.\n"
            "# TYPE loacast_start_time_seconds gauge\nloacast_start_time_seconds %llu\n",
        (unsigned long long)m->start_time);
    if (app->stream)
        lc_stream_metrics(app->stream, &b); /* receivers, bytes sent, sessions on air, drops */
    lc_http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, b.data, b.len);
    lc_buf_free(&b);
}

static void get_healthz(struct lc_req *req)
{
    struct lc_app *app = lc_app(req);
    lc_reply_json(req, app->stopping ? 503 : 200,
                  json_pack("{s:s,s:s}", "status", app->stopping ? "stopping" : "ok", "version",
                            LOACAST_VERSION));
}

int lc_metrics_routes(struct lc_router *r)
{
    int rc = lc_router_add(r, HTTP_GET, "/metrics", LC_ROUTE_OPEN, LC_BODY_NONE, get_metrics);
    if (rc == 0)
        rc = lc_router_add(r, HTTP_GET, "/healthz", LC_ROUTE_OPEN, LC_BODY_NONE, get_healthz);
    return rc;
}
