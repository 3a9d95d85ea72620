/*
 * codecs/oggmux.h — Ogg encapsulation of Opus (RFC 7845) with libogg.
 *
 * Page layout of a file we write:
 *   page 0 (BOS): OpusHead  — "OpusHead", version 1, channels 1, pre-skip, input rate 48000,
 *                             gain 0, mapping family 0 (19 bytes)
 *   page 1:       OpusTags  — "OpusTags", vendor "loacast", comments TITLE=..., ENCODER=...
 *   pages 2..:    audio     — granule position = 48 kHz samples decoded up to the end of the
 *                             page's last packet (the pre-skip is part of them); the last page
 *                             (EOS) carries preskip + true length, which trims the padding (§4.4).
 * Audio pages are flushed at most every ~1 s of audio so a streaming reader can cut at pages.
 */
#ifndef LC_CODECS_OGGMUX_H
#define LC_CODECS_OGGMUX_H

#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "codecs/encode.h"

/* The 19-byte OpusHead packet for a mono stream with this pre-skip. */
void lc_opus_head(unsigned char out[19], int preskip);

/* An OpusTags packet (vendor "loacast", TITLE=title if not NULL) appended to out. */
int lc_opus_tags(struct lc_buf *out, const char *title);

/* Writes a complete Ogg Opus file of enc to out (appends). serial is the stream's serial number. */
int lc_ogg_mux(const struct lc_encoded *enc, const char *title, uint32_t serial,
               struct lc_buf *out, struct lc_err *err);

/* Reads the audio packets of a single-stream Ogg Opus file back (for the streaming engine, which
 * splices stored bulletins). *out must be zeroed; preskip and samples come from OpusHead and the
 * last granule position. Anything that is not a single mono Opus stream is -EINVAL. */
int lc_ogg_demux(const unsigned char *data, size_t len, struct lc_encoded *out,
                 struct lc_err *err);

#endif
