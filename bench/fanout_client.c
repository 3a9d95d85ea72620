/*
 * bench/fanout_client.c — the load client of bench/fanout: N streaming receivers in one process
 * (libuv, one loop, one socket each), against loacast or Icecast.
 *
 *   fanout_client HOST PORT PATH N RATE HOLD_S PROBES
 *     PATH    request path; "%d" in it (at most twice) becomes the receiver's number (1..N),
 *             e.g. /stream/b%d.opus?token=t%d; probes use numbers N+1...
 *     RATE    connections started per second (0: all at once — the session-start storm)
 *     HOLD_S  seconds the receivers stay connected after the last one started
 *     PROBES  receivers started one by one (every 50 ms) in the middle of the hold, whose time to
 *             the first audio byte is reported separately ("a new receiver under load")
 *
 * Against a server on 127/8, receiver i connects from 127.0.1.(1 + i % 32) (source_socket()).
 *
 * Each receiver parses the Ogg pages it reads (header, segment table, body skipped): the first
 * audio page (the third page) marks its first audio byte; granules tell how much audio it has.
 * A receiver is "at pace" if it is still connected at the end and its audio reaches at least
 * (time since its first audio byte − 2.5 s) — a page of 1 s, plus slack. A connection refused or
 * reset during the ramp is retried after 200 ms (Icecast's listen backlog is small). Output: one
 * JSON object on stdout: the first audio byte of every receiver and of the probes, and the time to
 * connect (the last attempt's connection), all from the receiver's first attempt; FANOUT_DUMP=file
 * also writes one line per receiver there. Sockets close with RST (no TIME_WAIT), so runs can
 * follow each other.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <uv.h>

struct rcv {
    uv_tcp_t tcp;
    uv_connect_t cr;
    uv_write_t wr;
    uv_timer_t *retry;
    int idx;
    bool probe, open, failed, closed_by_peer;
    int retries;
    uint64_t t_start, t_first;      /* ns */
    uint64_t t_conn, t_head;        /* connected (last attempt), first byte of the answer */
    uint64_t t_last;
    int64_t g_first, g_last;
    int status;
    int state;                      /* 0 HTTP head, 1 page header, 2 segment table, 3 body */
    uint32_t win;                   /* last 4 bytes of the head */
    unsigned char head[16];
    int headlen;
    unsigned char h[27 + 255];
    int hlen, need;
    uint32_t skip;
    int pages;
    uint64_t bytes;
    char req[320];
};

static uv_loop_t *loop;
static struct sockaddr_in addr;
static bool loopback;               /* the server is on 127/8: receivers come from NSRC addresses */
static const char *path_fmt;
static struct rcv *rcvs;
static int n, nprobes, started, connected;
static double rate;
static unsigned hold_s;
static uint64_t t0, t_all_started;
static char rbuf[1 << 16];
static uv_timer_t ramp, probe_timer, end_timer;

static void start_rcv(struct rcv *r);

static void on_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
    (void)h;
    (void)s;
    *b = uv_buf_init(rbuf, sizeof rbuf);
}

static void on_closed(uv_handle_t *h)
{
    (void)h;
}

static void on_retry(uv_timer_t *t)
{
    struct rcv *r = t->data;
    uv_close((uv_handle_t *)t, (uv_close_cb)free);
    r->retry = NULL;
    start_rcv(r);
}

static void on_closed_retry(uv_handle_t *h)
{
    struct rcv *r = h->data;
    r->retry = malloc(sizeof *r->retry);
    uv_timer_init(loop, r->retry);
    r->retry->data = r;
    uv_timer_start(r->retry, on_retry, 200, 0);
}

/* A failure before any audio: retried (up to 50 times) unless the hold is over. */
static void fail(struct rcv *r)
{
    if (!r->open)
        return;
    r->open = false;
    if (r->t_first == 0 && r->retries < 50 && uv_is_active((uv_handle_t *)&end_timer)) {
        r->retries++;
        uv_close((uv_handle_t *)&r->tcp, on_closed_retry);
        return;
    }
    r->failed = true;
    uv_close((uv_handle_t *)&r->tcp, on_closed);
}

