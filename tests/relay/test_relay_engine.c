/*
 * tests/relay/test_relay_engine.c — relay items in the streaming engine without an upstream
 * (server/stream/stream_relay.c, stream_prog.c): a relay segment of the timeline plays filler
 * while its upstream is away (silence, or the jingle looped from its start); an emergency takes
 * the place of the relay's audio and the relay item still ends when it was to; the source stops
 * at its item's last packet; a jingle that is not Ogg Opus is refused. Then the engine on a real
 * loop with a relay whose upstream never answers, stopped in the middle of the item: the
 * receiver's capture is one valid logical stream up to there, no relay thread is left, no handle.
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ogg/ogg.h>
#include <uv.h>

#include "codecs/encode.h"
#include "codecs/oggmux.h"
#include "codecs/relay.h"
#include "server/http/http.h"
#include "server/scheduler/scheduler.h"
#include "server/stream/stream.h"
#include "server/stream/stream_prog.h"
#include "server/stream/stream_relay.h"
#include "tests/check.h"

#define NOWHERE "http://127.0.0.1:1/none.mp3" /* refused at once: the relay retries */

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void write_jingle(const char *path, int ms)
{
    size_t n = (size_t)ms * 48;
    float *x = calloc(n, sizeof *x);
    for (size_t i = 0; i < n; i++)
        x[i] = 0.3f * (float)sin(2 * M_PI * 600.0 * (double)i / 48000.0);
    struct lc_encode_opts o = {.bitrate_kbps = 24, .complexity = 5, .pad_tail = 1};
    struct lc_encoded e = {0};
    struct lc_buf file = {0};
    CHECK(lc_encode(x, n, &o, &e, NULL) == 0);
    CHECK(lc_ogg_mux(&e, "jingle", 5, &file, NULL) == 0);
    FILE *f = fopen(path, "wb");
    fwrite(file.data, 1, file.len, f);
    fclose(f);
    lc_buf_free(&file);
    lc_encoded_free(&e);
    free(x);
}

/* ---- the timeline ---------------------------------------------------------------------------- */

