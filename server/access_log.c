/* server/access_log.c — the access log; see access_log.h. */
#define LC_LOG_MODULE "server"
#include "server/access_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <http_parser.h>

#include "common/log.h"
#include "common/redact.h"
#include "server/http/http.h"

#define FLUSH_MS 1000
#define BUF_BYTES 65536

struct lc_access_log {
    uv_timer_t timer;
    FILE *f;                /* stderr for "-" (never closed) */
    char path[4096];
    char buf[BUF_BYTES];    /* the FILE's buffer */
    bool dirty;
};

static FILE *open_file(struct lc_access_log *l)
{
    FILE *f = fopen(l->path, "ae");
    if (f != NULL)
        setvbuf(f, l->buf, _IOFBF, sizeof l->buf);
    return f;
}

static void on_flush(uv_timer_t *t)
{
    struct lc_access_log *l = t->data;
    if (l->dirty && fflush(l->f) == EOF)
        lc_log(LC_LOG_WARN, "access log %s: %s", l->path, strerror(errno));
    l->dirty = false;
}

int lc_access_log_open(struct lc_access_log **out, uv_loop_t *loop, const char *path,
                       struct lc_err *err)
{
    *out = NULL;
    if (path[0] == '\0')
        return 0;
    struct lc_access_log *l = calloc(1, sizeof *l);
    if (l == NULL)
        return lc_err_set(err, -ENOMEM, "out of memory");
    if (strlen(path) >= sizeof l->path) {
        free(l);
        return lc_err_set(err, -ENAMETOOLONG, "[server] access_log: path too long");
    }
    snprintf(l->path, sizeof l->path, "%s", path);
    l->f = strcmp(path, "-") == 0 ? stderr : open_file(l);
    if (l->f == NULL) {
        int rc = -errno;
        free(l);
        return lc_err_set(err, rc, "[server] access_log: %s: %s", path, strerror(-rc));
    }
    uv_timer_init(loop, &l->timer);
    l->timer.data = l;
    uv_timer_start(&l->timer, on_flush, FLUSH_MS, FLUSH_MS);
    uv_unref((uv_handle_t *)&l->timer);
    *out = l;
    return 0;
}

int lc_access_log_reopen(struct lc_access_log *l)
{
    if (l == NULL || l->f == stderr)
        return 0;
    fflush(l->f);
    FILE *f = fopen(l->path, "ae");
    if (f == NULL)
        return -errno;
    fclose(l->f);   /* gives the buffer back before the new FILE takes it */
    setvbuf(f, l->buf, _IOFBF, sizeof l->buf);
    l->f = f;
    return 0;
}

void lc_access_log_write(struct lc_access_log *l, const struct lc_req *req, int status,
                         size_t bytes)
{
    if (l == NULL)
        return;
    char when[40], url[1024], size[24];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S%z", &tm);
    lc_url_redact(req->url ? req->url : "", url, sizeof url);
    if (req->streaming)
        snprintf(size, sizeof size, "-");
    else
        snprintf(size, sizeof size, "%zu", bytes);
    double ms = req->started_ns ? (double)(uv_hrtime() - req->started_ns) / 1e6 : 0;
    fprintf(l->f, "%s %s \"%s %s\" %d %s %.1fms %s\n", when, req->addr,
            http_method_str((enum http_method)req->method), url, status, size, ms,
            req->user[0] ? req->user : "-");
    l->dirty = true;
}

static void on_closed(uv_handle_t *h)
{
    free(h->data);
}

void lc_access_log_close(struct lc_access_log *l)
{
    if (l == NULL)
        return;
    fflush(l->f);
    if (l->f != stderr)
        fclose(l->f);
    l->f = NULL;
    uv_close((uv_handle_t *)&l->timer, on_closed);
}
