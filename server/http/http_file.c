/*
 * server/http/http_file.c — answering a GET or HEAD with a file that never changes under its
 * name (audio stored by content hash): ETag and If-None-Match, a single byte Range (RFC 9110
 * §14), If-Range, the caller's Cache-Control. The bulletin preview and GET /media/{hash}.opus
 * answer through it (http.h, lc_http_send_file).
 *
 *   loop thread                                  libuv's thread pool
 *   lc_http_send_file: If-None-Match → 304,
 *     else hold the request, uv_queue_work ───▶ read_file: open, fstat, the Range against the
 *                                                size, pread the bytes (HEAD: none)
 *   after_read: 200 / 206 / 416 / 500 ◀────────  (touches only its job)
 *     (dropped if the client left), done(), release
 *
 * Why the pool and not the loop: a cold page cache or a slow disk would stall every other
 * request. libuv's pool (4 threads) is right for these short reads; nothing long runs there
 * (renders and Argon2id have their own pools, common/workers.h). A range is read into memory
 * whole: files are a bulletin's Ogg Opus, at most max_bulletin_s of it (24 kbit/s: 5.4 MB for
 * 30 min; typically a few hundred kB). Errors answer JSON like the API's
 * ({"error","message"}): 416 `bad_range` with the file's size in Content-Range, 500 `internal`.
 */
#define LC_LOG_MODULE "http"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <http_parser.h>

#include "common/log.h"
#include "server/http/http.h"

/* Reads decimal digits at *p (at least one) into *v, saturating at UINT64_MAX; moves *p past
 * them. false when there is no digit. */
static bool digits(const char **p, uint64_t *v)
{
    const char *s = *p;
    uint64_t n = 0;
    while (*s >= '0' && *s <= '9') {
        unsigned d = (unsigned)(*s - '0');
        n = n > (UINT64_MAX - d) / 10 ? UINT64_MAX : n * 10 + d;
        s++;
    }
    if (s == *p)
        return false;
    *p = s;
    *v = n;
    return true;
}

int lc_http_parse_range(const char *h, uint64_t size, uint64_t *from, uint64_t *to)
{
    uint64_t a, b;
    if (h == NULL || strncasecmp(h, "bytes=", 6) != 0 || strchr(h, ',') != NULL)
        return 0; /* none, another unit, or several ranges: the whole file (RFC 9110 allows) */
    const char *p = h + 6;
    if (*p == '-') {            /* bytes=-n: the last n bytes */
        p++;
        if (!digits(&p, &b) || *p)
            return 0;
        if (b == 0 || size == 0)
            return -1;
        *from = b >= size ? 0 : size - b;
        *to = size - 1;
        return 1;
    }
    if (!digits(&p, &a) || *p++ != '-')
        return 0;
    b = UINT64_MAX;             /* bytes=a-: from a to the end */
    if (*p && (!digits(&p, &b) || b < a))
        return 0;
    if (*p)
        return 0;
    if (a >= size)
        return -1;
    *from = a;
    *to = b >= size ? size - 1 : b;
    return 1;
}

bool lc_http_etag_match(const char *list, const char *tag)
{
    size_t n = strlen(tag);
    if (list == NULL)
        return false;
    for (const char *p = list; *p;) {
        p += strspn(p, " \t,");
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;             /* weak comparison (RFC 9110 §13.1.2) */
        if (*p == '"' && strncmp(p + 1, tag, n) == 0 && p[1 + n] == '"')
            return true;
        p += strcspn(p, ",");
    }
    return false;
}

struct file_job {
    uv_work_t work;             /* first: the job is found from it */
    struct lc_req *req;         /* held until after_read */
    char path[PATH_MAX + 80];
    char etag[80];
    char cache_control[80];
    const char *ctype;
    char range[128];            /* the Range header to honour ("" when none) */
    bool head;                  /* HEAD: measure, read nothing */
    lc_http_file_cb done;
    void *arg;
    /* Filled by read_file() on a pool thread. */
    int rc;                     /* 0, -ENOENT / -EIO (500), -ERANGE (416) */
    int ranged;                 /* lc_http_parse_range()'s answer */
    uint64_t size, from, to;
    unsigned char *buf;         /* owned; n bytes */
    size_t n;
};

/* Pool thread: touches only the job. */
static void read_file(uv_work_t *w)
{
    struct file_job *j = (struct file_job *)w;
    struct stat st;
    int fd = open(j->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        j->rc = fd < 0 && errno == ENOENT ? -ENOENT : -EIO;
        goto out;
    }
    j->size = (uint64_t)st.st_size;
    j->from = 0;
    j->to = j->size ? j->size - 1 : 0;
    j->ranged = lc_http_parse_range(j->range[0] ? j->range : NULL, j->size, &j->from, &j->to);
    if (j->ranged < 0) {
        j->rc = -ERANGE;
        goto out;
    }
    j->n = j->size ? (size_t)(j->to - j->from + 1) : 0;
    if (j->head)
        goto out;
    j->buf = malloc(j->n ? j->n : 1);
    if (j->buf == NULL || (j->n && pread(fd, j->buf, j->n, (off_t)j->from) != (ssize_t)j->n))
        j->rc = -EIO;
out:
    if (fd >= 0)
        close(fd);
}

