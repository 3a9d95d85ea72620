/*
 * server/stream/stream_prog.c — segments, airings and interruptions; see stream_prog.h.
 */
#include "server/stream/stream_prog.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"

/* ---- segments ------------------------------------------------------------------------------ */

/* Inserts seg at index at (taking over its clip reference). */
static int seg_insert(struct lc_prog *p, size_t at, struct lc_seg seg)
{
    if (seg.npkts == 0) {
        lc_clip_put(seg.clip);
        return 0;
    }
    if (p->nsegs == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        struct lc_seg *n = realloc(p->segs, cap * sizeof *n);
        if (n == NULL) {
            lc_clip_put(seg.clip);
            return -ENOMEM;
        }
        p->segs = n;
        p->cap = cap;
    }
    memmove(p->segs + at + 1, p->segs + at, (p->nsegs - at) * sizeof *p->segs);
    p->segs[at] = seg;
    p->nsegs++;
    return 0;
}

/* Segments for items (offsets relative to their start) inserted at index *at; *at advances. */
static int build(struct lc_prog *p, const struct lc_onair_item *items,
                 struct lc_clip *const *clips, size_t n, size_t *at)
{
    uint64_t cursor = 0; /* packets placed so far */
    for (size_t i = 0; i < n; i++) {
        const struct lc_onair_item *it = &items[i];
        uint64_t target = it->offset_ms > 0 ? (uint64_t)(it->offset_ms + 10) / 20 : 0;
        if (target > cursor) {
            struct lc_seg gap = {NULL, 0, (uint32_t)(target - cursor), 0};
            if (seg_insert(p, (*at)++, gap) < 0)
                return -ENOMEM;
            cursor = target;
        }
        struct lc_clip *k = it->audio && clips[i] ? lc_clip_ref(clips[i]) : NULL;
        struct lc_seg s = {k, it->bulletin, 0, 0};
        if (k != NULL)
            s.npkts = (uint32_t)k->enc.npkts;
        else /* unreadable audio: keep the timeline with silence of its length */
            s.npkts = it->duration_ms > 0 ? (uint32_t)((it->duration_ms + 19) / 20) : 0;
        if (k == NULL)
            s.bulletin = 0;
        cursor += s.npkts;
        if (seg_insert(p, (*at)++, s) < 0)
            return -ENOMEM;
    }
    return 0;
}

int lc_prog_append(struct lc_prog *p, const struct lc_onair_item *items,
                   struct lc_clip *const *clips, size_t n)
{
    size_t at = p->nsegs;
    return build(p, items, clips, n, &at);
}

int lc_prog_interrupt(struct lc_prog *p, const struct lc_onair_item *items,
                      struct lc_clip *const *clips, size_t n)
{
    while (p->cur < p->nsegs && p->segs[p->cur].pos >= p->segs[p->cur].npkts)
        p->cur++;
    size_t at = p->cur;
    if (at < p->nsegs && p->segs[at].pos > 0) {
        struct lc_seg *s = &p->segs[at];
        if (s->clip != NULL) {
            s->pos = 0; /* the interrupted bulletin plays again from its start */
        } else {
            /* split the silence: what went out stays before the emergency */
            struct lc_seg rest = {NULL, 0, s->npkts - s->pos, 0};
            s->npkts = s->pos;
            if (seg_insert(p, at + 1, rest) < 0)
                return -ENOMEM;
            at++;
        }
    }
    size_t before = at;
    int rc = build(p, items, clips, n, &at);
    /* cur points at the first inserted segment (already-played ones stay behind it) */
    p->cur = before;
    return rc;
}

static int add_airing(struct lc_prog *p, int64_t bulletin, uint64_t g0, uint64_t g1)
{
    struct lc_airing *n = lc_grow(p->air, p->nair, &p->aircap, sizeof *n, 16);
    if (n == NULL)
        return -ENOMEM;
    p->air = n;
    p->air[p->nair++] = (struct lc_airing){bulletin, g0, g1};
    return 0;
}

int lc_prog_next(struct lc_prog *p, uint64_t granule, const unsigned char **pkt, uint32_t *len,
                 bool *last, uint64_t *end_granule)
{
    while (p->cur < p->nsegs && p->segs[p->cur].pos >= p->segs[p->cur].npkts)
        p->cur++;
    if (p->cur >= p->nsegs)
        return 0;
    struct lc_seg *s = &p->segs[p->cur];
    *end_granule = 0;
    if (s->clip != NULL) {
        const struct lc_encoded *e = &s->clip->enc;
        uint64_t c0 = granule - (uint64_t)s->pos * LC_OPUS_FRAME + (uint64_t)e->preskip;
        if (s->pos == 0 && add_airing(p, s->bulletin, c0, c0 + e->samples) < 0)
            return -ENOMEM;
        *pkt = e->data + e->pkts[s->pos].off;
        *len = e->pkts[s->pos].len;
        *end_granule = c0 + e->samples;
    } else {
        *pkt = p->silence;
        *len = p->silence_len;
    }
    s->pos++;
    size_t k = p->cur;
    while (k < p->nsegs && p->segs[k].pos >= p->segs[k].npkts)
        k++;
    *last = k >= p->nsegs;
    if (!*last || s->clip == NULL)
        *end_granule = 0;
    return 1;
}

void lc_prog_skip(struct lc_prog *p, uint64_t n)
{
    while (n > 0 && p->cur < p->nsegs) {
        struct lc_seg *s = &p->segs[p->cur];
        uint64_t left = s->npkts - s->pos;
        if (n < left) {
            s->pos += (uint32_t)n;
            return;
        }
        s->pos = s->npkts;
        n -= left;
        p->cur++;
    }
}

uint64_t lc_prog_remaining(const struct lc_prog *p)
{
    uint64_t n = 0;
    for (size_t i = p->cur; i < p->nsegs; i++)
        n += p->segs[i].npkts - p->segs[i].pos;
    return n;
}

void lc_prog_free(struct lc_prog *p)
{
    for (size_t i = 0; i < p->nsegs; i++)
        lc_clip_put(p->segs[i].clip);
    free(p->segs);
    free(p->air);
    memset(p, 0, sizeof *p);
}
