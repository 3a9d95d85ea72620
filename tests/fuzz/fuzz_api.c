/*
 * tests/fuzz/fuzz_api.c — libFuzzer target: the whole server, route by route.
 *
 * The real `loacast serve` (lc_server_run) runs in a thread of the fuzz process, on 127.0.0.1 on a
 * free port, with a fresh data directory (mkdtemp under $TMPDIR) and the embedded defaults but
 * two: one render worker, and the shortest bulletin bound (max_bulletin_s = 10), so that a text or
 * a recording that the fuzzer makes long is refused or stopped within 10 s of audio. At start the
 * target logs in as admin (LOACAST_ADMIN_PASSWORD), creates an editor, an approver, an operator,
 * a commune and a cluster, and keeps their tokens. Each input is then one request, over a new
 * loopback connection (Connection: close), whose answer is read to its end or DEADLINE_MS:
 *
 *   POST /api/v1/communes/{id}/sessions     the route, as `loacast routes` prints it; a line
 *                                           that names no route picks one by its hash
 *   quang-phu                               one line per {param}, percent-encoded here
 *   ?dry=1                                  optional lines: the query string,
 *   !as=operator                            who calls (admin, editor, approver, operator,
 *                                           cluster, none; default admin),
 *   !h Accept-Language: vi                  a header (not one that frames the request)
 *                                           an empty line, then
 *   {"start":"2026-11-24T06:00:00+07:00","minutes":5}     the body: the rest of the input
 *
 * Missing params are filled with the fixtures (commune fz, cluster fz-1, bulletin 1). The routes
 * come from lc_server_print_routes(), so a route added to the server is fuzzed with no change
 * here; POST /api/v1/logout is left out (it would end the token), and a DELETE, PATCH or token
 * rotation never names the fixtures (they would end their tokens; other users and clusters, which
 * the fuzzer makes itself, are fair game).
 *
 * Checked: the server answers every request, its status line within DEADLINE_MS, never a 5xx
 * other than 503, and does not crash (AddressSanitizer, UBSan). A finding prints the request and
 * the answer. The data directory stays (run_fuzz.py removes its $TMPDIR after a passing run).
 * Inputs over INPUT_LIMIT bytes are ignored (-max_len keeps the fuzzer under it). With
 * FUZZ_API_TRACE set in the environment, each request is printed with its status (to see what a
 * corpus reaches: FUZZ_API_TRACE=1 fuzz_api -runs=0 DIR).
 *
 *   ninja -C build-fuzz tests/fuzz/fuzz_api
 *   build-fuzz/tests/fuzz/fuzz_api -max_len=4096 -timeout=25 -dict=tests/fuzz/fuzz_api.dict \
 *       CORPUS_DIR tests/fuzz/corpus/fuzz_api
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/log.h"
#include "server/config.h"
#include "server/server.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { INPUT_LIMIT = 4096, DEADLINE_MS = 10000, MAX_ROUTES = 128, MAX_ANSWER = 1 << 20 };

static const char ADMIN_PASSWORD[] = "fuzz-admin-password";

/* Who calls: the index is the token's. */
enum caller { C_ADMIN, C_EDITOR, C_APPROVER, C_OPERATOR, C_CLUSTER, C_NONE, C_COUNT };
static const char *const caller_names[C_COUNT] = {"admin", "editor", "approver", "operator",
                                                  "cluster", "none"};
static char tokens[C_COUNT][160];

/* The fixtures: never deleted, patched or rotated by an input (their tokens must live). */
static const char *const fixtures[] = {"admin", "fz-editor", "fz-approver", "fz-operator", "fz",
                                       "fz-1", NULL};

struct route {
    char method[16];
    char pattern[160];
};
static struct route routes[MAX_ROUTES];
static size_t nroutes;

static struct lc_config cfg;
static pthread_t server_thread;
static bool trace;   /* $FUZZ_API_TRACE: one line per request, with the status */

struct answer {
    int status;             /* 0: no status line */
    char *data;             /* the whole answer, NUL-terminated (owned by the caller) */
    size_t len;
};

