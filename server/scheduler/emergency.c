/*
 * server/scheduler/emergency.c — POST /api/v1/emergency (admin, approver; see scheduler.h).
 *
 *   {"text": "...", "title"?: "...", "voice"?: "vi", "communes": ["quang-phu", ...] | ["*"]}
 *   {"bulletin": ID, "communes": [...]}
 *   → 201 {"bulletin": ID, "on_air_at": time, "sessions": [{"commune","session","interrupted"}]}
 *
 * A text is rendered at once by the bulletins module's render service, ahead of every render
 * waiting (lc_bulletins_render(..., first)); the request is held until it is on air. Then, in one
 * transaction: the text becomes a bulletin through the bulletins module's door
 * (lc_bulletin_create_emergency: priority `emergency`, approved by the requester — an emergency
 * is its own authorisation, audited as such), and each target commune gets an emergency session
 * (INTERRUPT of the session on air, or an emergency session OPEN now). The events are published
 * after the commit. Every error (bad input 400/422, an unknown or unapproved bulletin 404/409, a
 * text that does not render 422) changes nothing.
 */
#define LC_LOG_MODULE "emergency"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "common/log.h"
#include "server/accounts/accounts.h"
#include "server/api/api.h"
#include "server/bulletins/bulletins.h"
#include "server/http/http.h"
#include "server/registry/registry.h"
#include "server/scheduler/scheduler.h"
#include "server/scheduler/scheduler_internal.h"
#include "server/scheduler/scheduler_state.h"
#include "server/store/store.h"

#define DEFAULT_TITLE "Thông báo khẩn cấp"

struct targets {
    bool all;
    char (*v)[65];
    size_t n;
};

/* A text being rendered: the held request and what its bulletin needs. */
struct em_render {
    struct lc_scheduler *s;
    struct lc_req *req;             /* held until answered */
    struct targets t;
    char *title, *text;
    char voice[32];
};

static void targets_free(struct targets *t)
{
    free(t->v);
    *t = (struct targets){0};
}

/* Reads "communes": ids that exist, or ["*"] (every commune, which must not be none). Answers and
 * returns -1 on error. */
static int read_targets(struct lc_req *req, struct lc_store *store, json_t *body,
                        struct targets *t)
{
    json_t *list = json_object_get(body, "communes"), *v;
    size_t i;
    *t = (struct targets){0};
    if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > 10000) {
        lc_reply_error(req, 400, "bad_field", "communes must be a non-empty list of ids, or [\"*\"]");
        return -1;
    }
    json_array_foreach(list, i, v)
        if (!json_is_string(v)) {
            lc_reply_error(req, 400, "bad_field", "communes must be a list of ids");
            return -1;
        }
    if (json_array_size(list) == 1 && strcmp(json_string_value(json_array_get(list, 0)), "*") == 0) {
        static const char sql[] = "SELECT id FROM communes WHERE retired_at IS NULL ORDER BY id";
        size_t cap = 0;
        t->all = true;
        sqlite3_stmt *st = lc_store_stmt(store, sql);
        if (st == NULL)
            goto internal;
        while (sqlite3_step(st) == SQLITE_ROW) {
            if (t->n == cap) {
                cap = cap ? cap * 2 : 32;
                char (*nv)[65] = realloc(t->v, cap * sizeof *nv);
                if (nv == NULL) {
                    sqlite3_reset(st);
                    goto internal;
                }
                t->v = nv;
            }
            snprintf(t->v[t->n++], 65, "%s", lc_col_text(st, 0));
        }
        if (lc_store_done(st) < 0) /* never a shorter list of targets */
            goto internal;
        if (t->n == 0) {
            lc_reply_error(req, 422, "invalid", "there is no commune yet");
            targets_free(t);
            return -1;
        }
        return 0;
    }
    t->v = calloc(json_array_size(list), sizeof *t->v);
    if (t->v == NULL)
        goto internal;
    json_array_foreach(list, i, v) {
        const char *id = json_string_value(v);
        if (lc_commune_require(req, store, id, 422) < 0) {
            targets_free(t);
            return -1;
        }
        bool dup = false;
        for (size_t k = 0; k < t->n; k++)
            dup = dup || strcmp(t->v[k], id) == 0;
        if (!dup)
            snprintf(t->v[t->n++], 65, "%s", id);
    }
    return 0;
