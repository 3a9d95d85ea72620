/*
 * tests/stream/test_engine.c — the streaming engine on a real loop with real sockets, on-air
 * events published directly (no scheduler): 503 off air; a receiver held before the start gets
 * the headers at once and audio from the session's first second; a receiver joining in the middle
 * gets the headers and a burst starting at a page boundary (first granule large); a receiver that
 * leaves half-way; a second connection of a cluster replaces the first; every capture is one
 * logical stream (one serial, BOS, EOS, continuous granules); the delivery rows after the last
 * batch; no handle left.
 *
 * The loop runs on the main thread; each client is a thread with a blocking socket.
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ogg/ogg.h>
#include <uv.h>

#include "codecs/encode.h"
#include "codecs/oggmux.h"
#include "server/http/http.h"
#include "server/scheduler/scheduler.h"
#include "server/store/store.h"
#include "server/stream/stream.h"
#include "tests/check.h"

static uv_loop_t loop;
static struct lc_http *srv;
static struct lc_streams *eng;
static struct lc_onair *onair;
static struct lc_store *store;
static int port;
static int64_t t0_ms; /* wall clock at start */
static struct lc_stream_stats final_stats;

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void write_clip(const char *dir, const char *name, int ms, double freq)
{
    size_t n = (size_t)ms * 48;
    float *x = calloc(n, sizeof *x);
    for (size_t i = 0; i < n; i++)
        x[i] = 0.3f * (float)sin(2 * M_PI * freq * (double)i / 48000.0);
    struct lc_encode_opts o = {.bitrate_kbps = 24, .complexity = 5, .pad_tail = 1};
    struct lc_encoded e = {0};
    struct lc_buf file = {0};
    CHECK(lc_encode(x, n, &o, &e, NULL) == 0);
    CHECK(lc_ogg_mux(&e, "t", 99, &file, NULL) == 0);
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    fwrite(file.data, 1, file.len, f);
    fclose(f);
    lc_buf_free(&file);
    lc_encoded_free(&e);
    free(x);
}

/* ---- server side --------------------------------------------------------------------------- */

static size_t on_headers(struct lc_req *req, void *ctx)
{
    (void)req;
    (void)ctx;
    return 1024;
}

static void on_request(struct lc_req *req, void *ctx)
{
    (void)ctx;
    const char *cluster = req->path + strlen("/stream/");
    if (strncmp(req->path, "/stream/", 8) != 0 ||
        lc_streams_attach(eng, req, cluster, "c1", -1) == -ENOENT)
        lc_http_respond(req, 503, "text/plain", NULL, "off", 3);
}

static const struct lc_onair_item items[] = {
    {.bulletin = 1, .title = "a", .audio = "a.opus", .offset_ms = 0, .duration_ms = 1000},
    {.bulletin = 2, .title = "b", .audio = "b.opus", .offset_ms = 1200, .duration_ms = 500},
};
static struct lc_onair_session session = {
    .id = 7, .commune = "c1", .emergency = 0, .items = items, .nitems = 2};

static uv_timer_t ev_timer;
static int ev_step;

/* t = 300 ms PREPARE (start at 900), 900 OPEN, 3500 CLOSE, 4000 stop. */
static void on_event(uv_timer_t *t)
{
    static const int at[] = {300, 900, 3500, 4000};
    switch (ev_step) {
    case 0: lc_onair_publish(onair, LC_ONAIR_PREPARE, &session); break;
    case 1: lc_onair_publish(onair, LC_ONAIR_OPEN, &session); break;
    case 2: lc_onair_publish(onair, LC_ONAIR_CLOSE, &session); break;
    case 3:
        lc_streams_stats(eng, &final_stats);
        lc_streams_stop(eng); /* freed after the loop ran out */
        lc_http_close(srv);
        uv_close((uv_handle_t *)t, NULL);
        return;
    }
    ev_step++;
    int64_t due = t0_ms + at[ev_step] - wall_ms();
    uv_timer_start(t, on_event, due > 0 ? (uint64_t)due : 0, 0);
}

/* ---- clients ------------------------------------------------------------------------------- */

struct client {
    const char *cluster;
    int connect_at;     /* ms after t0 */
    int read_for;       /* ms after connecting, 0: until EOF */
    pthread_t th;
    unsigned char *data;
    size_t len;
    int status;
    int64_t first_audio_ms; /* after t0: when the first byte past the headers arrived */
};

/* Not a wait for a condition: each client connects at its scripted instant of the session
 * (held before the start, joining in the middle, replacing another), which is the scenario under
 * test. */
static void sleep_until(int64_t ms)
{
    int64_t d = t0_ms + ms - wall_ms();
    if (d > 0)
        usleep((useconds_t)d * 1000);
}