static void page_done(struct rcv *r)
{
    r->pages++;
    int64_t g = 0;
    for (int i = 7; i >= 0; i--)
        g = (g << 8) | r->h[6 + i];
    if (r->pages >= 3) {
        uint64_t now = uv_hrtime();
        if (r->g_first < 0)
            r->g_first = g;
        r->g_last = g;
        r->t_last = now;
    }
}

static void consume(struct rcv *r, const unsigned char *p, size_t len)
{
    while (len > 0) {
        switch (r->state) {
        case 0:
            if (r->headlen < (int)sizeof r->head)
                r->head[r->headlen++] = *p;
            r->win = (r->win << 8) | *p;
            p++;
            len--;
            if (r->win == 0x0d0a0d0a) {
                sscanf((const char *)r->head, "HTTP/1.%*d %d", &r->status);
                if (r->status == 0)
                    sscanf((const char *)r->head, "ICY %d", &r->status);
                r->state = 1;
                r->hlen = 0;
                r->need = 27;
            }
            break;
        case 1:
        case 2: {
            size_t k = (size_t)(r->need - r->hlen);
            if (k > len)
                k = len;
            if (r->pages >= 2 && r->t_first == 0)
                r->t_first = uv_hrtime(); /* the first byte of the first audio page */
            memcpy(r->h + r->hlen, p, k);
            r->hlen += (int)k;
            p += k;
            len -= k;
            if (r->hlen < r->need)
                break;
            if (r->state == 1) {
                r->state = 2;
                r->need = 27 + r->h[26];
            } else {
                r->skip = 0;
                for (int i = 0; i < r->h[26]; i++)
                    r->skip += r->h[27 + i];
                r->state = 3;
                if (r->skip == 0) {
                    page_done(r);
                    r->state = 1;
                    r->hlen = 0;
                    r->need = 27;
                }
            }
            break;
        }
        case 3: {
            size_t k = r->skip < len ? r->skip : len;
            r->skip -= (uint32_t)k;
            p += k;
            len -= k;
            if (r->skip == 0) {
                page_done(r);
                r->state = 1;
                r->hlen = 0;
                r->need = 27;
            }
            break;
        }
        }
    }
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct rcv *r = s->data;
    if (nread < 0) {
        r->closed_by_peer = true;
        fail(r);
        return;
    }
    if (r->t_head == 0)
        r->t_head = uv_hrtime();
    r->bytes += (uint64_t)nread;
    consume(r, (const unsigned char *)b->base, (size_t)nread);
}

static void on_written(uv_write_t *w, int status)
{
    struct rcv *r = w->data;
    if (status < 0)
        fail(r);
}

static void on_connect(uv_connect_t *c, int status)
{
    struct rcv *r = c->data;
    if (status < 0) {
        fail(r);
        return;
    }
    connected++;
    r->t_conn = uv_hrtime();
    uv_buf_t b = uv_buf_init(r->req, (unsigned)strlen(r->req));
    r->wr.data = r;
    if (uv_write(&r->wr, (uv_stream_t *)&r->tcp, &b, 1, on_written) < 0 ||
        uv_read_start((uv_stream_t *)&r->tcp, on_alloc, on_read) < 0)
        fail(r);
}

/* Against a server on loopback, receiver i connects from 127.0.1.(1 + i % NSRC), as receivers
 * come from many addresses. From one address, connect() runs out of the ephemeral ports it
 * prefers for one (source, destination) pair at about 14,000 connections (half the default
 * range) and then searches the whole range for each new one: the client spent a core in the
 * kernel's __inet_check_established and receivers past 14,000 waited seconds for their own
 * connect(), which counted in the servers' first audio byte. IP_BIND_ADDRESS_NO_PORT leaves the port to
 * connect(), which picks it for the whole 4-tuple. Returns the socket, or -1. */
