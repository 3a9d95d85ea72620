/*
 * tests/server/test_http.c — server/http/http.c on its own: keep-alive with pipelining, a streamed
 * response (headers, paced writes, write callbacks, end), a held request whose client leaves
 * (lc_req_alive turns false, the late answer is dropped), the header limit, the connection
 * limit, and a loop that closes with no handle left.
 *
 * The server runs on the main thread's loop; a client thread talks to it with blocking sockets
 * and, when done, wakes the loop with uv_async_send to close everything. The client waits for
 * the server's side through atomic flags, with a deadline (wait_flag), never a fixed sleep.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "server/http/http.h"
#include "tests/check.h"

static uv_loop_t loop;
static struct lc_http *srv;
static uv_async_t done_async;
static uv_timer_t stream_timer, held_timer;
static struct lc_req *streaming, *held;
static int stream_step, written_ok, written_fail, held_alive = -1, held_ticks;
static atomic_int held_seen, held_done; /* set on the loop thread, read by the client */
static int port;

static void on_written(void *arg, int status)
{
    (void)arg;
    if (status == 0)
        written_ok++;
    else
        written_fail++;
}

static void on_stream_tick(uv_timer_t *t)
{
    static const char *const parts[] = {"b", "c"};
    if (stream_step < 2) {
        lc_http_stream_write(streaming, parts[stream_step], 1, on_written, NULL);
        stream_step++;
        return;
    }
    uv_timer_stop(t);
    lc_http_stream_end(streaming);
    lc_req_release(streaming);
    streaming = NULL;
}

/* Every 10 ms: has the held request's client gone (lc_req_alive false)? Then the late answer
 * is dropped. Gives up after 5 s (held_alive stays 1: the check in main fails). */
static void on_held_tick(uv_timer_t *t)
{
    held_alive = lc_req_alive(held);
    if (held_alive && ++held_ticks < 500)
        return;
    uv_timer_stop(t);
    if (!held_alive)
        CHECK(lc_http_respond(held, 200, "text/plain", NULL, "late", 4) == -ECONNRESET);
    lc_req_release(held);
    held = NULL;
    atomic_store(&held_done, 1);
}

static size_t on_headers(struct lc_req *req, void *ctx)
{
    (void)req;
    (void)ctx;
    return 1024;
}

static void on_request(struct lc_req *req, void *ctx)
{
    (void)ctx;
    if (strcmp(req->path, "/hello") == 0) {
        lc_http_respond(req, 200, "text/plain", NULL, "hi", 2);
    } else if (strcmp(req->path, "/stream") == 0) {
        CHECK(lc_http_stream_begin(req, 200, "audio/ogg", NULL) == 0);
        CHECK(lc_http_stream_write(req, "a", 1, on_written, NULL) == 0);
        lc_req_hold(req);
        streaming = req;
        uv_timer_start(&stream_timer, on_stream_tick, 50, 50);
    } else if (strcmp(req->path, "/held") == 0) {
        lc_req_hold(req);
        held = req;
        atomic_store(&held_seen, 1);
        uv_timer_start(&held_timer, on_held_tick, 10, 10);
    } else {
        lc_http_respond(req, 404, "text/plain", NULL, "no", 2);
    }
}

static void on_done(uv_async_t *a)
{
    lc_http_close(srv);
    uv_close((uv_handle_t *)a, NULL);
    uv_close((uv_handle_t *)&stream_timer, NULL);
    uv_close((uv_handle_t *)&held_timer, NULL);
}

static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads until EOF (or timeout) into buf; returns the length. */
static size_t read_all(int fd, char *buf, size_t n)
{
    size_t len = 0;
    ssize_t r;
    while (len + 1 < n && (r = recv(fd, buf + len, n - len - 1, 0)) > 0)
        len += (size_t)r;
    buf[len] = '\0';
    return len;
}

/* Waits until *flag is set, polling every millisecond, for at most ms; returns the flag. */
static int wait_flag(atomic_int *flag, int ms)
{
    for (int i = 0; i < ms && !atomic_load(flag); i++)
        usleep(1000);
    return atomic_load(flag);
}

