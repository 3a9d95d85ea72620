/* server/accounts/users.c — staff accounts API; see accounts.h. Password hashing goes to the auth
 * pool; the row is written when the hash comes back, re-checking what may have changed meanwhile. */
#define LC_LOG_MODULE "accounts"
#include "server/accounts/accounts_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <http_parser.h>

#include "common/log.h"
#include "server/api/api.h"
#include "server/http/http.h"
#include "server/org/org.h"
#include "server/store/store.h"

static bool username_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || s[0] == '.' || s[0] == '-' || s[0] == '_')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static json_t *user_json(sqlite3_stmt *st)
{
    /* columns: username, role, created_at, updated_at, node */
    return json_pack("{s:s,s:s,s:o,s:o,s:I}", "username", lc_col_text(st, 0), "role",
                     lc_col_text(st, 1), "created_at", lc_time_json(sqlite3_column_int64(st, 2)),
                     "updated_at", lc_time_json(sqlite3_column_int64(st, 3)), "node",
                     (json_int_t)sqlite3_column_int64(st, 4));
}

/* Staff see and change the accounts of their node's subtree only (server/org/org.h). */
#define SELECT_USERS "SELECT username, role, created_at, updated_at, node FROM users"
#define IN_SCOPE " node IN " LC_SCOPE_NODES

/* The admins but name (NULL: all of them), or -1. */
static int count_admins(struct lc_store *store, const char *name)
{
    static const char sql[] = "SELECT count(*) FROM users WHERE role = 'admin' AND username IS NOT ?";
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);   /* NULL binds NULL */
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    return lc_store_done(st) < 0 ? -1 : n;
}

/* DELETE: not one's own account, nor the last admin. */
static int delete_check(struct lc_res_write *w)
{
    if (strcmp(w->key, w->req->user) == 0) {
        lc_reply_error(w->req, 409, "conflict", "you cannot delete your own account");
        return LC_ANSWERED;
    }
    if (count_admins(w->store, w->key) < 1) {
        lc_reply_error(w->req, 409, "conflict", "the last admin cannot be deleted");
        return LC_ANSWERED;
    }
    return 0;
}

static const struct lc_resource users = {
    .noun = "user", .key_chars = 0, .plural = "users",
    .list_sql = SELECT_USERS " WHERE" IN_SCOPE " ORDER BY username",
    .one_sql = SELECT_USERS " WHERE username = ?1 AND" IN_SCOPE,
    .row_json = user_json,
    .path = "/api/v1/users", .item_path = "/api/v1/users/{name}",
    .readers = LC_ROLE_ADMIN, .writers = LC_ROLE_ADMIN, .audit = lc_audit,
    .delete_sql = "DELETE FROM users WHERE username = ?1", .delete_check = delete_check,
};

static void get_users(struct lc_req *req, void *ctx)
{
    struct lc_accounts *a = ctx;
    lc_res_list(req, a->d.store, &users);
}

static int check_password(struct lc_req *req, struct lc_accounts *a, const char *pw)
{
    long n = lc_utf8_chars(pw);
    if (n < a->d.password_min_length) {
        lc_reply_error(req, 422, "invalid", "the password must have at least %d characters",
                       a->d.password_min_length);
        return -1;
    }
    return 0;
}

static void end_sessions(struct lc_store *store, const char *name)
{
    static const char sql[] =
        "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = ?)";
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL)
        return;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE)
        lc_log(LC_LOG_ERR, "cannot end the sessions of '%s'", name);
    sqlite3_reset(st);
}

/* A user to create, or a change of password and/or role, written by write_user(). */
struct pending_user {
    struct lc_accounts *a;
    char username[65];
    char role[16];
    bool create;
    bool set_role;
    int64_t node;               /* the user's node; 0: unchanged (patch) */
    const char *hash;           /* the new password's Argon2id string; NULL: no new password */
};

static void pending_init(struct pending_user *pu, struct lc_accounts *a, const char *name,
                         const char *role, bool create)
{
    memset(pu, 0, sizeof *pu);
    pu->a = a;
    snprintf(pu->username, sizeof pu->username, "%s", name);
    if (role != NULL) {
        snprintf(pu->role, sizeof pu->role, "%s", role);
        pu->set_role = true;
    }
    pu->create = create;
}

/* The INSERT (create) or UPDATE (patch) of pu, bound; NULL on error. */
static sqlite3_stmt *user_stmt(struct lc_store *store, const struct pending_user *pu)
{
    static const char ins[] =
        "INSERT INTO users (username, role, pwhash, created_at, updated_at, node)"
        " VALUES (?1, ?2, ?3, ?4, ?4, coalesce(?5, 1))";
    static const char upd[] =
        "UPDATE users SET pwhash = coalesce(?3, pwhash), role = coalesce(?2, role), updated_at = ?4,"
        " node = coalesce(?5, node) WHERE username = ?1";
    sqlite3_stmt *st = lc_store_stmt(store, pu->create ? ins : upd);
    if (st == NULL)
        return NULL;
    sqlite3_bind_text(st, 1, pu->username, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, pu->set_role ? pu->role : NULL, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, pu->hash, -1, SQLITE_TRANSIENT);   /* NULL binds NULL */
    sqlite3_bind_int64(st, 4, lc_now());
    if (pu->node > 0)
        sqlite3_bind_int64(st, 5, pu->node);
    return st;
}

