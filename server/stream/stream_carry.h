/*
 * server/stream/stream_carry.h — carrying a producer's programme live inside communes' sessions
 * (tiếp sóng inside loacast, issue 19 point 2; internal header of server/stream/).
 *
 * A session of commune Y whose relay is "loacast:X" carries channel X: the live programme of X,
 * a commune of a producer node above Y (the scheduler checks that, lc_carry_check). The Opus
 * packets X's timeline takes (stream.c, make_page) are published here once, by X's name; every
 * relay source of a session that carries X holds a feed — a bounded queue of copies of those
 * packets — which its timeline takes from as it would take from an upstream relay
 * (stream_relay.c: priming, trimming, filler while X is silent or off air). Nothing is decoded or
 * encoded again: one encode, the producer's, fanned out to every commune carrying it; each
 * carrying commune's stream is its own logical Ogg stream, with its own granules and its own
 * delivery accounting per cluster.
 *
 * The carried audio runs send_ms + buffer_ms behind the producer's own stream (the cushion a relay
 * source primes before it plays), and a carried item ends when the producer's programme ends (or
 * at the end of the carrier's window, whichever comes first). Loop thread only.
 */
#ifndef LC_SERVER_STREAM_CARRY_H
#define LC_SERVER_STREAM_CARRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/stream/stream_map.h"

/* The URL scheme of a carried channel: "loacast:<commune id>". */
#define LC_CARRY_SCHEME "loacast:"
/* A feed's slots hold packets up to this size: loacast's 20 ms packets are ~60 bytes at 24 kbps
 * and ~160 at 64 (a relay's are capped at 400, codecs/relay.h); a longer one is not carried
 * (counted as dropped: its 20 ms are then missing from the carrier's queue). */
#define LC_CARRY_MAX_PACKET 512

struct lc_carry_feed;

/* Every feed, by channel (one per engine). */
struct lc_carry_hub {
    struct lc_strmap by_channel;    /* channel → its first feed */
    size_t feeds;
};

/* A feed of channel (copied) holding at most max_packets; NULL when out of memory. */
struct lc_carry_feed *lc_carry_feed_open(struct lc_carry_hub *h, const char *channel,
                                         size_t max_packets);
/* Leaves the hub and frees the feed. NULL allowed. */
void lc_carry_feed_close(struct lc_carry_feed *f);

/* Called for each packet channel's timeline takes: a copy to each of its feeds (the oldest
 * dropped from a full one). */
void lc_carry_publish(struct lc_carry_hub *h, const char *channel, const unsigned char *pkt,
                      uint32_t len);
/* Channel's programme took its last packet: a carrier that has played what its feed holds ends
 * its carried item there (lc_carry_over), instead of playing filler to the end of its window.
 * The next packet published makes the feed live again (the channel's next session). */
void lc_carry_end(struct lc_carry_hub *h, const char *channel);
/* The channel's programme ended and everything of it was taken. */
bool lc_carry_over(const struct lc_carry_feed *f);

size_t lc_carry_queued(const struct lc_carry_feed *f);
/* Drops the oldest packets until keep are left. */
void lc_carry_trim(struct lc_carry_feed *f, size_t keep);
/* Moves the oldest packet into pkt (LC_CARRY_MAX_PACKET bytes); its length, 0 when empty. */
size_t lc_carry_take(struct lc_carry_feed *f, unsigned char *pkt);
/* Packets published to f, and dropped because it was full. */
void lc_carry_counts(const struct lc_carry_feed *f, uint64_t *published, uint64_t *dropped);

/* Frees the hub's map (every feed closed before). */
void lc_carry_hub_clear(struct lc_carry_hub *h);

#endif
