/*
 * server/http/static.c — the web console's files, read once at start and served from memory; see
 * static.h for where they are found and why a request can reach nothing outside the table.
 *
 * Ownership: struct lc_static owns its entries; each entry owns its name and bytes. Built before
 * the loop runs, read-only afterwards (loop thread).
 */
#define LC_LOG_MODULE "static"
#include "server/http/static.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <http_parser.h>
#include <jansson.h>
#include <sodium.h>

#include "common/log.h"
#include "server/http/router.h"

#ifndef LC_WEB_SOURCE_DIR
#define LC_WEB_SOURCE_DIR ""
#endif

#define MAX_FILES 512
#define MAX_TOTAL (16u << 20)

/* Sent with every file. 'self' only: no inline script or style, no eval, no other origin;
 * blob: media because the bulletin preview is fetched with the bearer token and played from a
 * blob URL (an <audio src> cannot send an Authorization header). The %s of img-src is the map
 * tiles' origin ([map] tiles, issue 19), "" when there are none. */
#define SECURITY_HEADERS_FMT                                                                    \
    "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; "       \
    "img-src 'self' data:%s; media-src 'self' blob:; connect-src 'self'; font-src 'self'; "    \
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'\r\n"       \
    "X-Content-Type-Options: nosniff\r\n"                                                       \
    "Referrer-Policy: no-referrer\r\n"                                                          \
    "X-Frame-Options: DENY\r\n"

struct entry {
    char *name;             /* relative to web/: "index.html", "screens/users.js" */
    unsigned char *data;
    size_t len;
    const char *ctype;
    char etag[35];          /* "\"" + 32 hex + "\"" */
};

struct lc_static {
    char dir[PATH_MAX];         /* "" when no console was found: every file is 404 */
    char timezone[64];          /* for station.json */
    char map_tiles[512];        /* [map] tiles and attribution, for station.json (issue 19) */
    char map_attribution[256];
    char headers[1024];         /* SECURITY_HEADERS_FMT with the tiles' origin */
    struct entry *e;
    size_t n, cap;
    size_t total;
};

static const struct {
    const char *ext, *ctype;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
};

static const char *type_of(const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        size_t el = strlen(types[i].ext);
        if (nl > el && strcmp(name + nl - el, types[i].ext) == 0)
            return types[i].ctype;
    }
    return NULL;
}

/* A name segment we serve: [A-Za-z0-9._-], not starting with '.', at most 100 bytes. Anything
 * else (hidden files, editor backups with '~', spaces) stays out of the table. */
static bool segment_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 100 || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

void lc_static_free(struct lc_static *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->e[i].name);
        free(s->e[i].data);
    }
    free(s->e);
    free(s);
}

const char *lc_static_dir(const struct lc_static *s)
{
    return s ? s->dir : "";
}

/* Reads path whole into a new entry named name. */
static int add_file(struct lc_static *s, const char *path, const char *name, size_t size,
                    struct lc_err *err)
{
    if (s->n == MAX_FILES || s->total + size > MAX_TOTAL)
        return lc_err_set(err, -EFBIG, "%s: more than %d files or %u MiB", s->dir, MAX_FILES,
                          MAX_TOTAL >> 20);
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        struct entry *p = realloc(s->e, cap * sizeof *p);
        if (p == NULL)
            return lc_err_set(err, -ENOMEM, "out of memory");
        s->e = p;
        s->cap = cap;
    }
    struct entry e = {.ctype = type_of(name)};
    int rc = 0;
    FILE *f = NULL;
    e.name = strdup(name);
    e.data = malloc(size ? size : 1);
    if (e.name == NULL || e.data == NULL) {
        rc = lc_err_set(err, -ENOMEM, "out of memory");
        goto fail;
    }
    f = fopen(path, "rb");
    if (f == NULL || fread(e.data, 1, size, f) != size) {
        rc = lc_err_set(err, -EIO, "%s: cannot be read", path);
        goto fail;
    }
    fclose(f);
    e.len = size;
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, e.data, e.len);
    e.etag[0] = '"';
    for (int i = 0; i < 16; i++)
        snprintf(e.etag + 1 + 2 * i, 3, "%02x", h[i]);
    e.etag[33] = '"';
    e.etag[34] = '\0';
    s->e[s->n++] = e;
    s->total += size;
    return 0;
fail:
    if (f)
        fclose(f);
    free(e.name);
    free(e.data);
    return rc;
}

