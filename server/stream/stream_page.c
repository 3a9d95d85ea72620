/*
 * server/stream/stream_page.c — reference-counted pages, the burst queue and the Ogg packer; see
 * stream_page.h. Loop thread only.
 */
#include "server/stream/stream_page.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "codecs/oggmux.h"
#include "common/buf.h"

struct lc_page *lc_page_new(const void *a, size_t alen, const void *b, size_t blen, uint64_t g0,
                            uint64_t g1)
{
    struct lc_page *p = malloc(sizeof *p + alen + blen);
    if (p == NULL)
        return NULL;
    p->refs = 1;
    p->len = (uint32_t)(alen + blen);
    p->g0 = g0;
    p->g1 = g1;
    p->eos = false;
    p->next = NULL;
    p->zimg = NULL;
    if (alen)
        memcpy(p->data, a, alen);
    if (blen)
        memcpy(p->data + alen, b, blen);
    return p;
}

void lc_page_unref(struct lc_page *p)
{
    if (p != NULL && --p->refs == 0) {
        free(p->zimg);
        free(p);
    }
}

/* ---- sequence numbers ---------------------------------------------------------------------- */

static uint32_t crc_table[256];

static void crc_init(void)
{
    if (crc_table[1] != 0)
        return;
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i << 24;
        for (int k = 0; k < 8; k++)
            c = (c & 0x80000000u) ? (c << 1) ^ 0x04c11db7u : c << 1;
        crc_table[i] = c;
    }
}

uint32_t lc_ogg_crc(uint32_t crc, const unsigned char *b, size_t n)
{
    crc_init();
    for (size_t i = 0; i < n; i++)
        crc = (crc << 8) ^ crc_table[((crc >> 24) ^ b[i]) & 0xff];
    return crc;
}

