/*
 * server/accounting/accounting.h — the accounting module's door: what reached whom (delivery
 * rows, coverage reports, their retention) and the server's counters (GET /metrics, /healthz).
 *
 * One struct lc_accounting per server, created by server/server.c from struct
 * lc_accounting_deps, used on the loop thread only. It owns the coverage and metrics routes and
 * the retention timer; it owns none of its dependencies.
 *
 * Tables: accounting is the only writer of `deliveries`, `delivery_progress` and
 * `delivery_bulletins` (delivery.h: the streaming engine's batches call lc_delivery_*();
 * retention: lc_retention_prune()). Other modules only read them, through the view
 * deliveries_current.
 *
 * Lifecycle:
 *   lc_accounting_open()    before the routes are built (the routes need the handle)
 *   lc_accounting_routes()  GET /metrics, /healthz, /api/v1/deliveries, /api/v1/coverage,
 *                           /api/v1/coverage/summary (coverage.h, metrics.h)
 *   lc_accounting_watch()   once the HTTP listener and the streaming engine exist (/metrics
 *                           reads the listener's counters and prints the engine's lines
 *                           through a source callback: accounting never calls stream)
 *   lc_accounting_start()   the retention timer
 *   lc_accounting_stop()    at shutdown: timer closed, /healthz says "stopping", the watched
 *                           handles forgotten (they are being stopped)
 *   lc_accounting_free()    after the loop ran out.
 */
#ifndef LC_SERVER_ACCOUNTING_H
#define LC_SERVER_ACCOUNTING_H

#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "server/accounting/metrics.h"
/* Delivery records: the streaming engine reports completed writes (a public piece). */
#include "server/accounting/delivery.h"

struct lc_accounting;
struct lc_buf;
struct lc_router;
struct lc_store;
struct lc_http;
struct lc_workers;

/* Appends a higher module's lines of GET /metrics (Prometheus text) to b; ctx is that module's
 * handle. The assembly hands one to accounting (the streaming engine's gauges), so that
 * accounting needs no door above its own. */
typedef void (*lc_metrics_source_cb)(void *ctx, struct lc_buf *b);

struct lc_accounting_deps {
    uv_loop_t *loop;                /* the retention timer runs on it */
    struct lc_store *store;         /* deliveries, broadcasts, clusters, communes */
    struct lc_metrics *metrics;     /* the server's counters, owned by server.c; other modules
                                     * bump them through their own deps */
    struct lc_workers *render_pool; /* its queue length is shown; NULL: 0 */
    struct lc_workers *report_pool; /* the coverage reports are read there (report_job.c); NULL:
                                     * on the loop (tests of the module alone) */
    int retention_days;             /* [coverage] retention_days: older delivery rows go */
    int audit_days;                 /* [auth] audit_days: older audit entries go */
    int offline_after_s;            /* [coverage] offline_after_s: a cluster's online metric */
};

/* Creates the handle in *out (freed with lc_accounting_free()); deps are copied. 0 or -ENOMEM. */
int lc_accounting_open(struct lc_accounting **out, const struct lc_accounting_deps *deps);
/* Frees the handle; call after lc_accounting_stop() and after the loop ran out. NULL allowed. */
void lc_accounting_free(struct lc_accounting *a);

/* Adds the module's routes (see above) with a as their handle. 0 or -ENOMEM/-EINVAL. */
int lc_accounting_routes(struct lc_accounting *a, struct lc_router *r);

/* What /metrics reads, once it exists: the listener (its stats; NULL: zeros) and a source of
 * more lines, called with source_ctx on each scrape (NULL: none). Not owned. */
void lc_accounting_watch(struct lc_accounting *a, struct lc_http *http,
                         lc_metrics_source_cb source, void *source_ctx);

/* Starts the retention timer on deps->loop (first run 2 s after start). 0 or -ENOMEM. */
int lc_accounting_start(struct lc_accounting *a);
/* Shutdown, see above; the timer's handle is closed with the loop's other handles. Safe to call
 * twice; NULL allowed. */
void lc_accounting_stop(struct lc_accounting *a);

/* Issue 19 (the map): each commune's last finished session — a new object, commune id →
 * {"session","session_start","session_end","clusters_total","clusters_reached",
 * "population_total","population_reached","percent_clusters","percent_population",
 * "reached":{cluster id: true, ...}} — as GET /api/v1/coverage counts it; communes without one
 * are absent. Two statements, whatever the number of clusters (last_session.c). NULL when the
 * database cannot be read. */
json_t *lc_coverage_last_sessions(struct lc_store *store);

/* Deletes at most `batch` delivery rows (and, by trigger, their delivery_bulletins rows) of
 * sessions that started before cutoff (Unix s). Returns the number deleted, or -EIO. */
int lc_retention_prune(struct lc_store *store, int64_t cutoff, int batch);

#endif