internal:
    targets_free(t);
    lc_reply_internal(req, "emergency: communes");
    return -1;
}

/* What one emergency writes, in one transaction (on_air_tx): the bulletin made of a rendered
 * text (when `made` is set), its airing in every target commune, the audit entry. */
struct on_air {
    struct lc_scheduler *s;
    struct lc_req *req;
    const struct targets *t;
    const struct lc_bulletin_emergency *made;   /* NULL: bulletin is an approved one */
    int64_t bulletin;
    json_t *sessions;                           /* owned: [{commune, session, interrupted}] */
};

static int on_air_tx(struct lc_store *st, void *arg)
{
    struct on_air *a = arg;
    int rc = 0;
    if (a->made != NULL && (rc = lc_bulletin_create_emergency(st, a->made, &a->bulletin)) < 0)
        return rc;
    for (size_t i = 0; i < a->t->n && rc == 0; i++) {
        int64_t sid;
        bool interrupted;
        rc = lc_scheduler_emergency(a->s, a->t->v[i], a->bulletin, a->req->user, &sid,
                                    &interrupted);
        if (rc == 0)
            json_array_append_new(a->sessions,
                                  json_pack("{s:s,s:I,s:b}", "commune", a->t->v[i], "session",
                                            (json_int_t)sid, "interrupted", interrupted));
    }
    if (rc < 0)
        return rc;
    char target[32];
    snprintf(target, sizeof target, "%lld", (long long)a->bulletin);
    return lc_audit(st, a->req, NULL, "emergency", target,
                    json_pack("{s:b,s:O,s:b}", "all", a->t->all, "sessions", a->sessions,
                              "created", a->made != NULL));
}

/* Puts bulletin (approved, with audio), or the bulletin made of a rendered text, on air in
 * every target commune: writes it all in one transaction, then publishes the events and
 * answers. On any failure nothing is written, nothing published, and the answer says why. */
static void go_on_air(struct lc_scheduler *s, struct lc_req *req, int64_t bulletin,
                      const struct targets *t, const struct lc_bulletin_emergency *made)
{
    struct on_air a = {.s = s, .req = req, .t = t, .made = made, .bulletin = bulletin,
                       .sessions = json_array()};
    int64_t t0 = lc_wall_ms();
    int rc = a.sessions ? lc_store_tx(s->store, on_air_tx, &a) : -ENOMEM;
    if (rc < 0) {
        lc_scheduler_drop_pending(s);
        json_decref(a.sessions);
        if (rc == -ESHUTDOWN)
            lc_reply_error(req, 503, "shutting_down", "the server is shutting down");
        else
            lc_reply_internal(req, made ? "emergency: bulletin" : "emergency: store");
        return;
    }
    lc_scheduler_publish_pending(s);
    lc_log(LC_LOG_INFO, "emergency bulletin %lld on air in %zu commune(s) by %s",
           (long long)a.bulletin, t->n, req->user);
    char at[40];
    lc_time_format(t0 / 1000, at);
    lc_reply_json(req, 201, json_pack("{s:I,s:s,s:I,s:o}", "bulletin", (json_int_t)a.bulletin,
                                      "on_air_at", at, "on_air_at_ms", (json_int_t)t0,
                                      "sessions", a.sessions));
}

/* ---- an approved bulletin ------------------------------------------------------------------ */

static void air_bulletin(struct lc_scheduler *s, struct lc_req *req, int64_t id,
                         struct targets *t)
{
    int rc = lc_bulletin_airable(s->store, id);
    if (rc == -ENOENT) {
        lc_reply_error(req, 404, "not_found", "no bulletin %lld", (long long)id);
        return;
    }
    if (rc < 0) {
        lc_reply_internal(req, "emergency: bulletin");
        return;
    }
    if (rc == 0) {
        lc_reply_error(req, 409, "bad_state", "bulletin %lld is not approved", (long long)id);
        return;
    }
    go_on_air(s, req, id, t, NULL);
}

