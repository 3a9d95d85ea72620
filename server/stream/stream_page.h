/*
 * server/stream/stream_page.h — the unit of fan-out: immutable, reference-counted Ogg pages, the
 * queue a commune's stream keeps for bursts, and the packer that turns spliced Opus packets into
 * pages of ONE logical Ogg stream with continuous granule positions (internal header of
 * server/stream/). The Ogg pages themselves are made by codecs/oggmux.h (libogg): this file
 * only keeps the stream's timeline and wraps each page into a shared struct lc_page.
 *
 * Glossary
 *   granule   48 kHz samples decoded from the start of the logical stream, the stream's pre-skip
 *             included (RFC 7845 §4). A page carries the granule at the end of its last packet;
 *             we also keep the one at its start (g0), so that a page knows its audio interval.
 *   page      struct lc_page: the bytes of one Ogg page (header + segment table + body), never
 *             changed once built, shared by every receiver of the stream.
 *   queue     the stream's newest pages, oldest first, kept for the burst of a new receiver.
 *
 * Ownership: a page is freed when its count falls to 0. The queue holds one reference per page;
 * each in-flight write to a receiver holds one, released in its write callback. Counts are plain
 * integers: loop thread only.
 */
#ifndef LC_SERVER_STREAM_PAGE_H
#define LC_SERVER_STREAM_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lc_ogg_writer;
struct lc_ogg_reseq;

struct lc_page {
    int refs;
    uint32_t len;           /* bytes in data */
    uint64_t g0, g1;        /* audio interval [g0, g1) in granules; g0 == g1: no audio (headers) */
    bool eos;               /* the logical stream's last page */
    bool hold;              /* silence of the hold window: bytes delivered, no programme audio */
    struct lc_page *next;   /* queue link, oldest → newest */
    struct lc_ogg_reseq *reseq; /* lazily: how to renumber the page (lc_page_reseq) */
    unsigned char data[];
};

/* A page of a + b (header and body of an Ogg page, or any bytes), with one reference (the
 * caller's). NULL when out of memory. */
struct lc_page *lc_page_new(const void *a, size_t alen, const void *b, size_t blen, uint64_t g0,
                            uint64_t g1);
static inline struct lc_page *lc_page_ref(struct lc_page *p)
{
    p->refs++;
    return p;
}
/* Drops one reference; frees the page at zero. NULL is allowed. */
void lc_page_unref(struct lc_page *p);

/* Page sequence numbers per receiver. Pages are shared, but a receiver that joins in the middle
 * must see sequence numbers 0, 1 (headers), 2, 3, ... with no gap, or strict readers (libogg's
 * packetout, opusinfo) report a hole. Such a receiver writes its own copy of the 27-byte page
 * header (sequence number − off, CRC updated: lc_ogg_reseq_header(), no pass over the page per
 * receiver) followed by the shared rest of the page. The renumbering map is made once per page,
 * at its first use. Fills hdr with the page's header renumbered; 0 or -ENOMEM. */
int lc_page_reseq(struct lc_page *p, uint32_t off, unsigned char hdr[27]);
/* The page's sequence number. */
uint32_t lc_page_seq(const struct lc_page *p);

struct lc_pageq {
    struct lc_page *head, *tail;
    size_t n;
};

/* Appends p, taking over the caller's reference. */
void lc_pageq_push(struct lc_pageq *q, struct lc_page *p);
/* Drops pages from the head while the pages after the head still cover at least keep granules
 * of audio up to the tail's end: the head is then where a burst of `keep` starts. */
void lc_pageq_trim(struct lc_pageq *q, uint64_t keep);
/* Drops every page. */
void lc_pageq_clear(struct lc_pageq *q);

/* The packer: one logical Ogg Opus stream (one serial). Packets go in with their duration in
 * samples; the granule of each is the running total, so packets of separately encoded bulletins
 * and silence packets splice on one timeline (codecs/encode.h). */
struct lc_packer {
    struct lc_ogg_writer *w;    /* NULL before init and after free */
    uint64_t granule;       /* after the last packet added */
    uint64_t flushed;       /* granule at the end of the last page made */
    int preskip;
    bool eos;               /* the EOS packet went in */
};

/* Starts a stream with this serial and pre-skip; *headers receives the OpusHead (BOS) and
 * OpusTags pages as one buffer-page (g0 = g1 = 0). skip_granule starts the timeline later (a
 * restart in the middle of a session): the first audio page's granule is then large, as after a
 * join in the middle (see docs/streaming.md). 0 or -ENOMEM. */
int lc_packer_init(struct lc_packer *pk, uint32_t serial, int preskip, const char *title,
                   uint64_t skip_granule, struct lc_page **headers);
/* A zeroed packer, or one freed already, is allowed. */
void lc_packer_free(struct lc_packer *pk);

/* Adds one Opus packet of nsamples (48 kHz). With eos, it is the stream's last packet and
 * end_granule (≤ the running total, ≥ the previous page's granule) trims the padding at the
 * end (RFC 7845 §4.4); pass 0 to keep the running total. -ENOMEM, -EINVAL after EOS. */
int lc_packer_add(struct lc_packer *pk, const unsigned char *pkt, uint32_t len, int nsamples,
                  bool eos, uint64_t end_granule);

/* Turns the packets added since the last call into pages (usually one), appended to q. Each
 * page gets g0 = the previous page's granule. Returns the number of pages made, or -ENOMEM. */
int lc_packer_flush(struct lc_packer *pk, struct lc_pageq *q);

#endif