static void test_prog(const char *dir)
{
    static const unsigned char sil[3] = {0xf8, 0xff, 0xfe};
    struct lc_relay_cfg cfg = {.bitrate_kbps = 24, .complexity = 5, .target_lufs = -16,
                               .send_ms = 200, .buffer_ms = 200, .timeout_ms = 1000,
                               .silence = sil, .silence_len = 3};
    struct lc_err err = {0};
    /* the jingle: a file of 20 ms packets; anything else refused with a reason */
    char path[300], bad[300];
    snprintf(path, sizeof path, "%s/jingle.opus", dir);
    snprintf(bad, sizeof bad, "%s/bad.opus", dir);
    write_jingle(path, 100); /* 5 packets + the tail's */
    FILE *f = fopen(bad, "wb");
    fputs("not an ogg file", f);
    fclose(f);
    CHECK(lc_relay_cfg_filler(&cfg, bad, &err) == -EINVAL && strstr(err.msg, "bad.opus"));
    CHECK(cfg.filler.npkts == 0);
    CHECK(lc_relay_cfg_filler(&cfg, "/nonexistent/j.opus", &err) == -ENOENT);
    CHECK(lc_relay_cfg_filler(&cfg, path, &err) == 0 && cfg.filler.npkts >= 5);

    struct lc_prog p = {.silence = sil, .silence_len = 3, .relay_cfg = &cfg};
    struct lc_onair_item it[] = {{.bulletin = 0, .title = "Tiếp sóng", .relay = NOWHERE,
                                  .offset_ms = 0, .duration_ms = 1000}};
    struct lc_clip *clips[1] = {NULL};
    CHECK(lc_prog_append(&p, it, clips, 1) == 0);
    CHECK(lc_prog_remaining(&p) == 50);
    CHECK(p.relays != NULL && !p.relays->started);
    lc_prog_relays_wake(&p, 20000, 15000); /* 20 s ahead: not yet */
    CHECK(!p.relays->started);
    lc_prog_relays_wake(&p, 10000, 15000);
    CHECK(p.relays->started && p.relays->relay != NULL);
    /* the upstream is not there: the jingle, from its start, looped */
    const struct lc_encoded *j = &cfg.filler;
    uint64_t g = 0;
    for (int i = 0; i < 10; i++) {
        const unsigned char *pkt = NULL;
        uint32_t len = 0;
        bool last = false;
        uint64_t end = 0;
        CHECK(lc_prog_next(&p, g, &pkt, &len, &last, &end) == 1 && !last);
        const struct lc_packet *jp = &j->pkts[(size_t)i % j->npkts];
        CHECKF(len == jp->len && memcmp(pkt, j->data + jp->off, len) == 0, "packet %d", i);
        g += 960;
    }
    CHECK(p.relays->filler == 10 && p.relays->from_relay == 0);
    /* an emergency of 200 ms (10 packets) + a gap of 100 ms: it takes the relay's place */
    struct lc_onair_item em[] = {{.bulletin = 9, .title = "khẩn", .offset_ms = 0, .duration_ms = 200},
                                 {.bulletin = 0, .offset_ms = 200, .duration_ms = 100}};
    struct lc_clip *emc[2] = {NULL, NULL};
    CHECK(lc_prog_interrupt(&p, em, emc, 2) == 0);
    CHECKF(lc_prog_remaining(&p) == 40, "remaining %llu", (unsigned long long)lc_prog_remaining(&p));
    int n = 0, from_relay_seg = 0;
    for (;;) {
        const unsigned char *pkt = NULL;
        uint32_t len = 0;
        bool last = false;
        uint64_t end = 0;
        int rc = lc_prog_next(&p, g, &pkt, &len, &last, &end);
        if (rc != 1)
            break;
        n++;
        g += 960;
        if (n > 15)
            from_relay_seg++;
        if (last)
            break;
    }
    CHECKF(n == 40, "%d packets after the emergency", n);
    CHECK(p.relays->filler == 10 + 25 && from_relay_seg == 25);
    CHECK(p.relays->stopped && p.relays->relay == NULL); /* stopped at its item's end */
    lc_prog_free(&p);
    lc_relay_cfg_free(&cfg);
    CHECK(lc_relay_wait_all(2000) == 0);
}

/* ---- the engine, stopped in the middle of a relay -------------------------------------------- */

static uv_loop_t loop;
static struct lc_http *srv;
static struct lc_streams *eng;
static struct lc_onair *onair;
static int port;
static int64_t t0_ms;
static uv_timer_t ev_timer;
static int ev_step;

static const struct lc_onair_item items[] = {
    {.bulletin = 0, .title = "Tiếp sóng", .relay = NOWHERE, .offset_ms = 0, .duration_ms = 10000},
};
static struct lc_onair_session session = {.id = 3, .commune = "c1", .items = items, .nitems = 1};

static size_t on_headers(struct lc_req *req, void *ctx)
{
    (void)req;
    (void)ctx;
    return 1024;
}

static void on_request(struct lc_req *req, void *ctx)
{
    (void)ctx;
    if (lc_streams_attach(eng, req, "k1", "c1", -1) == -ENOENT)
        lc_http_respond(req, 503, "text/plain", NULL, "off", 3);
}

/* t = 100 PREPARE (start at 500), 500 OPEN, 2500 the server stops, the relay item half-way. */
static void on_event(uv_timer_t *t)
{
    static const int at[] = {100, 500, 2500};
    switch (ev_step) {
    case 0: lc_onair_publish(onair, LC_ONAIR_PREPARE, &session); break;
    case 1: lc_onair_publish(onair, LC_ONAIR_OPEN, &session); break;
    case 2:
        lc_streams_stop(eng);
        lc_http_close(srv);
        uv_close((uv_handle_t *)t, NULL);
        return;
    }
    ev_step++;
    int64_t due = t0_ms + at[ev_step] - wall_ms();
    uv_timer_start(t, on_event, due > 0 ? (uint64_t)due : 0, 0);
}

struct client {
    pthread_t th;
    unsigned char *data;
    size_t len;
};

