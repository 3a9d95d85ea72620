/*
 * server/bulletins/bulletin_preview.c — GET /api/v1/bulletins/{id}/audio: a bulletin's stored
 * audio, whole or one byte range (the console's player seeks with Range), with an ETag (the
 * content hash: a file never changes under its name).
 *
 * The answer is the http module's lc_http_send_file(), shared with GET /media/{hash}.opus: the
 * file is opened, measured and read on libuv's thread pool, never on the loop thread (a cold
 * page cache or a slow disk must not stall every other request); the request is held
 * meanwhile, and the answer dropped when the client went away.
 */
#define LC_LOG_MODULE "bulletins"
#include <limits.h>
#include <stdio.h>

#include "server/api/api.h"
#include "server/bulletins/bulletins_internal.h"
#include "server/http/http.h"
#include "server/store/store.h"

void lc_bulletin_get_audio(struct lc_req *req, void *ctx)
{
    struct lc_bulletins *b = ctx;
    struct lc_bulletin_head h;
    char path[PATH_MAX + 80];
    if (lc_bulletin_head_param(req, b->store, &h, "audio: head") < 0)
        return;
    if (h.audio_hash[0] == '\0') {
        lc_reply_error(req, 404, "not_found", "bulletin %lld has no audio (it is %s)",
                       (long long)h.id, h.status);
        return;
    }
    if (lc_audio_path(b->audio_dir, h.audio_hash, path, sizeof path) < 0) {
        lc_reply_internal(req, "audio: path");
        return;
    }
    /* private: the preview is for staff; an hour, as the bulletin's audio may be replaced (a
     * new upload has a new hash, hence a new ETag) */
    struct lc_http_file f = {.path = path, .etag = h.audio_hash,
                             .cache_control = "private, max-age=3600", .ctype = "audio/ogg"};
    if (lc_http_send_file(req, b->loop, &f) < 0)
        lc_reply_internal(req, "audio: queue");
}
