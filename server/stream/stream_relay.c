/*
 * server/stream/stream_relay.c — relay sources of the timeline: priming, gaps, filler; see
 * stream_relay.h. Calls codecs/relay.h only.
 */
#define LC_LOG_MODULE "stream"
#include "server/stream/stream_relay.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <opus/opus.h>

#include "codecs/oggmux.h"
#include "common/log.h"
#include "common/redact.h"

/* ---- the jingle ------------------------------------------------------------------------------ */

int lc_relay_cfg_filler(struct lc_relay_cfg *cfg, const char *path, struct lc_err *err)
{
    if (path == NULL || path[0] == 0)
        return 0;
    /* read before the loop runs (lc_streams_open, at the server's start), like the config */
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return lc_err_set(err, -ENOENT, "[relay] filler %s: %s", path, strerror(errno));
    unsigned char *data = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            unsigned char *d = cap <= (16u << 20) ? realloc(data, cap) : NULL;
            if (d == NULL) {
                rc = lc_err_set(err, -EINVAL, "[relay] filler %s: too large (16 MiB at most)",
                                path);
                goto out;
            }
            data = d;
        }
        size_t n = fread(data + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    struct lc_err e2 = {0};
    if (lc_ogg_demux(data, len, &cfg->filler, &e2) < 0) {
        rc = lc_err_set(err, -EINVAL, "[relay] filler %s: %s", path, lc_err_msg(&e2));
        goto out;
    }
    for (size_t i = 0; i < cfg->filler.npkts; i++) {
        const struct lc_packet *p = &cfg->filler.pkts[i];
        if (opus_packet_get_nb_samples(cfg->filler.data + p->off, (opus_int32)p->len,
                                       LC_OPUS_RATE) != LC_OPUS_FRAME) {
            rc = lc_err_set(err, -EINVAL, "[relay] filler %s: packet %zu is not 20 ms (loacast "
                            "render makes such files)", path, i);
            goto out;
        }
    }
    if (cfg->filler.npkts == 0)
        rc = lc_err_set(err, -EINVAL, "[relay] filler %s: no audio", path);
out:
    if (rc < 0)
        lc_encoded_free(&cfg->filler);
    free(data);
    fclose(f);
    return rc;
}

void lc_relay_cfg_free(struct lc_relay_cfg *cfg)
{
    lc_encoded_free(&cfg->filler);
}

/* ---- sources --------------------------------------------------------------------------------- */

struct lc_relay_src *lc_relay_src_new(const struct lc_relay_cfg *cfg, const char *url)
{
    struct lc_relay_src *s = calloc(1, sizeof *s);
    if (s != NULL)
        lc_url_redact(url, s->shown, sizeof s->shown);
    if (s == NULL || (s->url = strdup(url)) == NULL) {
        free(s);
        return NULL;
    }
    s->cfg = cfg;
    return s;
}

void lc_relay_src_start(struct lc_relay_src *s)
{
    if (s->started || s->stopped) /* once, and never after its stop */
        return;
    s->started = true;
    const struct lc_relay_cfg *c = s->cfg;
    size_t scheme = strlen(LC_CARRY_SCHEME);
    if (strncmp(s->url, LC_CARRY_SCHEME, scheme) == 0) {
        /* the same bound as a relay's queue: what the engine takes at once, the cushion, 2 s */
        size_t max = (size_t)(c->send_ms + 2 * c->buffer_ms + 2000) / 20;
        s->feed = c->carry ? lc_carry_feed_open(c->carry, s->url + scheme, max) : NULL;
        if (s->feed == NULL)
            lc_log(LC_LOG_ERR, "carry %s: out of memory: the item plays filler", s->url);
        else
            lc_log(LC_LOG_INFO, "carry %s: started (the producer's packets, not encoded again)",
                   s->url);
        return;
    }
    /* the queue keeps what the engine takes at once, the cushion, the cut's margin and 2 s */
    struct lc_relay_opts o = {.url = s->url, .bitrate_kbps = c->bitrate_kbps,
                              .complexity = c->complexity, .target_lufs = c->target_lufs,
                              .ceiling_dbtp = -1.0,
                              .queue_ms = c->send_ms + 2 * c->buffer_ms + 2000,
                              .timeout_ms = c->timeout_ms, .backoff_min_ms = 1000,
                              .backoff_max_ms = 30000};
    struct lc_err err = {0};
    if (lc_relay_open(&s->relay, &o, &err) < 0)
        lc_log(LC_LOG_ERR, "relay %s: %s: the item plays filler", s->shown, lc_err_msg(&err));
    else
        lc_log(LC_LOG_INFO, "relay %s: started", s->shown);
}