/* Adds the regular files of dir (prefix "" for web/ itself, "screens/" one level down,
 * "leaflet/images/" two levels down); goes two levels deep only (the route with most segments is
 * /web/{dir}/{sub}/{file}). Symbolic links and unknown types are skipped. */
static int scan(struct lc_static *s, const char *dir, const char *prefix, int depth,
                struct lc_err *err)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return lc_err_set(err, -errno, "%s: %s", dir, strerror(errno));
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (!segment_ok(de->d_name))
            continue;
        char path[PATH_MAX], name[256];
        struct stat st;
        if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int)sizeof path ||
            snprintf(name, sizeof name, "%s%s", prefix, de->d_name) >= (int)sizeof name)
            continue;
        if (lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth < 2) {
            char sub[258];
            snprintf(sub, sizeof sub, "%s/", name);
            rc = scan(s, path, sub, depth + 1, err);
        } else if (S_ISREG(st.st_mode) && type_of(name) != NULL) {
            rc = add_file(s, path, name, (size_t)st.st_size, err);
        }
    }
    closedir(d);
    return rc;
}

static bool has_index(const char *dir)
{
    char p[PATH_MAX];
    struct stat st;
    return snprintf(p, sizeof p, "%s/index.html", dir) < (int)sizeof p && stat(p, &st) == 0 &&
           S_ISREG(st.st_mode);
}

/* The default places, in order; the first with an index.html wins. */
static bool find_default(char *out, size_t n)
{
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        static const char *const rel[] = {"/../web", "/../share/loacast/web"};
        for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
            char cand[PATH_MAX + 32];
            snprintf(cand, sizeof cand, "%s%s", exe, rel[i]);
            char *real = realpath(cand, NULL);
            bool ok = real && has_index(real) && strlen(real) < n;
            if (ok)
                snprintf(out, n, "%s", real);
            free(real);
            if (ok)
                return true;
        }
    }
    if (LC_WEB_SOURCE_DIR[0] && has_index(LC_WEB_SOURCE_DIR) && strlen(LC_WEB_SOURCE_DIR) < n) {
        snprintf(out, n, "%s", LC_WEB_SOURCE_DIR);
        return true;
    }
    return false;
}

int lc_static_open(struct lc_static **out, const char *web_dir, const char *tz,
                   struct lc_err *err)
{
    *out = NULL;
    struct lc_static *s = calloc(1, sizeof *s);
    if (s == NULL)
        return lc_err_set(err, -ENOMEM, "out of memory");
    int rc = 0;
    snprintf(s->timezone, sizeof s->timezone, "%s", tz);
    snprintf(s->headers, sizeof s->headers, SECURITY_HEADERS_FMT, "");
    if (web_dir[0]) {
        if (!has_index(web_dir)) {
            rc = lc_err_set(err, -ENOENT, "[server] web_dir: %s holds no index.html", web_dir);
            goto fail;
        }
        snprintf(s->dir, sizeof s->dir, "%s", web_dir);
    } else if (!find_default(s->dir, sizeof s->dir)) {
        lc_log(LC_LOG_WARN, "web console files not found (set [server] web_dir); serving the API only");
        s->dir[0] = '\0';
        *out = s;
        return 0;
    }
    if ((rc = scan(s, s->dir, "", 0, err)) < 0)
        goto fail;
    lc_log(LC_LOG_INFO, "web console: %zu files (%zu bytes) from %s", s->n, s->total, s->dir);
    *out = s;
    return 0;
fail:
    lc_static_free(s);
    return rc;
}

/* The origin of a tile URL template into out: "https://a.tile.example.org/{z}/{x}/{y}.png"
 * gives "https://a.tile.example.org"; a first host label with a placeholder ("{s}.tile...")
 * becomes '*' (CSP's wildcard: "*.tile.example.org" after the scheme). The URL was checked by the configuration (server/config.c). */
static void tiles_origin(const char *url, char *out, size_t n)
{
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    size_t hl = strcspn(host, "/?#");
    const char *dot = memchr(host, '.', hl);
    if (dot && memchr(host, '{', (size_t)(dot - host)))
        snprintf(out, n, "%.*s*%.*s", (int)(host - url), url, (int)(hl - (size_t)(dot - host)),
                 dot);
    else
        snprintf(out, n, "%.*s", (int)(host - url + (ptrdiff_t)hl), url);
}

