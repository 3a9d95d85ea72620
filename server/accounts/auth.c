/* server/accounts/auth.c — login, tokens, password hashing off the loop, failed-login limits; see
 * auth.h. */
#include "server/accounts/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>

#include "server/api/api.h"
#include "server/accounts/audit.h"
#include "common/workers.h"
#include "server/http/router.h"
#include "server/store/store.h"

#define LIMIT_SLOTS 4096
#define AUTH_QUEUE_MAX 64   /* password jobs waiting or running */

struct counter {
    char key[200];          /* "u:<name>" or "a:<address>"; "" = free */
    int failures;
    int64_t window_start;
};

struct lc_auth {
    struct counter counters[LIMIT_SLOTS];
    char dummy_hash[crypto_pwhash_STRBYTES];    /* verified against for unknown names */
};

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

static int pwhash(char out[crypto_pwhash_STRBYTES], const char *pw)
{
    return crypto_pwhash_str(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                             crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0 ? 0 : -ENOMEM;
}

int lc_auth_open(struct lc_auth **out)
{
    if (sodium_init() < 0)
        return -EIO;
    struct lc_auth *a = calloc(1, sizeof *a);
    if (a == NULL)
        return -ENOMEM;
    char pw[LC_TOKEN_LEN];
    lc_token_new(pw);
    if (pwhash(a->dummy_hash, pw) < 0) {
        free(a);
        return -ENOMEM;
    }
    *out = a;
    return 0;
}

void lc_auth_free(struct lc_auth *a)
{
    free(a);
}

/* ---- failed-login counters ----------------------------------------------------------------- */

static struct counter *counter_find(struct lc_auth *a, const char *key, int64_t now, int window,
                                    bool create)
{
    struct counter *free_slot = NULL, *oldest = NULL;
    for (int i = 0; i < LIMIT_SLOTS; i++) {
        struct counter *c = &a->counters[i];
        if (c->key[0] && now - c->window_start >= window)
            c->key[0] = '\0'; /* window over: forget */
        if (c->key[0] == '\0') {
            if (free_slot == NULL)
                free_slot = c;
            continue;
        }
        if (strcmp(c->key, key) == 0)
            return c;
        if (oldest == NULL || c->window_start < oldest->window_start)
            oldest = c;
    }
    if (!create)
        return NULL;
    struct counter *c = free_slot ? free_slot : oldest;
    snprintf(c->key, sizeof c->key, "%s", key);
    c->failures = 0;
    c->window_start = now;
    return c;
}

/* Seconds until the caller may try again, or 0 if not limited. */
static int64_t limited(struct lc_app *app, const char *ukey, const char *akey)
{
    struct lc_config *cfg = &app->cfg;
    int64_t now = lc_now(), wait = 0;
    struct counter *u = counter_find(app->auth, ukey, now, cfg->login_window_s, false);
    struct counter *ad = counter_find(app->auth, akey, now, cfg->login_window_s, false);
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

static void record_failure(struct lc_app *app, const char *ukey, const char *akey)
{
    int64_t now = lc_now();
    struct counter *u = counter_find(app->auth, ukey, now, app->cfg.login_window_s, true);
    u->failures++;
    struct counter *ad = counter_find(app->auth, akey, now, app->cfg.login_window_s, true);
    ad->failures++;
}

static void clear_user(struct lc_app *app, const char *ukey)
{
    struct counter *u = counter_find(app->auth, ukey, lc_now(), app->cfg.login_window_s, false);
    if (u)
        u->key[0] = '\0';
}

/* ---- password jobs ------------------------------------------------------------------------- */

struct pw_job {
    struct lc_job job;          /* first: the pool links this */
    struct lc_app *app;
    struct lc_req *req;
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
        p->rc = pwhash(p->hash, p->password);
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

static void pw_hash_done(struct lc_job *j, int cancelled)
{
    struct pw_job *p = (struct pw_job *)j;
    p->done(p->req, cancelled ? -ECANCELED : p->rc, p->hash, p->arg);
    pw_free(p);
}

int lc_auth_hash_password(struct lc_app *app, struct lc_req *req, const char *password,
                          lc_pwhash_cb done, void *arg)
{
    if (lc_workers_pending(app->auth_pool) >= AUTH_QUEUE_MAX)
        return -EBUSY;
    struct pw_job *p = calloc(1, sizeof *p);
    if (p == NULL || (p->password = strdup(password)) == NULL) {
        free(p);
        return -ENOMEM;
    }
    p->job.work = pw_work;
    p->job.done = pw_hash_done;
    p->app = app;
    p->req = req;
    p->done = done;
    p->arg = arg;
    lc_req_hold(req);
    int rc = lc_workers_submit(app->auth_pool, &p->job);
    if (rc < 0)
        pw_free(p);
    return rc;
}

/* ---- login --------------------------------------------------------------------------------- */

static void keys_for(const struct lc_req *req, const char *username, char *ukey, char *akey)
{
    snprintf(ukey, 200, "u:%.190s", username);
    snprintf(akey, 200, "a:%s", req->addr);
}

static void login_done(struct lc_job *j, int cancelled)
{
    struct pw_job *p = (struct pw_job *)j;
    struct lc_app *app = p->app;
    struct lc_req *req = p->req;
    char ukey[200], akey[200];
    keys_for(req, p->username, ukey, akey);
    if (cancelled) {
        lc_reply_error(req, 503, "shutting_down", "the server is shutting down");
        goto out;
    }
    if (p->rc != 0 || !p->user_known) {
        record_failure(app, ukey, akey);
        app->metrics.logins_failed++;
        lc_audit(app->store, req, p->username, "login_failed", p->username, NULL);
        lc_reply_error(req, 401, "unauthorized", "wrong user name or password");
        goto out;
    }
    static const char ins[] =
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, address)"
        " VALUES (?,?,?,?,?)";
    char token[LC_TOKEN_LEN], th[LC_TOKEN_HASH_LEN];
    lc_token_new(token);
    lc_token_hash(token, th);
    int64_t now = lc_now(), exp = now + app->cfg.token_ttl_s;
    sqlite3_stmt *st = lc_store_stmt(app->store, ins);
    if (st == NULL || lc_store_begin(app->store) < 0) {
        lc_reply_internal(req, "login: begin");
        goto out;
    }
    sqlite3_bind_text(st, 1, th, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, p->user_id);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_int64(st, 4, exp);
    sqlite3_bind_text(st, 5, req->addr, -1, SQLITE_TRANSIENT);
    /* The user may have been deleted while the password was checked: the foreign key fails. */
    if (sqlite3_step(st) != SQLITE_DONE ||
        lc_audit(app->store, req, p->username, "login", p->username, NULL) < 0 ||
        lc_store_commit(app->store) < 0) {
        lc_store_rollback(app->store);
        lc_reply_error(req, 401, "unauthorized", "wrong user name or password");
        goto out;
    }
    clear_user(app, ukey);
    app->metrics.logins_ok++;
    lc_reply_json(req, 200, json_pack("{s:s,s:s,s:s,s:o}", "token", token, "role",
                                      lc_role_name(p->role), "username", p->username,
                                      "expires_at", lc_time_json(exp)));
    sodium_memzero(token, sizeof token);
out:
    pw_free(p);
}

static void post_login(struct lc_req *req)
{
    static const char *const fields[] = {"username", "password", NULL};
    static const char sql[] = "SELECT id, role, pwhash FROM users WHERE username = ?";
    struct lc_app *app = lc_app(req);
    const char *username = NULL, *password = NULL;
    json_t *body = lc_api_body(req, fields);
    if (body == NULL)
        return;
    if (lc_api_string(req, body, "username", true, 64, &username) < 0 ||
        lc_api_string(req, body, "password", true, 1024, &password) < 0)
        goto out;
    char ukey[200], akey[200];
    keys_for(req, username, ukey, akey);
    int64_t wait = limited(app, ukey, akey);
    if (wait > 0) {
        char extra[64];
        snprintf(extra, sizeof extra, "Retry-After: %lld\r\n", (long long)wait);
        app->metrics.logins_limited++;
        lc_audit(app->store, req, username, "login_limited", username, NULL);
        char *s = NULL;
        json_t *o = json_pack("{s:s,s:s}", "error", "rate_limited", "message",
                              "too many failed logins; try again later");
        s = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        lc_http_respond(req, 429, "application/json", extra, s, s ? strlen(s) : 0);
        free(s);
        goto out;
    }
    /* Each Argon2id takes 64 MiB and a fraction of a second: a flood of logins from many
     * addresses waits in a bounded queue, beyond which it is told to come back. */
    if (lc_workers_pending(app->auth_pool) >= AUTH_QUEUE_MAX) {
        static const char busy[] = "{\"error\":\"busy\",\"message\":\"too many logins at once; try again\"}";
        lc_http_respond(req, 503, "application/json", "Retry-After: 1\r\n", busy, sizeof busy - 1);
        goto out;
    }
    struct pw_job *p = calloc(1, sizeof *p);
    if (p == NULL || (p->password = strdup(password)) == NULL) {
        free(p);
        lc_reply_internal(req, "login: out of memory");
        goto out;
    }
    p->job.work = pw_work;
    p->job.done = login_done;
    p->app = app;
    p->req = req;
    p->verify = true;
    snprintf(p->username, sizeof p->username, "%s", username);
    sqlite3_stmt *st = lc_store_stmt(app->store, sql);
    if (st != NULL) {
        sqlite3_bind_text(st, 1, username, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW) {
            p->user_known = true;
            p->user_id = sqlite3_column_int64(st, 0);
            p->role = lc_role_parse(lc_col_text(st, 1));
            snprintf(p->hash, sizeof p->hash, "%s", lc_col_text(st, 2));
        }
        sqlite3_reset(st);
    }
    /* An unknown name costs the same Argon2id as a known one: no timing oracle for names. */
    if (!p->user_known)
        snprintf(p->hash, sizeof p->hash, "%s", app->auth->dummy_hash);
    lc_req_hold(req);
    if (lc_workers_submit(app->auth_pool, &p->job) < 0) {
        lc_reply_error(req, 503, "shutting_down", "the server is shutting down");
        pw_free(p);
    }
out:
    json_decref(body);
}

static void post_logout(struct lc_req *req)
{
    static const char sql[] = "DELETE FROM sessions WHERE token_hash = ?";
    struct lc_app *app = lc_app(req);
    const char *h = lc_req_header(req, "authorization");
    char th[LC_TOKEN_HASH_LEN];
    lc_token_hash(h + 7, th); /* lc_auth_request checked the "Bearer " prefix */
    sqlite3_stmt *st = lc_store_stmt(app->store, sql);
    if (st == NULL) {
        lc_reply_internal(req, "logout");
        return;
    }
    sqlite3_bind_text(st, 1, th, -1, SQLITE_TRANSIENT);
    sqlite3_step(st);
    sqlite3_reset(st);
    lc_audit(app->store, req, NULL, "logout", req->user, NULL);
    lc_reply_no_content(req);
}

int lc_auth_request(struct lc_app *app, struct lc_req *req)
{
    static const char sql[] =
        "SELECT u.id, u.username, u.role FROM sessions s JOIN users u ON u.id = s.user_id"
        " WHERE s.token_hash = ? AND s.expires_at > ?";
    const char *h = lc_req_header(req, "authorization");
    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0 || h[7] == '\0' || strlen(h) > 256)
        return -EACCES;
    char th[LC_TOKEN_HASH_LEN];
    lc_token_hash(h + 7, th);
    sqlite3_stmt *st = lc_store_stmt(app->store, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, th, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, lc_now());
    int rc = -EACCES;
    if (sqlite3_step(st) == SQLITE_ROW) {
        req->user_id = sqlite3_column_int64(st, 0);
        snprintf(req->user, sizeof req->user, "%s", lc_col_text(st, 1));
        req->role = lc_role_parse(lc_col_text(st, 2));
        rc = 0;
    }
    sqlite3_reset(st);
    return rc;
}

int lc_auth_bootstrap(struct lc_app *app)
{
    static const char count[] = "SELECT count(*) FROM users";
    static const char ins[] =
        "INSERT INTO users (username, role, pwhash, created_at, updated_at)"
        " VALUES ('admin', 'admin', ?, ?, ?)";
    sqlite3_stmt *st = lc_store_stmt(app->store, count);
    if (st == NULL || sqlite3_step(st) != SQLITE_ROW)
        return -EIO;
    int n = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    if (n > 0)
        return 0;
    const char *env = getenv("LOACAST_ADMIN_PASSWORD");
    char pw[32];
    if (env != NULL && env[0] != '\0') {
        snprintf(pw, sizeof pw, "%s", env);
        if (strlen(env) >= sizeof pw) {
            fprintf(stderr, "loacast: LOACAST_ADMIN_PASSWORD is longer than %zu bytes\n",
                    sizeof pw - 1);
            return -EINVAL;
        }
    } else {
        static const char alphabet[] = "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789";
        for (int i = 0; i < 16; i++)
            pw[i] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
        pw[16] = '\0';
    }
    char hash[crypto_pwhash_STRBYTES];
    if (pwhash(hash, pw) < 0)
        return -ENOMEM;
    int64_t now = lc_now();
    st = lc_store_stmt(app->store, ins);
    if (st == NULL || lc_store_begin(app->store) < 0)
        return -EIO;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, now);
    if (sqlite3_step(st) != SQLITE_DONE || lc_audit(app->store, NULL, "system", "admin_bootstrap", "admin", NULL) < 0 ||
        lc_store_commit(app->store) < 0) {
        lc_store_rollback(app->store);
        return -EIO;
    }
    if (env != NULL && env[0] != '\0')
        printf("loacast: first start: created user 'admin' with the password from "
               "LOACAST_ADMIN_PASSWORD\n");
    else
        printf("loacast: first start: created user 'admin' with the one-time password: %s\n"
               "loacast: it is shown only this once; log in and change it.\n", pw);
    fflush(stdout);
    sodium_memzero(pw, sizeof pw);
    return 0;
}

int lc_auth_routes(struct lc_router *r)
{
    int rc = lc_router_add(r, HTTP_POST, "/api/v1/login", LC_ROUTE_OPEN, LC_BODY_JSON, post_login);
    if (rc == 0)
        rc = lc_router_add(r, HTTP_POST, "/api/v1/logout", LC_ROLES_STAFF, LC_BODY_NONE, post_logout);
    return rc;
}
