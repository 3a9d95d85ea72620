/*
 * receiver/net.c — HTTP over libcurl's easy interface; see net.h.
 *
 * One easy handle per struct rcv_net, reset (curl_easy_reset keeps its connections and DNS
 * cache) and set up again for each request, so options never leak from one request into the
 * next. Every request carries "Authorization: Bearer <token>". Downloads use CURLOPT_RANGE, not
 * CURLOPT_RESUME_FROM: libcurl fails a resumed transfer the server answers with 200, and here a
 * 200 is a normal "start over" (a cache in front that ignores Range, a file that changed).
 */
#include "receiver/net.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "receiver/fsutil.h"

#ifndef LOACAST_VERSION
#define LOACAST_VERSION "0"
#endif

/* An answer body held in memory is at most this (a schedule is some kB; this is a bound). */
#define MAX_BODY (16u << 20)

struct rcv_net {
    const struct rcv_config *c;
    CURL *h;
    struct curl_slist *hdr_get;     /* Authorization */
    struct curl_slist *hdr_json;    /* Authorization, Content-Type: application/json */
    int retry_after;                /* the last answer's Retry-After, or -1 */
    char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

/* curl_global_init once for the process, whatever thread makes the first handle. */
static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct rcv_net *rcv_net_new(const struct rcv_config *c)
{
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return NULL;
    struct rcv_net *n = calloc(1, sizeof *n);
    if (n == NULL)
        return NULL;
    n->c = c;
    n->retry_after = -1;
    char auth[300];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->token);
    struct curl_slist *g = curl_slist_append(NULL, auth);
    struct curl_slist *j = curl_slist_append(NULL, auth);
    /* no "Expect: 100-continue" wait before a JSON body */
    struct curl_slist *j2 = j ? curl_slist_append(j, "Content-Type: application/json") : NULL;
    struct curl_slist *j3 = j2 ? curl_slist_append(j2, "Expect:") : NULL;
    n->hdr_get = g;
    n->hdr_json = j3 ? j3 : j;
    n->h = curl_easy_init();
    if (g == NULL || j3 == NULL || n->h == NULL) {
        rcv_net_free(n);
        return NULL;
    }
    return n;
}

void rcv_net_free(struct rcv_net *n)
{
    if (n == NULL)
        return;
    if (n->h != NULL)
        curl_easy_cleanup(n->h);
    curl_slist_free_all(n->hdr_get);
    curl_slist_free_all(n->hdr_json);
    free(n);
}

int rcv_net_retry_after(const struct rcv_net *n)
{
    return n->retry_after;
}

/* Retry-After: delta-seconds or an HTTP-date; -1 when absent or unreadable. */
static size_t on_header(char *buf, size_t size, size_t nitems, void *arg)
{
    struct rcv_net *n = arg;
    size_t len = size * nitems;
    if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
        n->retry_after = -1; /* a new answer (after a 100 Continue, say) */
        return len;
    }
    static const char name[] = "retry-after:";
    if (len <= sizeof name - 1 || strncasecmp(buf, name, sizeof name - 1) != 0)
        return len;
    char v[128];
    size_t vl = len - (sizeof name - 1);
    if (vl >= sizeof v)
        return len;
    memcpy(v, buf + sizeof name - 1, vl);
    v[vl] = '\0';
    char *p = v;
    while (*p == ' ' || *p == '\t')
        p++;
    char *e = p + strlen(p);
    while (e > p && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\t'))
        *--e = '\0';
    char *end;
    long s = strtol(p, &end, 10);
    if (end != p && *end == '\0' && s >= 0) {
        n->retry_after = s > 86400 ? 86400 : (int)s;
    } else {
        time_t t = curl_getdate(p, NULL);
        if (t != -1) {
            long d = (long)(t - time(NULL));
            n->retry_after = d < 0 ? 0 : d > 86400 ? 86400 : (int)d;
        }
    }
    return len;
}

