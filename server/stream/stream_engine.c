/*
 * server/stream/stream_engine.c — the engine's lifecycle (open, stop, free), the accounting batch timer
 * (delivery rows and clusters' last_seen, one transaction per period) and its counters; see
 * stream.h.
 */
#define LC_LOG_MODULE "stream"
#include "server/stream/stream.h"
#include "server/stream/stream_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codecs/encode.h"
#include "common/log.h"
#include "server/scheduler/onair.h"
#include "server/store/store.h"

/* ---- accounting batches -------------------------------------------------------------------- */

static void save_seen(const char *key, void *val, void *arg)
{
    (void)val;
    struct lc_streams *e = arg;
    if (lc_delivery_seen(e->o.store, key, (int64_t)time(NULL)) < 0)
        lc_log(LC_LOG_ERR, "cluster %s: cannot record last_seen", key);
}

static bool cast_dirty(const struct lc_cast *c)
{
    for (const struct lc_dlv *d = c->dlvs; d; d = d->next)
        if (d->dirty || d->anchored)
            return true;
    return false;
}

/* Saves c's records inside the current transaction. A batch writes the rows of records that
 * changed other than by following the stream (joined, gone, behind, a bulletin completed) and
 * anchors those in step, so that in the usual second only the stream's progress row is written
 * for all the receivers that kept pace (delivery.h). final: every row whole, no anchor. */
static void save_records(struct lc_streams *e, struct lc_cast *c, bool final)
{
    struct lc_dlv_session s = {
        .id = c->session, .commune = c->commune, .start_s = c->start_ms / 1000,
        .end_s = c->end_ms / 1000, .programme_s = lc_cast_programme_s(c),
        .preskip = (uint64_t)c->pk.preskip, .air = c->prog.air, .nair = c->prog.nair};
    int64_t now = (int64_t)time(NULL);
    bool anchors = !final && c->state == CAST_ON && c->mark.g > 0, progress = false;
    for (struct lc_dlv *d = c->dlvs; d; d = d->next) {
        if (anchors && lc_delivery_in_step(&s, d, &c->mark)) {
            d->dirty = false;
            progress = true;
            continue;
        }
        if (!d->dirty && !d->anchored && !final)
            continue;
        bool in_step = anchors && d->live && d->nrng > 0 && d->rng[d->nrng - 1].g1 == c->mark.g;
        if (lc_delivery_save(e->o.store, &s, d, in_step ? &c->mark : NULL, now) == 0 && in_step)
            progress = true;
    }
    if (progress)
        lc_delivery_progress(e->o.store, &s, &c->mark, now);
    else if (final)
        lc_delivery_progress_end(e->o.store, c->session);
}

/* A batch whose commit failed (a full disk, say) is rolled back: its records forget what they
 * believed saved, so that the next batch writes each row whole (an upsert, no anchor). */
static void batch_lost(struct lc_streams *e, struct lc_cast *only)
{
    lc_store_rollback(e->o.store);
    for (struct lc_cast *c = e->casts; c; c = c->next) {
        if (only != NULL && c != only)
            continue;
        for (struct lc_dlv *d = c->dlvs; d; d = d->next) {
            d->dirty = true;
            d->anchored = false;
            d->row = false;
            d->whole_saved = false;
        }
    }
}

void lc_stream_save_cast(struct lc_streams *e, struct lc_cast *c, bool final)
{
    if (e->o.store == NULL || c->dlvs == NULL || (!final && !cast_dirty(c)))
        return;
    bool own = lc_store_begin(e->o.store) == 0;
    save_records(e, c, final);
    if (own && lc_store_commit(e->o.store) < 0) {
        lc_log(LC_LOG_ERR, "commune %s: delivery batch not saved", c->commune);
        batch_lost(e, c);
    }
}

