/*
 * server/registry/registry.h — communes and loudspeaker clusters (the receivers).
 *
 *   GET|POST /api/v1/communes, GET|PATCH|DELETE /api/v1/communes/{id}
 *     {"id","name","population"} — id a slug; DELETE refuses (409) while clusters or bulletins
 *     refer to the commune.
 *   GET|POST /api/v1/clusters[?commune=], GET|PATCH|DELETE /api/v1/clusters/{id}
 *     {"id","commune","name","lat","lon","speakers","population"} (+ token_issued_at, last_seen);
 *     POST answers the receiver token once ("token"); the id may be given (a slug) or is made
 *     from the commune ("quang-phu-3").
 *   POST /api/v1/clusters/{id}/token — a new token, the old one stops working at once.
 * Reading: every staff role. Writing: admin and operator.
 *
 *   POST /api/v1/receivers/{cluster}/status (receiver token) — a receiver's report (volume,
 *     signal, firmware, amplifier), kept as the cluster's "status"; a sign of life.
 *
 * Receiver tokens are stored as SHA-256 (auth.h); lc_receiver_auth() is for the streaming
 * routes of issue 6.
 */
#ifndef LC_SERVER_REGISTRY_H
#define LC_SERVER_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

struct lc_app;
struct lc_store;
struct lc_router;

struct lc_req;

int lc_communes_routes(struct lc_router *r);
int lc_clusters_routes(struct lc_router *r);
/* POST /api/v1/receivers/{cluster}/status (receivers.c). */
int lc_receivers_routes(struct lc_router *r);

/* Authenticates a receiver's request for cluster (bearer or ?token=). 0, or -1 after answering
 * 401/404. */
int lc_receiver_auth(struct lc_store *store, struct lc_req *req, const char *cluster);

/* True if the commune exists. */
bool lc_commune_exists(struct lc_store *store, const char *id);

/* Checks token for cluster: 0 if it is the cluster's current token, -ENOENT if there is no such
 * cluster, -EACCES if the token is wrong. */
int lc_cluster_check_token(struct lc_store *store, const char *cluster, const char *token);

#endif
