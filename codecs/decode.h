/*
 * codecs/decode.h — decoding recorded audio: libsndfile for WAV, FLAC, Ogg Vorbis/Opus and MP3
 * (libsndfile ≥ 1.1), libavformat/libavcodec for the rest of what FFmpeg reads among audio
 * formats (AAC/M4A from phones, WebM/Opus and MP4 from browsers' MediaRecorder, AMR, WMA, ...;
 * the list and why it is closed: codecs/decode_av.c, docs/audio.md). Any rate and channel count;
 * the channels are averaged to mono. The caller resamples (codecs/resample.h).
 */
#ifndef LC_CODECS_DECODE_H
#define LC_CODECS_DECODE_H

#include <stddef.h>

#include "common/err.h"
#include "codecs/pcm.h"

/* Decodes data[0..len) into *out (zeroed by caller) at the file's own rate. Data that is not
 * audio loacast reads, or that holds no samples, is -EINVAL with a message; audio of a known
 * format that is damaged or cut short (libavformat's formats) -EBADMSG. Audio longer than max_s
 * seconds (0: no bound) is -EFBIG with a message: refused from the header's length before
 * decoding when the header has one, else as soon as the decoded samples pass it, so memory never
 * grows past the bound. */
int lc_decode_mem(const void *data, size_t len, double max_s, struct lc_pcm *out,
                  struct lc_err *err);

#endif
