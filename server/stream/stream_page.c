/*
 * server/stream/stream_page.c — reference-counted pages, the burst queue and the packer (the
 * stream's timeline over codecs/oggmux.h's page writer); see stream_page.h. Loop thread only.
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
    p->hold = false;
    p->next = NULL;
    p->reseq = NULL;
    if (alen)
        memcpy(p->data, a, alen);
    if (blen)
        memcpy(p->data + alen, b, blen);
    return p;
}

void lc_page_unref(struct lc_page *p)
{
    if (p != NULL && --p->refs == 0) {
        free(p->reseq);
        free(p);
    }
}

/* ---- sequence numbers ---------------------------------------------------------------------- */

uint32_t lc_page_seq(const struct lc_page *p)
{
    return lc_ogg_page_seq(p->data);
}

int lc_page_reseq(struct lc_page *p, uint32_t off, unsigned char hdr[27])
{
    if (off == 0) {
        memcpy(hdr, p->data, 27);
        return 0;
    }
    if (p->reseq == NULL) {
        p->reseq = malloc(sizeof *p->reseq);
        if (p->reseq == NULL)
            return -ENOMEM;
        lc_ogg_reseq_init(p->reseq, p->len);
    }
    lc_ogg_reseq_header(p->reseq, p->data, lc_page_seq(p) - off, hdr);
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

/* Pages are never cut by size: a flush makes one page of everything added (≤ 255 packets). */
#define PAGE_FILL 65307

int lc_packer_init(struct lc_packer *pk, uint32_t serial, int preskip, const char *title,
                   uint64_t skip_granule, struct lc_page **headers)
{
    memset(pk, 0, sizeof *pk);
    *headers = NULL;
    struct lc_buf out = {0};
    int rc = lc_ogg_writer_open(&pk->w, serial, preskip, title, PAGE_FILL, &out);
    if (rc == 0) {
        pk->preskip = preskip;
        pk->granule = pk->flushed = skip_granule;
        *headers = lc_page_new(out.data, out.len, NULL, 0, 0, 0);
        if (*headers == NULL)
            rc = -ENOMEM;
    }
    lc_buf_free(&out);
    if (rc < 0)
        lc_packer_free(pk);
    return rc;
}

void lc_packer_free(struct lc_packer *pk)
{
    lc_ogg_writer_free(pk->w);
    pk->w = NULL;
}

int lc_packer_add(struct lc_packer *pk, const unsigned char *pkt, uint32_t len, int nsamples,
                  bool eos, uint64_t end_granule)
{
    if (pk->w == NULL || pk->eos || nsamples <= 0)
        return -EINVAL;
    pk->granule += (uint64_t)nsamples;
    uint64_t gp = pk->granule;
    if (eos && end_granule != 0 && end_granule <= gp && end_granule >= pk->flushed)
        gp = end_granule;
    int rc = lc_ogg_writer_packet(pk->w, pkt, len, (int64_t)gp, eos);
    if (rc < 0)
        return rc;
    if (eos) {
        pk->eos = true;
        pk->granule = gp;
    }
    return 0;
}

int lc_packer_flush(struct lc_packer *pk, struct lc_pageq *q)
{
    struct lc_ogg_page og;
    int made = 0;
    while (pk->w != NULL && lc_ogg_writer_page(pk->w, &og) == 1) {
        /* g1 < 0: a page with no packet ending on it (not made at our sizes) */
        uint64_t g1 = og.granulepos < 0 ? pk->flushed : (uint64_t)og.granulepos;
        struct lc_page *p = lc_page_new(og.header, og.header_len, og.body, og.body_len,
                                        pk->flushed, g1);
        if (p == NULL)
            return -ENOMEM;
        p->eos = og.eos;
        pk->flushed = g1;
        lc_pageq_push(q, p);
        made++;
    }
    return made;
}