static void *client_main(void *arg)
{
    struct client *c = arg;
    usleep(250000); /* held: after PREPARE (the scenario's instant, not a wait for a state) */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return NULL;
    }
    const char *req = "GET /stream/k1 HTTP/1.1\r\nHost: x\r\n\r\n";
    if (write(fd, req, strlen(req)) < 0) {
        close(fd);
        return NULL;
    }
    size_t cap = 1 << 20;
    c->data = malloc(cap);
    ssize_t r;
    while ((r = read(fd, c->data + c->len, cap - c->len)) > 0)
        c->len += (size_t)r;
    close(fd);
    return NULL;
}

static void test_engine(void)
{
    CHECK(lc_onair_new(&onair) == 0);
    CHECK(uv_loop_init(&loop) == 0);
    struct lc_http_limits lim = {.max_header_bytes = 8192, .max_connections = 10,
                                 .header_timeout_ms = 5000, .body_timeout_ms = 5000,
                                 .idle_timeout_ms = 5000};
    struct lc_http_callbacks cbs = {on_headers, on_request, NULL, NULL};
    CHECK(lc_http_listen(&srv, &loop, "127.0.0.1", 0, &lim, &cbs) == 0);
    port = lc_http_port(srv);
    struct lc_stream_opts so = {.loop = &loop, .onair = onair, .audio_dir = "/nonexistent",
                                .bitrate_kbps = 24, .burst_s = 1, .backlog_s = 10, .hold_s = 60,
                                .page_ms = 200, .send_ms = 200, .lead_ms = 200, .flush_ms = 200,
                                .relay_buffer_ms = 200, .relay_timeout_ms = 1000};
    CHECK(lc_streams_open(&eng, &so) == 0);
    t0_ms = wall_ms();
    session.start_ms = t0_ms + 500;
    session.end_ms = t0_ms + 60000;
    uv_timer_init(&loop, &ev_timer);
    uv_timer_start(&ev_timer, on_event, 100, 0);
    struct client cl = {0};
    pthread_create(&cl.th, NULL, client_main, &cl);
    uv_run(&loop, UV_RUN_DEFAULT);
    int64_t stopped_in = wall_ms() - t0_ms;
    pthread_join(cl.th, NULL);
    lc_streams_free(eng);
    CHECKF(stopped_in < 4000, "the loop ran out %lld ms after the start", (long long)stopped_in);
    CHECK(lc_relay_wait_all(0) == 0); /* no relay thread outlives the engine */
    CHECK(uv_loop_close(&loop) == 0); /* no handle left */
    lc_onair_free(onair);

    /* what the receiver got: one logical stream of filler, continuous, up to the stop */
    const unsigned char *body = NULL;
    for (size_t i = 0; cl.data && i + 4 <= cl.len; i++)
        if (memcmp(cl.data + i, "\r\n\r\n", 4) == 0) {
            body = cl.data + i + 4;
            break;
        }
    CHECK(body != NULL && strncmp((char *)cl.data, "HTTP/1.1 200", 12) == 0);
    if (body != NULL) {
        ogg_sync_state oy;
        ogg_sync_init(&oy);
        size_t blen = cl.len - (size_t)(body - cl.data);
        memcpy(ogg_sync_buffer(&oy, (long)blen), body, blen);
        ogg_sync_wrote(&oy, (long)blen);
        ogg_page og;
        int pages = 0;
        int64_t prev = 0;
        while (ogg_sync_pageout(&oy, &og) == 1) {
            CHECK(ogg_page_pageno(&og) == pages);
            int64_t gp = ogg_page_granulepos(&og);
            if (pages >= 2) {
                CHECKF(gp > prev && (gp - prev) % 960 == 0, "granule %lld after %lld",
                       (long long)gp, (long long)prev);
                prev = gp;
            }
            pages++;
        }
        /* ≈ 2 s of programme (from 0.5 s to the stop at 2.5 s, plus the lead) */
        CHECKF(pages >= 8 && prev - 312 >= 18 * 4800, "%d pages, last granule %lld", pages,
               (long long)prev);
        ogg_sync_clear(&oy);
    }
    free(cl.data);
}

int main(void)
{
    char dir[] = "/tmp/lc-relay-engine-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    test_prog(dir);
    test_engine();
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    return check_done();
}
