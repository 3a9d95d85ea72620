/*
 * server/media/media.c — GET /media/{hash}.opus; see media.h.
 *
 * A request, in order (each step answers and stops, or goes on):
 *   1. the hash: 64 lowercase hex digits, else 404 (nothing looked up);
 *   2. the caller, unless [media] public: a staff bearer token (accounts), else a receiver token
 *      of any cluster in service (registry; bearer or ?token=), else 401;
 *   3. the file: the audio_hash of a bulletin whose media_hash it is, else 404;
 *   4. the answer: lc_http_send_file() — If-None-Match → 304 at once; otherwise the file is read
 *      on libuv's thread pool and answered 200 / 206 / 416 (server/http/http_file.c).
 * The hash is checked before the caller so that a malformed path costs no database read; the
 * caller before the lookup so that nobody without a token learns which hashes exist.
 *
 * Every answer is counted by status (and the bytes of 200/206 bodies) for /metrics; the count
 * of 200s is the number of times loacast sent a whole file, which is what a cache in front is
 * meant to bring down to one per file (tests/media/nginx_test.py reads it).
 */
#include "server/media/media.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "common/buf.h"
#include "server/accounts/accounts.h"
#include "server/api/api.h"
#include "server/http/http.h"
#include "server/registry/registry.h"
#include "server/store/store.h"

/* A year, and never revalidated: a file never changes under its hash. */
#define CACHE_CONTROL "public, max-age=31536000, immutable"

struct lc_media {
    struct lc_media_deps d;         /* d.audio_dir points to audio_dir */
    char audio_dir[PATH_MAX];
    uint64_t answers[600];          /* by status */
    uint64_t bytes;                 /* body bytes of 200 and 206 answers */
};

int lc_media_open(struct lc_media **out, const struct lc_media_deps *d)
{
    *out = NULL;
    if (strlen(d->audio_dir) >= PATH_MAX)
        return -ENAMETOOLONG;
    struct lc_media *m = calloc(1, sizeof *m);
    if (m == NULL)
        return -ENOMEM;
    m->d = *d;
    m->d.audio_dir = memcpy(m->audio_dir, d->audio_dir, strlen(d->audio_dir) + 1);
    *out = m;
    return 0;
}

void lc_media_free(struct lc_media *m)
{
    free(m);
}

static void count(struct lc_media *m, int status, uint64_t bytes)
{
    if (status >= 100 && status < 600)
        m->answers[status]++;
    m->bytes += bytes;
}

/* lc_http_send_file() answered (status 0: the client had left). */
static void on_sent(struct lc_req *req, int status, uint64_t bytes, void *arg)
{
    (void)req;
    count(arg, status, bytes);
}

static bool valid_hash(const char *h)
{
    return strlen(h) == 64 && strspn(h, "0123456789abcdef") == 64;
}

/* Step 2: 0 when the caller may have the file; -1 after answering 401, 500 or 503. */
static int check_caller(struct lc_media *m, struct lc_req *req)
{
    char cluster[65];
    if (m->d.public_media)
        return 0;
    int rc = lc_auth_request(m->d.accounts, req);
    if (rc == 0) {
        lc_req_vouch(req, LC_CONN_STAFF);
        return 0;
    }
    if (rc == -EACCES)
        rc = lc_receiver_find(m->d.store, req, cluster);
    if (rc == 0) {
        if (lc_req_vouch(req, LC_CONN_RECEIVER) == 0)
            return 0;
        lc_reply_error_headers(req, 503, "Retry-After: 30\r\n", "busy",
                               "receivers hold every connection the station allows; retry later");
        count(m, 503, 0);
        return -1;
    }
    if (rc == -EIO) {
        lc_reply_internal(req, "media: token");
        count(m, 500, 0);
        return -1;
    }
    lc_reply_error_headers(req, 401, "WWW-Authenticate: Bearer\r\n", "unauthorized",
                           "a staff token or a receiver token is required");
    count(m, 401, 0);
    return -1;
}

/* Step 3: the audio hash of the file whose media hash is hash: 0, -ENOENT or -EIO. */
static int find_audio(struct lc_media *m, const char *hash, char audio[LC_AUDIO_HASH_LEN])
{
    static const char sql[] = "SELECT audio_hash FROM bulletins"
                              " WHERE media_hash = ? AND audio_hash IS NOT NULL LIMIT 1";
    sqlite3_stmt *st = lc_store_stmt(m->d.store, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
    int rc = -ENOENT, step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        snprintf(audio, LC_AUDIO_HASH_LEN, "%s", lc_col_text(st, 0));
        rc = 0;
    }
    if (lc_store_done(st) < 0 || (step != SQLITE_ROW && step != SQLITE_DONE))
        rc = -EIO; /* a failed read is a 500, never "no such file" */
    return rc;
}

static void get_media(struct lc_req *req, void *ctx)
{
    struct lc_media *m = ctx;
    const char *hash = req->params[0];
    char audio[LC_AUDIO_HASH_LEN], path[PATH_MAX + 80];
    if (!valid_hash(hash)) {
        lc_reply_error(req, 404, "not_found",
                       "no media '%.80s' (a hash is 64 lowercase hex digits)", hash);
        count(m, 404, 0);
        return;
    }
    if (check_caller(m, req) < 0)
        return;
    int rc = find_audio(m, hash, audio);
    if (rc == -ENOENT) {
        lc_reply_error(req, 404, "not_found", "no media %s", hash);
        count(m, 404, 0);
        return;
    }
    if (rc < 0 || lc_audio_path(m->audio_dir, audio, path, sizeof path) < 0) {
        lc_reply_internal(req, rc < 0 ? "media: lookup" : "media: path");
        count(m, 500, 0);
        return;
    }
    struct lc_http_file f = {.path = path, .etag = hash, .cache_control = CACHE_CONTROL,
                             .ctype = "audio/ogg", .done = on_sent, .arg = m};
    if (lc_http_send_file(req, m->d.loop, &f) < 0) {
        lc_reply_internal(req, "media: queue");
        count(m, 500, 0);
    }
}

int lc_media_routes(struct lc_media *m, struct lc_router *r)
{
    /* open: the handler checks the tokens (staff or receiver), or none when media are public;
     * HEAD matches GET routes */
    return lc_router_add(r, HTTP_GET, "/media/{hash}.opus", LC_ROUTE_OPEN, LC_BODY_NONE,
                         get_media, m);
}

void lc_media_metrics(const struct lc_media *m, struct lc_buf *b)
{
    if (m == NULL)
        return;
    char line[256];
    lc_buf_append_str(b, "# HELP loacast_media_requests_total GET /media answers by status code.\n"
                         "# TYPE loacast_media_requests_total counter\n");
    for (int s = 100; s < 600; s++) {
        if (m->answers[s] == 0)
            continue;
        int n = snprintf(line, sizeof line, "loacast_media_requests_total{code=\"%d\"} %llu\n",
                         s, (unsigned long long)m->answers[s]);
        lc_buf_append(b, line, (size_t)n);
    }
    int n = snprintf(line, sizeof line,
                     "# HELP loacast_media_bytes_total Body bytes of GET /media answers (200, 206).\n"
                     "# TYPE loacast_media_bytes_total counter\nloacast_media_bytes_total %llu\n",
                     (unsigned long long)m->bytes);
    lc_buf_append(b, line, (size_t)n);
}