/* ---- a text, rendered first ---------------------------------------------------------------- */

static void em_free(struct em_render *e)
{
    if (e->req)
        lc_req_release(e->req);
    targets_free(&e->t);
    free(e->title);
    free(e->text);
    free(e);
}

/* The text was rendered (or not): its bulletin and the airings, in one transaction. */
static void on_rendered(const struct lc_render_out *out, int cancelled, void *arg)
{
    struct em_render *e = arg;
    struct lc_req *req = e->req;
    if (cancelled) {
        lc_reply_error(req, 503, "shutting_down", "the server is shutting down");
        goto out;
    }
    if (out->rc < 0) {
        lc_reply_error(req, 422, "invalid", "the text cannot be spoken: %s", lc_err_msg(out->err));
        goto out;
    }
    struct lc_bulletin_emergency b = {
        .title = e->title, .text = e->text, .voice = e->voice, .all = e->t.all,
        .communes = (const char (*)[65])e->t.v, .n = e->t.n, .hash = out->hash,
        .media_hash = out->media_hash, .bytes = out->bytes, .duration_s = out->duration_s,
        .user = req->user};
    go_on_air(e->s, req, 0, &e->t, &b);
out:
    em_free(e);
}

static void post_emergency(struct lc_req *req, void *ctx)
{
    static const char *const fields[] = {"text", "bulletin", "communes", "title", "voice", NULL};
    struct lc_scheduler *s = ctx;
    const char *text = NULL, *title = DEFAULT_TITLE, *voice = "vi";
    long long bulletin = 0;
    struct targets t = {0};
    struct em_render *e = NULL;
    json_t *body = lc_api_body(req, fields);
    if (body == NULL)
        return;
    if (lc_api_string(req, body, "text", false, 100000, &text) < 0 ||
        lc_api_int(req, body, "bulletin", false, 1, INT64_MAX, &bulletin) < 0 ||
        lc_api_string(req, body, "title", false, 200, &title) < 0 ||
        lc_api_string(req, body, "voice", false, 31, &voice) < 0)
        goto out;
    if ((text != NULL) == (bulletin != 0)) {
        lc_reply_error(req, 400, "bad_field", "give either \"text\" or \"bulletin\"");
        goto out;
    }
    if (text != NULL && text[0] == '\0') {
        lc_reply_error(req, 422, "invalid", "text must not be empty");
        goto out;
    }
    if (strcmp(voice, "vi") != 0 && strcmp(voice, "vi-vn-x-central") != 0 &&
        strcmp(voice, "vi-vn-x-south") != 0) {
        lc_reply_error(req, 422, "invalid", "unknown voice '%.32s'", voice);
        goto out;
    }
    if (read_targets(req, s->store, body, &t) < 0)
        goto out;
    if (bulletin) {
        air_bulletin(s, req, bulletin, &t);
        goto out;
    }
    e = calloc(1, sizeof *e);
    if (e == NULL || (e->title = strdup(title[0] ? title : DEFAULT_TITLE)) == NULL ||
        (e->text = strdup(text)) == NULL) {
        lc_reply_internal(req, "emergency: memory");
        goto out;
    }
    e->s = s;
    snprintf(e->voice, sizeof e->voice, "%s", voice);
    e->t = t;
    t = (struct targets){0};
    struct lc_render_in in = {.title = e->title, .text = e->text, .voice = e->voice};
    int rc = lc_bulletins_render(s->bulletins, &in, true, on_rendered, e);
    if (rc == -ENOMEM) {
        lc_reply_internal(req, "emergency: memory");
        goto out;
    }
    if (rc < 0) {
        lc_reply_error(req, 503, "shutting_down", "the server is shutting down");
        goto out;
    }
    lc_req_hold(req);
    e->req = req;
    e = NULL;
out:
    if (e)
        em_free(e);
    targets_free(&t);
    json_decref(body);
}

int lc_emergency_routes(struct lc_scheduler *s, struct lc_router *r)
{
    return lc_router_add(r, HTTP_POST, "/api/v1/emergency", LC_ROLE_ADMIN | LC_ROLE_APPROVER,
                             LC_BODY_JSON, post_emergency, s);
}