void lc_streams_flush(struct lc_streams *e)
{
    if (e == NULL || e->o.store == NULL)
        return;
    e->flush_due = false;
    bool any = e->seen.n > 0;
    for (struct lc_cast *c = e->casts; c && !any; c = c->next)
        any = cast_dirty(c);
    if (!any)
        return;
    if (lc_store_begin(e->o.store) < 0)
        return;
    uint64_t t0 = uv_hrtime();
    lc_strmap_each(&e->seen, save_seen, e);
    lc_strmap_clear(&e->seen);
    for (struct lc_cast *c = e->casts; c; c = c->next)
        save_records(e, c, false);
    if (lc_store_commit(e->o.store) < 0) {
        lc_log(LC_LOG_ERR, "delivery batch not saved");
        batch_lost(e, NULL);
    }
    /* the batch holds the loop: say so when it gets long (docs/streaming.md, figures) */
    uint64_t ms = (uv_hrtime() - t0) / 1000000;
    if (ms >= 100)
        lc_log(LC_LOG_WARN, "delivery batch took %llu ms (%llu receivers)", (unsigned long long)ms,
               (unsigned long long)e->connected);
}

/* A batch in the middle of a fan-out would find the receivers not yet served behind their
 * stream and write all their rows: it waits for the fan-out to complete (a few ms), once. */
static void on_batch(uv_timer_t *t)
{
    struct lc_streams *e = t->data;
    bool fanning = false;
    for (struct lc_cast *c = e->casts; c && !fanning; c = c->next)
        fanning = c->fan_first != NULL;
    if (fanning && !e->flush_due)
        e->flush_due = true;
    else
        lc_streams_flush(e);
}

void lc_streams_seen(struct lc_streams *e, const char *cluster)
{
    if (e != NULL && e->o.store != NULL && lc_strmap_put(&e->seen, cluster, e) < 0)
        lc_log(LC_LOG_ERR, "out of memory");
}

/* ---- fan-out in slices (stream.c) ----------------------------------------------------------- */

static void on_fan_idle(uv_idle_t *h)
{
    lc_stream_fan_more(h->data);
}

void lc_stream_fan_later(struct lc_streams *e)
{
    if (!e->stopping)
        uv_idle_start(&e->fan_idle, on_fan_idle);
}

void lc_stream_fan_done(struct lc_streams *e)
{
    uv_idle_stop(&e->fan_idle);
    if (e->flush_due)
        lc_streams_flush(e);
}

/* ---- lifecycle ----------------------------------------------------------------------------- */

/* One 20 ms packet of digital silence from a fresh encoder (its third, steady-state packet). */
static int make_silence(struct lc_streams *e)
{
    float pcm[LC_OPUS_FRAME * 3] = {0};
    struct lc_encode_opts o = {.bitrate_kbps = e->o.bitrate_kbps, .complexity = 5, .pad_tail = 0};
    struct lc_encoded enc = {0};
    int rc = lc_encode(pcm, LC_OPUS_FRAME * 3, &o, &enc, NULL);
    if (rc < 0)
        return rc;
    rc = -EINVAL;
    if (enc.npkts >= 1) {
        const struct lc_packet *p = &enc.pkts[enc.npkts >= 3 ? 2 : enc.npkts - 1];
        if (p->len <= sizeof e->silence) {
            memcpy(e->silence, enc.data + p->off, p->len);
            e->silence_len = p->len;
            rc = 0;
        }
    }
    lc_encoded_free(&enc);
    return rc;
}

int lc_streams_open(struct lc_streams **out, const struct lc_stream_opts *o)
{
    struct lc_streams *e = calloc(1, sizeof *e);
    if (e == NULL)
        return -ENOMEM;
    e->o = *o;
    snprintf(e->audio_dir, sizeof e->audio_dir, "%s", o->audio_dir ? o->audio_dir : ".");
    e->o.audio_dir = e->audio_dir;
    snprintf(e->clips.dir, sizeof e->clips.dir, "%s", e->audio_dir);
    if (e->o.page_ms < 20)
        e->o.page_ms = 1000;
    if (e->o.fan_slice <= 0)
        e->o.fan_slice = 2000;
    if (e->o.flush_ms <= 0 || e->o.flush_ms > 1000)
        e->o.flush_ms = 1000;
    int rc = make_silence(e);
    if (rc == 0 && o->store != NULL && lc_delivery_recover(o->store) < 0)
        lc_log(LC_LOG_ERR, "the delivery rows of the last run were not completed");
    if (rc == 0 && o->onair != NULL)
        rc = lc_onair_subscribe(o->onair, lc_stream_onair_cb, e);
    if (rc < 0) {
        free(e);
        return rc;
    }
    uv_timer_init(o->loop, &e->batch);
    e->batch.data = e;
    uv_idle_init(o->loop, &e->fan_idle);
    e->fan_idle.data = e;
    e->handles = 2;
    uv_timer_start(&e->batch, on_batch, (uint64_t)e->o.flush_ms, (uint64_t)e->o.flush_ms);
    *out = e;
    return 0;
}

