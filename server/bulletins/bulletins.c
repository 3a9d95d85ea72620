/* server/bulletins/bulletins.c — creating, listing, reading and reviewing bulletins; see bulletins.h.
 * Rendering, uploads and audio preview are in bulletin_audio.c. */
#define LC_LOG_MODULE "bulletins"
#include "server/bulletins/bulletins.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "codecs/tts.h"
#include "server/api/api.h"
#include "server/accounts/audit.h"
#include "server/bulletins/bulletins_internal.h"
#include "server/registry/registry.h"
#include "server/http/router.h"
#include "common/log.h"
#include "server/store/store.h"

#define MAX_TEXT_CHARS 100000
#define MAX_TARGETS 1000

#define COLS                                                                                     \
    "b.id, b.title, b.kind, b.text, b.voice, b.rate, b.priority, b.repeat, b.aired,"            \
    " b.all_communes, b.not_before, b.expires, b.status, b.error, b.reason, b.audio_hash,"      \
    " b.audio_bytes, b.duration_s, b.created_by, b.created_at, b.updated_at, b.approved_by,"    \
    " b.approved_at, b.decided_by, b.decided_at,"                                                \
    " (SELECT group_concat(commune, ',') FROM"                                                   \
    "   (SELECT commune FROM bulletin_communes WHERE bulletin = b.id ORDER BY commune))"

static json_t *text_or_null(sqlite3_stmt *st, int i)
{
    return lc_col_is_null(st, i) ? json_null() : json_string(lc_col_text(st, i));
}

static json_t *time_or_null(sqlite3_stmt *st, int i)
{
    return lc_col_is_null(st, i) ? json_null() : lc_time_json(sqlite3_column_int64(st, i));
}

static json_t *bulletin_json(sqlite3_stmt *st)
{
    int64_t id = sqlite3_column_int64(st, 0);
    json_t *communes = json_array();
    if (sqlite3_column_int(st, 9)) {
        json_array_append_new(communes, json_string("*"));
    } else if (!lc_col_is_null(st, 25)) {
        const char *p = lc_col_text(st, 25);
        while (*p) {
            size_t n = strcspn(p, ",");
            json_array_append_new(communes, json_stringn(p, n));
            p += n + (p[n] == ',');
        }
    }
    char audio[96];
    snprintf(audio, sizeof audio, "/api/v1/bulletins/%lld/audio", (long long)id);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(id));
    json_object_set_new(o, "title", json_string(lc_col_text(st, 1)));
    json_object_set_new(o, "kind", json_string(lc_col_text(st, 2)));
    json_object_set_new(o, "text", text_or_null(st, 3));
    json_object_set_new(o, "voice", json_string(lc_col_text(st, 4)));
    json_object_set_new(o, "rate", json_integer(sqlite3_column_int(st, 5)));
    json_object_set_new(o, "priority", json_string(lc_col_text(st, 6)));
    json_object_set_new(o, "repeat", json_integer(sqlite3_column_int(st, 7)));
    json_object_set_new(o, "aired", json_integer(sqlite3_column_int(st, 8)));
    json_object_set_new(o, "communes", communes);
    json_object_set_new(o, "not_before", time_or_null(st, 10));
    json_object_set_new(o, "expires", time_or_null(st, 11));
    json_object_set_new(o, "status", json_string(lc_col_text(st, 12)));
    json_object_set_new(o, "error", text_or_null(st, 13));
    json_object_set_new(o, "reason", text_or_null(st, 14));
    json_object_set_new(o, "audio", lc_col_is_null(st, 15) ? json_null() : json_string(audio));
    json_object_set_new(o, "audio_bytes", lc_col_is_null(st, 16) ? json_null()
                                                                 : json_integer(sqlite3_column_int64(st, 16)));
    json_object_set_new(o, "duration_s", lc_col_is_null(st, 17) ? json_null()
                                                                : json_real(sqlite3_column_double(st, 17)));
    json_object_set_new(o, "created_by", json_string(lc_col_text(st, 18)));
    json_object_set_new(o, "created_at", lc_time_json(sqlite3_column_int64(st, 19)));
    json_object_set_new(o, "updated_at", lc_time_json(sqlite3_column_int64(st, 20)));
    json_object_set_new(o, "approved_by", text_or_null(st, 21));
    json_object_set_new(o, "approved_at", time_or_null(st, 22));
    json_object_set_new(o, "decided_by", text_or_null(st, 23));
    json_object_set_new(o, "decided_at", time_or_null(st, 24));
    return o;
}