/* In the transaction: the row (create) or the change (patch); a change of an existing user ends
 * its sessions, and the last admin keeps its role. */
static int write_user(struct lc_res_write *w)
{
    const struct pending_user *pu = w->arg;
    w->detail = pu->set_role ? json_pack("{s:s}", "role", pu->role)
                             : json_pack("{s:b}", "password", pu->hash != NULL);
    if (pu->node > 0)
        json_object_set_new(w->detail, "node", json_integer(pu->node));
    sqlite3_stmt *st = user_stmt(w->store, pu);
    int rc = pu->create ? lc_res_insert(w, st) : lc_res_update(w, st);
    if (rc < 0 || pu->create)
        return rc;
    if (pu->set_role && count_admins(w->store, NULL) < 1) {
        lc_reply_error(w->req, 409, "conflict", "the last admin cannot change role");
        return LC_ANSWERED;
    }
    end_sessions(w->store, pu->username);
    return 0;
}

static void write_pending(struct lc_req *req, struct pending_user *pu)
{
    struct lc_res_write w = {.req = req, .store = pu->a->d.store, .res = &users,
                             .key = pu->username, .fn = write_user, .arg = pu,
                             .status = pu->create ? 201 : 200,
                             .what = pu->create ? "create" : "update", .audit = true};
    lc_res_write(&w);
}

/* For lc_store_tx(): the first user, `admin` with the Argon2id string hash, and its entry. */
static int bootstrap_tx(struct lc_store *s, void *hash)
{
    struct pending_user pu;
    pending_init(&pu, NULL, "admin", "admin", true);
    pu.hash = hash;
    sqlite3_stmt *st = user_stmt(s, &pu);
    int step = st ? sqlite3_step(st) : SQLITE_ERROR;
    if (st)
        sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return -EIO;
    return lc_audit(s, NULL, "system", "admin_bootstrap", "admin", NULL);
}

/* Called after admin's password was changed: the one-time password is no longer one. */
static void forget_password_file(struct lc_accounts *a)
{
    if (a->password_file[0] == '\0')
        return;
    if (unlink(a->password_file) == 0)
        lc_log(LC_LOG_INFO, "admin's password was changed: %s deleted", a->password_file);
    a->password_file[0] = '\0';
}

/* The password hash is ready: write the row (create) or the change (patch). Frees arg. */
static void on_hashed(struct lc_req *req, int rc, const char *hash, void *arg)
{
    struct pending_user *pu = arg;
    if (rc < 0) {
        lc_reply_error(req, 503, "busy", "the password could not be hashed now");
    } else if (lc_req_alive(req)) { /* else the client left: nothing is changed */
        pu->hash = hash;
        write_pending(req, pu);
        if (!pu->create && strcmp(pu->username, "admin") == 0)
            forget_password_file(pu->a);
    }
    free(pu);
}

/* Hashes pw on the auth pool, then writes a copy of pu. */
static void hash_then_write(struct lc_req *req, const struct pending_user *pu, const char *pw)
{
    struct pending_user *copy = malloc(sizeof *copy);
    if (copy == NULL) {
        lc_reply_internal(req, "users: memory");
        return;
    }
    *copy = *pu;
    if (lc_auth_hash_password(pu->a, req, pw, on_hashed, copy) < 0) {
        free(copy);
        lc_reply_error(req, 503, "busy", "cannot hash the password now");
    }
}

static int check_role(struct lc_req *req, const char *role)
{
    if (role != NULL && lc_role_parse(role) == 0) {
        lc_reply_error(req, 422, "invalid", "role must be admin, editor, approver or operator");
        return -1;
    }
    return 0;
}

/* Writes the one-time password to path, readable by the server's user only, durably (a power
 * cut right after the first start must not leave an admin without a password to read). */
static int write_password_file(const char *path, const char *pw)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -errno;
    int rc = 0;
    char line[64];
    int n = snprintf(line, sizeof line, "%s\n", pw);
    if (fchmod(fd, 0600) < 0 || write(fd, line, (size_t)n) != n || fsync(fd) < 0)
        rc = -errno;
    sodium_memzero(line, sizeof line);
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    return rc;
}

