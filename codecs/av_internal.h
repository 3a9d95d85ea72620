/*
 * codecs/av_internal.h — what the two users of libavformat/libavcodec in codecs/ share (internal
 * header of codecs/relay*.c, codecs/decode.c and codecs/decode_av.c): libav's log into ours, a
 * decoded frame as mono float PCM, and the upload decoder for what libsndfile does not read.
 */
#ifndef LC_CODECS_AV_INTERNAL_H
#define LC_CODECS_AV_INTERNAL_H

#include <stddef.h>

#include "common/err.h"
#include "codecs/pcm.h"

struct AVFrame;

/* Once per process: libav's messages go to our log, errors only (a live stream's decoders, and
 * a damaged upload's demuxer, warn a lot). Any thread; idempotent. */
void lc_av_init(void);

/* The frame's samples (any of libav's sample formats, packed or planar), channels averaged, into
 * *buf (grown as needed; the caller owns it and frees it with free()). The number of samples, or
 * -EIO (a format loacast does not know, no channels) or -ENOMEM. */
int lc_av_mono(const struct AVFrame *f, float **buf, size_t *cap);

/* decode_av.c: lc_decode_mem()'s contract (decode.h) through libavformat/libavcodec, for the
 * recordings libsndfile does not read (AAC/M4A, WebM/Opus, AMR, ...). Besides -EINVAL (not audio
 * loacast takes) and -EFBIG (too long), -EBADMSG: audio of a known format that is damaged or cut
 * short. */
int lc_decode_av(const void *data, size_t len, double max_s, struct lc_pcm *out,
                 struct lc_err *err);

#endif
