/*
 * server/stream/stream_clips.h — the stored bulletins' audio as the streams play it, read off the
 * loop thread (internal header of server/stream/).
 *
 * A clip is the Opus packets of one stored Ogg Opus file (codecs/oggmux.h: lc_ogg_demux), every
 * packet 20 ms. Clips are read once per audio file and shared (refcounted) by the streams that
 * play them; the cache holds no reference: a clip leaves it with its last user.
 *
 * Reading leaves the loop: a load (lc_clips_load) asks for the clips of a list of programme items;
 * the files not in the cache are read and demuxed on the engine's reader, a pool of its own of
 * ONE thread (common/workers.h), and the load's callback runs on the loop once every clip of the
 * list is there. Why this route and not uv_queue_work: the files are small (a few hundred KiB),
 * but libuv's shared pool also serves the fs and DNS requests of the rest of the server, and one
 * thread of our own keeps the loads in order: jobs run and complete in submission order, so
 *   - a clip that a load finds in the cache still being read (by an earlier load: a commune
 *     prepared just before, with the same bulletin) is read once, and ready — or failed — when
 *     the later load completes;
 *   - a commune's interruption (an emergency, INTERRUPT) cannot overtake its programme (PREPARE).
 *
 *   loop: lc_clips_load(items) ─▶ reader thread: read + demux the missing files
 *   loop: cb(arg, load, 0) ◀── uv_async_send ──┘   (clips[i]: a ready clip, or NULL = silence)
 *
 * A file that cannot be read, or is not a mono Ogg Opus file of 20 ms packets, is logged and its
 * item plays as silence of its duration (stream_prog.h), as before. Loop thread only, except the
 * reads.
 */
#ifndef LC_SERVER_STREAM_CLIPS_H
#define LC_SERVER_STREAM_CLIPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "codecs/encode.h"
#include "server/scheduler/scheduler.h"

struct lc_workers;

enum lc_clip_state { LC_CLIP_READING, LC_CLIP_READY, LC_CLIP_FAILED };

struct lc_clip {
    int refs;
    struct lc_clip *prev, *next;    /* in the cache while linked */
    struct lc_clips *cache;
    bool linked;
    enum lc_clip_state state;
    struct lc_encoded enc;          /* READY: every packet is 960 samples (checked at load) */
    char name[96];
};

struct lc_clips {
    struct lc_clip *head;
    struct lc_workers *reader;      /* one thread */
    char dir[4096];                 /* <data_dir>/audio */
};

/* A load's result, valid during its callback: items (copied) and, per item, a READY clip
 * (referenced by the load, which drops the reference after the callback: a user takes its own)
 * or NULL (no audio, or unreadable: silence). */
struct lc_clipload {
    size_t n;
    struct lc_onair_item *items;
    struct lc_clip **clips;
};

/* status: 0, or -ECANCELED when the reader closed before the load ran (clips are then NULL). */
typedef void (*lc_clips_load_cb)(void *arg, const struct lc_clipload *ld, int status);

/* Starts the reader thread on loop; dir is copied. 0 or -errno. */
int lc_clips_open(struct lc_clips *cc, uv_loop_t *loop, const char *dir);
/* Ends the reader: a running read finishes, the loads' callbacks run (waiting ones with
 * -ECANCELED) before this returns; its handle closes with the loop's others. Safe twice. */
void lc_clips_close(struct lc_clips *cc);

/* Loads the audio of items (n ≥ 0; copied). cb(arg, ...) runs exactly once, on the loop, later
 * (never inside this call). 0, or -ENOMEM / -ESHUTDOWN with cb not called. */
int lc_clips_load(struct lc_clips *cc, const struct lc_onair_item *items, size_t n,
                  lc_clips_load_cb cb, void *arg);

static inline struct lc_clip *lc_clip_ref(struct lc_clip *k)
{
    k->refs++;
    return k;
}
/* Drops a reference; the clip leaves the cache and is freed at zero. NULL allowed. */
void lc_clip_put(struct lc_clip *k);

#endif
