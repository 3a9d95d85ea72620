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
            struct lc_seg gap = {NULL, 0, (uint32_t)(target - cursor), 0, NULL};
            if (seg_insert(p, (*at)++, gap) < 0)
                return -ENOMEM;
            cursor = target;
        }
        struct lc_clip *k = it->audio && clips[i] ? lc_clip_ref(clips[i]) : NULL;
        struct lc_seg s = {k, it->bulletin, 0, 0, NULL};
        if (it->relay != NULL && p->relay_cfg != NULL) {
            lc_clip_put(k);
            k = s.clip = NULL;
            if ((s.relay = lc_relay_src_new(p->relay_cfg, it->relay)) == NULL)
                return -ENOMEM;
            s.relay->next = p->relays;
            p->relays = s.relay;
        }
        if (k != NULL)
            s.npkts = (uint32_t)k->enc.npkts;
        else /* unreadable audio: keep the timeline with silence of its length */
            s.npkts = it->duration_ms > 0 ? (uint32_t)((it->duration_ms + 19) / 20) : 0;
        if (k == NULL && s.relay == NULL)
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
    struct lc_seg *rest_relay = NULL; /* a relay split by the emergency: its rest */
    if (at < p->nsegs && p->segs[at].pos > 0) {
        struct lc_seg *s = &p->segs[at];
        if (s->clip != NULL) {
            s->pos = 0; /* the interrupted bulletin plays again from its start */
        } else {
            /* split the silence or the relay: what went out stays before the emergency */
            struct lc_seg rest = {NULL, s->bulletin, s->npkts - s->pos, 0, s->relay};
            s->npkts = s->pos;
            if (seg_insert(p, at + 1, rest) < 0)
                return -ENOMEM;
            at++;
        }
    }
    if (at < p->nsegs && p->segs[at].relay != NULL && p->segs[at].pos == 0)
        rest_relay = &p->segs[at];
    size_t before = at;
    uint64_t inserted = 0;
    if (rest_relay != NULL) { /* the emergency's length comes out of the live relay (below) */
        for (size_t i = 0; i < n; i++)
            inserted += items[i].duration_ms > 0 ? (uint64_t)(items[i].duration_ms + 19) / 20 : 0;
        uint32_t npk = rest_relay->npkts;
        rest_relay->npkts = inserted < npk ? npk - (uint32_t)inserted : 0;
    }
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
    } else if (s->relay != NULL) {
        lc_relay_src_next(s->relay, pkt, len);
        if (lc_relay_src_over(s->relay)) { /* a carried programme ended: so does the item */
            for (size_t i = p->cur + 1; i < p->nsegs; i++)
                if (p->segs[i].relay == s->relay)
                    p->segs[i].pos = p->segs[i].npkts;
            s->pos = s->npkts - 1;  /* this packet (filler) is its last */
        }
    } else {
        *pkt = p->silence;
        *len = p->silence_len;
    }
    s->pos++;
    if (s->relay != NULL && s->pos >= s->npkts) { /* the relay's item is over, unless it goes on */
        bool more = false;
        for (size_t i = p->cur + 1; i < p->nsegs && !more; i++)
            more = p->segs[i].relay == s->relay && p->segs[i].pos < p->segs[i].npkts;
        if (!more)
            lc_relay_src_stop(s->relay);
    }
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

void lc_prog_relays_wake(struct lc_prog *p, int64_t ms_to_next, int64_t early_ms)
{
    int64_t at = ms_to_next;
    for (size_t i = p->cur; i < p->nsegs && at <= early_ms; i++) {
        struct lc_seg *s = &p->segs[i];
        if (s->relay != NULL && s->pos < s->npkts)
            lc_relay_src_start(s->relay);
        at += (int64_t)(s->npkts - s->pos) * 20;
    }
}

void lc_prog_relays_stop(struct lc_prog *p)
{
    for (struct lc_relay_src *r = p->relays; r; r = r->next)
        lc_relay_src_stop(r);
}

void lc_prog_free(struct lc_prog *p)
{
    while (p->relays != NULL) {
        struct lc_relay_src *r = p->relays;
        p->relays = r->next;
        lc_relay_src_free(r);
    }
    for (size_t i = 0; i < p->nsegs; i++)
        lc_clip_put(p->segs[i].clip);
    free(p->segs);
    free(p->air);
    memset(p, 0, sizeof *p);
}