void lc_relay_src_stop(struct lc_relay_src *s)
{
    if (s->stopped)
        return;
    s->stopped = true;
    if (s->feed != NULL) {
        uint64_t published, dropped;
        lc_carry_counts(s->feed, &published, &dropped);
        lc_log(LC_LOG_INFO, "carry %s: stopped: %.1f s carried, %.1f s of filler in %llu gaps, "
               "%llu packets dropped (latency bound)", s->url, s->from_relay * 0.02,
               s->filler * 0.02, (unsigned long long)s->gaps, (unsigned long long)dropped);
        lc_carry_feed_close(s->feed);
        s->feed = NULL;
    }
    if (s->relay != NULL) {
        struct lc_relay_stats st;
        lc_relay_stats(s->relay, &st);
        lc_log(LC_LOG_INFO, "relay %s: stopped: %.1f s relayed, %.1f s of filler in %llu gaps, "
               "%llu connections of %llu attempts, %llu packets dropped (latency bound)", s->shown,
               s->from_relay * 0.02, s->filler * 0.02, (unsigned long long)s->gaps,
               (unsigned long long)st.connects, (unsigned long long)st.attempts,
               (unsigned long long)st.dropped);
        lc_relay_close(s->relay);
        s->relay = NULL;
    }
}

void lc_relay_src_free(struct lc_relay_src *s)
{
    if (s == NULL)
        return;
    lc_relay_src_stop(s);
    free(s->url);
    free(s);
}

static void filler(struct lc_relay_src *s, const unsigned char **pkt, uint32_t *len)
{
    const struct lc_encoded *f = &s->cfg->filler;
    s->filler++;
    if (f->npkts == 0) {
        *pkt = s->cfg->silence;
        *len = s->cfg->silence_len;
        return;
    }
    const struct lc_packet *p = &f->pkts[s->filler_pos++ % f->npkts];
    *pkt = f->data + p->off;
    *len = p->len;
}

bool lc_relay_src_over(const struct lc_relay_src *s)
{
    return s->feed != NULL && s->from_relay > 0 && lc_carry_over(s->feed);
}

/* The source's queue: the relay's or the carried channel's feed. */
static size_t queued(const struct lc_relay_src *s)
{
    return s->feed ? lc_carry_queued(s->feed) : lc_relay_queued(s->relay);
}

static void trim(struct lc_relay_src *s, size_t keep)
{
    if (s->feed)
        lc_carry_trim(s->feed, keep);
    else
        lc_relay_trim(s->relay, keep);
}

static size_t take(struct lc_relay_src *s)
{
    return s->feed ? lc_carry_take(s->feed, s->pkt) : lc_relay_take(s->relay, s->pkt);
}

void lc_relay_src_next(struct lc_relay_src *s, const unsigned char **pkt, uint32_t *len)
{
    if (s->relay == NULL && s->feed == NULL) {
        filler(s, pkt, len);
        return;
    }
    size_t prime = (size_t)(s->cfg->send_ms + s->cfg->buffer_ms) / 20;
    size_t slack = (size_t)s->cfg->buffer_ms / 20;
    size_t q = queued(s);
    if (!s->playing && q >= prime) {
        s->playing = true;
        lc_log(LC_LOG_INFO, "relay %s: audio from now (%.1f s queued)", s->shown, q * 0.02);
    }
    if (s->playing && q > prime + slack)
        trim(s, prime); /* back to the latency it should have */
    size_t n = s->playing ? take(s) : 0;
    if (n > 0) {
        s->from_relay++;
        *pkt = s->pkt;
        *len = (uint32_t)n;
        return;
    }
    if (s->playing) {
        s->playing = false;
        s->gaps++;
        s->filler_pos = 0; /* the jingle from its start at each gap */
        lc_log(LC_LOG_WARN, "relay %s: no audio from the upstream: filler until it is back",
               s->shown);
    }
    filler(s, pkt, len);
}
