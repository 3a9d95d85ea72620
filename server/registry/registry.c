/* server/registry/registry.c — the registry module's handle and routes; see registry.h. */
#include "server/registry/registry_internal.h"

#include <errno.h>
#include <stdlib.h>

int lc_registry_open(struct lc_registry **out, const struct lc_registry_deps *deps)
{
    if ((*out = calloc(1, sizeof **out)) == NULL)
        return -ENOMEM;
    (*out)->d = *deps;
    return 0;
}

void lc_registry_free(struct lc_registry *reg)
{
    free(reg);
}

int lc_registry_routes(struct lc_registry *reg, struct lc_router *r)
{
    int rc;
    if ((rc = lc_communes_routes(reg, r)) < 0 || (rc = lc_clusters_routes(reg, r)) < 0)
        return rc;
    return lc_receivers_routes(reg, r);
}
