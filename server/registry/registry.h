/*
 * server/registry/registry.h — the registry module's door: communes and loudspeaker clusters (the
 * receivers). It owns the tables `communes` and `clusters`: every write to them is here.
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
 * Receiver tokens are stored as SHA-256 (server/accounts/accounts.h); lc_receiver_auth() is for
 * the streaming routes. Loop thread only.
 */
#ifndef LC_SERVER_REGISTRY_H
#define LC_SERVER_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct lc_store;
struct lc_router;
struct lc_req;
struct lc_registry;

/* What the registry needs, copied at open. */
struct lc_registry_deps {
    struct lc_store *store;
    int offline_after_s;        /* [coverage]: a cluster not seen for longer is offline */
    int active_window_s;        /* [coverage]: seen within it, a cluster is working now */
    int unreached_sessions;     /* [coverage]: flagged when reached in none of the last N */
};

/* The module's handle (*out, freed by lc_registry_free). 0 or -ENOMEM. */
int lc_registry_open(struct lc_registry **out, const struct lc_registry_deps *deps);
void lc_registry_free(struct lc_registry *reg);

/* Told when a cluster's credentials end: its token was rotated or the cluster deleted. The
 * assembly points it at the stream engine, which ends the cluster's open stream at once (the
 * registry, below the engine, never calls it). cluster and why are valid during the call. */
typedef void (*lc_cluster_revoked_cb)(void *ctx, const char *cluster, const char *why);
void lc_registry_on_revoke(struct lc_registry *reg, lc_cluster_revoked_cb cb, void *ctx);

/* Adds the communes, clusters and receivers routes, with reg as their handle. */
int lc_registry_routes(struct lc_registry *reg, struct lc_router *r);

/* Authenticates a receiver's request for cluster (bearer or ?token=). 0, or -1 after answering
 * 401/404. */
int lc_receiver_auth(struct lc_store *store, struct lc_req *req, const char *cluster);

/* For routes that any receiver may use (GET /media/{hash}.opus): the cluster in service whose
 * current token the request carries (bearer or ?token=), found by the token's hash; a retired
 * cluster's token matches none. 0 with cluster filled, -ENOENT (no token), -EACCES (no cluster
 * has it) or -EIO. Answers nothing. */
int lc_receiver_find(struct lc_store *store, const struct lc_req *req, char cluster[65]);

/* The commune id must exist and be in service (not retired): 0; otherwise answers `missing`
 * (404 "no commune", or 422 "unknown commune") — or 500 when the read failed, never taken for
 * "no such commune" — and returns -1. */
int lc_commune_require(struct lc_req *req, struct lc_store *store, const char *id, int missing);
/* The same for a commune on record, in service or retired (reports of its history). */
int lc_commune_require_recorded(struct lc_req *req, struct lc_store *store, const char *id,
                                int missing);
/* A request's list of target communes ("communes": ids of communes in service, or ["*"], every
 * commune): a new array of the unique ids in their order, or ["*"]. On bad input answers (400
 * not a non-empty list of strings, 422 an unknown commune or a "*" among ids) and returns NULL. */
json_t *lc_communes_param(struct lc_req *req, struct lc_store *store, json_t *list);

/* Checks token for cluster: 0 if it is the cluster's current token, -ENOENT if there is no such
 * cluster, -EACCES if the token is wrong. */
int lc_cluster_check_token(struct lc_store *store, const char *cluster, const char *token);

/* A sign of life: clusters.last_seen = now_s (nothing if there is no such cluster). Inside the
 * caller's transaction if it has one. 0 or -EIO. */
int lc_cluster_seen(struct lc_store *store, const char *cluster, int64_t now_s);
/* The streaming engine found the cluster's connections replacing each other from addresses a
 * and b: a likely cloned token. Kept (clone_suspected in the clusters API) until the token is
 * rotated. 0 or -EIO. */
int lc_cluster_flag_clone(struct lc_store *store, const char *cluster, int64_t now_s,
                          const char *a, const char *b);

#endif