/* The options every request has; 0 or -1 (why). */
static int setup(struct rcv_net *n, const char *path, struct curl_slist *headers, char *why,
                 size_t whylen)
{
    char url[1024];
    if (snprintf(url, sizeof url, "%s%s", n->c->server, path) >= (int)sizeof url) {
        snprintf(why, whylen, "URL too long");
        return -1;
    }
    CURL *h = n->h;
    curl_easy_reset(h);
    n->retry_after = -1;
    n->errbuf[0] = '\0';
    CURLcode rc = CURLE_OK;
#define SET(opt, val) if (rc == CURLE_OK) rc = curl_easy_setopt(h, opt, val)
    SET(CURLOPT_URL, url);
    SET(CURLOPT_HTTPHEADER, headers);
    SET(CURLOPT_NOSIGNAL, 1L);              /* threads: no SIGALRM for DNS timeouts */
    SET(CURLOPT_ERRORBUFFER, n->errbuf);
    SET(CURLOPT_USERAGENT, "loacast-receiver/" LOACAST_VERSION);
    SET(CURLOPT_CONNECTTIMEOUT, 15L);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_TCP_KEEPIDLE, 30L);
    SET(CURLOPT_TCP_KEEPINTVL, 15L);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, n);
    SET(CURLOPT_FOLLOWLOCATION, 0L);
#undef SET
    if (rc != CURLE_OK) {
        snprintf(why, whylen, "curl setup: %s", curl_easy_strerror(rc));
        return -1;
    }
    return 0;
}

/* The transfer's error text: libcurl's detailed message when it wrote one. */
static void curl_why(struct rcv_net *n, CURLcode rc, char *why, size_t whylen)
{
    snprintf(why, whylen, "%s", n->errbuf[0] ? n->errbuf : curl_easy_strerror(rc));
}

/* ---- GET and POST: the answer in memory ------------------------------------------------------ */

struct membuf {
    char *p;
    size_t len, cap;
    bool too_big;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct membuf *b = arg;
    size_t len = size * nmemb;
    if (b->len + len > MAX_BODY) {
        b->too_big = true;
        return 0; /* ends the transfer with CURLE_WRITE_ERROR */
    }
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (p == NULL)
            return 0;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
    return len;
}

static int request(struct rcv_net *n, const char *path, const char *json, int timeout_s,
                   struct rcv_answer *a, char *why, size_t whylen)
{
    struct membuf b = {0};
    memset(a, 0, sizeof *a);
    a->retry_after = -1;
    if (setup(n, path, json ? n->hdr_json : n->hdr_get, why, whylen) < 0)
        return -1;
    CURLcode rc = curl_easy_setopt(n->h, CURLOPT_TIMEOUT, (long)timeout_s);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(n->h, CURLOPT_WRITEFUNCTION, on_body);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(n->h, CURLOPT_WRITEDATA, &b);
    if (rc == CURLE_OK && json != NULL) {
        rc = curl_easy_setopt(n->h, CURLOPT_POSTFIELDS, json);
        if (rc == CURLE_OK)
            rc = curl_easy_setopt(n->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(json));
    }
    if (rc == CURLE_OK)
        rc = curl_easy_perform(n->h);
    curl_easy_getinfo(n->h, CURLINFO_RESPONSE_CODE, &a->status);
    a->retry_after = n->retry_after;
    if (rc != CURLE_OK) {
        if (b.too_big)
            snprintf(why, whylen, "answer longer than %u bytes", MAX_BODY);
        else
            curl_why(n, rc, why, whylen);
        free(b.p);
        return -1;
    }
    a->body = b.p;      /* NULL when the answer had no body */
    a->len = b.len;
    return 0;
}

int rcv_net_get(struct rcv_net *n, const char *path, int timeout_s, struct rcv_answer *a,
                char *why, size_t whylen)
{
    return request(n, path, NULL, timeout_s, a, why, whylen);
}

int rcv_net_post_json(struct rcv_net *n, const char *path, const char *json, int timeout_s,
                      struct rcv_answer *a, char *why, size_t whylen)
{
    return request(n, path, json, timeout_s, a, why, whylen);
}

/* ---- downloads to a file ---------------------------------------------------------------------- */

struct fetch {
    struct rcv_net *n;
    int fd;
    int64_t from, pos, got;
    bool decided, to_file;      /* the status is known; 200/206: the body goes to fd */
    int *restarted;
    int err;                    /* a write to fd failed: -errno */
};

static size_t on_fetch(char *data, size_t size, size_t nmemb, void *arg)
{
    struct fetch *f = arg;
    size_t len = size * nmemb;
    if (!f->decided) {
        long status = 0;
        curl_easy_getinfo(f->n->h, CURLINFO_RESPONSE_CODE, &status);
        f->decided = true;
        if (status == 206) {
            f->to_file = true;
            f->pos = f->from;
        } else if (status == 200) {
            /* the whole file: what the fd held is replaced */
            f->to_file = true;
            f->pos = 0;
            if (f->from > 0) {
                *f->restarted = 1;
                if (ftruncate(f->fd, 0) < 0) {
                    f->err = -errno;
                    return 0;
                }
            }
        }
    }
    if (!f->to_file)
        return len; /* an error answer's body: not the file */
    while (len > 0) {
        ssize_t w = pwrite(f->fd, data, len, (off_t)f->pos);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            f->err = -errno;
            return 0;
        }
        f->pos += w;
        f->got += w;
        data += w;
        len -= (size_t)w;
    }
    return size * nmemb;
}

