/*
 * server/accounts/auth.h — staff accounts: passwords, login tokens, roles, failed-login limits.
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
 */
#ifndef LC_SERVER_AUTH_H
#define LC_SERVER_AUTH_H

#include <stddef.h>

#include <sodium.h>

struct lc_app;
struct lc_req;
struct lc_router;
struct lc_auth;

int lc_auth_open(struct lc_auth **out);
void lc_auth_free(struct lc_auth *a);

/* On the first start (no users), creates `admin` with LOACAST_ADMIN_PASSWORD or a random
 * one-time password printed once on stdout. Blocking (one Argon2id); call before the loop. */
int lc_auth_bootstrap(struct lc_app *app);

/* Checks the request's bearer token: 0 and req->user/role/user_id filled, or -EACCES. */
int lc_auth_request(struct lc_app *app, struct lc_req *req);

/* "admin" → LC_ROLE_ADMIN, ...; 0 for an unknown name. And back. */
unsigned lc_role_parse(const char *name);
const char *lc_role_name(unsigned role);

/* A new random token (43 base64url characters + NUL) and the hex SHA-256 to store. */
#define LC_TOKEN_LEN 44
#define LC_TOKEN_HASH_LEN 65
int lc_token_new(char token[LC_TOKEN_LEN]);
void lc_token_hash(const char *token, char hex[LC_TOKEN_HASH_LEN]);

/* Hashes password on the auth pool; done(req, rc, hash, arg) runs on the loop with rc 0 and the
 * Argon2id string, or rc < 0. req is held meanwhile (it may no longer be alive). */
typedef void (*lc_pwhash_cb)(struct lc_req *req, int rc, const char *hash, void *arg);
int lc_auth_hash_password(struct lc_app *app, struct lc_req *req, const char *password,
                          lc_pwhash_cb done, void *arg);

/* Routes: POST /api/v1/login, POST /api/v1/logout. */
int lc_auth_routes(struct lc_router *r);

#endif
