/*
 * server/http/http.c — HTTP/1.1 connections on libuv, parsed with http-parser; see http.h.
 *
 * A connection moves through these states (all on the loop thread):
 *
 *   state     | reads       | timer            | leaves to
 *   ----------+-------------+------------------+---------------------------------------------
 *   IDLE      | yes         | idle_timeout     | HEADERS on a request's first byte; close on
 *             |             |                  | timeout/EOF
 *   HEADERS   | yes         | header_timeout   | BODY when headers complete; DONE on error
 *             |             | (not re-armed)   | (431, 413, 400, 408)
 *   BODY      | yes         | body_timeout     | HANDLING when the message is complete;
 *             |             | (re-armed/read)  | DONE on error (413, 400, 408)
 *   HANDLING  | buffer only | none             | IDLE after the response (keep-alive), DONE
 *             |             |                  | otherwise; STREAM on lc_http_stream_begin
 *   STREAM    | discard     | none             | DONE at lc_http_stream_end
 *   DONE      | discard     | none             | LINGER once the queued writes completed
 *   LINGER    | discard     | 1 s              | closed (timeout or the client's EOF)
 *
 * The parser is paused at each message's end, so a request is handled before the next
 * pipelined one is parsed. Bytes read but not yet parsed wait in conn->in; while a request is
 * handled, reading continues only until that buffer holds one read's worth (so a client's EOF
 * is still seen), which bounds it.
 *
 * Ownership: the server owns its connections (a list); a connection owns its current request
 * until the response, and its two handles (tcp, timer), freeing itself when both closed. Each
 * uv_write_t carries its own copy of the bytes and is freed in its callback.
 */
#include "server/http/http.h"
#include "server/http/http_internal.h"
#include "server/http/http_admit.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>
#include <jansson.h>

enum state { ST_IDLE, ST_HEADERS, ST_BODY, ST_HANDLING, ST_STREAM, ST_DONE, ST_LINGER };

struct lc_http_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_shutdown_t shut;
    int handles;
    struct lc_http *srv;
    struct lc_http_conn *prev, *next;
    http_parser parser;
    struct lc_buf in;
    size_t in_off;
    struct lc_req *req;
    enum state state;
    size_t header_bytes;
    size_t body_limit;
    size_t body_counted;            /* of this body, in srv->stats.body_bytes */
    struct lc_buf url, field, value;
    bool last_was_value;
    bool keep_alive;
    bool closing;
    bool close_after;
    bool in_drive;
    bool reading;
    bool idle_armed;                /* the idle timer runs since the connection became idle: bytes
                                     * that start no request (blank lines) do not restart it */
    int writes;
    size_t queued;
    lc_http_closed_cb on_close;     /* streaming takeover: told once when the connection closes */
    void *close_arg;
    enum lc_conn_kind kind;         /* anonymous until a token vouched for it (http_admit.h) */
    bool admitted;                  /* counted in srv->admit: let go when closing */
    bool probation;                 /* its first request must carry a token */
    struct lc_http_conn *uprev, *unext; /* srv's unvouched list: admitted, no token shown yet */
    bool unvouched;
    uint64_t body_deadline;         /* loop time (ms) by which the body must be complete */
    char addr[64];
};

struct lc_http {
    uv_tcp_t listener;
    uv_loop_t *loop;
    struct lc_http_limits limits;
    struct lc_http_callbacks cb;
    struct lc_http_conn *conns;
    struct lc_http_stats stats;
    struct lc_admit admit;
    struct lc_http_conn *uhead, *utail; /* unvouched connections, oldest first (eviction) */
    struct lc_http_trust *trust;        /* proxies believed about the client's address */
    bool listening;
    bool stopping;
    bool close_requested;
    char rbuf[65536];
};

struct wreq {
    uv_write_t w;
    struct lc_http_conn *c;
    lc_http_written_cb cb;
    void *arg;
    size_t len;
    char data[];
};

static void drive(struct lc_http_conn *c);
static void close_conn(struct lc_http_conn *c);
static void on_timer(uv_timer_t *t);