static void *client_main(void *arg)
{
    struct client *c = arg;
    sleep_until(c->connect_at);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return NULL;
    }
    char req[200];
    int n = snprintf(req, sizeof req, "GET /stream/%s HTTP/1.1\r\nHost: x\r\n\r\n", c->cluster);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return NULL;
    }
    size_t cap = 1 << 20;
    c->data = malloc(cap);
    int64_t start = wall_ms();
    for (;;) {
        if (c->read_for > 0) {
            int64_t left = start + c->read_for - wall_ms();
            if (left <= 0)
                break;
            struct timeval tv = {left / 1000, (left % 1000) * 1000};
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        }
        ssize_t r = read(fd, c->data + c->len, cap - c->len);
        if (r <= 0)
            break;
        c->len += (size_t)r;
        /* headers end + OpusHead and OpusTags pages ≈ a few hundred bytes; audio beyond */
        if (c->first_audio_ms == 0 && c->len > 600)
            c->first_audio_ms = wall_ms() - t0_ms;
    }
    close(fd);
    sscanf((char *)c->data, "HTTP/1.1 %d", &c->status);
    return NULL;
}

/* Checks a capture: HTTP 200, then one logical Ogg Opus stream. Returns the first audio page's
 * granule in *first_g and the last in *last_g; *eos whether the last page has EOS. */
static void check_capture(const struct client *c, uint64_t *first_g, uint64_t *last_g,
                          bool *eos)
{
    *first_g = *last_g = 0;
    *eos = false;
    CHECKF(c->status == 200, "%s: status %d", c->cluster, c->status);
    const unsigned char *body = NULL;
    for (size_t i = 0; i + 4 <= c->len; i++)
        if (memcmp(c->data + i, "\r\n\r\n", 4) == 0) {
            body = c->data + i + 4;
            break;
        }
    CHECK(body != NULL);
    if (body == NULL)
        return;
    size_t blen = c->len - (size_t)(body - c->data);
    ogg_sync_state oy;
    ogg_sync_init(&oy);
    char *buf = ogg_sync_buffer(&oy, (long)blen);
    memcpy(buf, body, blen);
    ogg_sync_wrote(&oy, (long)blen);
    ogg_page og;
    int pages = 0, serial = 0;
    int64_t prev = -1;
    while (ogg_sync_pageout(&oy, &og) == 1) {
        if (pages == 0) {
            serial = ogg_page_serialno(&og);
            CHECK(ogg_page_bos(&og));
            CHECK(og.body_len >= 19 && memcmp(og.body, "OpusHead", 8) == 0);
        } else {
            CHECK(!ogg_page_bos(&og));
            CHECK(ogg_page_serialno(&og) == serial);
        }
        if (pages == 1)
            CHECK(memcmp(og.body, "OpusTags", 8) == 0);
        CHECKF(ogg_page_pageno(&og) == pages, "%s: page %d numbered %ld", c->cluster, pages,
               ogg_page_pageno(&og));
        int64_t g = ogg_page_granulepos(&og);
        if (pages >= 2 && g != -1) { /* -1: no packet ends here (a replaced one's EOS page) */
            CHECKF(g >= prev, "%s: granule %lld after %lld", c->cluster, (long long)g,
                   (long long)prev);
            if (pages == 2)
                *first_g = (uint64_t)g;
            *last_g = (uint64_t)g;
            prev = g;
        }
        *eos = ogg_page_eos(&og) != 0;
        pages++;
    }
    CHECK(pages >= 3);
    ogg_sync_clear(&oy);
}

/* ---- the rows ------------------------------------------------------------------------------ */

struct row {
    double audio_s, programme_s;
    long long bytes;
    int reconnections, reached;
    char whole[64];
    bool found;
};

static struct row get_row(const char *cluster)
{
    struct row r = {0};
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(lc_store_db(store),
                       "SELECT audio_s, programme_s, bytes, reconnections, reached, "
                       "bulletins_whole FROM deliveries_current WHERE session = 7 AND cluster = ?",
                       -1, &st, NULL);
    sqlite3_bind_text(st, 1, cluster, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        r.found = true;
        r.audio_s = sqlite3_column_double(st, 0);
        r.programme_s = sqlite3_column_double(st, 1);
        r.bytes = sqlite3_column_int64(st, 2);
        r.reconnections = sqlite3_column_int(st, 3);
        r.reached = sqlite3_column_int(st, 4);
        snprintf(r.whole, sizeof r.whole, "%s", (const char *)sqlite3_column_text(st, 5));
    }
    sqlite3_finalize(st);
    return r;
}

