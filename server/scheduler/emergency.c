/*
 * server/scheduler/emergency.c — emergencies: POST /api/v1/emergency (admin, approver) and
 * lc_scheduler_emergency_text(), the same for other modules (alerts); see scheduler.h.
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
 * (INTERRUPT of the session on air, or an emergency session OPEN now), then the caller's own
 * writes (in_tx: an alert marked on air). The events are published after the commit. Every
 * error (bad input 400/422, an unknown or unapproved bulletin 404/409, a text that does not
 * render 422) changes nothing. POST /api/v1/emergency with a text is one caller of
 * lc_scheduler_emergency_text(): its done callback answers the held request.
 */
#define LC_LOG_MODULE "emergency"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "codecs/tts.h"
#include "common/log.h"
#include "server/accounts/accounts.h"
#include "server/api/api.h"
#include "server/bulletins/bulletins.h"
#include "server/http/http.h"
#include "server/org/org.h"
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
    json_t *list = lc_communes_param(req, store, json_object_get(body, "communes")), *v;
    size_t i;
    *t = (struct targets){0};
    if (list == NULL)
        return -1;
    if (strcmp(json_string_value(json_array_get(list, 0)), "*") == 0) {
        /* "*": every commune of the caller's subtree (its bulletin's `all`, org.h) */
        static const char sql[] = "SELECT id FROM communes WHERE retired_at IS NULL"
                                  " AND node IN " LC_SCOPE_NODES " ORDER BY id";
        size_t cap = 0;
        t->all = true;
        sqlite3_stmt *st = lc_store_stmt(store, sql);
        if (st == NULL)
            goto internal;
        lc_store_bind_scope(st, req->node);
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
            json_decref(list);
            return -1;
        }
        json_decref(list);
        return 0;
    }
    t->v = calloc(json_array_size(list), sizeof *t->v);
    if (t->v == NULL)
        goto internal;
    json_array_foreach(list, i, v)
        snprintf(t->v[t->n++], 65, "%s", json_string_value(v));
    json_decref(list);
    return 0;
internal:
    json_decref(list);
    targets_free(t);
    lc_reply_internal(req, "emergency: communes");
    return -1;
}

/* One emergency under way: what it airs, who starts it, whom to tell (the text's copy while it
 * renders; on the stack for an approved bulletin). */
struct em {
    struct lc_scheduler *s;
    struct lc_req *req;             /* the audit's request (its address), or NULL; not ours */
    char user[64];
    int64_t node;                   /* the requester's organisation node (0: the root's) */
    struct targets t;               /* owned */
    char *title, *text;             /* owned (a text's) */
    char voice[32];
    lc_emergency_tx_cb in_tx;
    lc_emergency_done_cb done;
    void *ctx;
};

/* What one emergency writes, in one transaction (on_air_tx): the bulletin made of a rendered
 * text (when `made` is set), its airing in every target commune, the audit entry, then the
 * caller's own writes (in_tx). */
struct on_air {
    const struct em *e;
    const struct lc_bulletin_emergency *made;   /* NULL: bulletin is an approved one */
    int64_t bulletin;
    json_t *sessions;                           /* owned: [{commune, session, interrupted}] */
    bool in_tx_failed;                          /* the rollback is in_tx's */
};

static int on_air_tx(struct lc_store *st, void *arg)
{
    struct on_air *a = arg;
    const struct em *e = a->e;
    int rc = 0;
    if (a->made != NULL && (rc = lc_bulletin_create_emergency(st, a->made, &a->bulletin)) < 0)
        return rc;
    for (size_t i = 0; i < e->t.n && rc == 0; i++) {
        int64_t sid;
        bool interrupted;
        rc = lc_scheduler_emergency(e->s, e->t.v[i], a->bulletin, e->user, &sid, &interrupted);
        if (rc == 0)
            json_array_append_new(a->sessions,
                                  json_pack("{s:s,s:I,s:b}", "commune", e->t.v[i], "session",
                                            (json_int_t)sid, "interrupted", interrupted));
    }
    if (rc < 0)
        return rc;
    char target[32];
    snprintf(target, sizeof target, "%lld", (long long)a->bulletin);
    rc = lc_audit(st, e->req, e->user, "emergency", target,
                  json_pack("{s:b,s:O,s:b}", "all", e->t.all, "sessions", a->sessions,
                            "created", a->made != NULL));
    if (rc == 0 && e->in_tx != NULL && (rc = e->in_tx(st, a->bulletin, e->ctx)) < 0)
        a->in_tx_failed = true;
    return rc;
}

