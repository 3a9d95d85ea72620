/* server/accounts/auth.c — login, tokens, password hashing off the loop, failed-login limits; see
 * accounts.h. */
#include "server/accounts/accounts_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>

#include "server/api/api.h"
#include "common/workers.h"
#include "server/http/http.h"
#include "server/org/org.h"
#include "server/store/store.h"

#define AUTH_QUEUE_MAX 64   /* password jobs waiting or running */

unsigned lc_role_parse(const char *name)
{
    if (strcmp(name, "admin") == 0)
        return LC_ROLE_ADMIN;
    if (strcmp(name, "editor") == 0)
        return LC_ROLE_EDITOR;
    if (strcmp(name, "approver") == 0)
        return LC_ROLE_APPROVER;
    if (strcmp(name, "operator") == 0)
        return LC_ROLE_OPERATOR;
    return 0;
}

const char *lc_role_name(unsigned role)
{
    switch (role) {
    case LC_ROLE_ADMIN: return "admin";
    case LC_ROLE_EDITOR: return "editor";
    case LC_ROLE_APPROVER: return "approver";
    case LC_ROLE_OPERATOR: return "operator";
    default: return "?";
    }
}

int lc_token_new(char token[LC_TOKEN_LEN])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(token, LC_TOKEN_LEN, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    return 0;
}

void lc_token_hash(const char *token, char hex[LC_TOKEN_HASH_LEN])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(hex, LC_TOKEN_HASH_LEN, h, sizeof h);
}