static void die(const char *what)
{
    fprintf(stderr, "fuzz_api: %s\n", what);
    abort();
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Where the header block of a (partial) answer ends, or NULL. */
static const char *head_end(const struct answer *a)
{
    const char *e = a->data ? strstr(a->data, "\r\n\r\n") : NULL;
    return e ? e + 4 : NULL;
}

/* True once the answer is whole: its Content-Length is all there (the connection may linger). */
static bool answer_complete(const struct answer *a)
{
    const char *body = head_end(a);
    if (body == NULL)
        return false;
    for (const char *p = a->data; p < body; p = strstr(p, "\r\n") + 2)
        if (strncasecmp(p, "Content-Length:", 15) == 0)
            return (size_t)(a->data + a->len - body) >= strtoull(p + 15, NULL, 10);
    return false;
}

/* Sends req[0..len) on a new connection to the server, reads the answer until the server closes
 * it, it is complete, or the deadline; stops after the headers if head_only (a live stream).
 * Fills *a (a->data owned by the caller). Returns 0, or -1 if no connection could be made. */
static int exchange(const char *req, size_t len, bool head_only, struct answer *a)
{
    memset(a, 0, sizeof *a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cfg.listen_port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    size_t cap = 65536, off = 0;
    a->data = malloc(cap);
    if (a->data == NULL)
        die("out of memory");
    a->data[0] = '\0';
    long long deadline = now_ms() + DEADLINE_MS;
    bool eof = false;
    while (!eof && now_ms() < deadline) {
        struct pollfd p = {fd, (short)(POLLIN | (off < len ? POLLOUT : 0)), 0};
        if (poll(&p, 1, 50) < 0 && errno != EINTR)
            break;
        if (off < len && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = send(fd, req + off, len - off, MSG_NOSIGNAL);
            if (w > 0)
                off += (size_t)w;
            else if (w < 0 && errno != EAGAIN && errno != EINTR)
                off = len;   /* the server closed early (e.g. 413): read its answer */
        }
        for (;;) {
            if (a->len + 4096 + 1 > cap) {
                if (cap >= MAX_ANSWER) {
                    eof = true;   /* enough to judge it */
                    break;
                }
                cap *= 2;
                char *n = realloc(a->data, cap);
                if (n == NULL)
                    die("out of memory");
                a->data = n;
            }
            ssize_t r = recv(fd, a->data + a->len, cap - a->len - 1, 0);
            if (r > 0) {
                a->len += (size_t)r;
                a->data[a->len] = '\0';
                continue;
            }
            if (r == 0 || (errno != EAGAIN && errno != EINTR))
                eof = true;
            break;
        }
        if (answer_complete(a) || (head_only && head_end(a) != NULL))
            break;
    }
    close(fd);
    if (a->len > 12 && strncmp(a->data, "HTTP/1.", 7) == 0 && a->data[8] == ' ')
        a->status = atoi(a->data + 9);
    return 0;
}

/* A request with Connection: close; token and content type may be NULL. Returns its length in
 * *out (malloc'd, owned by the caller). */
static size_t build(char **out, const char *method, const char *target, const char *token,
                    const char *ctype, const char *extra, const void *body, size_t blen)
{
    size_t cap = strlen(method) + strlen(target) + strlen(extra) + blen + 512, n;
    char *r = malloc(cap);
    if (r == NULL)
        die("out of memory");
    n = (size_t)snprintf(r, cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n",
                         method, target);
    if (token != NULL && token[0])
        n += (size_t)snprintf(r + n, cap - n, "Authorization: Bearer %s\r\n", token);
    if (ctype != NULL)
        n += (size_t)snprintf(r + n, cap - n, "Content-Type: %s\r\n", ctype);
    n += (size_t)snprintf(r + n, cap - n, "%s", extra);
    if (blen > 0 || strcmp(method, "GET") != 0)
        n += (size_t)snprintf(r + n, cap - n, "Content-Length: %zu\r\n", blen);
    n += (size_t)snprintf(r + n, cap - n, "\r\n");
    if (blen > 0)
        memcpy(r + n, body, blen);
    *out = r;
    return n + blen;
}

/* A call of the setup: JSON in, the answer's JSON out (NULL if none); *status its status. */
static json_t *setup_call(const char *method, const char *path, const char *token,
                          const char *json, int *status)
{
    char *req;
    size_t len = build(&req, method, path, token, json ? "application/json" : NULL, "", json,
                       json ? strlen(json) : 0);
    struct answer a;
    if (exchange(req, len, false, &a) < 0)
        a.status = 0;
    free(req);
    *status = a.status;
    const char *body = head_end(&a);
    json_t *j = body ? json_loads(body, 0, NULL) : NULL;
    free(a.data);
    return j;
}

static void keep_token(enum caller who, json_t *j, const char *field)
{
    const char *t = json_string_value(json_object_get(j, field));
    if (t == NULL || strlen(t) >= sizeof tokens[who])
        die("setup: no token in an answer");
    strcpy(tokens[who], t);
}

static void *run_server(void *arg)
{
    (void)arg;
    struct lc_err err = {0};
    if (lc_server_run(&cfg, &err) < 0) {
        fprintf(stderr, "fuzz_api: the server did not start: %s\n", lc_err_msg(&err));
        abort();
    }
    return NULL;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t sl = sizeof sa;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
        die("no free port");
    close(fd);
    return ntohs(sa.sin_port);
}

static void read_routes(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL || lc_server_print_routes(f) < 0)
        die("lc_server_print_routes failed");
    fclose(f);
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        struct route r;
        if (sscanf(line, "%15s %159s", r.method, r.pattern) != 2)
            continue;
        if (strcmp(r.method, "POST") == 0 && strcmp(r.pattern, "/api/v1/logout") == 0)
            continue;
        if (nroutes < MAX_ROUTES)
            routes[nroutes++] = r;
    }
    free(text);
    if (nroutes == 0)
        die("the server printed no route");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *tmp = getenv("TMPDIR");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/loacast-fuzz-api-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL)
        die("mkdtemp failed");
    lc_config_defaults(&cfg);
    snprintf(cfg.listen_host, sizeof cfg.listen_host, "127.0.0.1");
    cfg.listen_port = free_port();
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", dir);
    cfg.render_workers = 1;
    cfg.max_bulletin_s = 10;
    setenv("LOACAST_ADMIN_PASSWORD", ADMIN_PASSWORD, 1);
    trace = getenv("FUZZ_API_TRACE") != NULL;
    lc_log_threshold = LC_LOG_WARN;   /* one line per request would drown the fuzzer's output */
    read_routes();
    fprintf(stderr, "fuzz_api: %zu routes; server on 127.0.0.1:%d, data in %s\n", nroutes,
            cfg.listen_port, dir);
    if (pthread_create(&server_thread, NULL, run_server, NULL) != 0)
        die("pthread_create failed");
    pthread_detach(server_thread);

    /* Up: /healthz answers (the first start creates the database and the admin). */
    int st = 0;
    json_t *j = NULL;
    for (long long end = now_ms() + 60000; st != 200; usleep(50000)) {
        if (now_ms() > end)
            die("the server did not answer /healthz within 60 s");
        json_decref(setup_call("GET", "/healthz", NULL, NULL, &st));
    }
    char login[128];
    snprintf(login, sizeof login, "{\"username\":\"admin\",\"password\":\"%s\"}", ADMIN_PASSWORD);
    j = setup_call("POST", "/api/v1/login", NULL, login, &st);
    if (st != 200)
        die("setup: admin login failed");
    keep_token(C_ADMIN, j, "token");
    json_decref(j);
    static const char *const staff[][2] = {{"editor", "fz-editor"}, {"approver", "fz-approver"},
                                           {"operator", "fz-operator"}};
    for (int i = 0; i < 3; i++) {
        char body[256];
        snprintf(body, sizeof body,
                 "{\"username\":\"%s\",\"password\":\"%s-password\",\"role\":\"%s\"}",
                 staff[i][1], staff[i][1], staff[i][0]);
        json_decref(setup_call("POST", "/api/v1/users", tokens[C_ADMIN], body, &st));
        if (st != 201)
            die("setup: cannot create a user");
        snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s-password\"}",
                 staff[i][1], staff[i][1]);
        j = setup_call("POST", "/api/v1/login", NULL, body, &st);
        if (st != 200)
            die("setup: a user's login failed");
        keep_token((enum caller)(C_EDITOR + i), j, "token");
        json_decref(j);
    }
    json_decref(setup_call("POST", "/api/v1/communes", tokens[C_ADMIN],
                           "{\"id\":\"fz\",\"name\":\"Xã Fuzz\",\"population\":1000}", &st));
    if (st != 201)
        die("setup: cannot create the commune");
    j = setup_call("POST", "/api/v1/clusters", tokens[C_ADMIN],
                   "{\"id\":\"fz-1\",\"commune\":\"fz\",\"name\":\"Cụm 1\"}", &st);
    if (st != 201)
        die("setup: cannot create the cluster");
    keep_token(C_CLUSTER, j, "token");
    json_decref(j);
    return 0;
}

