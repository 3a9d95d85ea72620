/*
 * server/accounting/retention.c — pruning of old delivery rows; see coverage.h.
 *
 * A timer ticks 2 s after start, then every RETENTION_PERIOD_MS; a tick deletes one batch of rows older than
 * retention_days, and one batch of audit entries older than audit_days (the audit table is
 * accounts', pruned through its door). While a batch comes back full, the next tick follows after RETENTION_BUSY_MS
 * instead, so a backlog (a year of rows after lowering the setting) drains in small steps
 * between requests rather than in one long statement on the loop. A batch is one statement, so
 * one implicit transaction (its delivery_bulletins rows go with it, by trigger).
 *
 * The timer's state is its own allocation, freed in the handle's close callback, so the
 * accounting handle may be freed before the loop has run that callback.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "server/accounting/coverage.h"
#include "server/accounts/accounts.h"
#include "server/api/api.h"
#include "server/store/store.h"

#define RETENTION_FIRST_MS 2000
#define RETENTION_PERIOD_MS (10 * 60 * 1000)
#define RETENTION_BUSY_MS 200
#define RETENTION_BATCH 500

struct lc_retention {
    uv_timer_t timer;
    struct lc_store *store;
    int retention_days;
    int audit_days;
};

int lc_retention_prune(struct lc_store *store, int64_t cutoff, int batch)
{
    static const char sql[] =
        "DELETE FROM deliveries WHERE (session, cluster) IN"
        " (SELECT session, cluster FROM deliveries WHERE session_start < ?1 LIMIT ?2)";
    return lc_store_prune(store, sql, cutoff, batch);
}

static void on_tick(uv_timer_t *t)
{
    struct lc_retention *r = t->data;
    int64_t cutoff = lc_now() - (int64_t)r->retention_days * 86400;
    int n = lc_retention_prune(r->store, cutoff, RETENTION_BATCH);
    int m = lc_audit_prune(r->store, lc_now() - (int64_t)r->audit_days * 86400, RETENTION_BATCH);
    bool busy = n == RETENTION_BATCH || m == RETENTION_BATCH;
    uv_timer_start(t, on_tick, busy ? RETENTION_BUSY_MS : RETENTION_PERIOD_MS, 0);
}

static void on_closed(uv_handle_t *h)
{
    free(h->data);
}

int lc_retention_start(struct lc_accounting *a)
{
    struct lc_retention *r = calloc(1, sizeof *r);
    if (r == NULL)
        return -ENOMEM;
    r->store = a->d.store;
    r->retention_days = a->d.retention_days;
    r->audit_days = a->d.audit_days;
    uv_timer_init(a->d.loop, &r->timer);
    r->timer.data = r;
    uv_timer_start(&r->timer, on_tick, RETENTION_FIRST_MS, 0);
    uv_unref((uv_handle_t *)&r->timer); /* never keeps the loop alive on its own */
    a->retention = r;
    return 0;
}

void lc_retention_stop(struct lc_accounting *a)
{
    struct lc_retention *r = a->retention;
    if (r == NULL)
        return;
    uv_timer_stop(&r->timer);
    uv_close((uv_handle_t *)&r->timer, on_closed);
    a->retention = NULL;
}