static size_t count(const char *hay, const char *needle)
{
    size_t k = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        k++;
    return k;
}

static void client(void *arg)
{
    (void)arg;
    static char buf[1 << 16];
    /* keep-alive, pipelined: two answers in order, then close on request */
    int fd = dial();
    CHECK(fd >= 0);
    const char *two = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n"
                      "Connection: close\r\n\r\n";
    CHECK(send(fd, two, strlen(two), 0) == (ssize_t)strlen(two));
    read_all(fd, buf, sizeof buf);
    CHECKF(strstr(buf, "200 OK") && strstr(buf, "404 Not Found") &&
               strstr(buf, "200 OK") < strstr(buf, "404 Not Found"), "%s", buf);
    close(fd);
    /* a stream: headers without length, then a, b, c, then EOF */
    fd = dial();
    const char *st = "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n";
    send(fd, st, strlen(st), 0);
    read_all(fd, buf, sizeof buf);
    char *body = strstr(buf, "\r\n\r\n");
    CHECKF(body && strcmp(body + 4, "abc") == 0, "%s", buf);
    CHECK(strstr(buf, "Content-Type: audio/ogg") && !strstr(buf, "Content-Length"));
    close(fd);
    /* a held request whose client leaves */
    fd = dial();
    const char *h = "GET /held HTTP/1.1\r\nHost: x\r\n\r\n";
    send(fd, h, strlen(h), 0);
    CHECK(wait_flag(&held_seen, 10000)); /* the server holds it */
    close(fd);
    CHECK(wait_flag(&held_done, 10000)); /* the server saw the client leave (or gave up) */
    /* headers over the limit: 431 and close */
    fd = dial();
    static char big[8192];
    memset(big, 'a', sizeof big);
    memcpy(big, "GET /hello HTTP/1.1\r\nX: ", 24);
    memcpy(big + sizeof big - 4, "\r\n\r\n", 4);
    send(fd, big, sizeof big, 0);
    read_all(fd, buf, sizeof buf);
    CHECKF(strncmp(buf, "HTTP/1.1 431", 12) == 0, "%s", buf);
    CHECK(count(buf, "HTTP/1.1") == 1);
    close(fd);
    /* over max_connections (16), all idle without a token: the oldest is closed for the 17th,
     * which is served (http_admit.h) */
    int fds[17];
    for (int i = 0; i < 16; i++)
        fds[i] = dial();
    fds[16] = dial();
    const char *hello = "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    send(fds[16], hello, strlen(hello), 0);
    read_all(fds[16], buf, sizeof buf);
    CHECKF(strncmp(buf, "HTTP/1.1 200", 12) == 0, "%s", buf);
    CHECK(read_all(fds[0], buf, sizeof buf) == 0); /* the oldest was closed, without a word */
    for (int i = 0; i < 17; i++)
        close(fds[i]);
    uv_async_send(&done_async);
}

int main(void)
{
    struct lc_http_limits limits = {.max_header_bytes = 4096, .max_connections = 16,
                                    .header_timeout_ms = 2000, .body_timeout_ms = 2000,
                                    .idle_timeout_ms = 2000};
    struct lc_http_callbacks cb = {on_headers, on_request, NULL, NULL};
    uv_loop_init(&loop);
    uv_timer_init(&loop, &stream_timer);
    uv_timer_init(&loop, &held_timer);
    uv_async_init(&loop, &done_async, on_done);
    CHECK(lc_http_listen(&srv, &loop, "127.0.0.1", 0, &limits, &cb) == 0);
    port = lc_http_port(srv);
    CHECK(port > 0);
    uv_thread_t th;
    uv_thread_create(&th, client, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_thread_join(&th);
    CHECKF(written_ok == 3 && written_fail == 0, "written %d ok, %d failed", written_ok, written_fail);
    CHECKF(held_alive == 0, "held request alive = %d after its client left", held_alive);
    CHECK(uv_loop_close(&loop) == 0); /* no handle left open */
    return check_done();
}
