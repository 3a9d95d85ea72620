/* server/accounts/users.c — staff accounts API; see users.h. Password hashing goes to the auth pool; the
 * row is written when the hash comes back, re-checking what may have changed meanwhile. */
#include "server/accounts/users.h"

#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "server/api/api.h"
#include "server/accounts/audit.h"
#include "server/accounts/auth.h"
#include "server/http/router.h"
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
    /* columns: username, role, created_at, updated_at */
    return json_pack("{s:s,s:s,s:o,s:o}", "username", lc_col_text(st, 0), "role",
                     lc_col_text(st, 1), "created_at", lc_time_json(sqlite3_column_int64(st, 2)),
                     "updated_at", lc_time_json(sqlite3_column_int64(st, 3)));
}

/* The user as JSON, or NULL if there is none. */
static json_t *load_user(struct lc_app *app, const char *name)
{
    static const char sql[] =
        "SELECT username, role, created_at, updated_at FROM users WHERE username = ?";
    sqlite3_stmt *st = lc_store_stmt(app->store, sql);
    if (st == NULL)
        return NULL;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    json_t *o = sqlite3_step(st) == SQLITE_ROW ? user_json(st) : NULL;
    sqlite3_reset(st);
    return o;
}

static int count_admins(struct lc_app *app)
{
    static const char sql[] = "SELECT count(*) FROM users WHERE role = 'admin'";
    sqlite3_stmt *st = lc_store_stmt(app->store, sql);
    int n = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    if (st)
        sqlite3_reset(st);
    return n;
}

static void get_users(struct lc_req *req)
{
    static const char sql[] =
        "SELECT username, role, created_at, updated_at FROM users ORDER BY username";
    struct lc_app *app = lc_app(req);
    sqlite3_stmt *st = lc_store_stmt(app->store, sql);
    if (st == NULL) {
        lc_reply_internal(req, "users");
        return;
    }
    json_t *list = json_array();
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(list, user_json(st));
    sqlite3_reset(st);
    lc_reply_json(req, 200, json_pack("{s:o}", "users", list));
}

struct pending_user {
    char username[65];
    char role[16];
    bool create;
    bool set_role;
};

static int check_password(struct lc_req *req, const char *pw)
{
    long n = lc_utf8_chars(pw);
    if (n < lc_app(req)->cfg.password_min_length) {
        lc_reply_error(req, 422, "invalid", "the password must have at least %d characters",
                       lc_app(req)->cfg.password_min_length);
        return -1;
    }
    return 0;
}

static void end_sessions(struct lc_app *app, const char *name)
{
    static const char sql[] =
        "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = ?)";
    sqlite3_stmt *st = lc_store_stmt(app->store, sql);
    if (st == NULL)
        return;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_step(st);
    sqlite3_reset(st);
}

