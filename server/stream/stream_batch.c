/*
 * server/stream/stream_batch.c — the engine's accounting batches: every ≤ 1 s, one transaction
 * with the delivery rows of every cast (server/accounting/delivery.h writes them and is the only
 * place that changes a record) and the clusters seen since the last batch (last_seen). Calls
 * nothing of the stream's other files. Loop thread only.
 */
#define LC_LOG_MODULE "stream"
#include "server/stream/stream_internal.h"

#include <time.h>

#include "common/log.h"
#include "server/store/store.h"

static void save_seen(const char *key, void *val, void *arg)
{
    (void)val;
    struct lc_streams *e = arg;
    if (lc_delivery_seen(e->o.store, key, (int64_t)time(NULL)) < 0)
        lc_log(LC_LOG_ERR, "cluster %s: cannot record last_seen", key);
}

/* A cast whose records wait for a batch. Casts whose programme is not read yet wait: their
 * programme length is not known. */
static bool cast_pending(const struct lc_cast *c)
{
    if (!c->ready)
        return false;
    for (const struct lc_dlv *d = c->dlvs; d; d = d->next)
        if (lc_dlv_pending(d))
            return true;
    return false;
}

/* Saves c's records inside the current transaction (delivery.h: lc_delivery_batch). */
static void save_records(struct lc_streams *e, struct lc_cast *c, bool final)
{
    struct lc_dlv_session s = {
        .id = c->session, .commune = c->commune, .start_s = c->start_ms / 1000,
        .end_s = c->end_ms / 1000, .programme_s = lc_cast_programme_s(c),
        .preskip = (uint64_t)c->pk.preskip, .air = c->prog.air, .nair = c->prog.nair};
    lc_delivery_batch(e->o.store, &s, c->dlvs, c->state == CAST_ON ? &c->mark : NULL, final,
                      (int64_t)time(NULL));
}

/* A batch whose commit failed (a full disk, say) is rolled back, and its records forget what
 * they believed saved. */
static void batch_lost(struct lc_streams *e, struct lc_cast *only)
{
    lc_store_rollback(e->o.store); /* if not done yet */
    for (struct lc_cast *c = e->casts; c; c = c->next)
        if (only == NULL || c == only)
            lc_delivery_batch_lost(c->dlvs);
}

void lc_stream_save_cast(struct lc_streams *e, struct lc_cast *c, bool final)
{
    if (e->o.store == NULL || c->dlvs == NULL || (!final && !cast_pending(c)))
        return;
    bool own = lc_store_begin(e->o.store) == 0;
    save_records(e, c, final);
    if (own && lc_store_commit(e->o.store) < 0) {
        lc_log(LC_LOG_ERR, "commune %s: delivery batch not saved", c->commune);
        batch_lost(e, c);
    }
}

struct flush {
    struct lc_streams *e;
    bool ran;                   /* the transaction began */
};

static int flush_tx(struct lc_store *st, void *arg)
{
    (void)st;
    struct flush *f = arg;
    f->ran = true;
    lc_strmap_each(&f->e->seen, save_seen, f->e);
    lc_strmap_clear(&f->e->seen);
    for (struct lc_cast *c = f->e->casts; c; c = c->next)
        if (c->ready)
            save_records(f->e, c, false);
    return 0;
}

void lc_streams_flush(struct lc_streams *e)
{
    if (e == NULL || e->o.store == NULL)
        return;
    e->flush_due = false;
    bool any = e->seen.n > 0;
    for (struct lc_cast *c = e->casts; c && !any; c = c->next)
        any = cast_pending(c);
    if (!any)
        return;
    uint64_t t0 = uv_hrtime();
    struct flush f = {e, false};
    if (lc_store_tx(e->o.store, flush_tx, &f) < 0 && f.ran) { /* BEGIN failed: next time */
        lc_log(LC_LOG_ERR, "delivery batch not saved");
        batch_lost(e, NULL);
    }
    /* the batch holds the loop: say so when it gets long (docs/streaming.md, figures) */
    uint64_t ms = (uv_hrtime() - t0) / 1000000;
    if (ms >= 100)
        lc_log(LC_LOG_WARN, "delivery batch took %llu ms (%llu receivers)", (unsigned long long)ms,
               (unsigned long long)e->connected);
}

void lc_streams_seen(struct lc_streams *e, const char *cluster)
{
    if (e != NULL && !e->stopping && e->o.store != NULL &&
        lc_strmap_put(&e->seen, cluster, e) < 0)
        lc_log(LC_LOG_ERR, "out of memory");
}