void lc_static_set_map(struct lc_static *s, const char *tiles, const char *attribution)
{
    char origin[600] = "";
    snprintf(s->map_tiles, sizeof s->map_tiles, "%s", tiles);
    snprintf(s->map_attribution, sizeof s->map_attribution, "%s", attribution);
    if (tiles[0]) {
        origin[0] = ' ';
        tiles_origin(tiles, origin + 1, sizeof origin - 1);
    }
    snprintf(s->headers, sizeof s->headers, SECURITY_HEADERS_FMT, origin);
}

/* ---- routes -------------------------------------------------------------------------------- */

static const struct entry *lookup(const struct lc_static *s, const char *name)
{
    for (size_t i = 0; s && i < s->n; i++)
        if (strcmp(s->e[i].name, name) == 0)
            return &s->e[i];
    return NULL;
}

/* The JSON error answer of the API's shape ({"error","message"}); http/ answers its own 404s. */
static void not_found(struct lc_req *req, const char *message)
{
    json_t *o = json_pack("{s:s,s:s}", "error", "not_found", "message", message);
    char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (body == NULL) {
        lc_http_respond(req, 500, "text/plain", NULL, "out of memory\n", 14);
        return;
    }
    lc_http_respond(req, 404, "application/json", NULL, body, strlen(body));
    free(body);
}

static void serve(struct lc_req *req, const struct lc_static *s, const char *name)
{
    if (s->dir[0] == '\0') {
        not_found(req, "the web console's files were not found (set [server] web_dir)");
        return;
    }
    const struct entry *e = lookup(s, name);
    if (e == NULL) {
        not_found(req, "no such file");
        return;
    }
    char extra[1200];
    snprintf(extra, sizeof extra, "%sCache-Control: no-cache\r\nETag: %s\r\n", s->headers,
             e->etag);
    const char *inm = lc_req_header(req, "if-none-match");
    if (inm && strstr(inm, e->etag)) {
        lc_http_respond(req, 304, NULL, extra, NULL, 0);
        return;
    }
    lc_http_respond(req, 200, e->ctype, extra, e->data, e->len);
}

static void get_index(struct lc_req *req, void *ctx)
{
    serve(req, ctx, "index.html");
}

static void get_file(struct lc_req *req, void *ctx)
{
    serve(req, ctx, req->params[0]);
}

static void get_file3(struct lc_req *req, void *ctx)
{
    char name[512];     /* as get_file2: three single segments, an exact lookup */
    if (snprintf(name, sizeof name, "%s/%s/%s", req->params[0], req->params[1],
                 req->params[2]) >= (int)sizeof name) {
        not_found(req, "no such file");
        return;
    }
    serve(req, ctx, name);
}

static void get_file2(struct lc_req *req, void *ctx)
{
    char name[512];
    /* Both parts are single path segments (no '/'); the lookup is exact, so "..", "%2e%2e" or
     * anything else not in the table is 404. */
    if (snprintf(name, sizeof name, "%s/%s", req->params[0], req->params[1]) >= (int)sizeof name) {
        not_found(req, "no such file");
        return;
    }
    serve(req, ctx, name);
}

/* What the console needs to know about the station: its time zone (dates are shown in it,
 * whatever the browser's zone), the server's version and the map's tiles (issue 19; "" none). */
static void get_station(struct lc_req *req, void *ctx)
{
    const struct lc_static *s = ctx;
    json_t *o = json_pack("{s:s,s:s,s:{s:s,s:s}}", "timezone", s->timezone, "version",
                          LOACAST_VERSION, "map", "tiles", s->map_tiles, "attribution",
                          s->map_attribution);
    char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (body == NULL) {
        lc_http_respond(req, 500, "text/plain", NULL, "out of memory\n", 14);
        return;
    }
    char extra[1100];
    snprintf(extra, sizeof extra, "%sCache-Control: no-cache\r\n", s->headers);
    lc_http_respond(req, 200, "application/json", extra, body, strlen(body));
    free(body);
}

int lc_static_routes(struct lc_static *s, struct lc_router *r)
{
    static const struct {
        const char *pattern;
        lc_route_fn fn;
    } routes[] = {
        {"/", get_index},
        {"/index.html", get_index},
        {"/web/station.json", get_station},
        {"/web/{file}", get_file},
        {"/web/{dir}/{file}", get_file2},
        {"/web/{dir}/{sub}/{file}", get_file3},     /* issue 19: leaflet/images/ */
    };
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof routes / sizeof routes[0]; i++)
        rc = lc_router_add(r, HTTP_GET, routes[i].pattern, LC_ROUTE_OPEN, LC_BODY_NONE,
                               routes[i].fn, s);
    return rc;
}
