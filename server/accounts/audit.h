/*
 * server/accounts/audit.h — the audit log: who did what, when, from where (table `audit`).
 *
 * Entries are written in the same transaction as the change they record where there is one,
 * so a change and its entry are both there or both not. Actions in use: login, login_failed,
 * login_limited, logout, user_create, user_update, user_delete, commune_create, commune_update,
 * commune_delete, cluster_create, cluster_update, cluster_delete, cluster_token, bulletin_create,
 * bulletin_audio, bulletin_rendered, bulletin_failed, bulletin_approve, bulletin_reject,
 * bulletin_withdraw, admin_bootstrap.
 */
#ifndef LC_SERVER_AUDIT_H
#define LC_SERVER_AUDIT_H

#include <jansson.h>

struct lc_app;
struct lc_store;
struct lc_req;
struct lc_router;

/* Records an entry. actor NULL means the request's user (or "system" without a request);
 * detail (may be NULL) is stolen. Returns 0 or -EIO. */
int lc_audit(struct lc_store *store, const struct lc_req *req, const char *actor, const char *action,
             const char *target, json_t *detail);

/* GET /api/v1/audit[?action=&actor=&target=&before=ID&limit=N] → {"audit": [...]}, newest
 * first. */
int lc_audit_routes(struct lc_router *r);

#endif
