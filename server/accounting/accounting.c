/*
 * server/accounting/accounting.c — the accounting handle: its lifecycle and its routes; see
 * accounting.h. Loop thread only.
 */
#include "server/accounting/coverage.h"

#include <errno.h>
#include <stdlib.h>

int lc_accounting_open(struct lc_accounting **out, const struct lc_accounting_deps *deps)
{
    struct lc_accounting *a = calloc(1, sizeof *a);
    *out = a;
    if (a == NULL)
        return -ENOMEM;
    a->d = *deps;
    return 0;
}

void lc_accounting_free(struct lc_accounting *a)
{
    free(a);
}

int lc_accounting_routes(struct lc_accounting *a, struct lc_router *r)
{
    int rc = lc_metrics_routes(a, r);
    if (rc == 0)
        rc = lc_coverage_routes(a, r);
    return rc == 0 ? lc_plays_routes(a, r) : rc;
}

void lc_accounting_watch(struct lc_accounting *a, struct lc_http *http,
                         lc_metrics_source_cb source, void *source_ctx)
{
    a->http = http;
    a->source = source;
    a->source_ctx = source_ctx;
}

int lc_accounting_start(struct lc_accounting *a)
{
    return lc_retention_start(a);
}

void lc_accounting_stop(struct lc_accounting *a)
{
    if (a == NULL)
        return;
    a->stopping = true;
    atomic_store(&a->reports_stop, true);   /* a report being read stops (report_job.c) */
    lc_retention_stop(a);
    a->http = NULL;
    a->source = NULL;
    a->source_ctx = NULL;
    a->d.render_pool = NULL;
}