static void unvouched_remove(struct lc_http_conn *c)
{
    struct lc_http *h = c->srv;
    if (!c->unvouched)
        return;
    c->unvouched = false;
    if (c->uprev)
        c->uprev->unext = c->unext;
    else
        h->uhead = c->unext;
    if (c->unext)
        c->unext->uprev = c->uprev;
    else
        h->utail = c->uprev;
    c->uprev = c->unext = NULL;
}

static void unvouched_append(struct lc_http_conn *c)
{
    struct lc_http *h = c->srv;
    c->unvouched = true;
    c->uprev = h->utail;
    c->unext = NULL;
    if (h->utail)
        h->utail->unext = c;
    else
        h->uhead = c;
    h->utail = c;
}

/* Every connection is taken: closes the oldest one that never showed a token and is only
 * waiting (idle, or still sending its headers), for a newcomer. Returns true if one was closed. */
static bool evict_unvouched(struct lc_http *h)
{
    int looked = 0;
    for (struct lc_http_conn *c = h->uhead; c != NULL && looked < 64; c = c->unext, looked++) {
        if (c->state == ST_IDLE || c->state == ST_HEADERS) {
            h->stats.evicted++;
            close_conn(c);
            return true;
        }
    }
    return false;
}

static void maybe_free_server(struct lc_http *h)
{
    if (h->close_requested && !h->listening && h->conns == NULL) {
        lc_admit_free(&h->admit);
        lc_http_trust_free(h->trust);
        free(h);
    }
}

/* ---- requests ------------------------------------------------------------------------------ */

static struct lc_req *ensure_req(struct lc_http_conn *c)
{
    if (c->req == NULL) {
        c->req = calloc(1, sizeof *c->req);
        if (c->req == NULL)
            return NULL;
        c->req->conn = c;
        c->req->started_ns = uv_hrtime();
        snprintf(c->req->addr, sizeof c->req->addr, "%s", c->addr);
    }
    return c->req;
}

/* The connection lets go of its request: it is freed now, or by the last lc_req_release(). */
/* The body is complete or abandoned: it no longer counts against max_body_bytes_total. */
static void uncount_body(struct lc_http_conn *c)
{
    c->srv->stats.body_bytes -= c->body_counted;
    c->body_counted = 0;
}

static void detach_req(struct lc_http_conn *c)
{
    struct lc_req *r = c->req;
    if (r == NULL)
        return;
    c->req = NULL;
    r->conn = NULL;
    if (r->refs == 0)
        lc_req_free(r);
}

bool lc_req_alive(const struct lc_req *req)
{
    return req->conn != NULL && !req->conn->closing;
}

/* ---- writing ------------------------------------------------------------------------------- */

static void on_linger_timeout(uv_timer_t *t)
{
    close_conn(t->data);
}

static void on_shutdown(uv_shutdown_t *s, int status)
{
    (void)s;
    (void)status;
}

