/*
 * server/http/router.h — maps (method, path) to a route: its handler, the roles allowed, the body kind.
 *
 * Patterns are literal segments and parameters: "/api/v1/bulletins/{id}/audio". A parameter
 * matches one non-empty segment and may sit between literal text in its segment
 * ("/stream/{cluster}.opus"). Matching tries routes in the order they were added; the first
 * whose pattern and method match wins. A path that matches some pattern but with another method
 * is 405 (the Allow list is given); no pattern at all is 404.
 *
 * Modules add their routes at start (lc_accounts_routes(), lc_bulletins_routes(), ...), each with
 * its own handle as the routes' ctx; later issues add theirs the same way, nothing here changes.
 * The router is immutable once the server runs and only used on the loop thread.
 */
#ifndef LC_SERVER_ROUTER_H
#define LC_SERVER_ROUTER_H

#include <stddef.h>

#include "server/http/http.h"

/* Roles of staff accounts, as bits, so that a route names the set it admits. */
#define LC_ROLE_ADMIN 0x1u
#define LC_ROLE_EDITOR 0x2u
#define LC_ROLE_APPROVER 0x4u
#define LC_ROLE_OPERATOR 0x8u
#define LC_ROLES_STAFF 0xfu
/* No staff token needed (login, health, metrics, receivers with their own token). */
#define LC_ROUTE_OPEN 0x0u

enum lc_body {
    LC_BODY_NONE,   /* no body expected; a small one is read and ignored */
    LC_BODY_JSON,   /* up to the JSON limit */
    LC_BODY_AUDIO,  /* up to the upload limit */
};

/* A handler gets the request and the handle of the module that added the route (ctx), never the
 * whole server. */
typedef void (*lc_route_fn)(struct lc_req *req, void *ctx);

struct lc_route {
    int method;             /* enum http_method */
    const char *pattern;
    unsigned roles;         /* LC_ROLE_* bits, or LC_ROUTE_OPEN */
    enum lc_body body;
    lc_route_fn fn;
    void *ctx;              /* the module's handle, given to fn */
};

struct lc_router;

int lc_router_new(struct lc_router **out);
void lc_router_free(struct lc_router *r);

/* Adds a route whose handler gets ctx (the module's handle); pattern must be a static string.
 * Returns 0 or -ENOMEM/-EINVAL. */
int lc_router_add(struct lc_router *r, int method, const char *pattern, unsigned roles,
                      enum lc_body body, lc_route_fn fn, void *ctx);

/* Runs the route's handler. */
void lc_route_run(const struct lc_route *rt, struct lc_req *req);

/* Finds the route for method and path. On success returns it and stores the parameters
 * (malloc'd copies, owned by req) in req->params. Otherwise NULL with *status 404 or 405 and,
 * for 405, the allowed methods in allow ("GET, POST"). HEAD matches GET routes. */
const struct lc_route *lc_router_match(const struct lc_router *r, struct lc_req *req, int *status,
                                       char *allow, size_t allow_len);

/* Number of routes and the i-th (for tests and docs). */
size_t lc_router_count(const struct lc_router *r);
const struct lc_route *lc_router_at(const struct lc_router *r, size_t i);

#endif
