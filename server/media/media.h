/*
 * server/media/media.h — the door of server/media/: bulletin audio as receivers that store fetch
 * it (SPEC.md, "Receivers that store", Media):
 *
 *   GET|HEAD /media/{hash}.opus   (a staff token, or any in-service cluster's receiver token —
 *                                  bearer or ?token=; none with [media] public = true)
 *     → 200 audio/ogg, Content-Length, ETag "<hash>", Accept-Ranges: bytes,
 *           Cache-Control: public, max-age=31536000, immutable
 *     → 206 for one Range (bytes=a-b, a-, -n) with Content-Range; 416 past the end
 *           (Content-Range: bytes * /size, without the space); 304 for If-None-Match "<hash>"
 *     → 401 (WWW-Authenticate: Bearer) without a valid token; 404 for a hash that is not 64
 *           lowercase hex digits or names no bulletin's audio
 *
 * `hash` is the file's media hash: the hex BLAKE2b-256 of its bytes (server/store/audiostore.h),
 * which the bulletins module keeps in bulletins.media_hash next to audio_hash (the SHA-256 the
 * file is stored under). A file never changes under its hash, so the answer may be cached for a
 * year by anyone: a cache in front (docs/receivers.md, nginx with proxy_cache) serves each file
 * to a commune's receivers from one request to loacast. The route is open in the router and the
 * handler checks the tokens itself (like the receivers' routes), because staff and receivers
 * both use it.
 *
 * The module reads `bulletins` (owned by the bulletins module) and writes nothing. The file is
 * read off the loop thread (server/http's lc_http_send_file, libuv's thread pool). Requests and
 * bytes are counted for /metrics (lc_media_metrics). Threads: the loop thread only.
 */
#ifndef LC_SERVER_MEDIA_H
#define LC_SERVER_MEDIA_H

#include <stdbool.h>

#include <uv.h>

struct lc_accounts;
struct lc_buf;
struct lc_media;
struct lc_router;
struct lc_store;

/* What the module uses; none of it is owned by the module. */
struct lc_media_deps {
    uv_loop_t *loop;                /* the files are read on its thread pool */
    struct lc_store *store;
    struct lc_accounts *accounts;   /* staff tokens */
    const char *audio_dir;          /* copied */
    bool public_media;              /* [media] public: no token needed (a cache in front) */
};

/* Creates the module. 0, -ENOMEM or -ENAMETOOLONG (audio_dir). */
int lc_media_open(struct lc_media **out, const struct lc_media_deps *deps);
/* Frees the module (after the loop has run out). NULL is fine. */
void lc_media_free(struct lc_media *m);
/* Adds GET /media/{hash}.opus (HEAD too), with m as its handle; m may be NULL when the table is
 * only listed. 0 or -errno. */
int lc_media_routes(struct lc_media *m, struct lc_router *r);
/* The module's lines of /metrics appended to b: loacast_media_requests_total{code},
 * loacast_media_bytes_total. */
void lc_media_metrics(const struct lc_media *m, struct lc_buf *b);

#endif