/* All answers are written: stop writing, discard input for a moment, then close. */
static void begin_linger(struct lc_http_conn *c)
{
    if (c->closing || c->state == ST_LINGER)
        return;
    c->state = ST_LINGER;
    uv_timer_start(&c->timer, on_linger_timeout, 1000, 0);
    if (uv_shutdown(&c->shut, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
        close_conn(c);
        return;
    }
    drive(c);
}

static void on_write(uv_write_t *w, int status)
{
    struct wreq *wr = (struct wreq *)w;
    struct lc_http_conn *c = wr->c;
    c->writes--;
    c->queued -= wr->len;
    if (wr->cb != NULL)
        wr->cb(wr->arg, status);
    free(wr);
    if (status < 0)
        close_conn(c);
    else if (c->close_after && c->writes == 0 && c->state == ST_DONE)
        begin_linger(c);
}

static int queue_write(struct lc_http_conn *c, const void *a, size_t alen, const void *b,
                       size_t blen, lc_http_written_cb cb, void *arg)
{
    if (c->closing)
        return -ECONNRESET;
    struct wreq *wr = malloc(sizeof *wr + alen + blen);
    if (wr == NULL)
        return -ENOMEM;
    wr->c = c;
    wr->cb = cb;
    wr->arg = arg;
    wr->len = alen + blen;
    if (alen)
        memcpy(wr->data, a, alen);
    if (blen)
        memcpy(wr->data + alen, b, blen);
    uv_buf_t buf = uv_buf_init(wr->data, (unsigned)wr->len);
    int rc = uv_write(&wr->w, (uv_stream_t *)&c->tcp, &buf, 1, on_write);
    if (rc < 0) {
        free(wr);
        close_conn(c);
        return rc;
    }
    c->writes++;
    c->queued += wr->len;
    return 0;
}

/* The request is answered: the connection goes on with the next one, or winds down. */
static void finish_request(struct lc_http_conn *c, bool close)
{
    if (c->closing)
        return;
    if (c->probation && c->kind == LC_CONN_ANON) {
        c->srv->stats.probation_closed++;
        close = true; /* admitted past the anonymous bounds on the promise of a token */
    }
    if (close || c->state != ST_HANDLING) {
        /* Answered before the request was complete (an error), or no keep-alive. */
        c->state = ST_DONE;
        c->close_after = true;
        detach_req(c);
        /* A client that never reads its answer must not hold the connection forever. */
        uv_timer_start(&c->timer, on_timer, c->srv->limits.idle_timeout_ms, 0);
        if (c->writes == 0)
            begin_linger(c);
        else
            drive(c);
        return;
    }
    detach_req(c);
    c->state = ST_IDLE;
    c->header_bytes = 0;
    drive(c);
}

int lc_http_respond(struct lc_req *req, int status, const char *ctype, const char *extra,
                    const void *body, size_t len)
{
    if (req->responded)
        return -EALREADY;
    req->responded = true;
    struct lc_http_conn *c = req->conn;
    if (c == NULL || c->closing)
        return -ECONNRESET;
    /* a probation connection that showed no token is answered once, then closed */
    bool close = !c->keep_alive || c->srv->stopping || c->state != ST_HANDLING ||
                 (c->probation && c->kind == LC_CONN_ANON);
    char head[1024], clen[48] = "";
    if (status != 204 && status != 304) /* RFC 9110: these carry no Content-Length */
        snprintf(clen, sizeof clen, "Content-Length: %zu\r\n", len);
    else
        len = 0;
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nServer: loacast\r\n%s%s%s%s%s%s\r\n",
                     status, lc_http_reason(status), ctype ? "Content-Type: " : "",
                     ctype ? ctype : "", ctype ? "\r\n" : "", clen,
                     close ? "Connection: close\r\n" : "", extra ? extra : "");
    if (n < 0 || (size_t)n >= sizeof head) {
        close_conn(c); /* a handler's bug (headers too long): never leave the client waiting */
        return -EINVAL;
    }
    bool head_only = req->method == HTTP_HEAD;
    int rc = queue_write(c, head, (size_t)n, body, head_only ? 0 : len, NULL, NULL);
    if (c->srv->cb.on_response)
        c->srv->cb.on_response(req, status, len, c->srv->cb.ctx);
    if (rc < 0)
        return rc;
    finish_request(c, close);
    return 0;
}

int lc_http_stream_begin(struct lc_req *req, int status, const char *ctype, const char *extra)
{
    if (req->responded)
        return -EALREADY;
    struct lc_http_conn *c = req->conn;
    if (c == NULL || c->closing || c->state != ST_HANDLING)
        return -ECONNRESET;
    req->responded = true;
    req->streaming = true;
    char head[1024];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nServer: loacast\r\nContent-Type: %s\r\n"
                     "Cache-Control: no-store\r\nConnection: close\r\n%s\r\n",
                     status, lc_http_reason(status), ctype, extra ? extra : "");
    if (n < 0 || (size_t)n >= sizeof head) {
        close_conn(c);
        return -EINVAL;
    }
    int rc = queue_write(c, head, (size_t)n, NULL, 0, NULL, NULL);
    if (rc < 0)
        return rc;
    if (c->srv->cb.on_response)
        c->srv->cb.on_response(req, status, 0, c->srv->cb.ctx);
    c->state = ST_STREAM;
    drive(c); /* read (and discard) again, so that the client's EOF is seen */
    return 0;
}

int lc_http_stream_write(struct lc_req *req, const void *data, size_t len,
                         lc_http_written_cb on_written, void *arg)
{
    struct lc_http_conn *c = req->conn;
    if (c == NULL || c->closing || c->state != ST_STREAM)
        return -ECONNRESET;
    return queue_write(c, data, len, NULL, 0, on_written, arg);
}