uint32_t lc_page_seq(const struct lc_page *p)
{
    const unsigned char *s = p->data + 18;
    return (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 | (uint32_t)s[3] << 24;
}

int lc_page_reseq(struct lc_page *p, uint32_t off, unsigned char hdr[27])
{
    memcpy(hdr, p->data, 27);
    if (off == 0)
        return 0;
    if (p->zimg == NULL) { /* images of the 32 unit registers after the bytes past the field */
        p->zimg = malloc(32 * sizeof *p->zimg);
        if (p->zimg == NULL)
            return -ENOMEM;
        crc_init();
        size_t tail = p->len - 22;
        for (int j = 0; j < 32; j++) {
            uint32_t c = 1u << j;
            for (size_t i = 0; i < tail; i++)
                c = (c << 8) ^ crc_table[(c >> 24) & 0xff];
            p->zimg[j] = c;
        }
    }
    uint32_t seq = lc_page_seq(p), nseq = seq - off, d = seq ^ nseq;
    unsigned char db[4] = {d & 0xff, (d >> 8) & 0xff, (d >> 16) & 0xff, d >> 24};
    uint32_t r = lc_ogg_crc(0, db, 4), delta = 0;
    for (int j = 0; j < 32; j++)
        if (r & (1u << j))
            delta ^= p->zimg[j];
    const unsigned char *c = p->data + 22;
    uint32_t crc = ((uint32_t)c[0] | (uint32_t)c[1] << 8 | (uint32_t)c[2] << 16 |
                    (uint32_t)c[3] << 24) ^ delta;
    hdr[18] = nseq & 0xff;
    hdr[19] = (nseq >> 8) & 0xff;
    hdr[20] = (nseq >> 16) & 0xff;
    hdr[21] = nseq >> 24;
    hdr[22] = crc & 0xff;
    hdr[23] = (crc >> 8) & 0xff;
    hdr[24] = (crc >> 16) & 0xff;
    hdr[25] = crc >> 24;
    return 0;
}

void lc_pageq_push(struct lc_pageq *q, struct lc_page *p)
{
    p->next = NULL;
    if (q->tail)
        q->tail->next = p;
    else
        q->head = p;
    q->tail = p;
    q->n++;
}

void lc_pageq_trim(struct lc_pageq *q, uint64_t keep)
{
    while (q->head != NULL && q->head->next != NULL &&
           q->tail->g1 - q->head->next->g0 >= keep) {
        struct lc_page *p = q->head;
        q->head = p->next;
        q->n--;
        lc_page_unref(p);
    }
}

void lc_pageq_clear(struct lc_pageq *q)
{
    while (q->head != NULL) {
        struct lc_page *p = q->head;
        q->head = p->next;
        lc_page_unref(p);
    }
    q->tail = NULL;
    q->n = 0;
}

/* ---- packer -------------------------------------------------------------------------------- */

/* Appends every page libogg has ready (flush: also a partial one) to b. */
static int drain(ogg_stream_state *os, struct lc_buf *b)
{
    ogg_page og;
    while (ogg_stream_flush_fill(os, &og, 65307) != 0)
        if (lc_buf_append(b, og.header, (size_t)og.header_len) < 0 ||
            lc_buf_append(b, og.body, (size_t)og.body_len) < 0)
            return -ENOMEM;
    return 0;
}

int lc_packer_init(struct lc_packer *pk, uint32_t serial, int preskip, const char *title,
                   uint64_t skip_granule, struct lc_page **headers)
{
    memset(pk, 0, sizeof *pk);
    *headers = NULL;
    if (ogg_stream_init(&pk->os, (int)serial) != 0)
        return -ENOMEM;
    pk->open = true;
    pk->preskip = preskip;
    unsigned char head[19];
    struct lc_buf tags = {0}, out = {0};
    int rc = -ENOMEM;
    lc_opus_head(head, preskip);
    if (lc_opus_tags(&tags, title) < 0)
        goto cleanup;
    ogg_packet op = {.packet = head, .bytes = 19, .b_o_s = 1, .granulepos = 0, .packetno = 0};
    if (ogg_stream_packetin(&pk->os, &op) != 0 || drain(&pk->os, &out) < 0)
        goto cleanup;
    op = (ogg_packet){.packet = tags.data, .bytes = (long)tags.len, .granulepos = 0,
                      .packetno = 1};
    if (ogg_stream_packetin(&pk->os, &op) != 0 || drain(&pk->os, &out) < 0)
        goto cleanup;
    pk->packetno = 2;
    pk->granule = pk->flushed = skip_granule;
    *headers = lc_page_new(out.data, out.len, NULL, 0, 0, 0);
    if (*headers != NULL)
        rc = 0;
cleanup:
    lc_buf_free(&tags);
    lc_buf_free(&out);
    if (rc < 0)
        lc_packer_free(pk);
    return rc;
}

void lc_packer_free(struct lc_packer *pk)
{
    if (pk->open)
        ogg_stream_clear(&pk->os);
    pk->open = false;
}

int lc_packer_add(struct lc_packer *pk, const unsigned char *pkt, uint32_t len, int nsamples,
                  bool eos, uint64_t end_granule)
{
    if (!pk->open || pk->eos || nsamples <= 0)
        return -EINVAL;
    pk->granule += (uint64_t)nsamples;
    uint64_t gp = pk->granule;
    if (eos && end_granule != 0 && end_granule <= gp && end_granule >= pk->flushed)
        gp = end_granule;
    ogg_packet op = {.packet = (unsigned char *)pkt, .bytes = len, .e_o_s = eos,
                     .granulepos = (ogg_int64_t)gp, .packetno = pk->packetno++};
    if (ogg_stream_packetin(&pk->os, &op) != 0)
        return -ENOMEM;
    if (eos) {
        pk->eos = true;
        pk->granule = gp;
    }
    return 0;
}

int lc_packer_flush(struct lc_packer *pk, struct lc_pageq *q)
{
    ogg_page og;
    int made = 0;
    while (pk->open && ogg_stream_flush_fill(&pk->os, &og, 65307) != 0) {
        uint64_t g1 = (uint64_t)ogg_page_granulepos(&og);
        if (ogg_page_granulepos(&og) < 0)
            g1 = pk->flushed; /* a page with no packet ending on it (not made at our sizes) */
        struct lc_page *p = lc_page_new(og.header, (size_t)og.header_len, og.body,
                                        (size_t)og.body_len, pk->flushed, g1);
        if (p == NULL)
            return -ENOMEM;
        p->eos = ogg_page_eos(&og) != 0;
        pk->flushed = g1;
        lc_pageq_push(q, p);
        made++;
    }
    return made;
}