json_t *lc_bulletin_load(struct lc_app *app, int64_t id)
{
    static const char sql[] = "SELECT " COLS " FROM bulletins b WHERE b.id = ?";
    sqlite3_stmt *st = lc_store_stmt(app->store, sql);
    if (st == NULL)
        return NULL;
    sqlite3_bind_int64(st, 1, id);
    json_t *o = sqlite3_step(st) == SQLITE_ROW ? bulletin_json(st) : NULL;
    sqlite3_reset(st);
    return o;
}

int lc_bulletin_head(struct lc_app *app, int64_t id, struct lc_bulletin_head *h)
{
    static const char sql[] =
        "SELECT status, kind, created_by, audio_hash, expires FROM bulletins WHERE id = ?";
    sqlite3_stmt *st = lc_store_stmt(app->store, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    int rc = -ENOENT;
    if (sqlite3_step(st) == SQLITE_ROW) {
        h->id = id;
        snprintf(h->status, sizeof h->status, "%s", lc_col_text(st, 0));
        snprintf(h->kind, sizeof h->kind, "%s", lc_col_text(st, 1));
        snprintf(h->created_by, sizeof h->created_by, "%s", lc_col_text(st, 2));
        snprintf(h->audio_hash, sizeof h->audio_hash, "%s", lc_col_text(st, 3));
        h->expires = lc_col_is_null(st, 4) ? 0 : sqlite3_column_int64(st, 4);
        rc = 0;
    }
    sqlite3_reset(st);
    return rc;
}

int lc_bulletin_id_param(struct lc_req *req, int64_t *id)
{
    char *end;
    long long v = strtoll(req->params[0], &end, 10);
    if (*end != '\0' || v <= 0 || req->params[0][0] == '+' || req->params[0][0] == '0') {
        lc_reply_error(req, 404, "not_found", "no bulletin '%.32s'", req->params[0]);
        return -1;
    }
    *id = v;
    return 0;
}

/* ---- create -------------------------------------------------------------------------------- */

struct create {
    const char *title, *text, *voice, *priority, *not_before_s, *expires_s;
    long long rate, repeat;
    int64_t not_before, expires;
    bool all;
    json_t *communes;
};

static int read_create(struct lc_req *req, json_t *body, struct create *c)
{
    struct lc_app *app = lc_app(req);
    c->voice = "vi";
    c->priority = "normal";
    c->rate = 150;
    c->repeat = 1;
    if (lc_api_string(req, body, "title", true, 200, &c->title) < 0 ||
        lc_api_string(req, body, "text", false, MAX_TEXT_CHARS, &c->text) < 0 ||
        lc_api_string(req, body, "voice", false, 32, &c->voice) < 0 ||
        lc_api_int(req, body, "rate", false, 80, 450, &c->rate) < 0 ||
        lc_api_string(req, body, "priority", false, 16, &c->priority) < 0 ||
        lc_api_int(req, body, "repeat", false, 1, 100, &c->repeat) < 0 ||
        lc_api_string(req, body, "not_before", false, 64, &c->not_before_s) < 0 ||
        lc_api_string(req, body, "expires", false, 64, &c->expires_s) < 0)
        return -1;
    if (c->title[strspn(c->title, " \t\r\n")] == '\0') {
        lc_reply_error(req, 422, "invalid", "title must not be empty");
        return -1;
    }
    if (c->text != NULL && c->text[strspn(c->text, " \t\r\n")] == '\0') {
        lc_reply_error(req, 422, "invalid", "text must not be empty (leave it out for a recording)");
        return -1;
    }
    struct lc_err err = {0};
    if (lc_tts_check_voice(c->voice, &err) < 0) {
        lc_reply_error(req, 422, "invalid", "%s", lc_err_msg(&err));
        return -1;
    }
    if (strcmp(c->priority, "normal") != 0 && strcmp(c->priority, "high") != 0) {
        lc_reply_error(req, 422, "invalid", "priority must be \"normal\" or \"high\"");
        return -1;
    }
    if (c->not_before_s && lc_time_parse(c->not_before_s, &c->not_before) < 0) {
        lc_reply_error(req, 422, "invalid", "not_before must be an RFC 3339 time");
        return -1;
    }
    if (c->expires_s && lc_time_parse(c->expires_s, &c->expires) < 0) {
        lc_reply_error(req, 422, "invalid", "expires must be an RFC 3339 time");
        return -1;
    }
    if (c->expires_s && c->expires <= lc_now()) {
        lc_reply_error(req, 422, "invalid", "expires is in the past");
        return -1;
    }
    if (c->expires_s && c->not_before_s && c->expires <= c->not_before) {
        lc_reply_error(req, 422, "invalid", "expires must be after not_before");
        return -1;
    }
    c->communes = json_object_get(body, "communes");
    if (!json_is_array(c->communes)) {
        lc_reply_error(req, 400, "bad_field", "'communes' must be a list of commune ids, or [\"*\"]");
        return -1;
    }
    size_t n = json_array_size(c->communes);
    if (n == 0 || n > MAX_TARGETS) {
        lc_reply_error(req, 422, "invalid", "'communes' must list 1..%d communes", MAX_TARGETS);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(c->communes, i);
        if (!json_is_string(v)) {
            lc_reply_error(req, 400, "bad_field", "'communes' must contain strings");
            return -1;
        }
        const char *s = json_string_value(v);
        if (strcmp(s, "*") == 0) {
            if (n != 1) {
                lc_reply_error(req, 422, "invalid", "\"*\" stands alone in 'communes'");
                return -1;
            }
            c->all = true;
            continue;
        }
        if (!lc_slug_ok(s) || !lc_commune_exists(app->store, s)) {
            lc_reply_error(req, 422, "invalid", "unknown commune '%.64s'", s);
            return -1;
        }
        for (size_t k = 0; k < i; k++)
            if (strcmp(json_string_value(json_array_get(c->communes, k)), s) == 0) {
                lc_reply_error(req, 422, "invalid", "commune '%.64s' is listed twice", s);
                return -1;
            }
    }
    return 0;
}

static void post_bulletin(struct lc_req *req)
{
    static const char *const fields[] = {"title", "text", "voice", "rate", "communes", "priority",
                                         "repeat", "not_before", "expires", NULL};
    static const char ins[] =
        "INSERT INTO bulletins (title, kind, text, voice, rate, priority, repeat, all_communes,"
        " not_before, expires, status, created_by, created_at, updated_at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    static const char ins_c[] = "INSERT INTO bulletin_communes (bulletin, commune) VALUES (?,?)";
    struct lc_app *app = lc_app(req);
    struct create c = {0};
    json_t *body = lc_api_body(req, fields);
    if (body == NULL)
        return;
    if (read_create(req, body, &c) < 0)
        goto out;
    bool text = c.text != NULL;
    int64_t now = lc_now();
    if (lc_store_begin(app->store) < 0) {
        lc_reply_internal(req, "bulletins: begin");
        goto out;
    }
    sqlite3_stmt *st = lc_store_stmt(app->store, ins);
    if (st == NULL)
        goto fail;
    sqlite3_bind_text(st, 1, c.title, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, text ? "text" : "audio", -1, SQLITE_STATIC);
    if (text)
        sqlite3_bind_text(st, 3, c.text, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, c.voice, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, c.rate);
    sqlite3_bind_text(st, 6, c.priority, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 7, c.repeat);
    sqlite3_bind_int(st, 8, c.all);
    if (c.not_before_s)
        sqlite3_bind_int64(st, 9, c.not_before);
    if (c.expires_s)
        sqlite3_bind_int64(st, 10, c.expires);
    sqlite3_bind_text(st, 11, text ? "rendering" : "draft", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 12, req->user, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 13, now);
    sqlite3_bind_int64(st, 14, now);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        goto fail;
    int64_t id = lc_store_last_id(app->store);
    if (!c.all) {
        for (size_t i = 0; i < json_array_size(c.communes); i++) {
            st = lc_store_stmt(app->store, ins_c);
            if (st == NULL)
                goto fail;
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_text(st, 2, json_string_value(json_array_get(c.communes, i)), -1,
                              SQLITE_TRANSIENT);
            step = sqlite3_step(st);
            sqlite3_reset(st);
            if (step != SQLITE_DONE)
                goto fail;
        }
    }
    char target[32];
    snprintf(target, sizeof target, "%lld", (long long)id);
    if (lc_audit(app->store, req, NULL, "bulletin_create", target,
                 json_pack("{s:s,s:s}", "title", c.title, "kind", text ? "text" : "audio")) < 0 ||
        lc_store_commit(app->store) < 0)
        goto fail;
    if (text && lc_bulletin_render_text(app, id, c.title, c.text, c.voice, (int)c.rate) < 0)
        lc_log(LC_LOG_ERR, "bulletin %lld: cannot queue its rendering now", (long long)id);
    lc_reply_json(req, text ? 202 : 201, lc_bulletin_load(app, id));
    goto out;
fail:
    lc_store_rollback(app->store);
    lc_reply_internal(req, "bulletins: insert");
out:
    json_decref(body);
}

/* ---- read ---------------------------------------------------------------------------------- */

static bool status_known(const char *s)
{
    static const char *const all[] = {"draft", "rendering", "pending", "approved", "done", "failed",
                                      "rejected", "withdrawn", "expired", NULL};
    for (int i = 0; all[i]; i++)
        if (strcmp(all[i], s) == 0)
            return true;
    return false;
}

static void get_bulletins(struct lc_req *req)
{
    static const char sql[] =
        "SELECT " COLS " FROM bulletins b"
        " WHERE (?1 IS NULL OR b.status = ?1) AND (?2 IS NULL OR b.created_by = ?2)"
        "   AND (?3 IS NULL OR b.all_communes OR EXISTS (SELECT 1 FROM bulletin_communes bc"
        "        WHERE bc.bulletin = b.id AND bc.commune = ?3))"
        "   AND (?4 IS NULL OR b.id < ?4)"
        " ORDER BY b.id DESC LIMIT ?5";
    struct lc_app *app = lc_app(req);
    char status[32], by[80], commune[80], before[32], limit[32];
    long long lim = 100, bef = 0;
    char *end;
    if (lc_req_query(req, "status", status, sizeof status) && !status_known(status)) {
        lc_reply_error(req, 400, "bad_query", "unknown status '%s'", status);
        return;
    }
    if (lc_req_query(req, "limit", limit, sizeof limit)) {
        lim = strtoll(limit, &end, 10);
        if (*end || lim < 1 || lim > 1000) {
            lc_reply_error(req, 400, "bad_query", "limit must be 1..1000");
            return;
        }
    }
    if (lc_req_query(req, "before", before, sizeof before)) {
        bef = strtoll(before, &end, 10);
        if (*end || bef < 1) {
            lc_reply_error(req, 400, "bad_query", "before must be a bulletin id");
            return;
        }
    }
    sqlite3_stmt *st = lc_store_stmt(app->store, sql);
    if (st == NULL) {
        lc_reply_internal(req, "bulletins: list");
        return;
    }
    if (lc_req_query(req, "status", status, sizeof status))
        sqlite3_bind_text(st, 1, status, -1, SQLITE_TRANSIENT);
    if (lc_req_query(req, "created_by", by, sizeof by))
        sqlite3_bind_text(st, 2, by, -1, SQLITE_TRANSIENT);
    if (lc_req_query(req, "commune", commune, sizeof commune))
        sqlite3_bind_text(st, 3, commune, -1, SQLITE_TRANSIENT);
    if (bef)
        sqlite3_bind_int64(st, 4, bef);
    sqlite3_bind_int64(st, 5, lim);
    json_t *list = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(list, bulletin_json(st));
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(list);
        lc_reply_internal(req, "bulletins: list step");
        return;
    }
    lc_reply_json(req, 200, json_pack("{s:o}", "bulletins", list));
}