int rcv_net_fetch(struct rcv_net *n, const char *path, int fd, int64_t from, int stall_s,
                  int64_t *got, int *restarted, long *status, char *why, size_t whylen)
{
    struct fetch f = {.n = n, .fd = fd, .from = from, .restarted = restarted};
    char range[48];
    *got = 0;
    *restarted = 0;
    *status = 0;
    if (setup(n, path, n->hdr_get, why, whylen) < 0)
        return -1;
    snprintf(range, sizeof range, "%" PRId64 "-", from);
    CURLcode rc = CURLE_OK;
#define SET(opt, val) if (rc == CURLE_OK) rc = curl_easy_setopt(n->h, opt, val)
    if (from > 0)
        SET(CURLOPT_RANGE, range);
    SET(CURLOPT_WRITEFUNCTION, on_fetch);
    SET(CURLOPT_WRITEDATA, &f);
    /* a stall: under 1 byte/s for stall_s seconds; no bound on the whole (slow links) */
    SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
    SET(CURLOPT_LOW_SPEED_TIME, (long)(stall_s > 0 ? stall_s : 30));
#undef SET
    if (rc == CURLE_OK)
        rc = curl_easy_perform(n->h);
    curl_easy_getinfo(n->h, CURLINFO_RESPONSE_CODE, status);
    *got = f.got;
    if (f.err < 0) {
        snprintf(why, whylen, "writing the download: %s", strerror(-f.err));
        return -1;
    }
    if (rc != CURLE_OK) {
        curl_why(n, rc, why, whylen);
        return -1;
    }
    if (*status == 200 && !f.decided && from > 0) {
        /* an empty 200 to a range: the file is empty; what fd held is not it */
        *restarted = 1;
        if (ftruncate(fd, 0) < 0) {
            snprintf(why, whylen, "truncating the download: %s", strerror(errno));
            return -1;
        }
    }
    if (*status != 200 && *status != 206) {
        snprintf(why, whylen, "HTTP %ld", *status);
        return -1;
    }
    return 0;
}

/* ---- streams ---------------------------------------------------------------------------------- */

struct stream {
    struct rcv_net *n;
    int (*on_data)(void *arg, const unsigned char *bytes, size_t n);
    void *arg;
    bool decided, pass, stopped;
};

static size_t on_stream(char *data, size_t size, size_t nmemb, void *arg)
{
    struct stream *s = arg;
    size_t len = size * nmemb;
    if (!s->decided) {
        long status = 0;
        curl_easy_getinfo(s->n->h, CURLINFO_RESPONSE_CODE, &status);
        s->decided = true;
        s->pass = status == 200 || status == 206;
    }
    if (!s->pass)
        return len; /* an error answer's body is not the stream */
    if (s->on_data(s->arg, (const unsigned char *)data, len) != 0) {
        s->stopped = true;
        return 0; /* ends the transfer */
    }
    return len;
}

int rcv_net_stream(struct rcv_net *n, const char *path, int stall_s,
                   int (*on_data)(void *arg, const unsigned char *bytes, size_t n), void *arg,
                   long *status, char *why, size_t whylen)
{
    struct stream s = {.n = n, .on_data = on_data, .arg = arg};
    *status = 0;
    if (setup(n, path, n->hdr_get, why, whylen) < 0)
        return -1;
    CURLcode rc = CURLE_OK;
#define SET(opt, val) if (rc == CURLE_OK) rc = curl_easy_setopt(n->h, opt, val)
    SET(CURLOPT_WRITEFUNCTION, on_stream);
    SET(CURLOPT_WRITEDATA, &s);
    SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
    SET(CURLOPT_LOW_SPEED_TIME, (long)(stall_s > 0 ? stall_s : 30));
#undef SET
    if (rc == CURLE_OK)
        rc = curl_easy_perform(n->h);
    curl_easy_getinfo(n->h, CURLINFO_RESPONSE_CODE, status);
    if (s.stopped)
        return 0;
    if (rc != CURLE_OK) {
        curl_why(n, rc, why, whylen);
        return -1;
    }
    return 0;
}