int lc_auth_pwhash(char out[crypto_pwhash_STRBYTES], const char *pw)
{
    return crypto_pwhash_str(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                             crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0 ? 0 : -ENOMEM;
}

/* ---- failed-login counters ----------------------------------------------------------------- */

static struct lc_login_counter *counter_find(struct lc_accounts *a, const char *key, int64_t now,
                                             bool create)
{
    int window = a->d.login_window_s;
    struct lc_login_counter *free_slot = NULL, *oldest = NULL, *oldest_free = NULL;
    for (int i = 0; i < LC_LOGIN_SLOTS; i++) {
        struct lc_login_counter *c = &a->counters[i];
        if (c->key[0] && now - c->window_start >= window)
            c->key[0] = '\0'; /* window over: forget */
        if (c->key[0] == '\0') {
            if (free_slot == NULL)
                free_slot = c;
            continue;
        }
        if (strcmp(c->key, key) == 0)
            return c;
        /* When the table is full, a counter under its limit goes first: a flood of failures
         * under made-up names must not push out (and so lift) a lockout. */
        bool locked = c->failures >= (c->key[0] == 'a' ? a->d.login_max_failures_address
                                                        : a->d.login_max_failures);
        if (!locked && (oldest_free == NULL || c->window_start < oldest_free->window_start))
            oldest_free = c;
        if (oldest == NULL || c->window_start < oldest->window_start)
            oldest = c;
    }
    if (!create)
        return NULL;
    struct lc_login_counter *c = free_slot ? free_slot : oldest_free ? oldest_free : oldest;
    memset(c, 0, sizeof *c);
    snprintf(c->key, sizeof c->key, "%s", key);
    c->window_start = now;
    return c;
}

/* Seconds until the caller may try again, or 0 if not limited. */
static int64_t limited(struct lc_accounts *a, const char *ukey, const char *akey)
{
    const struct lc_accounts_deps *cfg = &a->d;
    int64_t now = lc_now(), wait = 0;
    struct lc_login_counter *u = counter_find(a, ukey, now, false);
    struct lc_login_counter *ad = counter_find(a, akey, now, false);
    bool lim = false;
    if (u && u->failures >= cfg->login_max_failures) {
        lim = true;
        wait = u->window_start + cfg->login_window_s - now;
    }
    if (ad && ad->failures >= cfg->login_max_failures_address) {
        lim = true;
        int64_t w = ad->window_start + cfg->login_window_s - now;
        if (w > wait)
            wait = w;
    }
    if (!lim)
        return 0;
    return wait > 0 ? wait : 1;
}

static void record_failure(struct lc_accounts *a, const char *ukey, const char *akey)
{
    int64_t now = lc_now();
    counter_find(a, ukey, now, true)->failures++;
    counter_find(a, akey, now, true)->failures++;
}

static void clear_user(struct lc_accounts *a, const char *ukey)
{
    struct lc_login_counter *u = counter_find(a, ukey, lc_now(), false);
    if (u)
        u->key[0] = '\0';
}

/* ---- password jobs ------------------------------------------------------------------------- */

struct pw_job {
    struct lc_job job;          /* first: the pool links this */
    struct lc_accounts *a;
    struct lc_req *req;         /* held while the job lives */
    char *password;
    char hash[crypto_pwhash_STRBYTES];
    int rc;
    bool verify;                /* verify password against hash, else hash password */
    lc_pwhash_cb done;
    void *arg;
    /* login */
    int64_t user_id;
    bool user_known;
    char username[128];
    unsigned role;
};

static void pw_work(struct lc_job *j)
{
    struct pw_job *p = (struct pw_job *)j;
    if (p->verify)
        p->rc = crypto_pwhash_str_verify(p->hash, p->password, strlen(p->password)) == 0 ? 0 : -EACCES;
    else
        p->rc = lc_auth_pwhash(p->hash, p->password);
}

/* A job for password whose done callback is done; NULL when out of memory. Freed by pw_free(). */
static struct pw_job *pw_new(struct lc_accounts *a, struct lc_req *req, const char *password,
                             lc_job_done_cb done)
{
    struct pw_job *p = calloc(1, sizeof *p);
    if (p == NULL || (p->password = strdup(password)) == NULL) {
        free(p);
        return NULL;
    }
    p->job.work = pw_work;
    p->job.done = done;
    p->a = a;
    p->req = req;
    return p;
}

static void pw_free(struct pw_job *p)
{
    if (p->password) {
        sodium_memzero(p->password, strlen(p->password));
        free(p->password);
    }
    sodium_memzero(p->hash, sizeof p->hash);
    lc_req_release(p->req);
    free(p);
}

/* Holds the request and queues the job. 0, or < 0 and the caller frees it with pw_free(). */
static int pw_submit(struct pw_job *p)
{
    lc_req_hold(p->req);
    return lc_workers_submit(p->a->d.auth_pool, &p->job);
}

static void pw_hash_done(struct lc_job *j, int cancelled)
{
    struct pw_job *p = (struct pw_job *)j;
    p->done(p->req, cancelled ? -ECANCELED : p->rc, p->hash, p->arg);
    pw_free(p);
}

int lc_auth_hash_password(struct lc_accounts *a, struct lc_req *req, const char *password,
                          lc_pwhash_cb done, void *arg)
{
    if (lc_workers_pending(a->d.auth_pool) >= AUTH_QUEUE_MAX)
        return -EBUSY;
    struct pw_job *p = pw_new(a, req, password, pw_hash_done);
    if (p == NULL)
        return -ENOMEM;
    p->done = done;
    p->arg = arg;
    int rc = pw_submit(p);
    if (rc < 0)
        pw_free(p);
    return rc;
}

/* ---- login --------------------------------------------------------------------------------- */

/* A user name is limited per client address: failures from one address cannot lock the user
 * out of another (an attacker cannot keep the real admin out); each address has its own limit
 * over every name. */
static void keys_for(const struct lc_req *req, const char *username, char *ukey, char *akey)
{
    snprintf(ukey, 200, "u:%.64s|%.64s", req->addr, username);
    snprintf(akey, 200, "a:%s", req->addr);
}

/* A login's new row in `sessions`, written with its audit entry by insert_session(). */
struct session {
    const struct pw_job *p;
    const char *token_hash;
    int64_t now, expires;
};

static int insert_session(struct lc_store *s, void *arg)
{
    static const char ins[] =
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, address)"
        " VALUES (?,?,?,?,?)";
    const struct session *ss = arg;
    sqlite3_stmt *st = lc_store_stmt(s, ins);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, ss->token_hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, ss->p->user_id);
    sqlite3_bind_int64(st, 3, ss->now);
    sqlite3_bind_int64(st, 4, ss->expires);
    sqlite3_bind_text(st, 5, ss->p->req->addr, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    /* The user may have been deleted while the password was checked: the foreign key fails. */
    if (step != SQLITE_DONE ||
        lc_audit(s, ss->p->req, ss->p->username, "login", ss->p->username, NULL) < 0)
        return -EACCES;
    return 0;
}

