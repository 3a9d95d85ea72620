/*
 * codecs/encode.h — Opus encoding of 48 kHz mono PCM into 20 ms packets (libopus).
 *
 * Settings: mono, OPUS_APPLICATION_AUDIO with OPUS_SIGNAL_VOICE, VBR, the requested bitrate and
 * complexity, 960-sample (20 ms) frames. The packets are kept apart from any container so that
 * they can go into a file (codecs/oggmux.h) or be spliced into a live stream.
 *
 * Timing contract (RFC 7845 §4.2): decoding the packets yields `preskip` samples of encoder delay,
 * then the input. Decoding npkts*960 samples and dropping the first preskip gives the input padded
 * with silence; samples is the true input length, so that a muxer can trim the end.
 */
#ifndef LC_CODECS_ENCODE_H
#define LC_CODECS_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define LC_OPUS_RATE 48000
#define LC_OPUS_FRAME 960 /* samples per packet: 20 ms at 48 kHz */

struct lc_packet {
    size_t off;     /* offset of the packet's bytes in lc_encoded.data */
    uint32_t len;   /* bytes */
};

struct lc_encoded {
    unsigned char *data;      /* all packets back to back (owned) */
    size_t data_len, data_cap;
    struct lc_packet *pkts;   /* owned */
    size_t npkts, pkts_cap;
    int preskip;              /* encoder delay at 48 kHz */
    uint64_t samples;         /* true audio length at 48 kHz, without preskip */
};

struct lc_encode_opts {
    int bitrate_kbps;  /* 12..64 */
    int complexity;    /* 0..10 */
    int pad_tail;      /* 1: add frames so the input's last sample survives the encoder delay (the
                        * last or only segment); 0: a segment that another will follow, whose
                        * encoder start-up then covers this one's last preskip samples */
};

/* Encodes pcm[0..n) (48 kHz mono) into a fresh lc_encoded (*out must be zeroed); the last
 * frame is padded with silence. With pad_tail, enough extra frames follow that the last input
 * sample is decodable after preskip. On failure *out is left empty.
 *
 * Splicing segments encoded by separate encoders keeps the timeline: segment k+1's packets decode
 * to its encoder's start-up (preskip samples, near silence) and then its input, which lands exactly
 * where segment k's last preskip samples would have been. So cut only inside silence. */
int lc_encode(const float *pcm, size_t n, const struct lc_encode_opts *o, struct lc_encoded *out,
              struct lc_err *err);

/* Appends the packets of src to dst (the splice the pipeline does for segments encoded in
 * parallel): dst keeps its preskip, samples add up. Assumes each segment's length is a whole
 * number of frames except the last. */
int lc_encoded_append(struct lc_encoded *dst, const struct lc_encoded *src);

/* Decodes e's packets with a fresh libopus decoder into *pcm (zeroed by the caller): the
 * pre-skip dropped, trimmed to e->samples. Used to check what a listener will hear. */
struct lc_pcm;
int lc_encoded_decode(const struct lc_encoded *e, struct lc_pcm *pcm);

void lc_encoded_free(struct lc_encoded *e);

#endif