size_t lc_http_stream_queued(const struct lc_req *req)
{
    return req->conn ? req->conn->queued : 0;
}

void lc_http_stream_end(struct lc_req *req)
{
    struct lc_http_conn *c = req->conn;
    if (c == NULL || c->closing || c->state != ST_STREAM)
        return;
    c->state = ST_HANDLING;
    finish_request(c, true);
}

struct lc_http_conn *lc_http_stream_detach(struct lc_req *req)
{
    struct lc_http_conn *c = req->conn;
    if (c == NULL || c->closing || c->state != ST_STREAM)
        return NULL;
    detach_req(c); /* freed now, or by its last lc_req_release() */
    /* a streaming connection parses nothing more: give its parser buffers back */
    lc_buf_free(&c->url);
    lc_buf_free(&c->field);
    lc_buf_free(&c->value);
    if (c->in_off >= c->in.len) {
        lc_buf_free(&c->in);
        c->in_off = 0;
    }
    return c;
}

uv_stream_t *lc_http_conn_socket(struct lc_http_conn *c)
{
    return c->closing ? NULL : (uv_stream_t *)&c->tcp;
}

void lc_http_conn_on_close(struct lc_http_conn *c, lc_http_closed_cb cb, void *arg)
{
    if (c->closing)
        return;
    c->on_close = cb;
    c->close_arg = arg;
}

void lc_http_conn_end(struct lc_http_conn *c)
{
    if (c->closing || c->state != ST_STREAM)
        return;
    c->state = ST_HANDLING;
    finish_request(c, true);
}

void lc_http_conn_abort(struct lc_http_conn *c)
{
    close_conn(c);
}

static void protocol_error(struct lc_http_conn *c, int status, const char *code, const char *msg)
{
    if (c->closing || c->state == ST_DONE || c->state == ST_LINGER)
        return;
    struct lc_req *r = ensure_req(c);
    c->srv->stats.bad_requests++;
    if (r == NULL || r->responded) {
        close_conn(c);
        return;
    }
    json_t *o = json_pack("{s:s,s:s}", "error", code, "message", msg);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (s == NULL) {
        close_conn(c);
        return;
    }
    if (c->state == ST_HANDLING)
        c->state = ST_DONE; /* never treat an error answer as a finished keep-alive request */
    lc_http_respond(r, status, "application/json", NULL, s, strlen(s));
    free(s);
}

/* ---- parsing ------------------------------------------------------------------------------- */

static int over_header_limit(struct lc_http_conn *c, size_t n)
{
    c->header_bytes += n;
    if (c->header_bytes > c->srv->limits.max_header_bytes) {
        protocol_error(c, 431, "headers_too_large", "request line and headers are too large");
        return 1;
    }
    return 0;
}

static int commit_header(struct lc_http_conn *c)
{
    struct lc_req *r = c->req;
    if (c->field.len == 0)
        return 0;
    if (r->nheaders >= LC_HTTP_MAX_HEADERS) {
        protocol_error(c, 431, "too_many_headers", "too many header fields");
        return -1;
    }
    if (lc_buf_terminate(&c->field) < 0 || lc_buf_terminate(&c->value) < 0)
        return -1;
    for (size_t i = 0; i < c->field.len; i++)
        c->field.data[i] = (unsigned char)tolower(c->field.data[i]);
    struct lc_http_header *hd = &r->headers[r->nheaders];
    hd->name = (char *)lc_buf_steal(&c->field, NULL);
    hd->value = c->value.len ? (char *)lc_buf_steal(&c->value, NULL) : strdup("");
    if (hd->value == NULL) {
        free(hd->name);
        return -1;
    }
    r->nheaders++;
    c->value.len = 0;
    return 0;
}

