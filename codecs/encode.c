/* codecs/encode.c — libopus encoding into 20 ms packets; see encode.h. */
#include "codecs/encode.h"
#include "codecs/pcm.h"

#include <opus.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PACKET 1500 /* > 1275 bytes, the largest Opus frame */

static int push_packet(struct lc_encoded *e, const unsigned char *p, uint32_t len)
{
    if (e->npkts == e->pkts_cap) {
        size_t cap = e->pkts_cap ? e->pkts_cap * 2 : 256;
        struct lc_packet *np = realloc(e->pkts, cap * sizeof *np);
        if (np == NULL)
            return -ENOMEM;
        e->pkts = np;
        e->pkts_cap = cap;
    }
    if (e->data_cap - e->data_len < len) {
        size_t cap = e->data_cap ? e->data_cap : 16384;
        while (cap - e->data_len < len)
            cap *= 2;
        unsigned char *nd = realloc(e->data, cap);
        if (nd == NULL)
            return -ENOMEM;
        e->data = nd;
        e->data_cap = cap;
    }
    memcpy(e->data + e->data_len, p, len);
    e->pkts[e->npkts++] = (struct lc_packet){.off = e->data_len, .len = len};
    e->data_len += len;
    return 0;
}

int lc_encode(const float *pcm, size_t n, const struct lc_encode_opts *o, struct lc_encoded *out,
              struct lc_err *err)
{
    OpusEncoder *enc = NULL;
    int rc = 0, oe = 0;
    struct lc_encoded e = {0};

    if (o->bitrate_kbps < 12 || o->bitrate_kbps > 64)
        return lc_err_set(err, -EINVAL, "bitrate %d kbit/s is outside 12..64", o->bitrate_kbps);
    if (o->complexity < 0 || o->complexity > 10)
        return lc_err_set(err, -EINVAL, "complexity %d is outside 0..10", o->complexity);

    enc = opus_encoder_create(LC_OPUS_RATE, 1, OPUS_APPLICATION_AUDIO, &oe);
    if (enc == NULL) {
        rc = lc_err_set(err, -EIO, "cannot create the Opus encoder: %s", opus_strerror(oe));
        goto out;
    }
    opus_encoder_ctl(enc, OPUS_SET_BITRATE(o->bitrate_kbps * 1000));
    opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(o->complexity));
    opus_encoder_ctl(enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
    opus_encoder_ctl(enc, OPUS_SET_VBR(1));
    opus_int32 lookahead = 0;
    opus_encoder_ctl(enc, OPUS_GET_LOOKAHEAD(&lookahead));
    e.preskip = (int)lookahead;
    e.samples = n;

    size_t need = o->pad_tail ? n + (size_t)lookahead : n;
    size_t frames = (need + LC_OPUS_FRAME - 1) / LC_OPUS_FRAME;
    float frame[LC_OPUS_FRAME];
    unsigned char pkt[MAX_PACKET];
    for (size_t f = 0; f < frames; f++) {
        size_t at = f * LC_OPUS_FRAME;
        const float *src = pcm + at;
        if (at + LC_OPUS_FRAME > n) { /* the tail: pad with silence */
            size_t have = at < n ? n - at : 0;
            if (have)
                memcpy(frame, pcm + at, have * sizeof(float));
            memset(frame + have, 0, (LC_OPUS_FRAME - have) * sizeof(float));
            src = frame;
        }
        opus_int32 len = opus_encode_float(enc, src, LC_OPUS_FRAME, pkt, MAX_PACKET);
        if (len < 0) {
            rc = lc_err_set(err, -EIO, "Opus encoding failed: %s", opus_strerror(len));
            goto out;
        }
        if (push_packet(&e, pkt, (uint32_t)len) < 0) {
            rc = lc_err_set(err, -ENOMEM, "out of memory");
            goto out;
        }
    }
    *out = e;
    e = (struct lc_encoded){0};
out:
    lc_encoded_free(&e);
    if (enc != NULL)
        opus_encoder_destroy(enc);
    return rc;
}

int lc_encoded_append(struct lc_encoded *dst, const struct lc_encoded *src)
{
    if (dst->npkts == 0 && dst->samples == 0)
        dst->preskip = src->preskip;
    for (size_t i = 0; i < src->npkts; i++) {
        int rc = push_packet(dst, src->data + src->pkts[i].off, src->pkts[i].len);
        if (rc < 0)
            return rc;
    }
    dst->samples += src->samples;
    return 0;
}

int lc_encoded_decode(const struct lc_encoded *e, struct lc_pcm *pcm)
{
    int oe = 0, rc = 0;
    OpusDecoder *d = opus_decoder_create(LC_OPUS_RATE, 1, &oe);
    if (d == NULL)
        return -ENOMEM;
    size_t skip = (size_t)e->preskip, want = (size_t)e->samples;
    float frame[5760];
    for (size_t i = 0; i < e->npkts && pcm->n < want; i++) {
        int k = opus_decode_float(d, e->data + e->pkts[i].off, (opus_int32)e->pkts[i].len, frame,
                                  5760, 0);
        if (k < 0) {
            rc = -EINVAL;
            break;
        }
        size_t from = skip < (size_t)k ? skip : (size_t)k;
        skip -= from;
        size_t take = (size_t)k - from;
        if (take > want - pcm->n)
            take = want - pcm->n;
        if (lc_pcm_append(pcm, frame + from, take) < 0) {
            rc = -ENOMEM;
            break;
        }
    }
    pcm->rate = LC_OPUS_RATE;
    opus_decoder_destroy(d);
    return rc;
}

void lc_encoded_free(struct lc_encoded *e)
{
    free(e->data);
    free(e->pkts);
    *e = (struct lc_encoded){0};
}
