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
 * The same writer (below) makes the live streams' pages (server/stream/).
 */
#ifndef LC_CODECS_OGGMUX_H
#define LC_CODECS_OGGMUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "codecs/encode.h"

/* The 19-byte OpusHead packet for a mono stream with this pre-skip. */
void lc_opus_head(unsigned char out[19], int preskip);

/* An OpusTags packet (vendor "loacast", TITLE=title if not NULL) appended to out. */
int lc_opus_tags(struct lc_buf *out, const char *title);

/* ---- the writer: one logical Ogg Opus stream, packets in, pages out ---------------------------
 *
 * The one place of loacast that makes Ogg pages (libogg does the lacing and the CRC): lc_ogg_mux()
 * writes files with it, and the streaming engine (server/stream/) its live streams. Packets go in
 * with the granule position the caller computed; each lc_ogg_writer_page() call flushes, so the
 * caller decides where pages end (after ~1 s of audio in a file, after page_ms in a stream).
 * Single-threaded: one writer, one thread at a time. */
struct lc_ogg_writer;

/* One page made by the writer; the pointers stay valid until the next call on the writer. */
struct lc_ogg_page {
    const unsigned char *header, *body;
    size_t header_len, body_len;
    int64_t granulepos;         /* -1: no packet ends on the page */
    bool eos;
};

/* Starts a stream of this serial: the OpusHead page (BOS, alone, RFC 7845 §5.1) and the OpusTags
 * page (TITLE=title if not NULL, §5.2) are appended to headers. A page body is cut once it
 * exceeds page_fill bytes and holds 4 packets (libogg's rule; 4096 is libogg's default, 65307
 * never cuts). *out is the caller's (lc_ogg_writer_free()). 0 or -ENOMEM. */
int lc_ogg_writer_open(struct lc_ogg_writer **out, uint32_t serial, int preskip,
                       const char *title, int page_fill, struct lc_buf *headers);
/* Adds one packet (copied) ending at granulepos; eos: the stream's last. 0, -ENOMEM, or -EINVAL
 * after the last packet. */
int lc_ogg_writer_packet(struct lc_ogg_writer *w, const unsigned char *pkt, size_t len,
                         int64_t granulepos, bool eos);
/* The next page of the packets added so far, partial pages included: 1 (*pg set) or 0 (none). */
int lc_ogg_writer_page(struct lc_ogg_writer *w, struct lc_ogg_page *pg);
/* NULL allowed. */
void lc_ogg_writer_free(struct lc_ogg_writer *w);

/* ---- renumbering a page for one reader, without a pass over it -----------------------------
 *
 * A live stream's pages are shared by its readers, but one that joined in the middle must see
 * page sequence numbers 0, 1, 2 ... with no gap. It gets its own copy of the 27-byte page header,
 * sequence number changed, CRC updated. The Ogg CRC (init 0, no final xor) is linear: the new CRC
 * is the old one xor the CRC of the change, i.e. the 4 changed bytes' CRC carried through the
 * page's remaining len − 22 bytes — a linear map of 32 words per page (struct lc_ogg_reseq),
 * computed once, by libogg's CRC; each renumbering then costs 32 xors. */
struct lc_ogg_reseq {
    uint32_t img[32];
};

/* The page's sequence number (page: a whole Ogg page). */
uint32_t lc_ogg_page_seq(const unsigned char *page);
/* Prepares the renumbering of a page of len bytes (its contents do not matter). */
void lc_ogg_reseq_init(struct lc_ogg_reseq *z, size_t len);
/* hdr = the page's 27-byte header with sequence number seq and its CRC updated. */
void lc_ogg_reseq_header(const struct lc_ogg_reseq *z, const unsigned char *page, uint32_t seq,
                         unsigned char hdr[27]);

/* ---- files ----------------------------------------------------------------------------------- */

/* Writes a complete Ogg Opus file of enc to out (appends). serial is the stream's serial number. */
int lc_ogg_mux(const struct lc_encoded *enc, const char *title, uint32_t serial,
               struct lc_buf *out, struct lc_err *err);

/* Reads the audio packets of a single-stream Ogg Opus file back (for the streaming engine, which
 * splices stored bulletins). *out must be zeroed; preskip and samples come from OpusHead and the
 * last granule position. Anything that is not a single mono Opus stream is -EINVAL. */
int lc_ogg_demux(const unsigned char *data, size_t len, struct lc_encoded *out,
                 struct lc_err *err);

#endif