/* The password hash is ready: write the row (create) or the change (patch). */
static void on_hashed(struct lc_req *req, int rc, const char *hash, void *arg)
{
    static const char ins[] =
        "INSERT INTO users (username, role, pwhash, created_at, updated_at) VALUES (?,?,?,?,?)";
    static const char upd[] =
        "UPDATE users SET pwhash = ?, role = coalesce(?, role), updated_at = ? WHERE username = ?";
    struct pending_user *pu = arg;
    struct lc_app *app = lc_app(req);
    int64_t now = lc_now();
    if (rc < 0) {
        lc_reply_error(req, 503, "busy", "the password could not be hashed now");
        goto out;
    }
    if (!lc_req_alive(req))
        goto out; /* the client left: nothing is changed */
    if (lc_store_begin(app->store) < 0) {
        lc_reply_internal(req, "users: begin");
        goto out;
    }
    sqlite3_stmt *st = lc_store_stmt(app->store, pu->create ? ins : upd);
    if (st == NULL)
        goto fail;
    if (pu->create) {
        sqlite3_bind_text(st, 1, pu->username, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, pu->role, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, now);
        sqlite3_bind_int64(st, 5, now);
    } else {
        sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
        if (pu->set_role)
            sqlite3_bind_text(st, 2, pu->role, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, now);
        sqlite3_bind_text(st, 4, pu->username, -1, SQLITE_TRANSIENT);
    }
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step == SQLITE_CONSTRAINT) {
        lc_store_rollback(app->store);
        lc_reply_error(req, 409, "exists", "the user '%s' exists already", pu->username);
        goto out;
    }
    if (step != SQLITE_DONE)
        goto fail;
    if (!pu->create && lc_store_changes(app->store) == 0) {
        lc_store_rollback(app->store);
        lc_reply_error(req, 404, "not_found", "no user '%s'", pu->username);
        goto out;
    }
    if (pu->set_role && !pu->create && count_admins(app) < 1) {
        lc_store_rollback(app->store);
        lc_reply_error(req, 409, "conflict", "the last admin cannot change role");
        goto out;
    }
    if (!pu->create)
        end_sessions(app, pu->username);
    json_t *detail = pu->create || pu->set_role ? json_pack("{s:s}", "role", pu->role)
                                                : json_pack("{s:b}", "password", 1);
    if (lc_audit(app->store, req, NULL, pu->create ? "user_create" : "user_update", pu->username,
                 detail) < 0 ||
        lc_store_commit(app->store) < 0)
        goto fail;
    lc_reply_json(req, pu->create ? 201 : 200, load_user(app, pu->username));
    goto out;
fail:
    lc_store_rollback(app->store);
    lc_reply_internal(req, "users: write");
out:
    free(pu);
}

static void post_user(struct lc_req *req)
{
    static const char *const fields[] = {"username", "password", "role", NULL};
    struct lc_app *app = lc_app(req);
    const char *name = NULL, *pw = NULL, *role = NULL;
    json_t *body = lc_api_body(req, fields);
    if (body == NULL)
        return;
    if (lc_api_string(req, body, "username", true, 64, &name) < 0 ||
        lc_api_string(req, body, "password", true, 1024, &pw) < 0 ||
        lc_api_string(req, body, "role", true, 16, &role) < 0)
        goto out;
    if (!username_ok(name)) {
        lc_reply_error(req, 422, "invalid",
                       "a user name is 1..64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit");
        goto out;
    }
    if (lc_role_parse(role) == 0) {
        lc_reply_error(req, 422, "invalid", "role must be admin, editor, approver or operator");
        goto out;
    }
    if (check_password(req, pw) < 0)
        goto out;
    json_t *exists = load_user(app, name);
    if (exists != NULL) {
        json_decref(exists);
        lc_reply_error(req, 409, "exists", "the user '%s' exists already", name);
        goto out;
    }
    struct pending_user *pu = calloc(1, sizeof *pu);
    if (pu == NULL) {
        lc_reply_internal(req, "users: memory");
        goto out;
    }
    snprintf(pu->username, sizeof pu->username, "%s", name);
    snprintf(pu->role, sizeof pu->role, "%s", role);
    pu->create = true;
    pu->set_role = true;
    if (lc_auth_hash_password(app, req, pw, on_hashed, pu) < 0) {
        free(pu);
        lc_reply_error(req, 503, "busy", "cannot hash the password now");
    }
out:
    json_decref(body);
}

