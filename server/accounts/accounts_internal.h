/*
 * server/accounts/accounts_internal.h — internal header of the accounts module (server/accounts/):
 * the handle, the password jobs of users.c, the routes of each file. Other modules include
 * accounts.h.
 */
#ifndef LC_SERVER_ACCOUNTS_INTERNAL_H
#define LC_SERVER_ACCOUNTS_INTERNAL_H

#include <limits.h>
#include <stdint.h>

#include <sodium.h>

#include "server/accounts/accounts.h"

#define LC_LOGIN_SLOTS 4096

/* Failed logins of one user name from one client address ("u:<address>|<name>") or of one
 * client address ("a:<address>") in a window. */
struct lc_login_counter {
    char key[200];          /* "" = free */
    int failures;
    int64_t window_start;
    int refused;            /* logins refused (429) in this window since the last audit entry */
    int64_t refused_logged; /* when their last audit entry was written (0: never) */
};

struct lc_accounts {
    struct lc_accounts_deps d;
    struct lc_login_counter counters[LC_LOGIN_SLOTS];
    char dummy_hash[crypto_pwhash_STRBYTES];    /* verified against for unknown names */
    char password_file[PATH_MAX];   /* the first start's one-time password; "" once changed */
};

/* Hashes password on the auth pool; done(req, rc, hash, arg) runs on the loop with rc 0 and the
 * Argon2id string, or rc < 0. req is held meanwhile (it may no longer be alive). 0, or -EBUSY
 * (too many jobs), -ENOMEM, -ESHUTDOWN: done is then not called. */
/* The Argon2id string of pw (interactive limits), on the calling thread. 0 or -ENOMEM. */
int lc_auth_pwhash(char out[crypto_pwhash_STRBYTES], const char *pw);

typedef void (*lc_pwhash_cb)(struct lc_req *req, int rc, const char *hash, void *arg);
int lc_auth_hash_password(struct lc_accounts *a, struct lc_req *req, const char *password,
                          lc_pwhash_cb done, void *arg);

int lc_auth_routes(struct lc_accounts *a, struct lc_router *r);     /* auth.c */
int lc_users_routes(struct lc_accounts *a, struct lc_router *r);    /* users.c */
int lc_audit_routes(struct lc_accounts *a, struct lc_router *r);    /* audit.c */

#endif
