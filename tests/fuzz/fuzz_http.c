/*
 * tests/fuzz/fuzz_http.c — libFuzzer target: server/http/http.c, the connection code. Each input
 * is what one client sends on one connection (then it half-closes); the server parses it with the
 * real connection code on a real loopback socket, answers, and must neither crash nor leak nor
 * hang. The routes are stand-ins (the whole server's routes are fuzz_api's).
 *
 *   ninja -C build-fuzz tests/fuzz/fuzz_http
 *   build-fuzz/tests/fuzz/fuzz_http -max_len=32768 CORPUS_DIR tests/fuzz/corpus/fuzz_http
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "server/http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uv_loop_t loop;
static struct lc_http *srv;
static int port;

static size_t on_headers(struct lc_req *req, void *ctx)
{
    (void)ctx;
    return strncmp(req->path, "/big", 4) == 0 ? 4096 : 256;
}

static void on_request(struct lc_req *req, void *ctx)
{
    (void)ctx;
    char v[64];
    const char *q = lc_req_query(req, "a", v, sizeof v);
    lc_http_respond(req, 200, "text/plain", NULL, q ? q : "ok", q ? strlen(q) : 2);
}

static void setup(void)
{
    struct lc_http_limits limits = {.max_header_bytes = 2048, .max_connections = 8,
                                    .header_timeout_ms = 200, .body_timeout_ms = 200,
                                    .idle_timeout_ms = 200};
    struct lc_http_callbacks cb = {on_headers, on_request, NULL, NULL};
    uv_loop_init(&loop);
    if (lc_http_listen(&srv, &loop, "127.0.0.1", 0, &limits, &cb) != 0)
        __builtin_trap();
    port = lc_http_port(srv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (srv == NULL)
        setup();
    if (size > 32768)
        return 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connect(fd, (struct sockaddr *)&sa, sizeof sa);
    size_t off = 0;
    bool shut = false;
    char buf[65536];
    /* Drive the loop and the client in turns until the server closed the connection. */
    for (int i = 0; i < 100000; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        if (off < size) {
            ssize_t w = send(fd, data + off, size - off, MSG_NOSIGNAL);
            if (w > 0)
                off += (size_t)w;
            else if (w < 0 && errno != EAGAIN && errno != EINPROGRESS && errno != ENOTCONN)
                off = size;
        } else if (!shut) {
            shutdown(fd, SHUT_WR);
            shut = true;
        }
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != ENOTCONN))
            break;
        if (r < 0) {
            struct pollfd p = {fd, POLLIN, 0};
            uv_run(&loop, UV_RUN_NOWAIT);
            poll(&p, 1, 1);
        }
    }
    close(fd);
    /* Let the server see the close and free the connection. */
    for (int i = 0; i < 100 && lc_http_open_connections(srv) > 0; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(100);
    }
    return 0;
}
