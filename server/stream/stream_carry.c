/* server/stream/stream_carry.c — carried channels' feeds; see stream_carry.h. */
#include "server/stream/stream_carry.h"

#include <stdlib.h>
#include <string.h>

struct slot {
    uint16_t len;
    unsigned char data[LC_CARRY_MAX_PACKET];
};

struct lc_carry_feed {
    struct lc_carry_hub *hub;
    struct lc_carry_feed *next;     /* the channel's next feed */
    char *channel;
    struct slot *ring;
    size_t cap, head, n;            /* the oldest at head, n held */
    uint64_t published, dropped;
    bool ended;                     /* the channel's programme ended (lc_carry_end) */
};

struct lc_carry_feed *lc_carry_feed_open(struct lc_carry_hub *h, const char *channel,
                                         size_t max_packets)
{
    struct lc_carry_feed *f = calloc(1, sizeof *f);
    if (f == NULL || (f->channel = strdup(channel)) == NULL ||
        (f->ring = malloc((max_packets ? max_packets : 1) * sizeof *f->ring)) == NULL)
        goto nomem;
    f->hub = h;
    f->cap = max_packets ? max_packets : 1;
    f->next = lc_strmap_get(&h->by_channel, channel);
    if (lc_strmap_put(&h->by_channel, channel, f) < 0)
        goto nomem;
    h->feeds++;
    return f;
nomem:
    if (f != NULL) {
        free(f->ring);
        free(f->channel);
    }
    free(f);
    return NULL;
}

void lc_carry_feed_close(struct lc_carry_feed *f)
{
    if (f == NULL)
        return;
    struct lc_carry_hub *h = f->hub;
    struct lc_carry_feed *first = lc_strmap_get(&h->by_channel, f->channel);
    if (first == f) {
        if (f->next != NULL)
            lc_strmap_put(&h->by_channel, f->channel, f->next); /* replaces: no allocation */
        else
            lc_strmap_del(&h->by_channel, f->channel, f);
    } else {
        for (struct lc_carry_feed *p = first; p != NULL; p = p->next)
            if (p->next == f) {
                p->next = f->next;
                break;
            }
    }
    h->feeds--;
    free(f->ring);
    free(f->channel);
    free(f);
}

void lc_carry_publish(struct lc_carry_hub *h, const char *channel, const unsigned char *pkt,
                      uint32_t len)
{
    if (h->feeds == 0 || len == 0)
        return;
    for (struct lc_carry_feed *f = lc_strmap_get(&h->by_channel, channel); f; f = f->next) {
        if (len > LC_CARRY_MAX_PACKET) {
            f->dropped++;
            continue;
        }
        if (f->n == f->cap) {   /* full: the oldest goes (a carrier that does not take yet) */
            f->head = (f->head + 1) % f->cap;
            f->n--;
            f->dropped++;
        }
        f->ended = false;
        struct slot *s = &f->ring[(f->head + f->n) % f->cap];
        s->len = (uint16_t)len;
        memcpy(s->data, pkt, len);
        f->n++;
        f->published++;
    }
}

void lc_carry_end(struct lc_carry_hub *h, const char *channel)
{
    if (h->feeds == 0)
        return;
    for (struct lc_carry_feed *f = lc_strmap_get(&h->by_channel, channel); f; f = f->next)
        f->ended = true;
}

bool lc_carry_over(const struct lc_carry_feed *f)
{
    return f->ended && f->n == 0;
}

size_t lc_carry_queued(const struct lc_carry_feed *f)
{
    return f->n;
}

void lc_carry_trim(struct lc_carry_feed *f, size_t keep)
{
    while (f->n > keep) {
        f->head = (f->head + 1) % f->cap;
        f->n--;
        f->dropped++;
    }
}

size_t lc_carry_take(struct lc_carry_feed *f, unsigned char *pkt)
{
    if (f->n == 0)
        return 0;
    const struct slot *s = &f->ring[f->head];
    memcpy(pkt, s->data, s->len);
    f->head = (f->head + 1) % f->cap;
    f->n--;
    return s->len;
}

void lc_carry_counts(const struct lc_carry_feed *f, uint64_t *published, uint64_t *dropped)
{
    *published = f->published;
    *dropped = f->dropped;
}

void lc_carry_hub_clear(struct lc_carry_hub *h)
{
    lc_strmap_clear(&h->by_channel);
    h->feeds = 0;
}