static int on_message_begin(http_parser *p)
{
    struct lc_http_conn *c = p->data;
    if (ensure_req(c) == NULL)
        return -1;
    c->state = ST_HEADERS;
    c->idle_armed = false;
    c->header_bytes = 0;
    c->url.len = c->field.len = c->value.len = 0;
    c->last_was_value = false;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
    struct lc_http_conn *c = p->data;
    if (over_header_limit(c, n))
        return -1;
    return lc_buf_append(&c->url, at, n) < 0 ? -1 : 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
    struct lc_http_conn *c = p->data;
    if (over_header_limit(c, n))
        return -1;
    if (c->last_was_value) {
        if (commit_header(c) < 0)
            return -1;
        c->last_was_value = false;
    }
    return lc_buf_append(&c->field, at, n) < 0 ? -1 : 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
    struct lc_http_conn *c = p->data;
    if (over_header_limit(c, n))
        return -1;
    c->last_was_value = true;
    return lc_buf_append(&c->value, at, n) < 0 ? -1 : 0;
}

static int on_headers_complete(http_parser *p)
{
    struct lc_http_conn *c = p->data;
    struct lc_req *r = c->req;
    if (c->last_was_value && commit_header(c) < 0)
        return -1;
    if (lc_buf_terminate(&c->url) < 0)
        return -1;
    r->url = (char *)lc_buf_steal(&c->url, NULL);
    if (r->url == NULL)
        r->url = strdup("");
    if (r->url == NULL)
        return -1;
    size_t plen = strcspn(r->url, "?#");
    r->path = strndup(r->url, plen);
    if (r->path == NULL)
        return -1;
    if (r->url[plen] == '?') {
        size_t qlen = strcspn(r->url + plen + 1, "#");
        r->query = strndup(r->url + plen + 1, qlen);
        if (r->query == NULL)
            return -1;
    }
    r->method = p->method;
    r->has_body = (p->flags & F_CHUNKED) || ((p->flags & F_CONTENTLENGTH) && p->content_length > 0);
    c->keep_alive = http_should_keep_alive(p) != 0;
    if (p->http_major != 1 || p->http_minor > 1) {
        protocol_error(c, 400, "bad_request", "only HTTP/1.0 and HTTP/1.1 are spoken here");
        return -1;
    }
    if (r->path[0] != '/') {
        protocol_error(c, 400, "bad_request", "the request target must be an absolute path");
        return -1;
    }
    lc_http_client_addr(c->srv->trust, r, c->addr);  /* the headers are all here now */
    r->refs++; /* the callback may answer, which detaches r from the connection */
    size_t limit = c->srv->cb.on_headers(r, c->srv->cb.ctx);
    bool responded = r->responded;
    lc_req_release(r);
    if (limit == (size_t)-1 || responded) {
        if (!responded)
            protocol_error(c, 500, "internal", "request refused");
        return -1; /* answered: the connection closes, the body is never read */
    }
    c->body_limit = limit;
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > limit) {
        char msg[128];
        snprintf(msg, sizeof msg, "the body is larger than %zu bytes", limit);
        protocol_error(c, 413, "body_too_large", msg);
        return -1;
    }
    const char *expect = lc_req_header(r, "expect");
    if (expect != NULL) {
        if (strcasecmp(expect, "100-continue") != 0) {
            protocol_error(c, 400, "bad_request", "unsupported Expect header");
            return -1;
        }
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        if (queue_write(c, cont, sizeof cont - 1, NULL, 0, NULL, NULL) < 0)
            return -1;
    }
    c->state = ST_BODY;
    unsigned rate = c->srv->limits.min_body_rate;
    if (rate > 0) {
        uint64_t size = (p->flags & F_CONTENTLENGTH) ? p->content_length : limit;
        c->body_deadline = uv_now(c->srv->loop) + c->srv->limits.body_timeout_ms +
                           size * 1000 / rate;
    } else {
        c->body_deadline = UINT64_MAX;
    }
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    struct lc_http_conn *c = p->data;
    struct lc_req *r = c->req;
    if (r->body.len + n > c->body_limit) {
        char msg[128];
        snprintf(msg, sizeof msg, "the body is larger than %zu bytes", c->body_limit);
        protocol_error(c, 413, "body_too_large", msg);
        return -1;
    }
    size_t total = c->srv->limits.max_body_bytes_total;
    if (total && c->srv->stats.body_bytes + n > total) {
        c->srv->stats.bodies_refused++;
        uncount_body(c);
        protocol_error(c, 503, "busy", "too many request bodies are being received: retry later");
        return -1;
    }
    if (lc_buf_append(&r->body, at, n) < 0) {
        protocol_error(c, 503, "out_of_memory", "no memory for the request body");
        return -1;
    }
    c->body_counted += n;
    c->srv->stats.body_bytes += n;
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct lc_http_conn *c = p->data;
    c->state = ST_HANDLING;
    http_parser_pause(p, 1);
    return 0;
}