void lc_stream_maybe_free_engine(struct lc_streams *e)
{
    if (!e->stopping || e->handles > 0 || e->nrcv_objects > 0 || e->depth > 0)
        return;
    lc_strmap_clear(&e->by_cluster);
    lc_strmap_clear(&e->seen);
    free(e);
}

static void on_batch_closed(uv_handle_t *h)
{
    struct lc_streams *e = h->data;
    e->handles--;
    lc_stream_maybe_free_engine(e);
}

void lc_streams_stop(struct lc_streams *e)
{
    if (e == NULL || e->stopping)
        return;
    lc_streams_flush(e);
    lc_stream_end_all(e); /* sets nothing free yet: stopping is still false */
    e->stopping = true;
    lc_streams_flush(e);
    uv_timer_stop(&e->batch);
    uv_idle_stop(&e->fan_idle);
    e->depth++; /* the close callbacks must not free e before we return */
    uv_close((uv_handle_t *)&e->batch, on_batch_closed);
    uv_close((uv_handle_t *)&e->fan_idle, on_batch_closed);
    e->depth--;
    lc_stream_maybe_free_engine(e);
}

/* ---- introspection ------------------------------------------------------------------------- */

void lc_streams_stats(const struct lc_streams *e, struct lc_stream_stats *st)
{
    memset(st, 0, sizeof *st);
    if (e == NULL)
        return;
    st->receivers = e->connected;
    st->bytes_sent = e->bytes_sent;
    st->dropped_slow = e->dropped_slow;
    st->replaced = e->replaced;
    st->pages = e->pages;
    for (const struct lc_cast *c = e->casts; c; c = c->next)
        if (c->state != CAST_DONE)
            st->casts_on_air++;
}

int lc_streams_hold_s(const struct lc_streams *e)
{
    return e->o.hold_s;
}

struct lc_onair *lc_streams_onair(const struct lc_streams *e)
{
    return e->o.onair;
}

void lc_stream_metrics(const struct lc_streams *e, struct lc_buf *b)
{
    struct lc_stream_stats st;
    lc_streams_stats(e, &st);
    char t[1600];
    int n = snprintf(
        t, sizeof t,
        "# HELP loacast_receivers_connected Receivers streaming now.\n"
        "# TYPE loacast_receivers_connected gauge\nloacast_receivers_connected %llu\n"
        "# HELP loacast_stream_bytes_sent_total Stream bytes whose write completed.\n"
        "# TYPE loacast_stream_bytes_sent_total counter\nloacast_stream_bytes_sent_total %llu\n"
        "# HELP loacast_sessions_on_air Commune streams held or on air.\n"
        "# TYPE loacast_sessions_on_air gauge\nloacast_sessions_on_air %llu\n"
        "# HELP loacast_receivers_dropped_slow_total Receivers dropped for a full backlog.\n"
        "# TYPE loacast_receivers_dropped_slow_total counter\n"
        "loacast_receivers_dropped_slow_total %llu\n"
        "# HELP loacast_receivers_replaced_total Receivers replaced by a new connection.\n"
        "# TYPE loacast_receivers_replaced_total counter\nloacast_receivers_replaced_total %llu\n"
        "# HELP loacast_stream_pages_total Ogg pages made (each shared by all receivers).\n"
        "# TYPE loacast_stream_pages_total counter\nloacast_stream_pages_total %llu\n",
        (unsigned long long)st.receivers, (unsigned long long)st.bytes_sent,
        (unsigned long long)st.casts_on_air, (unsigned long long)st.dropped_slow,
        (unsigned long long)st.replaced, (unsigned long long)st.pages);
    if (n > 0)
        lc_buf_append(b, t, (size_t)n < sizeof t ? (size_t)n : sizeof t - 1);
}
