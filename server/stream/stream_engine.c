/*
 * server/stream/stream_engine.c — the engine's lifecycle (open, stop, free), the accounting batch
 * timer (the batches: stream_batch.c) and the counters; see stream.h. The top of the module's
 * files: it calls stream.c, stream_batch.c and stream_clips.c, and none of them calls it.
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

/* ---- the batch timer ---------------------------------------------------------------------- */

/* A batch in the middle of a fan-out would find the receivers not yet served behind their
 * stream and write all their rows: it waits for the fan-out to complete (a few ms), once
 * (stream.c flushes when the fan-out is done). */
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
    if (e->o.page_ms < 20)
        e->o.page_ms = 1000;
    if (e->o.send_ms < e->o.page_ms)
        e->o.send_ms = e->o.page_ms;
    if (e->o.fan_slice <= 0)
        e->o.fan_slice = 500;
    if (e->o.flush_ms <= 0 || e->o.flush_ms > 1000)
        e->o.flush_ms = 1000;
    int rc = make_silence(e);
    if (rc == 0) { /* relay items (stream_relay.h) */
        struct lc_relay_cfg *rl = &e->relay_cfg;
        rl->bitrate_kbps = e->o.bitrate_kbps > 0 ? e->o.bitrate_kbps : 24;
        rl->complexity = 8;
        rl->target_lufs = e->o.loudness_lufs < 0 ? e->o.loudness_lufs : -16.0;
        rl->send_ms = e->o.send_ms;
        rl->buffer_ms = e->o.relay_buffer_ms > 0 ? e->o.relay_buffer_ms : 1000;
        rl->timeout_ms = e->o.relay_timeout_ms > 0 ? e->o.relay_timeout_ms : 5000;
        rl->silence = e->silence;
        rl->silence_len = e->silence_len;
        rl->carry = &e->carry;
        struct lc_err err = {0};
        if ((rc = lc_relay_cfg_filler(rl, o->relay_filler, &err)) < 0)
            lc_log(LC_LOG_ERR, "%s", lc_err_msg(&err));
        e->o.relay_filler = NULL; /* not kept */
    }
    if (rc == 0 && o->store != NULL && lc_delivery_recover(o->store) < 0)
        lc_log(LC_LOG_ERR, "the delivery rows of the last run were not completed");
    if (rc == 0)
        rc = lc_clips_open(&e->clips, o->loop, e->audio_dir);
    if (rc == 0 && o->onair != NULL)
        rc = lc_onair_subscribe(o->onair, lc_stream_onair_cb, e);
    if (rc < 0) {
        lc_clips_close(&e->clips); /* its handle closes with the loop's others */
        lc_relay_cfg_free(&e->relay_cfg);
        free(e);
        return rc;
    }
    lc_stream_listen_init(e);  /* staff listen tickets, on-air counts (stream_listen.c) */
    uv_timer_init(o->loop, &e->batch);
    e->batch.data = e;
    uv_idle_init(o->loop, &e->fan_idle);
    e->fan_idle.data = e;
    e->handles = 2;
    uv_timer_start(&e->batch, on_batch, (uint64_t)e->o.flush_ms, (uint64_t)e->o.flush_ms);
    *out = e;
    return 0;
}

static void on_batch_closed(uv_handle_t *h)
{
    struct lc_streams *e = h->data;
    e->handles--;
    lc_stream_maybe_free(e);
}

void lc_streams_stop(struct lc_streams *e)
{
    if (e == NULL || e->stopping)
        return;
    lc_stream_listen_stop(e);
    lc_streams_flush(e);
    lc_stream_end_all(e);
    e->stopping = true;
    /* the relays were told to stop (cast_end): their threads end within ~0.1 s */
    int left = lc_relay_wait_all(3000);
    if (left > 0)
        lc_log(LC_LOG_WARN, "%d relay threads still running at shutdown", left);
    /* the loads still waiting come back cancelled, the one being read completes, now: their
     * casts (closed by end_all) can go */
    lc_clips_close(&e->clips);
    lc_streams_flush(e);
    uv_timer_stop(&e->batch);
    uv_idle_stop(&e->fan_idle);
    e->depth++; /* the close callbacks must not free e before we return */
    uv_close((uv_handle_t *)&e->batch, on_batch_closed);
    uv_close((uv_handle_t *)&e->fan_idle, on_batch_closed);
    e->depth--;
    lc_stream_maybe_free(e);
}

void lc_streams_free(struct lc_streams *e)
{
    if (e == NULL)
        return;
    lc_streams_stop(e);
    e->released = true;
    lc_stream_maybe_free(e);
}

bool lc_streams_running(const struct lc_streams *e)
{
    return e != NULL && !e->stopping;
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
    /* per commune held or on air (absent: no stream; docs/coverage.md, "Alerts") */
    static const char head[] =
        "# HELP loacast_commune_receivers_connected Receivers streaming a commune's session now.\n"
        "# TYPE loacast_commune_receivers_connected gauge\n";
    lc_buf_append(b, head, sizeof head - 1);
    for (const struct lc_cast *c = e->casts; c != NULL; c = c->next) {
        if (c->closed)
            continue;
        n = snprintf(t, sizeof t, "loacast_commune_receivers_connected{commune=\"%s\"} %zu\n",
                     c->commune, c->nrcv);
        if (n > 0 && (size_t)n < sizeof t)
            lc_buf_append(b, t, (size_t)n);
    }
}