static void dispatch(struct lc_http_conn *c)
{
    struct lc_req *r = c->req;
    uv_timer_stop(&c->timer);
    uncount_body(c);
    if (lc_buf_terminate(&r->body) < 0) {
        protocol_error(c, 503, "out_of_memory", "no memory for the request body");
        return;
    }
    r->refs++; /* the handler may respond (and so detach r) before it returns */
    c->srv->cb.on_request(r, c->srv->cb.ctx);
    lc_req_release(r);
}

/* A timeout of the limits, shortened for a connection on probation. */
static uint64_t timeout_ms(const struct lc_http_conn *c, unsigned ms)
{
    unsigned p = c->srv->limits.probation_ms;
    return c->probation && c->kind == LC_CONN_ANON && p > 0 && p < ms ? p : ms;
}

/* The body must progress every body_timeout_ms and be whole by its deadline. */
static uint64_t body_timeout(const struct lc_http_conn *c)
{
    uint64_t ms = timeout_ms(c, c->srv->limits.body_timeout_ms);
    uint64_t now = uv_now(c->srv->loop);
    uint64_t left = c->body_deadline > now ? c->body_deadline - now : 1;
    return left < ms ? left : ms;
}

/* Arms the timer that belongs to the connection's state. */
static void arm_timer(struct lc_http_conn *c, enum state prev)
{
    const struct lc_http_limits *l = &c->srv->limits;
    if (c->state == prev && c->state != ST_BODY)
        return;
    switch (c->state) {
    case ST_IDLE:
        uv_timer_start(&c->timer, on_timer, timeout_ms(c, l->idle_timeout_ms), 0);
        c->idle_armed = true;
        break;
    case ST_HEADERS:
        uv_timer_start(&c->timer, on_timer, timeout_ms(c, l->header_timeout_ms), 0);
        break;
    case ST_BODY: uv_timer_start(&c->timer, on_timer, body_timeout(c), 0); break;
    case ST_DONE: case ST_LINGER: break;
    default: uv_timer_stop(&c->timer); break;
    }
}

