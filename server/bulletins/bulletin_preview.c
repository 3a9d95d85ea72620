/*
 * server/bulletins/bulletin_preview.c — GET /api/v1/bulletins/{id}/audio: a bulletin's stored
 * audio, whole or one byte range (the console's player seeks with Range), with an ETag (the
 * content hash: a file never changes under its name).
 *
 * The file is opened, measured and read on libuv's thread pool (uv_queue_work), never on the
 * loop thread: a cold page cache or a slow disk must not stall every other request. The request
 * is held meanwhile; when the client went away the answer is dropped. Files are a few hundred kB
 * (24 kbit/s), so a range is read into memory whole.
 */
#define LC_LOG_MODULE "bulletins"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "common/log.h"
#include "server/api/api.h"
#include "server/bulletins/bulletins_internal.h"
#include "server/http/http.h"
#include "server/store/store.h"

/* Parses a single "bytes=a-b" range against size. 1 = a range in [*from, *to], 0 = no (usable)
 * Range header, -1 = unsatisfiable. */
static int parse_range(const char *h, uint64_t size, uint64_t *from, uint64_t *to)
{
    if (h == NULL || strncmp(h, "bytes=", 6) != 0 || strchr(h, ',') != NULL)
        return 0;
    const char *p = h + 6;
    char *end;
    if (*p == '-') {
        unsigned long long n = strtoull(p + 1, &end, 10);
        if (end == p + 1 || *end)
            return 0;
        if (n == 0 || size == 0)
            return -1;
        *from = n >= size ? 0 : size - n;
        *to = size - 1;
        return 1;
    }
    unsigned long long a = strtoull(p, &end, 10);
    if (end == p || *end != '-')
        return 0;
    p = end + 1;
    unsigned long long b = size ? size - 1 : 0;
    if (*p) {
        b = strtoull(p, &end, 10);
        if (*end || b < a)
            return 0;
        if (b >= size)
            b = size - 1;
    }
    if (a >= size)
        return -1;
    *from = a;
    *to = b;
    return 1;
}

struct preview {
    uv_work_t work;             /* work.data unused: container of the job */
    struct lc_req *req;         /* held until after_read */
    char path[PATH_MAX + 80];
    char hash[LC_AUDIO_HASH_LEN];
    char range[128];            /* the Range header ("" when none or too long to be ours) */
    /* Filled by read_file() on a pool thread. */
    int rc;                     /* 0, -ENOENT/-EIO (500), -ERANGE (416) */
    int ranged;                 /* parse_range()'s answer */
    uint64_t size, from, to;
    unsigned char *buf;         /* owned; to - from + 1 bytes when ranged or whole */
    size_t n;
};

/* Pool thread: touches only the job. */
static void read_file(uv_work_t *w)
{
    struct preview *p = (struct preview *)w;
    struct stat st;
    int fd = open(p->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        p->rc = -ENOENT;
        goto out;
    }
    p->size = (uint64_t)st.st_size;
    p->from = 0;
    p->to = p->size ? p->size - 1 : 0;
    p->ranged = parse_range(p->range[0] ? p->range : NULL, p->size, &p->from, &p->to);
    if (p->ranged < 0) {
        p->rc = -ERANGE;
        goto out;
    }
    p->n = p->size ? (size_t)(p->to - p->from + 1) : 0;
    p->buf = malloc(p->n ? p->n : 1);
    if (p->buf == NULL || (p->n && pread(fd, p->buf, p->n, (off_t)p->from) != (ssize_t)p->n))
        p->rc = -EIO;
out:
    if (fd >= 0)
        close(fd);
}

/* Loop thread: answers (if the client is still there) and frees the job. */
static void after_read(uv_work_t *w, int status)
{
    struct preview *p = (struct preview *)w;
    struct lc_req *req = p->req;
    char extra[256];
    if (!lc_req_alive(req))
        goto out;
    if (status < 0 || p->rc == -ENOENT || p->rc == -EIO) {
        lc_reply_internal(req, status < 0 ? "audio: cancelled"
                               : p->rc == -ENOENT ? "audio: file missing" : "audio: read");
        goto out;
    }
    if (p->rc == -ERANGE) {
        snprintf(extra, sizeof extra, "Content-Range: bytes */%llu\r\n",
                 (unsigned long long)p->size);
        lc_reply_error_headers(req, 416, extra, "bad_range", "range not satisfiable");
        goto out;
    }
    if (p->ranged > 0)
        snprintf(extra, sizeof extra,
                 "Accept-Ranges: bytes\r\nETag: \"%s\"\r\nCache-Control: private, max-age=3600\r\n"
                 "Content-Range: bytes %llu-%llu/%llu\r\n",
                 p->hash, (unsigned long long)p->from, (unsigned long long)p->to,
                 (unsigned long long)p->size);
    else
        snprintf(extra, sizeof extra,
                 "Accept-Ranges: bytes\r\nETag: \"%s\"\r\nCache-Control: private, max-age=3600\r\n",
                 p->hash);
    lc_http_respond(req, p->ranged > 0 ? 206 : 200, "audio/ogg", extra, p->buf, p->n);
out:
    lc_req_release(req);
    free(p->buf);
    free(p);
}

void lc_bulletin_get_audio(struct lc_req *req, void *ctx)
{
    struct lc_bulletins *b = ctx;
    struct lc_bulletin_head h;
    char extra[256];
    if (lc_bulletin_head_param(req, b->store, &h, "audio: head") < 0)
        return;
    if (h.audio_hash[0] == '\0') {
        lc_reply_error(req, 404, "not_found", "bulletin %lld has no audio (it is %s)",
                       (long long)h.id, h.status);
        return;
    }
    const char *inm = lc_req_header(req, "if-none-match");
    if (inm && strstr(inm, h.audio_hash)) {
        snprintf(extra, sizeof extra, "ETag: \"%s\"\r\n", h.audio_hash);
        lc_http_respond(req, 304, NULL, extra, NULL, 0);
        return;
    }
    struct preview *p = calloc(1, sizeof *p);
    if (p == NULL) {
        lc_reply_internal(req, "audio: out of memory");
        return;
    }
    if (lc_audio_path(b->audio_dir, h.audio_hash, p->path, sizeof p->path) < 0) {
        free(p);
        lc_reply_internal(req, "audio: path");
        return;
    }
    snprintf(p->hash, sizeof p->hash, "%s", h.audio_hash);
    const char *range = lc_req_header(req, "range");
    if (range != NULL && strlen(range) < sizeof p->range)
        snprintf(p->range, sizeof p->range, "%s", range);
    else if (range != NULL)
        snprintf(p->range, sizeof p->range, "x"); /* not a range we parse: the whole file */
    p->req = req;
    lc_req_hold(req);
    int rc = uv_queue_work(b->loop, &p->work, read_file, after_read);
    if (rc < 0) {
        lc_reply_internal(req, "audio: queue");
        lc_req_release(req);
        free(p);
    }
}
