/*
 * server/stream/stream_prog.h — a commune stream's timeline: which Opus packet comes next (internal
 * header of server/).
 *
 * A programme is a list of segments played in order: a bulletin (the packets of its stored file,
 * a "clip") or silence (n copies of one Opus silence packet, encoded once at start). Items of the
 * scheduler's programme become clip segments at their offsets, rounded to whole 20 ms packets,
 * with silence segments in the gaps. Each bulletin brings its encoder's pre-skip of near-silence
 * at its start (codecs/encode.h), so spliced clips keep the timeline.
 *
 * An airing is where a bulletin's audio lies in the stream, in granules: [g0, g1) is its true
 * content (after its own pre-skip, without its end padding). Delivery accounting compares airings
 * with the granules each receiver got (server/accounting/delivery.h).
 *
 * An interruption (emergency) splices new segments in front of the segment that holds the next
 * packet; an interrupted bulletin then plays again from its start (a silence gap just goes on).
 *
 * Clips are loaded once per audio file and shared (refcounted) between the streams that play them.
 * Loading reads a stored file of a few hundred KiB on the loop thread, at PREPARE (a minute before
 * the session) — documented in docs/streaming.md. Loop thread only.
 */
#ifndef LC_SERVER_STREAM_PROG_H
#define LC_SERVER_STREAM_PROG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codecs/encode.h"
#include "server/scheduler/onair.h"

struct lc_clip {
    int refs;
    struct lc_clip *prev, *next;    /* in the cache */
    struct lc_clipcache *cache;
    struct lc_encoded enc;          /* every packet is 960 samples (checked at load) */
    char name[96];
};

struct lc_clipcache {
    struct lc_clip *head;
    char dir[4096];                 /* <data_dir>/audio */
};

/* The clip of audio file `name` in the cache's dir, with one more reference. NULL if it cannot
 * be read or is not a mono Ogg Opus file of 20 ms packets (logged). */
struct lc_clip *lc_clip_get(struct lc_clipcache *c, const char *name);
void lc_clip_put(struct lc_clip *clip);

struct lc_seg {
    struct lc_clip *clip;           /* NULL: silence */
    int64_t bulletin;               /* 0 for silence */
    uint32_t npkts;
    uint32_t pos;                   /* next packet of this segment */
};

struct lc_airing {
    int64_t bulletin;
    uint64_t g0, g1;
};

struct lc_prog {
    struct lc_seg *segs;
    size_t nsegs, cap;
    size_t cur;                     /* the segment that holds the next packet */
    struct lc_airing *air;
    size_t nair, aircap;
    const unsigned char *silence;   /* one 20 ms Opus silence packet (the engine's) */
    uint32_t silence_len;
};

/* Builds the programme of items (offsets from 0) after what p already holds. Items whose audio
 * cannot be loaded become silence of their duration. 0 or -ENOMEM. */
int lc_prog_append(struct lc_prog *p, struct lc_clipcache *cc, const struct lc_onair_item *items,
                   size_t n);

/* Splices items (offsets from now) in front of the next packet; an interrupted bulletin restarts
 * after them. 0 or -ENOMEM. */
int lc_prog_interrupt(struct lc_prog *p, struct lc_clipcache *cc,
                      const struct lc_onair_item *items, size_t n);

/* The next packet; granule is the stream's granule before it (airings are recorded when a
 * bulletin's first packet goes out). *last is set on the programme's last packet, with
 * *end_granule its true end (padding trimmed) or 0. Returns 1, or 0 when the programme is over,
 * -ENOMEM. */
int lc_prog_next(struct lc_prog *p, uint64_t granule, const unsigned char **pkt, uint32_t *len,
                 bool *last, uint64_t *end_granule);

/* Skips n packets (a start in the middle of the session); nothing skipped counts as aired. */
void lc_prog_skip(struct lc_prog *p, uint64_t n);

/* Packets still to play. */
uint64_t lc_prog_remaining(const struct lc_prog *p);

void lc_prog_free(struct lc_prog *p);

#endif