/* An error answer in the API's shape, from the http layer (which has no api module). */
static void reply_error(struct lc_req *req, int status, const char *extra, const char *code,
                        const char *message)
{
    char body[160];
    int n = snprintf(body, sizeof body, "{\"error\":\"%s\",\"message\":\"%s\"}", code, message);
    lc_http_respond(req, status, "application/json", extra, body, (size_t)n);
}

/* Loop thread: answers (if the client is still there), reports, frees the job. */
static void after_read(uv_work_t *w, int status)
{
    struct file_job *j = (struct file_job *)w;
    struct lc_req *req = j->req;
    char extra[512];
    int code = 0;
    uint64_t bytes = 0;
    if (!lc_req_alive(req))
        goto out;
    if (status < 0 || j->rc == -ENOENT || j->rc == -EIO) {
        lc_log(LC_LOG_ERR, "%s %s: %s: %s", http_method_str(req->method), req->path, j->path,
               status < 0 ? "cancelled" : j->rc == -ENOENT ? "file missing" : "read failed");
        reply_error(req, code = 500, NULL, "internal", "internal error");
        goto out;
    }
    if (j->rc == -ERANGE) {
        snprintf(extra, sizeof extra, "Content-Range: bytes */%llu\r\n",
                 (unsigned long long)j->size);
        reply_error(req, code = 416, extra, "bad_range", "range not satisfiable");
        goto out;
    }
    int n = snprintf(extra, sizeof extra,
                     "Accept-Ranges: bytes\r\nETag: \"%s\"\r\nCache-Control: %s\r\n", j->etag,
                     j->cache_control);
    if (j->ranged > 0)
        snprintf(extra + n, sizeof extra - (size_t)n, "Content-Range: bytes %llu-%llu/%llu\r\n",
                 (unsigned long long)j->from, (unsigned long long)j->to,
                 (unsigned long long)j->size);
    code = j->ranged > 0 ? 206 : 200;
    /* HEAD: lc_http_respond() sends the length of what GET would send, and no body */
    if (lc_http_respond(req, code, j->ctype, extra, j->buf, j->n) == 0 && !j->head)
        bytes = j->n;
out:
    if (j->done)
        j->done(req, code, bytes, j->arg);
    lc_req_release(req);
    free(j->buf);
    free(j);
}

int lc_http_send_file(struct lc_req *req, uv_loop_t *loop, const struct lc_http_file *f)
{
    char extra[256];
    if (strlen(f->path) >= sizeof ((struct file_job *)0)->path ||
        strlen(f->etag) >= sizeof ((struct file_job *)0)->etag ||
        strlen(f->cache_control) >= sizeof ((struct file_job *)0)->cache_control)
        return -ENAMETOOLONG;
    if (lc_http_etag_match(lc_req_header(req, "if-none-match"), f->etag)) {
        /* the client has it: a file never changes under its name */
        snprintf(extra, sizeof extra, "ETag: \"%s\"\r\nCache-Control: %s\r\n", f->etag,
                 f->cache_control);
        lc_http_respond(req, 304, NULL, extra, NULL, 0);
        if (f->done)
            f->done(req, 304, 0, f->arg);
        return 0;
    }
    struct file_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return -ENOMEM;
    snprintf(j->path, sizeof j->path, "%s", f->path);
    snprintf(j->etag, sizeof j->etag, "%s", f->etag);
    snprintf(j->cache_control, sizeof j->cache_control, "%s", f->cache_control);
    j->ctype = f->ctype;
    j->head = req->method == HTTP_HEAD;
    j->done = f->done;
    j->arg = f->arg;
    const char *range = lc_req_header(req, "range");
    const char *if_range = lc_req_header(req, "if-range");
    /* If-Range names the version the client holds a part of: another one gets the whole file.
     * A Range too long to be one range we parse is not honoured either. */
    if (range != NULL && strlen(range) < sizeof j->range &&
        (if_range == NULL || (if_range[0] == '"' && lc_http_etag_match(if_range, j->etag))))
        snprintf(j->range, sizeof j->range, "%s", range);
    j->req = req;
    lc_req_hold(req);
    int rc = uv_queue_work(loop, &j->work, read_file, after_read);
    if (rc < 0) {
        lc_req_release(req);
        free(j);
    }
    return rc;
}