static void get_bulletin(struct lc_req *req)
{
    int64_t id;
    if (lc_bulletin_id_param(req, &id) < 0)
        return;
    json_t *o = lc_bulletin_load(lc_app(req), id);
    if (o == NULL) {
        lc_reply_error(req, 404, "not_found", "no bulletin %lld", (long long)id);
        return;
    }
    lc_reply_json(req, 200, o);
}

/* ---- review -------------------------------------------------------------------------------- */

enum action { APPROVE, REJECT, WITHDRAW };

static void review(struct lc_req *req, enum action act)
{
    static const char upd_approve[] =
        "UPDATE bulletins SET status = 'approved', approved_by = ?2, approved_at = ?3,"
        " updated_at = ?3 WHERE id = ?1 AND status = 'pending'";
    static const char upd_decide[] =
        "UPDATE bulletins SET status = ?4, decided_by = ?2, decided_at = ?3, updated_at = ?3,"
        " reason = coalesce(?5, reason) WHERE id = ?1 AND status = ?6";
    static const char upd_expire[] =
        "UPDATE bulletins SET status = 'expired', updated_at = ?2 WHERE id = ?1";
    static const char *const reject_fields[] = {"reason", NULL};
    struct lc_app *app = lc_app(req);
    struct lc_bulletin_head h;
    json_t *body = NULL;
    const char *reason = NULL;
    int64_t id, now = lc_now();
    if (lc_bulletin_id_param(req, &id) < 0)
        return;
    if (act == REJECT) {
        if ((body = lc_api_body(req, reject_fields)) == NULL)
            return;
        if (lc_api_string(req, body, "reason", true, 1000, &reason) < 0)
            goto out;
        if (reason[strspn(reason, " \t\r\n")] == '\0') {
            lc_reply_error(req, 422, "invalid", "a rejection needs a reason");
            goto out;
        }
    }
    int rc = lc_bulletin_head(app, id, &h);
    if (rc == -ENOENT) {
        lc_reply_error(req, 404, "not_found", "no bulletin %lld", (long long)id);
        goto out;
    }
    if (rc < 0) {
        lc_reply_internal(req, "bulletins: head");
        goto out;
    }
    bool mine = strcmp(h.created_by, req->user) == 0;
    if (act != WITHDRAW && mine) {
        lc_reply_error(req, 403, "forbidden", "nobody approves or rejects their own bulletin");
        goto out;
    }
    if (act == WITHDRAW && !mine && !(req->role & (LC_ROLE_ADMIN | LC_ROLE_APPROVER))) {
        lc_reply_error(req, 403, "forbidden", "only the author, an approver or an admin withdraws a bulletin");
        goto out;
    }
    bool ok_state;
    if (act == WITHDRAW)
        ok_state = !strcmp(h.status, "draft") || !strcmp(h.status, "rendering") ||
                   !strcmp(h.status, "pending") || !strcmp(h.status, "failed") ||
                   !strcmp(h.status, "approved");
    else
        ok_state = !strcmp(h.status, "pending");
    if (!ok_state) {
        lc_reply_error(req, 409, "bad_state", "the bulletin is %s", h.status);
        goto out;
    }
    char target[32];
    snprintf(target, sizeof target, "%lld", (long long)id);
    if (lc_store_begin(app->store) < 0) {
        lc_reply_internal(req, "bulletins: begin");
        goto out;
    }
    if (act == APPROVE && h.expires && h.expires <= now) {
        sqlite3_stmt *st = lc_store_stmt(app->store, upd_expire);
        if (st == NULL)
            goto fail;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, now);
        int step = sqlite3_step(st);
        sqlite3_reset(st);
        if (step != SQLITE_DONE || lc_audit(app->store, req, "system", "bulletin_expire", target, NULL) < 0 ||
            lc_store_commit(app->store) < 0)
            goto fail;
        lc_reply_error(req, 409, "bad_state", "the bulletin has expired");
        goto out;
    }
    sqlite3_stmt *st = lc_store_stmt(app->store, act == APPROVE ? upd_approve : upd_decide);
    if (st == NULL)
        goto fail;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, req->user, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, now);
    if (act != APPROVE) {
        sqlite3_bind_text(st, 4, act == REJECT ? "rejected" : "withdrawn", -1, SQLITE_STATIC);
        if (reason)
            sqlite3_bind_text(st, 5, reason, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 6, h.status, -1, SQLITE_TRANSIENT);
    }
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        goto fail;
    static const char *const actions[] = {"bulletin_approve", "bulletin_reject", "bulletin_withdraw"};
    json_t *detail = json_pack("{s:s,s:s}", "from", h.status, "to",
                               act == APPROVE ? "approved" : act == REJECT ? "rejected" : "withdrawn");
    if (reason)
        json_object_set_new(detail, "reason", json_string(reason));
    if (lc_audit(app->store, req, NULL, actions[act], target, detail) < 0 || lc_store_commit(app->store) < 0)
        goto fail;
    lc_reply_json(req, 200, lc_bulletin_load(app, id));
    goto out;
