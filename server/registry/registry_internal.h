/*
 * server/registry/registry_internal.h — internal header of the registry module (server/registry/):
 * the handle and the routes of each file. Other modules include registry.h.
 */
#ifndef LC_SERVER_REGISTRY_INTERNAL_H
#define LC_SERVER_REGISTRY_INTERNAL_H

#include "server/http/http.h"
#include "server/registry/registry.h"

struct lc_registry {
    struct lc_registry_deps d;
    lc_cluster_revoked_cb revoked;      /* NULL: nobody listens */
    void *revoked_ctx;
};


/* The writers' roles. */
#define LC_REGISTRY_WRITERS (LC_ROLE_ADMIN | LC_ROLE_OPERATOR)

int lc_communes_routes(struct lc_registry *reg, struct lc_router *r);    /* communes.c */
int lc_clusters_routes(struct lc_registry *reg, struct lc_router *r);    /* clusters.c */
int lc_receivers_routes(struct lc_registry *reg, struct lc_router *r);   /* receivers.c */

#endif
