/*
 * codecs/oggmux.c — RFC 7845 Ogg Opus with libogg: the page writer (files and live streams),
 * page renumbering, and the reader of stored files; see oggmux.h for the page layout.
 */
#include "codecs/oggmux.h"

#include <errno.h>
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

/* ---- the writer ------------------------------------------------------------------------------ */

struct lc_ogg_writer {
    ogg_stream_state os;
    ogg_page og;
    int64_t packetno;
    int fill;
    bool eos;
};

/* Appends every page libogg has ready (a partial one too) to out. */
static int drain(struct lc_ogg_writer *w, struct lc_buf *out)
{
    struct lc_ogg_page pg;
    int rc = 0;
    while (rc == 0 && lc_ogg_writer_page(w, &pg) == 1) {
        rc = lc_buf_append(out, pg.header, pg.header_len);
        rc = rc < 0 ? rc : lc_buf_append(out, pg.body, pg.body_len);
    }
    return rc;
}

int lc_ogg_writer_open(struct lc_ogg_writer **out, uint32_t serial, int preskip,
                       const char *title, int page_fill, struct lc_buf *headers)
{
    struct lc_buf tags = {0};
    unsigned char head[19];
    int rc = -ENOMEM;
    *out = NULL;
    struct lc_ogg_writer *w = calloc(1, sizeof *w);
    if (w == NULL)
        return -ENOMEM;
    if (ogg_stream_init(&w->os, (int)serial) != 0) {
        free(w);
        return -ENOMEM;
    }
    w->fill = page_fill;
    lc_opus_head(head, preskip);
    ogg_packet op = {.packet = head, .bytes = sizeof head, .b_o_s = 1, .granulepos = 0};
    if (ogg_stream_packetin(&w->os, &op) != 0 || drain(w, headers) < 0) /* OpusHead alone */
        goto fail;
    if (lc_opus_tags(&tags, title) < 0)
        goto fail;
    op = (ogg_packet){.packet = tags.data, .bytes = (long)tags.len, .packetno = 1};
    if (ogg_stream_packetin(&w->os, &op) != 0 || drain(w, headers) < 0) /* OpusTags ends its page */
        goto fail;
    w->packetno = 2;
    lc_buf_free(&tags);
    *out = w;
    return 0;
fail:
    lc_buf_free(&tags);
    lc_ogg_writer_free(w);
    return rc;
}

int lc_ogg_writer_packet(struct lc_ogg_writer *w, const unsigned char *pkt, size_t len,
                         int64_t granulepos, bool eos)
{
    if (w->eos)
        return -EINVAL;
    ogg_packet op = {.packet = (unsigned char *)pkt, .bytes = (long)len, .e_o_s = eos,
                     .granulepos = (ogg_int64_t)granulepos, .packetno = w->packetno++};
    if (ogg_stream_packetin(&w->os, &op) != 0)
        return -ENOMEM;
    w->eos = eos;
    return 0;
}

int lc_ogg_writer_page(struct lc_ogg_writer *w, struct lc_ogg_page *pg)
{
    if (ogg_stream_flush_fill(&w->os, &w->og, w->fill) == 0)
        return 0;
    *pg = (struct lc_ogg_page){
        .header = w->og.header, .header_len = (size_t)w->og.header_len,
        .body = w->og.body, .body_len = (size_t)w->og.body_len,
        .granulepos = ogg_page_granulepos(&w->og), .eos = ogg_page_eos(&w->og) != 0};
    return 1;
}

void lc_ogg_writer_free(struct lc_ogg_writer *w)
{
    if (w == NULL)
        return;
    ogg_stream_clear(&w->os);
    free(w);
}

/* ---- renumbering ------------------------------------------------------------------------------ */

/* Zeros to run the CRC through (the longest Ogg page: 27 + 255 + 255 × 255 bytes). */
static const unsigned char zeros[65307];

/* libogg's CRC of x[0..3] followed by n zero bytes. ogg_page_checksum_set() runs the Ogg CRC
 * over a page's header, its CRC field (bytes 22..25) zeroed, then its body, and stores the result
 * there. Our "header": 26 zero bytes (a zero register stays zero through them), then x. */
static uint32_t crc_of(const unsigned char x[4], size_t n)
{
    unsigned char h[30] = {0};
    memcpy(h + 26, x, 4);
    ogg_page og = {.header = h, .header_len = 30, .body = (unsigned char *)zeros,
                   .body_len = (long)n};
    ogg_page_checksum_set(&og);
    return (uint32_t)h[22] | (uint32_t)h[23] << 8 | (uint32_t)h[24] << 16 | (uint32_t)h[25] << 24;
}

static uint32_t get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t lc_ogg_page_seq(const unsigned char *page)
{
    return get_le32(page + 18);
}

/* img[j]: the CRC register 1 << j carried through the len − 22 bytes after the sequence field
 * (as if zero). A register r carried through n zero bytes is the CRC of r's 4 bytes, most
 * significant first, followed by n − 4 zero bytes. */
void lc_ogg_reseq_init(struct lc_ogg_reseq *z, size_t len)
{
    size_t n = len - 22 - 4;
    for (int j = 0; j < 32; j++) {
        uint32_t r = 1u << j;
        unsigned char be[4] = {r >> 24, (r >> 16) & 0xff, (r >> 8) & 0xff, r & 0xff};
        z->img[j] = crc_of(be, n);
    }
}

void lc_ogg_reseq_header(const struct lc_ogg_reseq *z, const unsigned char *page, uint32_t seq,
                         unsigned char hdr[27])
{
    memcpy(hdr, page, 27);
    uint32_t old = lc_ogg_page_seq(page), d = old ^ seq;
    if (d == 0)
        return;
    unsigned char db[4];
    put_le32(db, d);
    uint32_t r = crc_of(db, 0), delta = 0; /* the change's CRC, then carried through the rest */
    for (int j = 0; j < 32; j++)
        if (r & (1u << j))
            delta ^= z->img[j];
    put_le32(hdr + 18, seq);
    put_le32(hdr + 22, get_le32(page + 22) ^ delta);
}

/* ---- files ------------------------------------------------------------------------------------ */

int lc_ogg_mux(const struct lc_encoded *enc, const char *title, uint32_t serial,
               struct lc_buf *out, struct lc_err *err)
{
    struct lc_ogg_writer *w = NULL;
    if (enc->npkts == 0)
        return lc_err_set(err, -EINVAL, "nothing to mux: no packets");
    int rc = lc_ogg_writer_open(&w, serial, enc->preskip, title, 4096, out);
    int64_t end = (int64_t)enc->preskip + (int64_t)enc->samples;
    for (size_t i = 0; rc == 0 && i < enc->npkts; i++) {
        bool last = i + 1 == enc->npkts;
        int64_t gp = (int64_t)(i + 1) * LC_OPUS_FRAME; /* decoded samples, pre-skip included */
        rc = lc_ogg_writer_packet(w, enc->data + enc->pkts[i].off, enc->pkts[i].len,
                                  last || gp > end ? end : gp, /* the end trims the padding (§4.4) */
                                  last);
        if (rc == 0 && (last || (i + 1) % PACKETS_PER_PAGE == 0))
            rc = drain(w, out);
    }
    lc_ogg_writer_free(w);
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
