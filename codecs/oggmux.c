/* codecs/oggmux.c — RFC 7845 Ogg Opus with libogg; see oggmux.h for the page layout. */
#include "codecs/oggmux.h"

#include <ogg/ogg.h>
#include <stdlib.h>
#include <string.h>

#define PACKETS_PER_PAGE 50 /* 1 s of 20 ms packets */

static void put_le16(unsigned char *p, unsigned v)
{
    p[0] = v & 0xff;
    p[1] = (v >> 8) & 0xff;
}

static void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (v >> (8 * i)) & 0xff;
}

/*
 *  0               1               2               3
 *  'O' 'p' 'u' 's' 'H' 'e' 'a' 'd'  version=1  channels=1  pre-skip(le16)
 *  input sample rate (le32) = 48000  output gain (le16) = 0  mapping family = 0
 */
void lc_opus_head(unsigned char out[19], int preskip)
{
    memcpy(out, "OpusHead", 8);
    out[8] = 1;
    out[9] = 1;
    put_le16(out + 10, (unsigned)preskip);
    put_le32(out + 12, LC_OPUS_RATE);
    put_le16(out + 16, 0);
    out[18] = 0;
}

/* "OpusTags", vendor length + vendor, comment count, then each comment as length + "KEY=value". */
int lc_opus_tags(struct lc_buf *out, const char *title)
{
    static const char vendor[] = "loacast";
    unsigned char n[4];
    int rc = lc_buf_append(out, "OpusTags", 8);
    put_le32(n, sizeof vendor - 1);
    rc = rc < 0 ? rc : lc_buf_append(out, n, 4);
    rc = rc < 0 ? rc : lc_buf_append(out, vendor, sizeof vendor - 1);
    const char *enc = "ENCODER=loacast";
    put_le32(n, title && *title ? 2 : 1);
    rc = rc < 0 ? rc : lc_buf_append(out, n, 4);
    put_le32(n, (uint32_t)strlen(enc));
    rc = rc < 0 ? rc : lc_buf_append(out, n, 4);
    rc = rc < 0 ? rc : lc_buf_append(out, enc, strlen(enc));
    if (title && *title) {
        size_t tl = strlen(title);
        put_le32(n, (uint32_t)(tl + 6));
        rc = rc < 0 ? rc : lc_buf_append(out, n, 4);
        rc = rc < 0 ? rc : lc_buf_append(out, "TITLE=", 6);
        rc = rc < 0 ? rc : lc_buf_append(out, title, tl);
    }
    return rc;
}

static int write_pages(ogg_stream_state *os, struct lc_buf *out, int flush)
{
    ogg_page pg;
    int rc = 0;
    while (rc == 0 && (flush ? ogg_stream_flush(os, &pg) : ogg_stream_pageout(os, &pg)) != 0) {
        rc = lc_buf_append(out, pg.header, (size_t)pg.header_len);
        rc = rc < 0 ? rc : lc_buf_append(out, pg.body, (size_t)pg.body_len);
    }
    return rc;
}

int lc_ogg_mux(const struct lc_encoded *enc, const char *title, uint32_t serial,
               struct lc_buf *out, struct lc_err *err)
{
    ogg_stream_state os;
    struct lc_buf tags = {0};
    unsigned char head[19];
    int rc;

    if (enc->npkts == 0)
        return lc_err_set(err, -EINVAL, "nothing to mux: no packets");
    if (ogg_stream_init(&os, (int)serial) != 0)
        return lc_err_set(err, -ENOMEM, "out of memory");