/* ---- one input ---------------------------------------------------------------------------- */

/* Appends src[0..n) to dst (size cap, NUL-terminated), percent-encoding what is not unreserved
 * (keep: also the bytes a query may carry as they are). Truncates at cap. */
static void append_encoded(char *dst, size_t cap, const char *src, size_t n, bool keep_query)
{
    size_t d = strlen(dst);
    for (size_t i = 0; i < n && d + 4 < cap; i++) {
        unsigned char c = (unsigned char)src[i];
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.' || c == '_' || c == '~';
        if (keep_query && c > 0x20 && c < 0x7f && c != '#')
            plain = true;
        if (plain) {
            dst[d++] = (char)c;
        } else {
            static const char hex[] = "0123456789ABCDEF";
            dst[d++] = '%';
            dst[d++] = hex[c >> 4];
            dst[d++] = hex[c & 15];
        }
    }
    dst[d] = '\0';
}

/* The fixture value of a param in a pattern (for {id}: what the path before it names). */
static const char *default_param(const char *pattern, const char *brace)
{
    if (strncmp(brace, "{name}", 6) == 0)
        return "fz-editor";
    if (strncmp(brace, "{cluster}", 9) == 0)
        return "fz-1";
    if (strncmp(brace, "{file}", 6) == 0)
        return "app.js";
    if (strncmp(brace, "{dir}", 5) == 0)
        return "screens";
    size_t at = (size_t)(brace - pattern);
    if (at >= 9 && strncmp(brace - 9, "communes/", 9) == 0)
        return "fz";
    if (at >= 9 && strncmp(brace - 9, "clusters/", 9) == 0)
        return "fz-1";
    return "1";
}

