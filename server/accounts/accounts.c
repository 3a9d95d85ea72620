/* server/accounts/accounts.c — the accounts module's handle and routes; see accounts.h. */
#include "server/accounts/accounts_internal.h"

#include <errno.h>
#include <stdlib.h>

int lc_accounts_open(struct lc_accounts **out, const struct lc_accounts_deps *deps)
{
    if (sodium_init() < 0)
        return -EIO;
    struct lc_accounts *a = calloc(1, sizeof *a);
    if (a == NULL)
        return -ENOMEM;
    a->d = *deps;
    char pw[LC_TOKEN_LEN];
    lc_token_new(pw);
    if (lc_auth_pwhash(a->dummy_hash, pw) < 0) {
        free(a);
        return -ENOMEM;
    }
    *out = a;
    return 0;
}

void lc_accounts_free(struct lc_accounts *a)
{
    free(a);
}

void lc_accounts_set_limits(struct lc_accounts *a, const struct lc_accounts_deps *d)
{
    a->d.token_ttl_s = d->token_ttl_s;
    a->d.login_max_failures = d->login_max_failures;
    a->d.login_max_failures_address = d->login_max_failures_address;
    a->d.login_window_s = d->login_window_s;
    a->d.password_min_length = d->password_min_length;
}

int lc_accounts_routes(struct lc_accounts *a, struct lc_router *r)
{
    int rc;
    if ((rc = lc_auth_routes(a, r)) < 0 || (rc = lc_users_routes(a, r)) < 0)
        return rc;
    return lc_audit_routes(a, r);
}