    lc_opus_head(head, enc->preskip);
    ogg_packet op = {.packet = head, .bytes = sizeof head, .b_o_s = 1, .granulepos = 0};
    ogg_stream_packetin(&os, &op);
    rc = write_pages(&os, out, 1); /* OpusHead alone on the first page (§5.1) */
    if (rc == 0)
        rc = lc_opus_tags(&tags, title);
    if (rc == 0) {
        op = (ogg_packet){.packet = tags.data, .bytes = (long)tags.len, .packetno = 1};
        ogg_stream_packetin(&os, &op);
        rc = write_pages(&os, out, 1); /* OpusTags ends its page (§5.2) */
    }
    int64_t end = (int64_t)enc->preskip + (int64_t)enc->samples;
    for (size_t i = 0; rc == 0 && i < enc->npkts; i++) {
        int last = i + 1 == enc->npkts;
        int64_t gp = (int64_t)(i + 1) * LC_OPUS_FRAME; /* decoded samples, pre-skip included */
        op = (ogg_packet){
            .packet = enc->data + enc->pkts[i].off,
            .bytes = enc->pkts[i].len,
            .e_o_s = last,
            .granulepos = last || gp > end ? end : gp, /* the end trims the padding (§4.4) */
            .packetno = (ogg_int64_t)i + 2,
        };
        ogg_stream_packetin(&os, &op);
        if (last || (i + 1) % PACKETS_PER_PAGE == 0)
            rc = write_pages(&os, out, 1);
    }
    ogg_stream_clear(&os);
    lc_buf_free(&tags);
    return rc < 0 ? lc_err_set(err, rc, "out of memory") : 0;
}

int lc_ogg_demux(const unsigned char *data, size_t len, struct lc_encoded *out,
                 struct lc_err *err)
{
    ogg_sync_state oy;
    ogg_stream_state os;
    int have_stream = 0, rc = 0;
    long npackets = 0;
    int64_t last_gp = -1;
    struct lc_encoded e = {0};

    ogg_sync_init(&oy);
    char *buf = ogg_sync_buffer(&oy, (long)len);
    if (buf == NULL) {
        ogg_sync_clear(&oy);
        return lc_err_set(err, -ENOMEM, "out of memory");
    }
    memcpy(buf, data, len);
    ogg_sync_wrote(&oy, (long)len);

    ogg_page pg;
    while (rc == 0 && ogg_sync_pageout(&oy, &pg) == 1) {
        if (ogg_page_bos(&pg)) {
            if (have_stream) {
                rc = lc_err_set(err, -EINVAL, "more than one logical stream");
                break;
            }
            ogg_stream_init(&os, ogg_page_serialno(&pg));
            have_stream = 1;
        }
        if (!have_stream || ogg_page_serialno(&pg) != os.serialno) {
            rc = lc_err_set(err, -EINVAL, "not an Ogg Opus stream");
            break;
        }
        ogg_stream_pagein(&os, &pg);
        ogg_packet op;
        int r;
        while ((r = ogg_stream_packetout(&os, &op)) != 0) {
            if (r < 0) {
                rc = lc_err_set(err, -EINVAL, "a gap in the Ogg stream");
                break;
            }
            if (npackets == 0) {
                if (op.bytes < 19 || memcmp(op.packet, "OpusHead", 8) != 0 ||
                    op.packet[9] != 1) {
                    rc = lc_err_set(err, -EINVAL, "not a mono Ogg Opus stream");
                    break;
                }
                e.preskip = op.packet[10] | op.packet[11] << 8;
            } else if (npackets >= 2) {
                int prc = 0;
                struct lc_encoded one = {.data = op.packet, .data_len = (size_t)op.bytes};
                struct lc_packet p1 = {0, (uint32_t)op.bytes};
                one.pkts = &p1;
                one.npkts = 1;
                int keep = e.preskip;
                prc = lc_encoded_append(&e, &one);
                e.preskip = keep;
                if (prc < 0) {
                    rc = lc_err_set(err, -ENOMEM, "out of memory");
                    break;
                }
            }
            if (op.granulepos >= 0)
                last_gp = op.granulepos;
            npackets++;
        }
    }
    if (have_stream)
        ogg_stream_clear(&os);
    ogg_sync_clear(&oy);
    if (rc == 0 && e.npkts == 0)
        rc = lc_err_set(err, -EINVAL, "no Opus audio in the stream");
    if (rc == 0) {
        int64_t s = last_gp - e.preskip;
        e.samples = s > 0 ? (uint64_t)s : 0;
        *out = e;
        return 0;
    }
    lc_encoded_free(&e);
    return rc;
}