static void on_alloc(uv_handle_t *hd, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct lc_http_conn *c = hd->data;
    *buf = uv_buf_init(c->srv->rbuf, sizeof c->srv->rbuf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    struct lc_http_conn *c = s->data;
    if (nread < 0) {
        close_conn(c);
        return;
    }
    if (nread == 0)
        return;
    if (c->state == ST_DONE || c->state == ST_LINGER || c->state == ST_STREAM)
        return; /* discarded */
    if (lc_buf_append(&c->in, buf->base, (size_t)nread) < 0) {
        close_conn(c);
        return;
    }
    drive(c);
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin, .on_url = on_url, .on_header_field = on_header_field,
    .on_header_value = on_header_value, .on_headers_complete = on_headers_complete,
    .on_body = on_body, .on_message_complete = on_message_complete};

/* Parses what was read, dispatching complete requests, until the input is used up or a request
 * is being handled; then reads again if the state wants input. Re-entrant calls return. */
static void drive(struct lc_http_conn *c)
{
    if (c->in_drive || c->closing)
        return;
    c->in_drive = true;
    while (!c->closing && c->in_off < c->in.len &&
           (c->state == ST_IDLE || c->state == ST_HEADERS || c->state == ST_BODY)) {
        enum state prev = c->state;
        size_t avail = c->in.len - c->in_off;
        size_t n = http_parser_execute(&c->parser, &settings, (const char *)c->in.data + c->in_off,
                                       avail);
        c->in_off += n;
        enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
        if (e == HPE_PAUSED) {
            http_parser_pause(&c->parser, 0);
            dispatch(c);
            if (!c->closing)
                arm_timer(c, ST_HANDLING);
            continue;
        }
        if (e != HPE_OK) {
            if (c->state != ST_DONE && c->state != ST_LINGER)
                protocol_error(c, 400, "bad_request", http_errno_description(e));
            break;
        }
        if (c->parser.upgrade) {
            protocol_error(c, 400, "bad_request", "protocol upgrades are not supported");
            break;
        }
        if (!c->closing)
            arm_timer(c, prev);
    }
    if (c->state == ST_DONE || c->state == ST_LINGER) {
        /* Answered for good (a refusal, an error): what is left of the input is discarded, as
         * everything read from now on (a refused upload's body never stays in memory). */
        c->in_off = 0;
        lc_buf_free(&c->in);
    } else if (c->in_off >= c->in.len) {
        c->in_off = c->in.len = 0;
        if (c->in.cap > 16384)
            lc_buf_free(&c->in); /* idle connections do not keep big buffers */
    }
    if (!c->closing) {
        /* While a request is handled, reading goes on (so that a client that leaves is seen, and
         * lc_req_alive() turns false), but what arrives is only buffered, up to one read's worth;
         * past that, reading stops until the answer is out (back-pressure on pipelining). */
        bool want = c->state != ST_HANDLING || c->in.len - c->in_off < sizeof c->srv->rbuf;
        if (want && !c->reading) {
            if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
                c->reading = true;
        } else if (!want && c->reading) {
            uv_read_stop((uv_stream_t *)&c->tcp);
            c->reading = false;
        }
        if (c->state == ST_IDLE && c->in.len == 0 && !c->idle_armed) {
            uv_timer_start(&c->timer, on_timer, timeout_ms(c, c->srv->limits.idle_timeout_ms), 0);
            c->idle_armed = true;
        }
    }
    c->in_drive = false;
}

static void on_timer(uv_timer_t *t)
{
    struct lc_http_conn *c = t->data;
    switch (c->state) {
    case ST_HEADERS:
    case ST_BODY:
        c->srv->stats.timeouts++;
        protocol_error(c, 408, "timeout", "the request was not received in time");
        break;
    case ST_IDLE:
        c->srv->stats.timeouts++;
        if (c->probation && c->kind == LC_CONN_ANON)
            c->srv->stats.probation_closed++;
        close_conn(c);
        break;
    default:
        close_conn(c);
        break;
    }
}

/* ---- connections --------------------------------------------------------------------------- */

static void on_conn_closed(uv_handle_t *hd)
{
    struct lc_http_conn *c = hd->data;
    if (--c->handles > 0)
        return;
    struct lc_http *h = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        h->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    h->stats.open--;
    lc_buf_free(&c->in);
    lc_buf_free(&c->url);
    lc_buf_free(&c->field);
    lc_buf_free(&c->value);
    free(c);
    maybe_free_server(h);
}

static void close_conn(struct lc_http_conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    uncount_body(c);
    if (c->admitted)
        lc_admit_leave(&c->srv->admit, c->addr, c->probation, c->kind);
    c->admitted = false;
    unvouched_remove(c);
    if (c->on_close != NULL) {
        lc_http_closed_cb cb = c->on_close;
        c->on_close = NULL;
        cb(c->close_arg);
    }
    detach_req(c);
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_conn_closed);
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void on_connection(uv_stream_t *ls, int status)
{
    struct lc_http *h = ls->data;
    if (status < 0)
        return;
    struct lc_http_conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return;
    c->srv = h;
    uv_tcp_init(h->loop, &c->tcp);
    uv_timer_init(h->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles = 2;
    c->next = h->conns;
    if (h->conns)
        h->conns->prev = c;
    h->conns = c;
    h->stats.open++;
    if (uv_accept(ls, (uv_stream_t *)&c->tcp) != 0) {
        close_conn(c);
        return;
    }
    h->stats.accepted++;
    uv_tcp_nodelay(&c->tcp, 1);
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET6)
            uv_ip6_name((struct sockaddr_in6 *)&ss, c->addr, sizeof c->addr);
        else
            uv_ip4_name((struct sockaddr_in *)&ss, c->addr, sizeof c->addr);
    }
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    c->state = ST_IDLE;
    enum lc_admit_verdict v = h->stopping ? LC_ADMIT_REFUSE : lc_admit_arrive(&h->admit, c->addr);
    if (v == LC_ADMIT_FULL && evict_unvouched(h))
        v = lc_admit_arrive(&h->admit, c->addr);
    if (v == LC_ADMIT_REFUSE || v == LC_ADMIT_FULL) {
        h->stats.rejected++;
        protocol_error(c, 503, "busy", "too many connections; try again later");
        return;
    }
    c->admitted = true;
    c->probation = v == LC_ADMIT_PROBATION;
    unvouched_append(c);
    drive(c);
}