int main(void)
{
    char dir[] = "/tmp/lc-stream-engine-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    write_clip(dir, "a.opus", 1000, 440);
    write_clip(dir, "b.opus", 500, 880);
    char db[200];
    snprintf(db, sizeof db, "%s/db", dir);
    CHECK(lc_store_open(&store, db, NULL) == 0);
    CHECK(lc_onair_new(&onair) == 0);
    CHECK(uv_loop_init(&loop) == 0);
    struct lc_http_limits lim = {.max_header_bytes = 8192, .max_connections = 100,
                                 .header_timeout_ms = 5000, .body_timeout_ms = 5000,
                                 .idle_timeout_ms = 5000};
    struct lc_http_callbacks cbs = {on_headers, on_request, NULL, NULL};
    CHECK(lc_http_listen(&srv, &loop, "127.0.0.1", 0, &lim, &cbs) == 0);
    port = lc_http_port(srv);
    struct lc_stream_opts so = {.loop = &loop, .store = store, .onair = onair, .audio_dir = dir,
                                .bitrate_kbps = 24, .burst_s = 1, .backlog_s = 10,
                                .hold_s = 60, .page_ms = 500, .flush_ms = 200,
                                .fan_slice = 2 /* fan-out in slices of 2 receivers */};
    CHECK(lc_streams_open(&eng, &so) == 0);

    t0_ms = wall_ms();
    session.start_ms = t0_ms + 900;
    session.end_ms = t0_ms + 60000;
    uv_timer_init(&loop, &ev_timer);
    uv_timer_start(&ev_timer, on_event, 300, 0);

    struct client cl[] = {
        {.cluster = "k0", .connect_at = 0, .read_for = 0},        /* off air: 503 */
        {.cluster = "k1", .connect_at = 400, .read_for = 0},      /* held, whole session */
        {.cluster = "k2", .connect_at = 2000, .read_for = 0},     /* joins in the middle */
        {.cluster = "k3", .connect_at = 400, .read_for = 1650},   /* leaves 1.15 s after start */
        {.cluster = "k4", .connect_at = 400, .read_for = 0},      /* replaced at 1.5 s */
        {.cluster = "k4", .connect_at = 1500, .read_for = 0},     /* the replacement */
    };
    size_t ncl = sizeof cl / sizeof cl[0];
    for (size_t i = 0; i < ncl; i++)
        pthread_create(&cl[i].th, NULL, client_main, &cl[i]);
    uv_run(&loop, UV_RUN_DEFAULT);
    for (size_t i = 0; i < ncl; i++)
        pthread_join(cl[i].th, NULL);

    CHECK(cl[0].status == 503);
    uint64_t fg, lg;
    bool eos;
    /* held: audio from the first second, not before the start */
    check_capture(&cl[1], &fg, &lg, &eos);
    CHECK(eos);
    CHECKF(fg > 0 && fg <= 24000, "first granule %llu", (unsigned long long)fg);
    CHECKF(lg == 60 * 960 + 312 + 24000, "last granule %llu", (unsigned long long)lg);
    CHECKF(cl[1].first_audio_ms >= 880 && cl[1].first_audio_ms < 1400, "first audio at %lld",
           (long long)cl[1].first_audio_ms);
    /* joined in the middle: a burst of ≥ 1 s from a page boundary, at once */
    check_capture(&cl[2], &fg, &lg, &eos);
    CHECK(eos);
    CHECKF(fg >= 2 * 24000, "joined: first granule %llu", (unsigned long long)fg);
    CHECK(lg == 60 * 960 + 312 + 24000);
    CHECKF(cl[2].first_audio_ms - 2000 < 300, "joined: first audio after %lld ms",
           (long long)(cl[2].first_audio_ms - 2000));
    /* left half-way: valid up to where it stopped */
    check_capture(&cl[3], &fg, &lg, &eos);
    CHECK(!eos && lg == 72000);
    /* replaced: the first connection ends early with an empty EOS page, the second is whole */
    check_capture(&cl[4], &fg, &lg, &eos);
    CHECK(eos);
    check_capture(&cl[5], &fg, &lg, &eos);
    CHECK(eos);
    CHECK(final_stats.replaced == 1 && final_stats.dropped_slow == 0);
    CHECK(final_stats.bytes_sent > 0 && final_stats.pages >= 4);

    struct row r1 = get_row("k1"), r2 = get_row("k2"), r3 = get_row("k3"), r4 = get_row("k4");
    CHECK(r1.found && r2.found && r3.found && r4.found && !get_row("k0").found);
    CHECKF(fabs(r1.programme_s - 1.7) < 0.01, "programme %f", r1.programme_s);
    CHECKF(fabs(r1.audio_s - r1.programme_s) < 0.01, "k1 audio %f", r1.audio_s);
    CHECKF(strcmp(r1.whole, "[1,2]") == 0, "k1 whole %s", r1.whole);
    CHECK(r1.reached == 1 && r1.reconnections == 0);
    CHECK(r1.bytes == (long long)(cl[1].len - (size_t)(strstr((char *)cl[1].data, "\r\n\r\n") + 4 - (char *)cl[1].data)));
    CHECKF(strcmp(r2.whole, "[2]") == 0, "k2 whole %s", r2.whole);
    CHECKF(r2.audio_s > 0.6 && r2.audio_s < 1.25, "k2 audio %f", r2.audio_s);
    CHECKF(r3.audio_s > 0.9 && r3.audio_s < 1.6 && r3.reached == 0, "k3 audio %f", r3.audio_s);
    CHECKF(strcmp(r3.whole, "[1]") == 0, "k3 whole %s", r3.whole);
    CHECK(r4.reconnections == 1 && r4.reached == 1);

    lc_streams_free(eng);
    CHECK(uv_loop_close(&loop) == 0); /* no handle left */
    for (size_t i = 0; i < ncl; i++)
        free(cl[i].data);
    lc_onair_free(onair);
    lc_store_close(store);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    return check_done();
}