fail:
    lc_store_rollback(app->store);
    lc_reply_internal(req, "bulletins: review");
out:
    json_decref(body);
}

static void post_approve(struct lc_req *req)
{
    review(req, APPROVE);
}

static void post_reject(struct lc_req *req)
{
    review(req, REJECT);
}

static void post_withdraw(struct lc_req *req)
{
    review(req, WITHDRAW);
}

int lc_bulletins_routes(struct lc_router *r)
{
    const unsigned writers = LC_ROLE_ADMIN | LC_ROLE_EDITOR;
    const unsigned reviewers = LC_ROLE_ADMIN | LC_ROLE_APPROVER;
    int rc = 0;
    if (rc == 0) rc = lc_router_add(r, HTTP_GET, "/api/v1/bulletins", LC_ROLES_STAFF, LC_BODY_NONE, get_bulletins);
    if (rc == 0) rc = lc_router_add(r, HTTP_POST, "/api/v1/bulletins", writers, LC_BODY_JSON, post_bulletin);
    if (rc == 0) rc = lc_router_add(r, HTTP_GET, "/api/v1/bulletins/{id}", LC_ROLES_STAFF, LC_BODY_NONE, get_bulletin);
    if (rc == 0) rc = lc_router_add(r, HTTP_POST, "/api/v1/bulletins/{id}/approve", reviewers, LC_BODY_NONE, post_approve);
    if (rc == 0) rc = lc_router_add(r, HTTP_POST, "/api/v1/bulletins/{id}/reject", reviewers, LC_BODY_JSON, post_reject);
    if (rc == 0) rc = lc_router_add(r, HTTP_POST, "/api/v1/bulletins/{id}/withdraw",
                                    writers | LC_ROLE_APPROVER, LC_BODY_NONE, post_withdraw);
    if (rc == 0) rc = lc_bulletin_audio_routes(r);
    return rc;
}