static void login_done(struct lc_job *j, int cancelled)
{
    struct pw_job *p = (struct pw_job *)j;
    struct lc_accounts *a = p->a;
    struct lc_req *req = p->req;
    char ukey[200], akey[200];
    keys_for(req, p->username, ukey, akey);
    if (cancelled) {
        lc_reply_error(req, 503, "shutting_down", "the server is shutting down");
        goto out;
    }
    if (p->rc != 0 || !p->user_known) {
        record_failure(a, ukey, akey);
        (*a->d.logins_failed)++;
        lc_audit(a->d.store, req, p->username, "login_failed", p->username, NULL);
        lc_reply_error(req, 401, "unauthorized", "wrong user name or password");
        goto out;
    }
    char token[LC_TOKEN_LEN], th[LC_TOKEN_HASH_LEN];
    lc_token_new(token);
    lc_token_hash(token, th);
    struct session ss = {p, th, lc_now(), 0};
    ss.expires = ss.now + a->d.token_ttl_s;
    int rc = lc_store_tx(a->d.store, insert_session, &ss);
    if (rc == -EACCES) {
        lc_reply_error(req, 401, "unauthorized", "wrong user name or password");
    } else if (rc < 0) {
        lc_reply_internal(req, "login: session");
    } else {
        clear_user(a, ukey);
        (*a->d.logins_ok)++;
        lc_reply_json(req, 200, json_pack("{s:s,s:s,s:s,s:o}", "token", token, "role",
                                          lc_role_name(p->role), "username", p->username,
                                          "expires_at", lc_time_json(ss.expires)));
    }
    sodium_memzero(token, sizeof token);
out:
    pw_free(p);
}

/* The user's id, role and password hash into p (user_known), or the dummy hash: an unknown name
 * costs the same Argon2id as a known one, no timing oracle for names. 0, or -EIO when the users
 * cannot be read (a failed read is never "no such user": the login answers 500). */
static int find_user(struct lc_accounts *a, struct pw_job *p, const char *username)
{
    static const char sql[] = "SELECT id, role, pwhash FROM users WHERE username = ?";
    sqlite3_stmt *st = lc_store_stmt(a->d.store, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, username, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        p->user_known = true;
        p->user_id = sqlite3_column_int64(st, 0);
        p->role = lc_role_parse(lc_col_text(st, 1));
        snprintf(p->hash, sizeof p->hash, "%s", lc_col_text(st, 2));
    }
    if (lc_store_done(st) < 0 || (step != SQLITE_ROW && step != SQLITE_DONE))
        return -EIO;
    if (!p->user_known)
        snprintf(p->hash, sizeof p->hash, "%s", a->dummy_hash);
    return 0;
}

/* Refused logins (429) cost no durable write each: one audit entry per client address and
 * minute at most, carrying how many were refused since the previous one (a flood of 4,000 a
 * second wrote a row each: 26 GB a day). */
static void audit_refused(struct lc_accounts *a, const struct lc_req *req, const char *username,
                          const char *akey)
{
    int64_t now = lc_now();
    struct lc_login_counter *c = counter_find(a, akey, now, true);
    c->refused++;
    if (c->refused_logged != 0 && now - c->refused_logged < 60)
        return;
    lc_audit(a->d.store, req, username, "login_limited", username,
             json_pack("{s:i}", "refused", c->refused));
    c->refused = 0;
    c->refused_logged = now;
}

static void post_login(struct lc_req *req, void *ctx)
{
    static const char *const fields[] = {"username", "password", NULL};
    struct lc_accounts *a = ctx;
    const char *username = NULL, *password = NULL;
    json_t *body = lc_api_body(req, fields);
    if (body == NULL)
        return;
    if (lc_api_string(req, body, "username", true, 64, &username) < 0 ||
        lc_api_string(req, body, "password", true, 1024, &password) < 0)
        goto out;
    char ukey[200], akey[200];
    keys_for(req, username, ukey, akey);
    int64_t wait = limited(a, ukey, akey);
    if (wait > 0) {
        (*a->d.logins_limited)++;
        audit_refused(a, req, username, akey);
        char extra[64];
        snprintf(extra, sizeof extra, "Retry-After: %lld\r\n", (long long)wait);
        lc_reply_error_headers(req, 429, extra, "rate_limited",
                               "too many failed logins; try again later");
        goto out;
    }
    /* Each Argon2id takes 64 MiB and a fraction of a second: a flood of logins from many
     * addresses waits in a bounded queue, beyond which it is told to come back. */
    if (lc_workers_pending(a->d.auth_pool) >= AUTH_QUEUE_MAX) {
        static const char busy[] = "{\"error\":\"busy\",\"message\":\"too many logins at once; try again\"}";
        lc_http_respond(req, 503, "application/json", "Retry-After: 1\r\n", busy, sizeof busy - 1);
        goto out;
    }
    struct pw_job *p = pw_new(a, req, password, login_done);
    if (p == NULL) {
        lc_reply_internal(req, "login: out of memory");
        goto out;
    }
    p->verify = true;
    snprintf(p->username, sizeof p->username, "%s", username);
    if (find_user(a, p, username) < 0) {
        lc_reply_internal(req, "login: users");
        pw_free(p);
        goto out;
    }
    if (pw_submit(p) < 0) {
        lc_reply_error(req, 503, "shutting_down", "the server is shutting down");
        pw_free(p);
    }
out:
    json_decref(body);
}

