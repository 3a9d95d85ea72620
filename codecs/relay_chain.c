/*
 * codecs/relay_chain.c — from the upstream's PCM to 20 ms Opus packets: libsoxr to 48 kHz, the
 * leveller (relay_level.c), libopus; see relay_internal.h.
 *
 * Why not codecs/resample.h and codecs/encode.h: both take a whole recording at once (the
 * resampler flushes its delay line at the end, the encoder pads the tail). A relay never ends, so
 * the chain keeps one soxr stream and one Opus encoder going, with the same settings as theirs
 * (SOXR_MQ; OPUS_APPLICATION_AUDIO, VBR, 20 ms frames), except the signal type, left to libopus
 * (a relay carries music as well as speech), and a cap on the packet size (LC_RELAY_MAX_PACKET,
 * > 5× the largest bitrate's mean packet) so that the queue's slots have a fixed size.
 */
#include "codecs/relay_internal.h"

#include <opus.h>
#include <soxr.h>
#include <stdlib.h>
#include <string.h>

int relay_chain_init(struct relay_chain *c, const struct lc_relay_opts *o, relay_packet_cb cb,
                     void *arg, struct lc_err *err)
{
    int oe = 0;
    memset(c, 0, sizeof *c);
    c->cb = cb;
    c->arg = arg;
    c->in_rate = LEVEL_RATE;
    if (relay_level_init(&c->level, o->target_lufs, o->ceiling_dbtp) < 0)
        return lc_err_set(err, -ENOMEM, "out of memory");
    c->enc = opus_encoder_create(LEVEL_RATE, 1, OPUS_APPLICATION_AUDIO, &oe);
    if (c->enc == NULL) {
        relay_level_free(&c->level);
        return lc_err_set(err, -EIO, "cannot create the Opus encoder: %s", opus_strerror(oe));
    }
    opus_encoder_ctl(c->enc, OPUS_SET_BITRATE(o->bitrate_kbps * 1000));
    opus_encoder_ctl(c->enc, OPUS_SET_COMPLEXITY(o->complexity));
    opus_encoder_ctl(c->enc, OPUS_SET_VBR(1));
    return 0;
}

void relay_chain_free(struct relay_chain *c)
{
    if (c->sx != NULL)
        soxr_delete(c->sx);
    if (c->enc != NULL)
        opus_encoder_destroy(c->enc);
    relay_level_free(&c->level);
    free(c->buf);
    memset(c, 0, sizeof *c);
}

/* 48 kHz audio: levelled, cut into frames, encoded. */
static int encode(struct relay_chain *c, float *x, size_t n)
{
    relay_level_run(&c->level, x, n);
    for (size_t i = 0; i < n;) {
        size_t take = 960 - c->fill;
        if (take > n - i)
            take = n - i;
        memcpy(c->frame + c->fill, x + i, take * sizeof *x);
        c->fill += take;
        i += take;
        if (c->fill < 960)
            break;
        c->fill = 0;
        unsigned char pkt[LC_RELAY_MAX_PACKET];
        opus_int32 len = opus_encode_float(c->enc, c->frame, 960, pkt, LC_RELAY_MAX_PACKET);
        if (len < 0)
            return -EIO;
        c->cb(c->arg, pkt, (size_t)len);
    }
    return 0;
}

static int grow(struct relay_chain *c, size_t n)
{
    if (n <= c->buf_cap)
        return 0;
    float *b = realloc(c->buf, n * sizeof *b);
    if (b == NULL)
        return -ENOMEM;
    c->buf = b;
    c->buf_cap = n;
    return 0;
}

int relay_chain_feed(struct relay_chain *c, const float *pcm, size_t n, int rate)
{
    if (rate != c->in_rate) { /* a new upstream rate: a new resampler (its delay line is lost) */
        if (c->sx != NULL)
            soxr_delete(c->sx);
        c->sx = NULL;
        c->in_rate = rate;
        if (rate != LEVEL_RATE) {
            soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
            soxr_quality_spec_t q = soxr_quality_spec(SOXR_MQ, 0);
            soxr_error_t e = NULL;
            c->sx = soxr_create(rate, LEVEL_RATE, 1, &e, &io, &q, NULL);
            if (e != NULL) {
                c->sx = NULL;
                c->in_rate = 0;
                return -EIO;
            }
        }
    }
    if (c->sx == NULL) { /* 48 kHz already */
        if (grow(c, n) < 0)
            return -ENOMEM;
        memcpy(c->buf, pcm, n * sizeof *pcm);
        return encode(c, c->buf, n);
    }
    size_t olen = (size_t)((double)n * LEVEL_RATE / rate) + 64;
    if (grow(c, olen) < 0)
        return -ENOMEM;
    size_t pos = 0;
    while (pos < n) {
        size_t idone = 0, odone = 0;
        soxr_error_t e = soxr_process(c->sx, pcm + pos, n - pos, &idone, c->buf, c->buf_cap,
                                      &odone);
        if (e != NULL)
            return -EIO;
        pos += idone;
        int rc = encode(c, c->buf, odone);
        if (rc < 0)
            return rc;
        if (idone == 0 && odone == 0)
            break; /* never expected: soxr takes all input given room */
    }
    return 0;
}
