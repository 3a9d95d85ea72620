/*
 * server/stream/stream_relay.h — relay items (tiếp sóng, issue 18) in a commune's stream: the
 * packets of an upstream stream (codecs/relay.h) where the timeline has a relay segment, and
 * filler where the upstream has none to give (internal header of server/stream/).
 *
 * A source is made for each relay item of a programme (stream_prog.c) and started early
 * (stream.c: at PREPARE for an item that begins within RELAY_EARLY_MS of the programme's start,
 * else that long before it), so that the relay is connected and has audio when its item begins.
 * The timeline takes one packet per 20 ms from it, in the engine's groups of send_ms:
 *
 *   state     the packet taken                      leaves on
 *   PRIMING   filler (silence or the jingle)        the relay holds ≥ prime packets → PLAYING
 *   PLAYING   the relay's oldest packet             the relay has none → PRIMING (a gap: logged)
 *
 * prime = (send_ms + buffer_ms) / 20 packets: the engine takes send_ms of audio at once, and
 * buffer_ms more absorbs the upstream's jitter. While PLAYING, a queue past prime + buffer_ms
 * (an Icecast burst on connection, a clock faster than ours) is cut back to prime, so the
 * relay's latency stays between buffer_ms and send_ms + buffer_ms (docs/streaming.md, "Relays").
 *
 * The filler is silence (the engine's silence packet) or, when `[relay] filler` names an Ogg
 * Opus file, that jingle, looped from its start at each gap. Either way the Ogg stream is the
 * same logical stream with continuous granules: the timeline does not know where a packet came
 * from. Loop thread only (the relay's own thread is behind codecs/relay.h).
 */
#ifndef LC_SERVER_STREAM_RELAY_H
#define LC_SERVER_STREAM_RELAY_H

#include <stdbool.h>
#include <stdint.h>

#include "codecs/encode.h"
#include "codecs/relay.h"
#include "common/err.h"
#include "server/stream/stream_carry.h"

/* A relay item is started this long before its first packet is taken (at PREPARE if sooner). */
#define RELAY_EARLY_MS 15000

/* The engine's settings for relays (one per engine, at open). */
struct lc_relay_cfg {
    int bitrate_kbps, complexity;
    double target_lufs;
    int send_ms;                /* the engine's */
    int buffer_ms;              /* jitter cushion on top of send_ms */
    int timeout_ms;             /* upstream stall, codecs/relay.h */
    struct lc_encoded filler;   /* the jingle's packets (npkts 0: silence) */
    const unsigned char *silence;
    uint32_t silence_len;
    struct lc_carry_hub *carry; /* the engine's carried channels: "loacast:X" relays (issue 19) */
};

struct lc_relay_src {
    const struct lc_relay_cfg *cfg;
    struct lc_relay_src *next;  /* in the programme's list (stream_prog.h), which owns it */
    char *url;
    char shown[512];            /* url as logged: secrets hidden (common/redact.h) */
    struct lc_relay *relay;     /* NULL before the start and after the stop */
    struct lc_carry_feed *feed; /* instead of relay, for "loacast:X": X's packets (carry.h) */
    bool started, stopped;
    bool playing;
    uint32_t filler_pos;
    uint64_t from_relay, filler, gaps;  /* packets, and gaps */
    unsigned char pkt[LC_CARRY_MAX_PACKET > LC_RELAY_MAX_PACKET ? LC_CARRY_MAX_PACKET
                                                                : LC_RELAY_MAX_PACKET];
};

/* Reads the jingle (filler_path: NULL or "" for silence) into cfg->filler; before the loop runs.
 * 0, or -EINVAL / -ENOENT with a message. */
int lc_relay_cfg_filler(struct lc_relay_cfg *cfg, const char *filler_path, struct lc_err *err);
void lc_relay_cfg_free(struct lc_relay_cfg *cfg);

/* A source of url (copied), not started. NULL when out of memory. */
struct lc_relay_src *lc_relay_src_new(const struct lc_relay_cfg *cfg, const char *url);
/* Starts the relay (once, not after lc_relay_src_stop(); a relay that cannot start is logged
 * and plays filler). A "loacast:X" source opens a feed of channel X instead (stream_carry.h):
 * the same priming, trimming and filler, from packets X's own timeline publishes. */
void lc_relay_src_start(struct lc_relay_src *s);
/* Stops it (once); packets taken after this are filler. */
void lc_relay_src_stop(struct lc_relay_src *s);
/* Stops and frees. NULL allowed. */
void lc_relay_src_free(struct lc_relay_src *s);
/* A carried channel's source that played the channel's programme to its end (stream_carry.h):
 * its item is over. */
bool lc_relay_src_over(const struct lc_relay_src *s);
/* The next 20 ms packet, the relay's or filler; *pkt is valid until the next call. */
void lc_relay_src_next(struct lc_relay_src *s, const unsigned char **pkt, uint32_t *len);

#endif
