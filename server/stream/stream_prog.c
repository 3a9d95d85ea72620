/*
 * server/stream/stream_prog.c — clips, segments, airings and interruptions; see stream_prog.h.
 */
#define LC_LOG_MODULE "stream"
#include "server/stream/stream_prog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <opus/opus.h>

#include "codecs/oggmux.h"
#include "common/log.h"

/* ---- clips --------------------------------------------------------------------------------- */

static int read_file(const char *path, unsigned char **data, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat sb;
    int rc = 0;
    unsigned char *buf = NULL;
    if (fstat(fd, &sb) != 0 || sb.st_size <= 0 || sb.st_size > (64 << 20)) {
        rc = -EINVAL;
        goto cleanup;
    }
    buf = malloc((size_t)sb.st_size);
    if (buf == NULL) {
        rc = -ENOMEM;
        goto cleanup;
    }
    size_t got = 0;
    while (got < (size_t)sb.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);
        if (n <= 0) {
            rc = n < 0 ? -errno : -EIO;
            goto cleanup;
        }
        got += (size_t)n;
    }
    *data = buf;
    *len = got;
    buf = NULL;
cleanup:
    free(buf);
    close(fd);
    return rc;
}

struct lc_clip *lc_clip_get(struct lc_clipcache *c, const char *name)
{
    for (struct lc_clip *k = c->head; k; k = k->next)
        if (strcmp(k->name, name) == 0) {
            k->refs++;
            return k;
        }
    size_t nl = strlen(name);
    if (nl == 0 || nl >= sizeof ((struct lc_clip *)0)->name || strchr(name, '/') ||
        name[0] == '.') {
        lc_log(LC_LOG_ERR, "bad audio name '%.80s'", name);
        return NULL;
    }
    char path[4096 + 100];
    snprintf(path, sizeof path, "%s/%s", c->dir, name);
    unsigned char *data = NULL;
    size_t len = 0;
    int rc = read_file(path, &data, &len);
    if (rc < 0) {
        lc_log(LC_LOG_ERR, "%s: cannot read: %s", path, strerror(-rc));
        return NULL;
    }
    struct lc_clip *k = calloc(1, sizeof *k);
    struct lc_err err = {0};
    if (k == NULL || lc_ogg_demux(data, len, &k->enc, &err) < 0) {
        lc_log(LC_LOG_ERR, "%s: %s", path, k ? err.msg : "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < k->enc.npkts; i++) {
        const struct lc_packet *pk = &k->enc.pkts[i];
        if (opus_packet_get_nb_samples(k->enc.data + pk->off, (opus_int32)pk->len,
                                       LC_OPUS_RATE) != LC_OPUS_FRAME) {
            lc_log(LC_LOG_ERR, "%s: packet %zu is not 20 ms", path, i);
            goto fail;
        }
    }
    if (k->enc.npkts == 0)
        goto fail;
    free(data);
    memcpy(k->name, name, nl + 1);
    k->refs = 1;
    k->next = c->head;
    if (c->head)
        c->head->prev = k;
    c->head = k;
    k->cache = c; /* the cache holds no reference: a clip leaves it with its last user */
    return k;
fail:
    free(data);
    if (k)
        lc_encoded_free(&k->enc);
    free(k);
    return NULL;
}

void lc_clip_put(struct lc_clip *k)
{
    if (k == NULL || --k->refs > 0)
        return;
    if (k->prev)
        k->prev->next = k->next;
    else
        k->cache->head = k->next;
    if (k->next)
        k->next->prev = k->prev;
    lc_encoded_free(&k->enc);
    free(k);
}

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
static int build(struct lc_prog *p, struct lc_clipcache *cc, const struct lc_onair_item *items,
                 size_t n, size_t *at)
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
        struct lc_clip *k = it->audio ? lc_clip_get(cc, it->audio) : NULL;
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

int lc_prog_append(struct lc_prog *p, struct lc_clipcache *cc, const struct lc_onair_item *items,
                   size_t n)
{
    size_t at = p->nsegs;
    return build(p, cc, items, n, &at);
}

int lc_prog_interrupt(struct lc_prog *p, struct lc_clipcache *cc,
                      const struct lc_onair_item *items, size_t n)
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
    int rc = build(p, cc, items, n, &at);
    /* cur points at the first inserted segment (already-played ones stay behind it) */
    p->cur = before;
    return rc;
}

static int add_airing(struct lc_prog *p, int64_t bulletin, uint64_t g0, uint64_t g1)
{
    if (p->nair == p->aircap) {
        size_t cap = p->aircap ? p->aircap * 2 : 16;
        struct lc_airing *n = realloc(p->air, cap * sizeof *n);
        if (n == NULL)
            return -ENOMEM;
        p->air = n;
        p->aircap = cap;
    }
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