int lc_http_listen(struct lc_http **out, uv_loop_t *loop, const char *host, int port,
                   const struct lc_http_limits *limits, const struct lc_http_callbacks *cb)
{
    struct sockaddr_storage ss;
    int rc;
    if (strchr(host, ':') != NULL)
        rc = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss);
    else
        rc = uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
    if (rc < 0)
        return rc;
    struct lc_http *h = calloc(1, sizeof *h);
    if (h == NULL)
        return -ENOMEM;
    h->loop = loop;
    h->limits = *limits;
    lc_admit_init(&h->admit, limits);
    h->cb = *cb;
    uv_tcp_init(loop, &h->listener);
    h->listener.data = h;
    h->listening = true;
    rc = uv_tcp_bind(&h->listener, (struct sockaddr *)&ss, 0);
    /* A deep accept queue (capped by net.core.somaxconn): a commune's receivers may all connect
     * in the same second when a session starts (docs/streaming.md). */
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&h->listener, 8192, on_connection);
    if (rc < 0) {
        h->close_requested = true;
        lc_http_stop(h);
        return rc;
    }
    *out = h;
    return 0;
}

static void on_listener_closed(uv_handle_t *hd)
{
    struct lc_http *h = hd->data;
    h->listening = false;
    maybe_free_server(h);
}

void lc_http_stop(struct lc_http *h)
{
    if (h->stopping)
        return;
    h->stopping = true;
    uv_close((uv_handle_t *)&h->listener, on_listener_closed);
    for (struct lc_http_conn *c = h->conns, *next; c != NULL; c = next) {
        next = c->next;
        if (c->state == ST_IDLE || c->state == ST_HEADERS || c->state == ST_BODY)
            close_conn(c);
    }
}

void lc_http_close(struct lc_http *h)
{
    lc_http_stop(h);
    h->close_requested = true;
    for (struct lc_http_conn *c = h->conns, *next; c != NULL; c = next) {
        next = c->next;
        close_conn(c);
    }
    maybe_free_server(h); /* now if nothing is left to close, else in the last close callback */
}

int lc_http_open_connections(const struct lc_http *h) { return h->stats.open; }

void lc_http_set_trust(struct lc_http *h, struct lc_http_trust *t)
{
    lc_http_trust_free(h->trust);
    h->trust = t;
}

void lc_http_set_limits(struct lc_http *h, const struct lc_http_limits *limits)
{
    h->limits = *limits;
    lc_admit_set_limits(&h->admit, limits);
}

int lc_http_port(const struct lc_http *h)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    int rc = uv_tcp_getsockname(&h->listener, (struct sockaddr *)&ss, &len);
    if (rc < 0)
        return rc;
    return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                          : ((struct sockaddr_in *)&ss)->sin_port);
}

void lc_http_get_stats(const struct lc_http *h, struct lc_http_stats *st)
{
    *st = h->stats;
    st->anonymous = h->admit.anonymous;
    st->probation = h->admit.probation;
    st->staff = h->admit.staff;
    st->receivers = h->admit.receivers;
}

int lc_req_vouch(struct lc_req *req, enum lc_conn_kind kind)
{
    struct lc_http_conn *c = req->conn;
    if (c == NULL || c->closing || !c->admitted || c->kind != LC_CONN_ANON || kind == LC_CONN_ANON)
        return 0;
    if (lc_admit_vouch(&c->srv->admit, c->addr, c->probation, kind) < 0) {
        c->srv->stats.receivers_refused++;
        return -EBUSY;
    }
    c->kind = kind;
    c->probation = false;
    unvouched_remove(c);
    return 0;
}