static bool is_fixture(const char *v, size_t n)
{
    for (int i = 0; fixtures[i]; i++)
        if (strlen(fixtures[i]) == n && strncasecmp(fixtures[i], v, n) == 0)
            return true;
    return false;
}

/* Headers the harness owns: they frame the request or choose the caller. */
static bool header_allowed(const char *h, size_t n)
{
    static const char *const owned[] = {"connection", "content-length", "transfer-encoding", "host",
                                        "authorization", "expect", "upgrade", NULL};
    for (int i = 0; owned[i]; i++) {
        size_t k = strlen(owned[i]);
        if (n >= k && strncasecmp(h, owned[i], k) == 0)
            return false;
    }
    return memchr(h, ':', n) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > INPUT_LIMIT)
        return 0;
    const char *in = (const char *)data, *end = in + size;

    /* line 1: the route */
    const char *nl = memchr(in, '\n', size);
    size_t l1 = nl ? (size_t)(nl - in) : size;
    const struct route *rt = NULL;
    for (size_t i = 0; i < nroutes && rt == NULL; i++) {
        size_t ml = strlen(routes[i].method), pl = strlen(routes[i].pattern);
        if (l1 == ml + 1 + pl && memcmp(in, routes[i].method, ml) == 0 && in[ml] == ' ' &&
            memcmp(in + ml + 1, routes[i].pattern, pl) == 0)
            rt = &routes[i];
    }
    if (rt == NULL) {
        uint32_t h = 2166136261u;
        for (size_t i = 0; i < l1; i++)
            h = (h ^ (uint8_t)in[i]) * 16777619u;
        rt = &routes[h % nroutes];
    }
    const char *p = nl ? nl + 1 : end;

    /* the head: params, ?query, !as=, !h; an empty line ends it */
    const char *params[8];
    size_t plen[8], np = 0;
    char query[1024] = "", extra[2048] = "";
    enum caller who = C_ADMIN;
    bool own_ctype = false;
    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *line = p;
        p = nl ? nl + 1 : end;
        if (ll > 0 && line[ll - 1] == '\r')
            ll--;
        if (ll == 0)
            break;
        if (line[0] == '?') {
            query[0] = '?';
            query[1] = '\0';
            append_encoded(query, sizeof query, line + 1, ll - 1, true);
        } else if (ll > 4 && strncmp(line, "!as=", 4) == 0) {
            for (int c = 0; c < C_COUNT; c++)
                if (ll - 4 == strlen(caller_names[c]) &&
                    memcmp(line + 4, caller_names[c], ll - 4) == 0)
                    who = (enum caller)c;
        } else if (ll > 3 && strncmp(line, "!h ", 3) == 0 && header_allowed(line + 3, ll - 3)) {
            size_t e = strlen(extra);
            if (e + ll + 2 < sizeof extra && !memchr(line, '\0', ll)) {
                memcpy(extra + e, line + 3, ll - 3);
                memcpy(extra + e + ll - 3, "\r\n", 3);
                own_ctype = own_ctype || strncasecmp(line + 3, "content-type", 12) == 0;
            }
        } else if (np < 8) {
            params[np] = line;
            plen[np++] = ll;
        }
    }
    const char *body = p;
    size_t blen = (size_t)(end - p);

    /* the path: the pattern with its params filled */
    char path[2048] = "";
    bool destructive = strcmp(rt->method, "DELETE") == 0 || strcmp(rt->method, "PATCH") == 0 ||
                       strstr(rt->pattern, "/token") != NULL;
    size_t k = 0;
    for (const char *s = rt->pattern; *s;) {
        const char *b = strchr(s, '{');
        size_t lit = b ? (size_t)(b - s) : strlen(s);
        size_t d = strlen(path);
        if (d + lit + 1 < sizeof path) {
            memcpy(path + d, s, lit);
            path[d + lit] = '\0';
        }
        if (b == NULL)
            break;
        const char *v = default_param(rt->pattern, b);
        size_t vn = strlen(v);
        if (k < np) {
            v = params[k];
            vn = plen[k];
        }
        k++;
        if (destructive && is_fixture(v, vn))
            append_encoded(path, sizeof path, "x-", 2, false);
        append_encoded(path, sizeof path, v, vn, false);
        const char *close = strchr(b, '}');
        s = close ? close + 1 : b + strlen(b);
    }
    char target[3200];
    snprintf(target, sizeof target, "%s%s", path, query);

    const char *ctype = NULL;
    if (!own_ctype && blen > 0)
        ctype = strstr(rt->pattern, "/audio") ? "application/octet-stream" : "application/json";
    char *req;
    size_t len = build(&req, rt->method, target, tokens[who], ctype, extra, body, blen);
    struct answer a;
    if (exchange(req, len, strncmp(rt->pattern, "/stream/", 8) == 0, &a) < 0)
        die("cannot connect to the server");
    bool bad = a.status == 0 || (a.status >= 500 && a.status != 503);
    if (bad) {
        fprintf(stderr,
                "\nfuzz_api: %s\n---- request (%zu bytes) ----\n%.*s\n---- answer ----\n%.*s\n",
                a.status == 0 ? "no status line within the deadline" : "a 5xx answer", len,
                (int)(len < 4096 ? len : 4096), req, (int)(a.len < 4096 ? a.len : 4096),
                a.data ? a.data : "");
        __builtin_trap();
    }
    if (trace)
        fprintf(stderr, "fuzz_api: %s %.200s as %s -> %d\n", rt->method, target, caller_names[who],
                a.status);
    free(req);
    free(a.data);
    return 0;
}
