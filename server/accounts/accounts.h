/*
 * server/accounts/accounts.h — the accounts module's door: staff accounts, login tokens, roles,
 * failed-login limits, and the audit log. It owns the tables `users`, `sessions` and `audit`:
 * every write to them is here (the audit log through lc_audit()).
 *
 *   POST /api/v1/login {"username","password"} → {"token","role","username","expires_at"}
 *   POST /api/v1/logout → 204
 *   GET /api/v1/users → {"users": [{"username","role","created_at","updated_at"}]}  (admin only,
 *     as the three below)
 *   POST /api/v1/users {"username","password","role"} → 201 the user
 *   PATCH /api/v1/users/{name} {"password"?, "role"?} → the user; a password change or a role
 *     change ends that user's sessions
 *   DELETE /api/v1/users/{name} → 204; ends its sessions. The last admin cannot be demoted or
 *     deleted (409), nor can an admin delete their own account.
 *   GET /api/v1/audit[?action=&actor=&target=&before=ID&limit=N] → {"audit": [...]}, newest
 *     first (admin, operator).
 * User names: 1..64 of [a-z0-9._-], starting with a letter or digit.
 *
 * Passwords: Argon2id strings from libsodium's crypto_pwhash_str (interactive limits), computed
 * and verified on the auth pool, never on the loop. Tokens: 32 random bytes, base64url, given
 * to the client once; the database keeps their SHA-256 only (a token has 256 bits of entropy,
 * so a fast hash is enough), with an expiry. A lookup per request is one indexed SELECT.
 *
 * Failed logins are counted per user name and per client address in a fixed window
 * ([auth] login_window_s); past login_max_failures (name) or login_max_failures_address
 * (address) further attempts are answered 429 with Retry-After, without checking the password,
 * until the window ends. A success clears the name's count. The counts live in memory: a restart
 * forgets them (documented in docs/server.md).
 *
 * Audit entries are written in the same transaction as the change they record where there is
 * one, so a change and its entry are both there or both not. Actions in use: login,
 * login_failed, login_limited, logout, user_create, user_update, user_delete, commune_create,
 * commune_update, commune_delete, cluster_create, cluster_update, cluster_delete, cluster_token,
 * bulletin_create, bulletin_audio, bulletin_rendered, bulletin_failed, bulletin_approve,
 * bulletin_reject, bulletin_withdraw, admin_bootstrap.
 *
 * Loop thread only, but for the Argon2id jobs on the auth pool.
 */
#ifndef LC_SERVER_ACCOUNTS_H
#define LC_SERVER_ACCOUNTS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct lc_store;
struct lc_req;
struct lc_router;
struct lc_workers;
struct lc_accounts;

/* What the accounts module needs; copied at open (the pointers stay the caller's). */
struct lc_accounts_deps {
    struct lc_store *store;
    struct lc_workers *auth_pool;   /* Argon2id hashing and verification */
    uint64_t *logins_ok;            /* counters the module adds to (the server's struct */
    uint64_t *logins_failed;        /* lc_metrics, in server/accounting/metrics.h) */
    uint64_t *logins_limited;
    int token_ttl_s;                /* [auth] */
    int login_max_failures;
    int login_max_failures_address;
    int login_window_s;
    int password_min_length;
};

/* The module's handle (*out, freed by lc_accounts_free); one Argon2id on the calling thread (the
 * hash that unknown names are checked against). 0, -ENOMEM, or -EIO if libsodium cannot start. */
int lc_accounts_open(struct lc_accounts **out, const struct lc_accounts_deps *deps);
void lc_accounts_free(struct lc_accounts *a);
/* New [auth] limits from d (SIGHUP): token lifetime (of tokens issued from now on), the login
 * limits, the password length; d's other fields are not read. */
void lc_accounts_set_limits(struct lc_accounts *a, const struct lc_accounts_deps *d);

/* Adds the login, logout, users and audit routes, with a as their handle. */
int lc_accounts_routes(struct lc_accounts *a, struct lc_router *r);

/* On the first start (no users), creates `admin` with LOACAST_ADMIN_PASSWORD or a random
 * one-time password written to password_file (mode 0600; the log says where, never what; a
 * terminal is told it too), which is deleted when admin's password is changed. Blocking (one
 * Argon2id, an fsync); call before the loop. */
int lc_auth_bootstrap(struct lc_accounts *a, const char *password_file);

/* Checks the request's bearer token: 0 and req->user/role/user_id filled, or -EACCES (-EIO). */
int lc_auth_request(struct lc_accounts *a, struct lc_req *req);

/* "admin" → LC_ROLE_ADMIN, ...; 0 for an unknown name. And back. */
unsigned lc_role_parse(const char *name);
const char *lc_role_name(unsigned role);

/* A new random token (43 base64url characters + NUL) and the hex SHA-256 to store. */
#define LC_TOKEN_LEN 44
#define LC_TOKEN_HASH_LEN 65
int lc_token_new(char token[LC_TOKEN_LEN]);
void lc_token_hash(const char *token, char hex[LC_TOKEN_HASH_LEN]);

/* Records an audit entry. actor NULL means the request's user (or "system" without a request);
 * detail (may be NULL) is stolen. Returns 0 or -EIO. */
int lc_audit(struct lc_store *store, const struct lc_req *req, const char *actor, const char *action,
             const char *target, json_t *detail);
/* Retention: deletes at most batch audit entries older than cutoff (Unix s). Returns how many,
 * or -EIO. */
int lc_audit_prune(struct lc_store *store, int64_t cutoff, int batch);

#endif