#define NSRC 32
static int source_socket(int i)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0)
        return -1;
    struct sockaddr_in src = {.sin_family = AF_INET};
    src.sin_addr.s_addr = htonl(0x7f000100u + 1 + (uint32_t)(i % NSRC));
    if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&src, sizeof src) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void start_rcv(struct rcv *r)
{
    r->state = 0;
    r->win = 0;
    r->headlen = 0;
    r->pages = 0;
    r->g_first = r->g_last = -1;
    r->t_conn = r->t_head = 0;
    if (r->t_start == 0)
        r->t_start = uv_hrtime();
    uv_tcp_init(loop, &r->tcp);
    r->tcp.data = r;
    r->cr.data = r;
    r->open = true;
    if (loopback) {
        int fd = source_socket(r->idx);
        if (fd < 0 || uv_tcp_open(&r->tcp, fd) < 0) {
            if (fd >= 0)
                close(fd);
            fail(r);
            return;
        }
    }
    if (uv_tcp_connect(&r->cr, &r->tcp, (struct sockaddr *)&addr, on_connect) < 0)
        fail(r);
}

static void on_end(uv_timer_t *t);

static void on_ramp(uv_timer_t *t)
{
    double due = rate <= 0 ? n : (double)(uv_hrtime() - t0) / 1e9 * rate + 1;
    while (started < n && started < due)
        start_rcv(&rcvs[started++]);
    if (started == n) {
        uv_timer_stop(t);
        t_all_started = uv_hrtime();
        fprintf(stderr, "ramped %.3f\n", (double)(t_all_started - t0) / 1e9);
        uv_timer_start(&end_timer, on_end, (uint64_t)hold_s * 1000, 0);
    }
}

static int probes_started;