static void fail(struct lc_emergency_result *r, int rc, int status, const char *code,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void fail(struct lc_emergency_result *r, int rc, int status, const char *code,
                 const char *fmt, ...)
{
    va_list ap;
    r->rc = rc;
    r->status = status;
    r->code = code;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
}

/* Puts bulletin (approved, with audio), or the bulletin made of a rendered text, on air in
 * every target commune of e: writes it all in one transaction, then publishes the events. On
 * any failure nothing is written, nothing published, and r says why. */
static void go_on_air(const struct em *e, int64_t bulletin, const struct lc_bulletin_emergency *made,
                      struct lc_emergency_result *r)
{
    struct on_air a = {.e = e, .made = made, .bulletin = bulletin, .sessions = json_array()};
    int64_t t0 = lc_wall_ms();
    int rc = a.sessions ? lc_store_tx(e->s->store, on_air_tx, &a) : -ENOMEM;
    if (rc < 0) {
        lc_scheduler_drop_pending(e->s);
        json_decref(a.sessions);
        if (a.in_tx_failed)
            fail(r, rc, 0, "conflict", "%s", "refused by its caller");
        else if (rc == -ESHUTDOWN)
            fail(r, rc, 503, "shutting_down", "%s", "the server is shutting down");
        else {
            lc_log(LC_LOG_ERR, "emergency: %s: %s", made ? "bulletin" : "store", lc_strerror(rc));
            fail(r, rc, 500, "internal", "%s", "internal error");
        }
        return;
    }
    lc_scheduler_publish_pending(e->s);
    lc_log(LC_LOG_INFO, "emergency bulletin %lld on air in %zu commune(s) by %s",
           (long long)a.bulletin, e->t.n, e->user);
    r->rc = 0;
    r->bulletin = a.bulletin;
    r->on_air_at_ms = t0;
    r->sessions = a.sessions;   /* freed by the caller of go_on_air, after done */
}

/* POST /api/v1/emergency's answer for r. */
static void reply_result(struct lc_req *req, const struct lc_emergency_result *r)
{
    if (r->rc < 0) {
        lc_reply_error(req, r->status ? r->status : 500, r->code, "%s", r->message);
        return;
    }
    char at[40];
    lc_time_format(r->on_air_at_ms / 1000, at);
    lc_reply_json(req, 201, json_pack("{s:I,s:s,s:I,s:O}", "bulletin", (json_int_t)r->bulletin,
                                      "on_air_at", at, "on_air_at_ms",
                                      (json_int_t)r->on_air_at_ms, "sessions", r->sessions));
}

/* ---- an approved bulletin ------------------------------------------------------------------ */

static void air_bulletin(struct lc_scheduler *s, struct lc_req *req, int64_t id,
                         struct targets *t)
{
    int rc = lc_bulletin_in_scope(s->store, req->node, id);
    if (rc > 0)
        rc = lc_bulletin_airable(s->store, id);
    else if (rc == 0)
        rc = -ENOENT;   /* outside the caller's subtree: as if there were none */
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
    struct em e = {.s = s, .req = req, .t = *t};
    snprintf(e.user, sizeof e.user, "%s", req->user);
    struct lc_emergency_result r = {0};
    go_on_air(&e, id, NULL, &r);
    reply_result(req, &r);
    json_decref(r.sessions);
}

/* ---- a text, rendered first ---------------------------------------------------------------- */

static void em_free(struct em *e)
{
    targets_free(&e->t);
    free(e->title);
    free(e->text);
    free(e);
}

/* The text was rendered (or not): its bulletin and the airings, in one transaction; then the
 * caller is told. */
static void on_rendered(const struct lc_render_out *out, int cancelled, void *arg)
{
    struct em *e = arg;
    struct lc_emergency_result r = {0};
    if (cancelled) {
        fail(&r, -ESHUTDOWN, 503, "shutting_down", "%s", "the server is shutting down");
    } else if (out->rc < 0) {
        fail(&r, out->rc, 422, "invalid", "the text cannot be spoken: %s", lc_err_msg(out->err));
    } else {
        struct lc_bulletin_emergency b = {
            .title = e->title, .text = e->text, .voice = e->voice, .all = e->t.all,
            .communes = (const char (*)[65])e->t.v, .n = e->t.n, .hash = out->hash,
            .media_hash = out->media_hash, .bytes = out->bytes, .duration_s = out->duration_s,
            .user = e->user, .node = e->node};
        go_on_air(e, 0, &b, &r);
    }
    e->done(&r, e->ctx);
    json_decref(r.sessions);
    em_free(e);
}

int lc_scheduler_emergency_text(struct lc_scheduler *s, const struct lc_emergency_text *in)
{
    const char *title = in->title && in->title[0] ? in->title : DEFAULT_TITLE;
    if (in->text == NULL || in->text[0] == '\0' || in->n == 0 || in->done == NULL ||
        in->user == NULL)
        return -EINVAL;
    struct em *e = calloc(1, sizeof *e);
    if (e == NULL || (e->title = strdup(title)) == NULL || (e->text = strdup(in->text)) == NULL ||
        (e->t.v = calloc(in->n, sizeof *e->t.v)) == NULL)
        goto nomem;
    memcpy(e->t.v, in->communes, in->n * sizeof *e->t.v);
    e->t.n = in->n;
    e->t.all = in->all;
    e->s = s;
    e->req = in->req;
    e->node = in->req ? in->req->node : 0;
    snprintf(e->user, sizeof e->user, "%s", in->user);
    snprintf(e->voice, sizeof e->voice, "%s", in->voice ? in->voice : "vi");
    e->in_tx = in->in_tx;
    e->done = in->done;
    e->ctx = in->ctx;
    struct lc_render_in rin = {.title = e->title, .text = e->text, .voice = e->voice};
    int rc = lc_bulletins_render(s->bulletins, &rin, true, on_rendered, e);
    if (rc < 0) {
        em_free(e);
        return rc;
    }
    return 0;
nomem:
    if (e)
        em_free(e);
    return -ENOMEM;
}

/* POST /api/v1/emergency with a text: answered when the emergency is on air (or failed). */
static void on_posted(const struct lc_emergency_result *r, void *ctx)
{
    struct lc_req *req = ctx;
    reply_result(req, r);
    lc_req_release(req);
}

static void post_emergency(struct lc_req *req, void *ctx)
{
    static const char *const fields[] = {"text", "bulletin", "communes", "title", "voice", NULL};
    struct lc_scheduler *s = ctx;
    const char *text = NULL, *title = DEFAULT_TITLE, *voice = "vi";
    long long bulletin = 0;
    struct targets t = {0};
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
    struct lc_err verr = {0};
    if (lc_tts_check_voice(voice, &verr) < 0) {
        lc_reply_error(req, 422, "invalid", "%s", lc_err_msg(&verr));
        goto out;
    }
    if (read_targets(req, s->store, body, &t) < 0)
        goto out;
    if (bulletin) {
        air_bulletin(s, req, bulletin, &t);
        goto out;
    }
    struct lc_emergency_text in = {
        .text = text, .title = title, .voice = voice, .communes = (const char (*)[65])t.v,
        .n = t.n, .all = t.all, .user = req->user, .req = req, .done = on_posted, .ctx = req};
    lc_req_hold(req);
    int rc = lc_scheduler_emergency_text(s, &in);
    if (rc < 0) {
        if (rc == -ENOMEM)
            lc_reply_internal(req, "emergency: memory");
        else
            lc_reply_error(req, 503, "shutting_down", "the server is shutting down");
        lc_req_release(req);
    }
out:
    targets_free(&t);
    json_decref(body);
}

int lc_emergency_routes(struct lc_scheduler *s, struct lc_router *r)
{
    return lc_router_add(r, HTTP_POST, "/api/v1/emergency", LC_ROLE_ADMIN | LC_ROLE_APPROVER,
                             LC_BODY_JSON, post_emergency, s);
}
