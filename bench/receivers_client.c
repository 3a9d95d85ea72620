/*
 * bench/receivers_client.c — the load client of bench/receivers: N receivers that store, each
 * long-polling its signed schedule (GET /api/v1/receivers/b<i>/schedule), in one process (libuv,
 * one loop, one keep-alive connection each).
 *
 *   receivers_client HOST PORT N RATE SECONDS
 *
 * Each receiver asks for its schedule once (to learn its version: the payload's base64 is decoded
 * with libsodium and "version": read from it), then waits with ?since=<version>&wait=60, again
 * after each 304. A 200 to a wait is a change reaching it: its wall-clock time (CLOCK_REALTIME,
 * ns) is recorded, and it waits again with the new version. Receivers start at RATE per second.
 * After SECONDS it prints one JSON object: {"n","ready","changes":[[receiver, ns], ...],"errors"}
 * (ready: receivers that had their first schedule). Tokens are t<i> (bench/receivers puts the
 * clusters b<i> with those tokens in the database).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <uv.h>

struct rcv {
    uv_tcp_t tcp;
    uv_connect_t cr;
    uv_write_t wr;
    int idx;
    int64_t version;            /* 0 until the first schedule came */
    char *in;                   /* the answer being read */
    size_t inlen, incap;
    char req[256];
};

static uv_loop_t *loop;
static struct sockaddr_in addr;
static struct rcv *rcvs;
static int n, started, ready, errors;
static double rate;
static uv_timer_t ramp, stop;
static char rbuf[1 << 16];
static int64_t (*changes)[2];
static size_t nchanges, capchanges;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void send_request(struct rcv *r);

static void on_written(uv_write_t *w, int status)
{
    if (status < 0)
        errors++;
    (void)w;
}

static void send_request(struct rcv *r)
{
    int len;
    if (r->version == 0)
        len = snprintf(r->req, sizeof r->req,
                       "GET /api/v1/receivers/b%d/schedule HTTP/1.1\r\nHost: x\r\n"
                       "Authorization: Bearer t%d\r\n\r\n", r->idx, r->idx);
    else
        len = snprintf(r->req, sizeof r->req,
                       "GET /api/v1/receivers/b%d/schedule?since=%" PRId64 "&wait=60 HTTP/1.1\r\n"
                       "Host: x\r\nAuthorization: Bearer t%d\r\n\r\n", r->idx, r->version, r->idx);
    uv_buf_t b = uv_buf_init(r->req, (unsigned)len);
    if (uv_write(&r->wr, (uv_stream_t *)&r->tcp, &b, 1, on_written) < 0)
        errors++;
}

/* The version inside a 200's payload, or 0. */
static int64_t version_of(const char *body, size_t len)
{
    const char *p = memmem(body, len, "\"payload\":\"", 11);
    if (p == NULL)
        return 0;
    p += 11;
    const char *e = memchr(p, '"', (size_t)(body + len - p));
    if (e == NULL)
        return 0;
    size_t cap = (size_t)(e - p), got = 0;
    char *bin = malloc(cap + 1);
    int64_t v = 0;
    if (bin != NULL && sodium_base642bin((unsigned char *)bin, cap, p, (size_t)(e - p), NULL, &got,
                                         NULL, sodium_base64_VARIANT_ORIGINAL) == 0) {
        bin[got] = '\0';
        const char *q = strstr(bin, "\"version\":");
        if (q != NULL)
            v = strtoll(q + 10, NULL, 10);
    }
    free(bin);
    return v;
}

/* One whole answer in r->in: its status, its body. Returns the bytes it took, or 0 if more are
 * needed. */
static size_t take_answer(struct rcv *r, int *status, const char **body, size_t *blen)
{
    char *end = memmem(r->in, r->inlen, "\r\n\r\n", 4);
    if (end == NULL)
        return 0;
    size_t head = (size_t)(end - r->in) + 4, clen = 0;
    char *cl = memmem(r->in, head, "Content-Length: ", 16);
    if (cl != NULL)
        clen = strtoul(cl + 16, NULL, 10);
    if (r->inlen < head + clen)
        return 0;
    *status = atoi(r->in + 9);
    *body = r->in + head;
    *blen = clen;
    return head + clen;
}

static void on_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
    (void)h;
    (void)s;
    *b = uv_buf_init(rbuf, sizeof rbuf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct rcv *r = s->data;
    if (nread < 0) {
        errors++;
        uv_read_stop(s);
        return;
    }
    if (r->inlen + (size_t)nread > r->incap) {
        r->incap = (r->inlen + (size_t)nread) * 2;
        r->in = realloc(r->in, r->incap);
    }
    memcpy(r->in + r->inlen, b->base, (size_t)nread);
    r->inlen += (size_t)nread;
    int status;
    const char *body;
    size_t blen, used;
    while ((used = take_answer(r, &status, &body, &blen)) > 0) {
        if (status == 200) {
            int64_t v = version_of(body, blen);
            if (r->version == 0) {
                ready++;
            } else {
                if (nchanges == capchanges) {
                    capchanges = capchanges ? capchanges * 2 : 4096;
                    changes = realloc(changes, capchanges * sizeof *changes);
                }
                changes[nchanges][0] = r->idx;
                changes[nchanges][1] = now_ns();
                nchanges++;
            }
            r->version = v;
        } else if (status != 304) {
            errors++;
        }
        memmove(r->in, r->in + used, r->inlen - used);
        r->inlen -= used;
        if (r->version != 0)
            send_request(r);
    }
}

static void on_connect(uv_connect_t *c, int status)
{
    struct rcv *r = c->data;
    if (status < 0) {
        errors++;
        return;
    }
    uv_read_start((uv_stream_t *)&r->tcp, on_alloc, on_read);
    send_request(r);
}

static void start_one(void)
{
    struct rcv *r = &rcvs[started];
    r->idx = ++started;
    uv_tcp_init(loop, &r->tcp);
    r->tcp.data = r->cr.data = r;
    uv_tcp_connect(&r->cr, &r->tcp, (const struct sockaddr *)&addr, on_connect);
}

static void on_ramp(uv_timer_t *t)
{
    (void)t;
    static uint64_t t0;
    if (t0 == 0)
        t0 = uv_now(loop);
    double due = rate > 0 ? (double)(uv_now(loop) - t0) / 1000.0 * rate + 1 : n;
    while (started < n && started < (int)due)
        start_one();
    if (started == n)
        uv_timer_stop(&ramp);
}

static void on_stop(uv_timer_t *t)
{
    (void)t;
    printf("{\"n\":%d,\"ready\":%d,\"errors\":%d,\"changes\":[", n, ready, errors);
    for (size_t i = 0; i < nchanges; i++)
        printf("%s[%" PRId64 ",%" PRId64 "]", i ? "," : "", changes[i][0], changes[i][1]);
    printf("]}\n");
    fflush(stdout);
    exit(0);
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: receivers_client HOST PORT N RATE SECONDS\n");
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    loop = uv_default_loop();
    uv_ip4_addr(argv[1], atoi(argv[2]), &addr);
    n = atoi(argv[3]);
    rate = atof(argv[4]);
    rcvs = calloc((size_t)n, sizeof *rcvs);
    uv_timer_init(loop, &ramp);
    uv_timer_init(loop, &stop);
    uv_timer_start(&ramp, on_ramp, 0, 10);
    uv_timer_start(&stop, on_stop, (uint64_t)(atof(argv[5]) * 1000), 0);
    return uv_run(loop, UV_RUN_DEFAULT);
}