int lc_auth_bootstrap(struct lc_accounts *a, const char *password_file)
{
    static const char count[] = "SELECT count(*) FROM users";
    /* also on later starts: the file of a first start is deleted whenever admin's password is
     * changed (unlink of a file that is not there does nothing) */
    snprintf(a->password_file, sizeof a->password_file, "%s", password_file);
    sqlite3_stmt *st = lc_store_stmt(a->d.store, count);
    if (st == NULL || sqlite3_step(st) != SQLITE_ROW)
        return -EIO;
    int n = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    if (n > 0)
        return 0;
    const char *env = getenv("LOACAST_ADMIN_PASSWORD");
    bool chosen = env != NULL && env[0] != '\0';
    char pw[32];
    int rc = 0;
    if (chosen) {
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
        /* the file first: a password nobody can read must never be the only way in */
        if ((rc = write_password_file(password_file, pw)) < 0) {
            lc_log(LC_LOG_ERR, "%s: cannot write the first password: %s", password_file,
                   strerror(-rc));
            goto out;
        }
    }
    char hash[crypto_pwhash_STRBYTES];
    if ((rc = lc_auth_pwhash(hash, pw)) < 0 || (rc = lc_store_tx(a->d.store, bootstrap_tx, hash)) < 0) {
        rc = rc == -ENOMEM ? rc : -EIO;
        goto out;
    }
    if (chosen) {
        lc_log(LC_LOG_INFO, "first start: created user 'admin' with the password from "
               "LOACAST_ADMIN_PASSWORD");
        goto out;
    }
    /* Never into a log: a journal keeps it for years. The file says it to whoever may read the
     * data directory; a terminal (someone trying loacast by hand) is told it at once too. */
    lc_log(LC_LOG_INFO, "first start: created user 'admin'; its one-time password is in %s "
           "(mode 0600): log in, change it, and the file is deleted", password_file);
    if (isatty(STDOUT_FILENO) && !lc_log_journal()) {
        printf("loacast: the one-time password of 'admin' is: %s\n", pw);
        fflush(stdout);
    }
out:
    sodium_memzero(pw, sizeof pw);
    return rc;
}

/* POST (create) and PATCH (change: a new password and/or role) of a user. */
static void write_user_req(struct lc_req *req, void *ctx)
{
    static const char *const post_fields[] = {"username", "password", "role", "node", NULL};
    static const char *const patch_fields[] = {"password", "role", "node", NULL};
    struct lc_accounts *a = ctx;
    bool create = req->method == HTTP_POST;
    const char *name = create ? NULL : req->params[0], *pw = NULL, *role = NULL;
    long long node = 0;
    json_t *cur = NULL, *body = lc_api_body(req, create ? post_fields : patch_fields);
    if (body == NULL)
        return;
    if ((create && lc_api_string(req, body, "username", true, 64, &name) < 0) ||
        lc_api_string(req, body, "password", create, 1024, &pw) < 0 ||
        lc_api_string(req, body, "role", create, 16, &role) < 0 ||
        lc_api_int(req, body, "node", false, 1, INT64_MAX, &node) < 0)
        goto out;
    if (create && !username_ok(name)) {
        lc_reply_error(req, 422, "invalid",
                       "a user name is 1..64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit");
        goto out;
    }
    /* a name taken outside the caller's subtree is 409 all the same: names are unique */
    if (lc_res_find_in(a->d.store, &users, name, create ? 0 : req->node, &cur) == -EIO) {
        lc_reply_internal(req, "users");
        goto out;
    }
    if (!create && cur == NULL) {
        lc_res_not_found(req, &users, name);
        goto out;
    }
    if (check_role(req, role) < 0 || (pw != NULL && check_password(req, a, pw) < 0))
        goto out;
    if (create && cur != NULL) {
        lc_reply_error(req, 409, "exists", "the user '%s' exists already", name);
        goto out;
    }
    if (node != 0 && lc_org_require(req, a->d.store, node, 422) < 0)
        goto out;
    if (node != 0 && !create && strcmp(name, req->user) == 0 && node != req->node) {
        lc_reply_error(req, 409, "conflict", "you cannot move your own account");
        goto out;
    }
    if (pw == NULL && role == NULL && node == 0) {    /* nothing to change */
        lc_reply_json(req, 200, cur);
        cur = NULL;
        goto out;
    }
    struct pending_user pu;
    pending_init(&pu, a, name, role, create);
    pu.node = node != 0 ? node : create ? req->node : 0;
    if (pw != NULL)
        hash_then_write(req, &pu, pw);
    else
        write_pending(req, &pu);
out:
    json_decref(cur);
    json_decref(body);
}

static void delete_user(struct lc_req *req, void *ctx)
{
    struct lc_accounts *a = ctx;
    lc_res_delete(req, a->d.store, &users, req->params[0]);
}

int lc_users_routes(struct lc_accounts *a, struct lc_router *r)
{
    static const struct lc_res_handlers h = {.list = get_users, .write = write_user_req,
                                             .del = delete_user};
    return lc_res_routes(r, &users, &h, a);
}
