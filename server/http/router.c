/* server/http/router.c — pattern routing; see router.h. A linear scan: some fifty routes, a few
 * comparisons each, cheaper than any index would be to keep. */
#include "server/http/router.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "common/buf.h"

struct lc_router {
    struct lc_route *routes;
    size_t n, cap;
};

int lc_router_new(struct lc_router **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : -ENOMEM;
}

void lc_router_free(struct lc_router *r)
{
    if (r == NULL)
        return;
    free(r->routes);
    free(r);
}

static int add(struct lc_router *r, const struct lc_route *rt)
{
    if (rt->pattern[0] != '/' || rt->fn == NULL)
        return -EINVAL;
    struct lc_route *p = lc_grow(r->routes, r->n, &r->cap, sizeof *p, 32);
    if (p == NULL)
        return -ENOMEM;
    r->routes = p;
    r->routes[r->n++] = *rt;
    return 0;
}

int lc_router_add(struct lc_router *r, int method, const char *pattern, unsigned roles,
                      enum lc_body body, lc_route_fn fn, void *ctx)
{
    return add(r, &(struct lc_route){method, pattern, roles, body, fn, ctx});
}

void lc_route_run(const struct lc_route *rt, struct lc_req *req)
{
    rt->fn(req, rt->ctx);
}

/* Matches one pattern segment [ps, pe) against one path segment [s, e). A segment pattern is
 * literal text with at most one "{name}" in it. On a match with a parameter, its value's span
 * is stored in *vs and *ve. */
static int match_segment(const char *ps, const char *pe, const char *s, const char *e,
                         const char **vs, const char **ve)
{
    const char *open = memchr(ps, '{', (size_t)(pe - ps));
    if (open == NULL)
        return (pe - ps) == (e - s) && memcmp(ps, s, (size_t)(e - s)) == 0 ? 0 : -1;
    const char *close = memchr(open, '}', (size_t)(pe - open));
    if (close == NULL)
        return -1;
    size_t pre = (size_t)(open - ps), post = (size_t)(pe - close - 1);
    if ((size_t)(e - s) < pre + post + 1)
        return -1;
    if (memcmp(ps, s, pre) != 0 || memcmp(close + 1, e - post, post) != 0)
        return -1;
    *vs = s + pre;
    *ve = e - post;
    return 0;
}

/* Whole-path match; on success the parameter spans are in vs/ve and their count in *np. */
static int match_path(const char *pattern, const char *path, const char **vs, const char **ve,
                      int *np)
{
    const char *p = pattern, *s = path;
    *np = 0;
    while (*p == '/' && *s == '/') {
        p++;
        s++;
        const char *pe = p + strcspn(p, "/");
        const char *se = s + strcspn(s, "/");
        const char *a = NULL, *b = NULL;
        if (match_segment(p, pe, s, se, &a, &b) < 0)
            return -1;
        if (a != NULL) {
            if (*np >= LC_HTTP_MAX_PARAMS)
                return -1;
            vs[*np] = a;
            ve[*np] = b;
            (*np)++;
        }
        p = pe;
        s = se;
    }
    return *p == '\0' && *s == '\0' ? 0 : -1;
}

const struct lc_route *lc_router_match(const struct lc_router *r, struct lc_req *req, int *status,
                                       char *allow, size_t allow_len)
{
    const char *vs[LC_HTTP_MAX_PARAMS], *ve[LC_HTTP_MAX_PARAMS];
    int np = 0;
    bool path_known = false;
    size_t alen = 0;
    if (allow_len)
        allow[0] = '\0';
    int method = req->method == HTTP_HEAD ? HTTP_GET : req->method;
    for (size_t i = 0; i < r->n; i++) {
        const struct lc_route *rt = &r->routes[i];
        if (match_path(rt->pattern, req->path, vs, ve, &np) < 0)
            continue;
        if (rt->method != method) {
            path_known = true;
            const char *m = http_method_str(rt->method);
            if (alen < allow_len && !strstr(allow, m)) {
                int n = snprintf(allow + alen, allow_len - alen, "%s%s", alen ? ", " : "", m);
                if (n > 0)
                    alen += (size_t)n;
            }
            continue;
        }
        for (int k = 0; k < req->nparams; k++)
            free(req->params[k]);
        req->nparams = 0;
        for (int k = 0; k < np; k++) {
            req->params[k] = strndup(vs[k], (size_t)(ve[k] - vs[k]));
            if (req->params[k] == NULL) {
                *status = 503;
                return NULL;
            }
            req->nparams = k + 1;
        }
        return rt;
    }
    *status = path_known ? 405 : 404;
    return NULL;
}

size_t lc_router_count(const struct lc_router *r)
{
    return r->n;
}

const struct lc_route *lc_router_at(const struct lc_router *r, size_t i)
{
    return i < r->n ? &r->routes[i] : NULL;
}