static void post_logout(struct lc_req *req, void *ctx)
{
    static const char sql[] = "DELETE FROM sessions WHERE token_hash = ?";
    struct lc_accounts *a = ctx;
    const char *h = lc_req_header(req, "authorization");
    char th[LC_TOKEN_HASH_LEN];
    lc_token_hash(h + 7, th); /* lc_auth_request checked the "Bearer " prefix */
    sqlite3_stmt *st = lc_store_stmt(a->d.store, sql);
    if (st == NULL) {
        lc_reply_internal(req, "logout");
        return;
    }
    sqlite3_bind_text(st, 1, th, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        lc_reply_internal(req, "logout");
        return;
    }
    lc_audit(a->d.store, req, NULL, "logout", req->user, NULL);
    lc_reply_no_content(req);
}

int lc_auth_request(struct lc_accounts *a, struct lc_req *req)
{
    static const char sql[] =
        "SELECT u.id, u.username, u.role, u.node FROM sessions s JOIN users u ON u.id = s.user_id"
        " WHERE s.token_hash = ? AND s.expires_at > ?";
    const char *h = lc_req_header(req, "authorization");
    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0 || h[7] == '\0' || strlen(h) > 256)
        return -EACCES;
    char th[LC_TOKEN_HASH_LEN];
    lc_token_hash(h + 7, th);
    sqlite3_stmt *st = lc_store_stmt(a->d.store, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, th, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, lc_now());
    int rc = -EACCES, step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        req->user_id = sqlite3_column_int64(st, 0);
        snprintf(req->user, sizeof req->user, "%s", lc_col_text(st, 1));
        req->role = lc_role_parse(lc_col_text(st, 2));
        req->node = sqlite3_column_int64(st, 3);
        rc = 0;
    }
    if (lc_store_done(st) < 0 || (step != SQLITE_ROW && step != SQLITE_DONE))
        rc = -EIO; /* a failed read is a 500, never "unknown token" */
    return rc;
}

/* POST /api/v1/users/{name}/unlock (admin): lifts the failed-login locks of that user name, from
 * every address (someone sharing the user's office address kept failing as them). Audited. */
static void post_unlock(struct lc_req *req, void *ctx)
{
    /* a user outside the caller's subtree is not there (org.h) */
    static const char sql[] = "SELECT 1 FROM users WHERE username = ?1 AND node IN " LC_SCOPE_NODES;
    struct lc_accounts *a = ctx;
    const char *name = req->params[0];
    sqlite3_stmt *st = lc_store_stmt(a->d.store, sql);
    if (st == NULL) {
        lc_reply_internal(req, "unlock");
        return;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    lc_store_bind_scope(st, req->node);
    int step = sqlite3_step(st);
    if (lc_store_done(st) < 0 || (step != SQLITE_ROW && step != SQLITE_DONE)) {
        lc_reply_internal(req, "unlock");
        return;
    }
    if (step == SQLITE_DONE) {
        lc_reply_error(req, 404, "not_found", "no user '%.64s'", name);
        return;
    }
    /* the counters of this name end in "|<name>" (keys_for) */
    size_t nlen = strlen(name);
    int cleared = 0;
    for (int i = 0; i < LC_LOGIN_SLOTS; i++) {
        struct lc_login_counter *c = &a->counters[i];
        size_t klen = strlen(c->key);
        if (c->key[0] == 'u' && klen > nlen && c->key[klen - nlen - 1] == '|' &&
            strcmp(c->key + klen - nlen, name) == 0) {
            c->key[0] = '\0';
            cleared++;
        }
    }
    if (lc_audit(a->d.store, req, NULL, "user_unlock", name,
                 json_pack("{s:i}", "cleared", cleared)) < 0) {
        lc_reply_internal(req, "unlock: audit");
        return;
    }
    lc_reply_json(req, 200, json_pack("{s:s,s:i}", "username", name, "cleared", cleared));
}

static const struct lc_api_route routes[] = {
    {HTTP_POST, "/api/v1/login", LC_ROUTE_OPEN, LC_BODY_JSON, post_login},
    {HTTP_POST, "/api/v1/logout", LC_ROLES_STAFF, LC_BODY_NONE, post_logout},
    {HTTP_POST, "/api/v1/users/{name}/unlock", LC_ROLE_ADMIN, LC_BODY_NONE, post_unlock},
};

int lc_auth_routes(struct lc_accounts *a, struct lc_router *r)
{
    return LC_API_ROUTES(r, routes, a);
}
