/*
 * server/accounting/metrics.h — the server's counters, exposed at GET /metrics (Prometheus text
 * format); a public piece of accounting.h (include that).
 *
 * One struct lc_metrics per server, owned by server/server.c; each module that counts gets a
 * pointer to it through its deps and bumps its own fields. Plain integers: they are only touched
 * on the loop thread (workers report through their done callbacks). The /metrics text is built
 * on each scrape (metrics.c).
 */
#ifndef LC_SERVER_METRICS_H
#define LC_SERVER_METRICS_H

#include <stdint.h>

struct lc_metrics {
    uint64_t requests[6];           /* by status class: [1]=1xx ... [5]=5xx (server.c) */
    uint64_t status[600];           /* by exact status (server.c) */
    uint64_t renders_ok;            /* bulletins (render jobs) */
    uint64_t renders_failed;
    double render_seconds;          /* wall time spent rendering, summed */
    uint64_t logins_ok;             /* accounts (auth) */
    uint64_t logins_failed;
    uint64_t logins_limited;
    uint64_t start_time;            /* Unix seconds (server.c) */
};

#endif