/* fmt with each "%d" replaced by k. */
static void expand(const char *fmt, int k, char *out, size_t size)
{
    size_t o = 0;
    for (const char *p = fmt; *p && o + 12 < size; p++) {
        if (p[0] == '%' && p[1] == 'd') {
            o += (size_t)snprintf(out + o, size - o, "%d", k);
            p++;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

static void on_probe(uv_timer_t *t)
{
    if (probes_started >= nprobes) {
        uv_timer_stop(t);
        return;
    }
    start_rcv(&rcvs[n + probes_started++]);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(uint64_t *v, int m, double q)
{
    if (m == 0)
        return -1;
    int i = (int)(q * (m - 1) + 0.5);
    return (double)v[i] / 1e6;
}

static double ms_since_t0(uint64_t t)
{
    return t ? (double)(t - t0) / 1e6 : -1.0;
}

static void report(void)
{
    uint64_t now = uv_hrtime();
    int got = 0, pace = 0, failed = 0, pgot = 0;
    int within3 = 0;
    uint64_t *lat = calloc((size_t)n, sizeof *lat), *plat = calloc((size_t)nprobes + 1, sizeof *plat);
    uint64_t *clat = calloc((size_t)n, sizeof *clat);
    uint64_t bytes = 0;
    for (int i = 0; i < n + nprobes; i++) {
        struct rcv *r = &rcvs[i];
        bytes += r->bytes;
        if (r->probe) {
            if (r->t_first)
                plat[pgot++] = r->t_first - r->t_start;
            continue;
        }
        if (r->failed)
            failed++;
        if (!r->t_first)
            continue;
        clat[got] = r->t_conn - r->t_start;
        lat[got++] = r->t_first - r->t_start;
        if (r->t_first - t0 <= 3000000000ull)
            within3++;
        double have = (double)(r->g_last - r->g_first) / 48000.0;
        double elapsed = (double)(now - r->t_first) / 1e9;
        if (r->open && have >= elapsed - 2.5)
            pace++;
    }
    qsort(lat, (size_t)got, sizeof *lat, cmp_u64);
    qsort(clat, (size_t)got, sizeof *clat, cmp_u64);
    qsort(plat, (size_t)pgot, sizeof *plat, cmp_u64);
    printf("{\"n\": %d, \"streaming\": %d, \"at_pace\": %d, \"failed\": %d, "
           "\"within_3s_of_start\": %d, \"first_audio_ms\": {\"p50\": %.1f, \"p99\": %.1f, "
           "\"max\": %.1f}, \"probes\": %d, \"probe_first_audio_ms\": {\"p50\": %.1f, "
           "\"p99\": %.1f, \"max\": %.1f}, \"connect_ms\": {\"p99\": %.1f, \"max\": %.1f}, "
           "\"bytes\": %" PRIu64 ", \"ramp_s\": %.2f}\n",
           n, got, pace, failed, within3, pct(lat, got, 0.5), pct(lat, got, 0.99),
           pct(lat, got, 1.0), pgot, pct(plat, pgot, 0.5), pct(plat, pgot, 0.99),
           pct(plat, pgot, 1.0), pct(clat, got, 0.99), pct(clat, got, 1.0), bytes,
           (double)(t_all_started - t0) / 1e9);
    fflush(stdout);
    /* FANOUT_DUMP=file: one line per receiver (number, retries, then ms since the start: started,
     * connected, first byte of the answer, first audio byte; -1 if never; the HTTP status) */
    const char *dump = getenv("FANOUT_DUMP");
    FILE *f = dump ? fopen(dump, "w") : NULL;
    for (int i = 0; f != NULL && i < n + nprobes; i++) {
        const struct rcv *r = &rcvs[i];
        fprintf(f, "%d %d %.3f %.3f %.3f %.3f %d\n", r->idx, r->retries, ms_since_t0(r->t_start),
                ms_since_t0(r->t_conn), ms_since_t0(r->t_head), ms_since_t0(r->t_first), r->status);
    }
    if (f != NULL)
        fclose(f);
    free(lat);
    free(clat);
    free(plat);
}

static void on_end(uv_timer_t *t)
{
    (void)t;
    report();
    uv_timer_stop(&probe_timer);
    for (int i = 0; i < n + nprobes; i++) {
        struct rcv *r = &rcvs[i];
        if (r->open) {
            r->open = false;
            uv_tcp_close_reset(&r->tcp, on_closed);
        }
        if (r->retry) {
            uv_timer_stop(r->retry);
            uv_close((uv_handle_t *)r->retry, (uv_close_cb)free);
            r->retry = NULL;
        }
    }
    uv_close((uv_handle_t *)&ramp, NULL);
    uv_close((uv_handle_t *)&probe_timer, NULL);
    uv_close((uv_handle_t *)&end_timer, NULL);
}

static void on_probe_start(uv_timer_t *t)
{
    uv_timer_start(t, on_probe, 0, 50);
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: %s HOST PORT PATH N RATE HOLD_S PROBES\n", argv[0]);
        return 2;
    }
    loop = uv_default_loop();
    uv_ip4_addr(argv[1], atoi(argv[2]), &addr);
    loopback = (ntohl(addr.sin_addr.s_addr) >> 24) == 127;
    path_fmt = argv[3];
    n = atoi(argv[4]);
    rate = atof(argv[5]);
    hold_s = (unsigned)atoi(argv[6]);
    nprobes = atoi(argv[7]);
    rcvs = calloc((size_t)(n + nprobes), sizeof *rcvs);
    if (rcvs == NULL)
        return 1;
    for (int i = 0; i < n + nprobes; i++) {
        char path[160];
        expand(path_fmt, i + 1, path, sizeof path);
        snprintf(rcvs[i].req, sizeof rcvs[i].req,
                 "GET %.160s HTTP/1.1\r\nHost: %.64s\r\nUser-Agent: fanout\r\n\r\n", path, argv[1]);
        rcvs[i].idx = i + 1;
        rcvs[i].probe = i >= n;
    }
    uv_timer_init(loop, &ramp);
    uv_timer_init(loop, &probe_timer);
    uv_timer_init(loop, &end_timer);
    t0 = uv_hrtime();
    uv_timer_start(&ramp, on_ramp, 0, 5);
    uv_run(loop, UV_RUN_NOWAIT);
    while (started < n)
        uv_run(loop, UV_RUN_ONCE);
    if (nprobes > 0) /* probes: from the middle of the hold, one every 50 ms */
        uv_timer_start(&probe_timer, on_probe_start, (uint64_t)hold_s * 1000 / 2, 0);
    uv_run(loop, UV_RUN_DEFAULT);
    free(rcvs);
    return 0;
}
