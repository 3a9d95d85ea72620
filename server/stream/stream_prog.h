/*
 * server/stream/stream_prog.h — a commune stream's timeline: which Opus packet comes next (internal
 * header of server/stream/).
 *
 * A programme is a list of segments played in order: a bulletin (the packets of its stored file,
 * a clip: stream_clips.h) or silence (n copies of one Opus silence packet, encoded once at start).
 * Items of the scheduler's programme become clip segments at their offsets, rounded to whole
 * 20 ms packets, with silence segments in the gaps. Each bulletin brings its encoder's pre-skip of
 * near-silence at its start (codecs/encode.h), so spliced clips keep the timeline.
 *
 * An airing (struct lc_airing, server/accounting/delivery.h) is where a bulletin's audio lies in
 * the stream, in granules; delivery accounting compares airings with the granules each receiver
 * got.
 *
 * An interruption (emergency) splices new segments in front of the segment that holds the next
 * packet; an interrupted bulletin then plays again from its start (a silence gap just goes on).
 *
 * A relay item (issue 18) is a relay segment: its packets come from a relay source
 * (stream_relay.h), live, one per 20 ms, filler where the upstream has none. The programme owns
 * its sources (made by build(), freed with it); a source is started by lc_prog_relays_wake()
 * and stopped once its item's last packet is taken. An emergency takes the place of the relay's
 * audio while it plays (the upstream is live: what it sent meanwhile is not replayed), so the
 * relay item still ends when it was to end.
 *
 * No I/O here: the clips were read before (stream_clips.h, off the loop). Loop thread only.
 */
#ifndef LC_SERVER_STREAM_PROG_H
#define LC_SERVER_STREAM_PROG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codecs/encode.h"
#include "server/accounting/accounting.h"
#include "server/scheduler/scheduler.h"
#include "server/stream/stream_clips.h"
#include "server/stream/stream_relay.h"

struct lc_seg {
    struct lc_clip *clip;           /* NULL: silence or a relay */
    int64_t bulletin;               /* 0 for silence */
    uint32_t npkts;
    uint32_t pos;                   /* next packet of this segment */
    struct lc_relay_src *relay;     /* a relay segment's source (owned by the programme) */
};

struct lc_prog {
    struct lc_seg *segs;
    size_t nsegs, cap;
    size_t cur;                     /* the segment that holds the next packet */
    struct lc_airing *air;
    size_t nair, aircap;
    const unsigned char *silence;   /* one 20 ms Opus silence packet (the engine's) */
    uint32_t silence_len;
    const struct lc_relay_cfg *relay_cfg; /* the engine's (NULL: relay items play silence) */
    struct lc_relay_src *relays;    /* every source of the programme (owned) */
};

/* Builds the programme of items (offsets from 0) after what p already holds; clips[i] is item i's
 * clip (a reference is taken) or NULL: silence of the item's duration. 0 or -ENOMEM. */
int lc_prog_append(struct lc_prog *p, const struct lc_onair_item *items,
                   struct lc_clip *const *clips, size_t n);

/* Splices items (offsets from now, clips as above) in front of the next packet; an interrupted
 * bulletin restarts after them. 0 or -ENOMEM. */
int lc_prog_interrupt(struct lc_prog *p, const struct lc_onair_item *items,
                      struct lc_clip *const *clips, size_t n);

/* The next packet; granule is the stream's granule before it (airings are recorded when a
 * bulletin's first packet goes out). *last is set on the programme's last packet, with
 * *end_granule its true end (padding trimmed) or 0. Returns 1, or 0 when the programme is over,
 * -ENOMEM. */
int lc_prog_next(struct lc_prog *p, uint64_t granule, const unsigned char **pkt, uint32_t *len,
                 bool *last, uint64_t *end_granule);

/* Skips n packets (a start in the middle of the session); nothing skipped counts as aired. */
void lc_prog_skip(struct lc_prog *p, uint64_t n);

/* Starts the relays whose segment begins within early_ms, the next packet playing in
 * ms_to_next ms. */
void lc_prog_relays_wake(struct lc_prog *p, int64_t ms_to_next, int64_t early_ms);
/* Stops every relay (the stream ends). */
void lc_prog_relays_stop(struct lc_prog *p);

/* Packets still to play. */
uint64_t lc_prog_remaining(const struct lc_prog *p);

void lc_prog_free(struct lc_prog *p);

#endif