static void patch_user(struct lc_req *req)
{
    static const char *const fields[] = {"password", "role", NULL};
    static const char upd[] = "UPDATE users SET role = ?, updated_at = ? WHERE username = ?";
    struct lc_app *app = lc_app(req);
    const char *name = req->params[0], *pw = NULL, *role = NULL;
    json_t *body = lc_api_body(req, fields);
    if (body == NULL)
        return;
    if (lc_api_string(req, body, "password", false, 1024, &pw) < 0 ||
        lc_api_string(req, body, "role", false, 16, &role) < 0)
        goto out;
    json_t *cur = load_user(app, name);
    if (cur == NULL) {
        lc_reply_error(req, 404, "not_found", "no user '%s'", name);
        goto out;
    }
    json_decref(cur);
    if (role != NULL && lc_role_parse(role) == 0) {
        lc_reply_error(req, 422, "invalid", "role must be admin, editor, approver or operator");
        goto out;
    }
    if (pw != NULL) {
        if (check_password(req, pw) < 0)
            goto out;
        struct pending_user *pu = calloc(1, sizeof *pu);
        if (pu == NULL) {
            lc_reply_internal(req, "users: memory");
            goto out;
        }
        snprintf(pu->username, sizeof pu->username, "%s", name);
        if (role) {
            snprintf(pu->role, sizeof pu->role, "%s", role);
            pu->set_role = true;
        }
        if (lc_auth_hash_password(app, req, pw, on_hashed, pu) < 0) {
            free(pu);
            lc_reply_error(req, 503, "busy", "cannot hash the password now");
        }
        goto out;
    }
    if (role == NULL) {
        lc_reply_json(req, 200, load_user(app, name));
        goto out;
    }
    sqlite3_stmt *st = lc_store_stmt(app->store, upd);
    if (st == NULL || lc_store_begin(app->store) < 0) {
        lc_reply_internal(req, "users: begin");
        goto out;
    }
    sqlite3_bind_text(st, 1, role, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, lc_now());
    sqlite3_bind_text(st, 3, name, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        lc_store_rollback(app->store);
        lc_reply_internal(req, "users: update");
        goto out;
    }
    if (count_admins(app) < 1) {
        lc_store_rollback(app->store);
        lc_reply_error(req, 409, "conflict", "the last admin cannot change role");
        goto out;
    }
    end_sessions(app, name);
    if (lc_audit(app->store, req, NULL, "user_update", name, json_pack("{s:s}", "role", role)) < 0 ||
        lc_store_commit(app->store) < 0) {
        lc_store_rollback(app->store);
        lc_reply_internal(req, "users: commit");
        goto out;
    }
    lc_reply_json(req, 200, load_user(app, name));
out:
    json_decref(body);
}

static void delete_user(struct lc_req *req)
{
    static const char del[] = "DELETE FROM users WHERE username = ?";
    struct lc_app *app = lc_app(req);
    const char *name = req->params[0];
    if (strcmp(name, req->user) == 0) {
        lc_reply_error(req, 409, "conflict", "you cannot delete your own account");
        return;
    }
    if (lc_store_begin(app->store) < 0) {
        lc_reply_internal(req, "users: begin");
        return;
    }
    sqlite3_stmt *st = lc_store_stmt(app->store, del);
    if (st == NULL)
        goto fail;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        goto fail;
    if (lc_store_changes(app->store) == 0) {
        lc_store_rollback(app->store);
        lc_reply_error(req, 404, "not_found", "no user '%s'", name);
        return;
    }
    if (count_admins(app) < 1) {
        lc_store_rollback(app->store);
        lc_reply_error(req, 409, "conflict", "the last admin cannot be deleted");
        return;
    }
    if (lc_audit(app->store, req, NULL, "user_delete", name, NULL) < 0 || lc_store_commit(app->store) < 0)
        goto fail;
    lc_reply_no_content(req);
    return;
fail:
    lc_store_rollback(app->store);
    lc_reply_internal(req, "users: delete");
}

int lc_users_routes(struct lc_router *r)
{
    int rc = 0;
    if (rc == 0) rc = lc_router_add(r, HTTP_GET, "/api/v1/users", LC_ROLE_ADMIN, LC_BODY_NONE, get_users);
    if (rc == 0) rc = lc_router_add(r, HTTP_POST, "/api/v1/users", LC_ROLE_ADMIN, LC_BODY_JSON, post_user);
    if (rc == 0) rc = lc_router_add(r, HTTP_PATCH, "/api/v1/users/{name}", LC_ROLE_ADMIN, LC_BODY_JSON, patch_user);
    if (rc == 0) rc = lc_router_add(r, HTTP_DELETE, "/api/v1/users/{name}", LC_ROLE_ADMIN, LC_BODY_NONE, delete_user);
    return rc;
}
