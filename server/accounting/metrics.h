/*
 * server/accounting/metrics.h — counters of the server, exposed at GET /metrics (Prometheus text format).
 *
 * Plain integers: they are only touched on the loop thread (workers report through their done
 * callbacks). lc_metrics_routes() adds the route; the text is built on each scrape.
 */
#ifndef LC_SERVER_METRICS_H
#define LC_SERVER_METRICS_H

#include <stdint.h>

struct lc_router;

struct lc_metrics {
    uint64_t requests[6];           /* by status class: [1]=1xx ... [5]=5xx */
    uint64_t status[600];           /* by exact status */
    uint64_t renders_ok;
    uint64_t renders_failed;
    double render_seconds;          /* wall time spent rendering, summed */
    uint64_t logins_ok;
    uint64_t logins_failed;
    uint64_t logins_limited;
    uint64_t start_time;            /* Unix seconds */
};

int lc_metrics_routes(struct lc_router *r);

#endif
