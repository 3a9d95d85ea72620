/*
 * server/bulletins/bulletins.c — the module's handle and routes; creating, listing, reading and
 * reviewing bulletins (see bulletins.h). A text's rendering, uploads and the audio preview are
 * in bulletin_audio.c; status changes go through bulletin_status.c; rows are read and inserted
 * by bulletin_data.c. This file is the top of the module: it calls those, none of them calls it.
 */
#define LC_LOG_MODULE "bulletins"
#include "server/bulletins/bulletins.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "codecs/tts.h"
#include "common/log.h"
#include "server/api/api.h"
#include "server/bulletins/bulletins_internal.h"
#include "server/http/http.h"
#include "server/org/org.h"
#include "server/registry/registry.h"
#include "server/store/store.h"

#define MAX_TEXT_CHARS 100000
/* No voice speaks faster than this (450 words a minute of Vietnamese syllables, spaces
 * included): a text longer than max_bulletin_s × this cannot fit the longest bulletin. */
#define FASTEST_CHARS_PER_S 40
#define MAX_TARGETS 1000

/* ---- the module ---------------------------------------------------------------------------- */

int lc_bulletins_open(struct lc_bulletins **out, const struct lc_bulletins_deps *d)
{
    *out = NULL;
    if (strlen(d->audio_dir) >= PATH_MAX)
        return -ENAMETOOLONG;
    struct lc_bulletins *b = calloc(1, sizeof *b);
    if (b == NULL)
        return -ENOMEM;
    b->loop = d->loop;
    b->store = d->store;
    b->render_pool = d->render_pool;
    b->urgent_pool = d->urgent_pool;
    b->renderer = d->renderer;
    b->lexicon = d->lexicon;
    b->bitrate_kbps = d->bitrate_kbps;
    b->loudness_lufs = d->loudness_lufs;
    b->max_bulletin_s = d->max_bulletin_s;
    b->renders_ok = d->renders_ok;
    b->renders_failed = d->renders_failed;
    b->render_seconds = d->render_seconds;
    memcpy(b->audio_dir, d->audio_dir, strlen(d->audio_dir) + 1);
    *out = b;
    return 0;
}

void lc_bulletins_free(struct lc_bulletins *b)
{
    free(b);
}

void lc_bulletins_stop(struct lc_bulletins *b)
{
    if (b == NULL)
        return;
    b->render_pool = b->urgent_pool = NULL;
    lc_bulletins_stop_retries(b);
}

/* ---- create -------------------------------------------------------------------------------- */

struct create {
    const char *title, *text, *voice, *priority, *not_before_s, *expires_s;
    long long rate, repeat;
    int64_t not_before, expires;
    bool all;
    json_t *communes;
};

static int read_create(struct lc_req *req, struct lc_store *store, int max_s, json_t *body,
                       struct create *c)
{
    long long bound = (long long)max_s * FASTEST_CHARS_PER_S;
    size_t max_text = bound < MAX_TEXT_CHARS ? (size_t)bound : MAX_TEXT_CHARS;
    c->voice = "vi";
    c->priority = "normal";
    c->rate = 150;
    c->repeat = 1;
    if (lc_api_string(req, body, "title", true, 200, &c->title) < 0 ||
        lc_api_string(req, body, "text", false, max_text, &c->text) < 0 ||
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
        if (!lc_slug_ok(s)) {
            lc_reply_error(req, 422, "invalid", "unknown commune '%.64s'", s);
            return -1;
        }
        if (lc_commune_require(req, store, s, 422) < 0)
            return -1;
        for (size_t k = 0; k < i; k++)
            if (strcmp(json_string_value(json_array_get(c->communes, k)), s) == 0) {
                lc_reply_error(req, 422, "invalid", "commune '%.64s' is listed twice", s);
                return -1;
            }
    }
    return 0;
}

/* The new bulletin's rows (bulletin, target communes, audit entry), in one transaction. */
struct insert {
    const struct lc_req *req;
    const struct lc_bulletin_new *n;
    int64_t id;
};

static int insert_tx(struct lc_store *st, void *arg)
{
    struct insert *ins = arg;
    return lc_bulletin_insert(st, ins->req, ins->n, &ins->id);
}

static void post_bulletin(struct lc_req *req, void *ctx)
{
    static const char *const fields[] = {"title", "text", "voice", "rate", "communes", "priority",
                                         "repeat", "not_before", "expires", NULL};
    struct lc_bulletins *b = ctx;
    struct create c = {0};
    int64_t id;
    json_t *body = lc_api_body(req, fields);
    if (body == NULL)
        return;
    if (read_create(req, b->store, b->max_bulletin_s, body, &c) < 0)
        goto out;
    bool text = c.text != NULL;
    struct lc_bulletin_new n = {
        .title = c.title, .text = c.text, .voice = c.voice, .priority = c.priority,
        .rate = c.rate, .repeat = c.repeat, .has_not_before = c.not_before_s != NULL,
        .has_expires = c.expires_s != NULL, .not_before = c.not_before, .expires = c.expires,
        .all = c.all, .communes = c.communes, .user = req->user, .node = req->node};
    struct insert ins = {req, &n, 0};
    if (lc_store_tx(b->store, insert_tx, &ins) < 0) {
        lc_reply_internal(req, "bulletins: insert");
        goto out;
    }
    id = ins.id;
    if (text && lc_bulletin_render_text(b, id, c.title, c.text, c.voice, (int)c.rate) < 0)
        lc_log(LC_LOG_ERR, "bulletin %lld: cannot queue its rendering now", (long long)id);
    lc_reply_json(req, text ? 202 : 201, lc_bulletin_load(b->store, id));
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

static void get_bulletins(struct lc_req *req, void *ctx)
{
    struct lc_bulletins *b = ctx;
    char status[32], by[80], commune[80], before[32], limit[32];
    struct lc_bulletin_filter f = {.limit = 100, .scope = req->node};
    char *end;
    if (lc_req_query(req, "status", status, sizeof status)) {
        if (!status_known(status)) {
            lc_reply_error(req, 400, "bad_query", "unknown status '%s'", status);
            return;
        }
        f.status = status;
    }
    if (lc_req_query(req, "limit", limit, sizeof limit)) {
        f.limit = strtoll(limit, &end, 10);
        if (*end || f.limit < 1 || f.limit > 1000) {
            lc_reply_error(req, 400, "bad_query", "limit must be 1..1000");
            return;
        }
    }
    if (lc_req_query(req, "before", before, sizeof before)) {
        f.before = strtoll(before, &end, 10);
        if (*end || f.before < 1) {
            lc_reply_error(req, 400, "bad_query", "before must be a bulletin id");
            return;
        }
    }
    if (lc_req_query(req, "created_by", by, sizeof by))
        f.created_by = by;
    if (lc_req_query(req, "commune", commune, sizeof commune))
        f.commune = commune;
    json_t *list;
    if (lc_bulletin_list(b->store, &f, &list) < 0) {
        lc_reply_internal(req, "bulletins: list");
        return;
    }
    lc_reply_json(req, 200, json_pack("{s:o}", "bulletins", list));
}

static void get_bulletin(struct lc_req *req, void *ctx)
{
    struct lc_bulletins *b = ctx;
    int64_t id;
    if (lc_bulletin_id_param(req, &id) < 0)
        return;
    json_t *o;
    int rc = lc_bulletin_find(b->store, id, &o);
    if (rc == 0) {  /* one outside the caller's subtree does not exist for them */
        int in = lc_org_in_scope(b->store, req->node,
                                 json_integer_value(json_object_get(o, "node")));
        if (in <= 0) {
            json_decref(o);
            rc = in < 0 ? -EIO : -ENOENT;
        }
    }
    if (rc == -ENOENT)
        lc_reply_error(req, 404, "not_found", "no bulletin %lld", (long long)id);
    else if (rc < 0)
        lc_reply_internal(req, "bulletins");
    else
        lc_reply_json(req, 200, o);
}

/* ---- review -------------------------------------------------------------------------------- */

/* Approve, reject, withdraw: 404, 403 (who), 409 (status) are answered in that order; an
 * approval after `expires` makes the bulletin `expired` instead (409). */
struct review {
    struct lc_req *req;
    struct lc_bulletin_head h;
    enum lc_bulletin_event ev;
    const char *reason;
    const char *heard;          /* approve: the audio_hash the approver listened to */
    bool expired;
};

static int review_tx(struct lc_store *s, void *arg)
{
    struct review *r = arg;
    int64_t now = lc_now();
    if (r->ev == LC_BEV_APPROVE) {
        /* Approval binds what was heard: read again inside the transaction, so that an upload
         * between the preview and the click is never approved unheard. */
        struct lc_bulletin_head cur;
        int rc = lc_bulletin_head(s, r->h.id, &cur);
        if (rc < 0)
            return rc;
        if (strcmp(cur.audio_hash, r->heard) != 0)
            return -ESTALE;
    }
    if (r->ev == LC_BEV_APPROVE && r->h.expires && r->h.expires <= now) {
        struct lc_bulletin_change c = {.event = LC_BEV_EXPIRE, .req = r->req, .now = now};
        r->expired = true;
        return lc_bulletin_transition(s, r->h.id, &c);
    }
    json_t *detail = json_pack("{s:s,s:s}", "from", r->h.status, "to",
                               lc_bulletin_next(r->h.status, r->ev));
    if (r->reason)
        json_object_set_new(detail, "reason", json_string(r->reason));
    struct lc_bulletin_change c = {.event = r->ev, .req = r->req, .text = r->reason, .now = now,
                                   .detail = detail};
    return lc_bulletin_transition(s, r->h.id, &c);
}

static void review(struct lc_req *req, struct lc_bulletins *b, enum lc_bulletin_event ev)
{
    static const char *const reject_fields[] = {"reason", NULL};
    static const char *const approve_fields[] = {"audio_hash", NULL};
    struct review r = {.req = req, .ev = ev};
    json_t *body = NULL;
    int64_t id;
    if (lc_bulletin_id_param(req, &id) < 0)
        return;
    if (ev == LC_BEV_REJECT) {
        if ((body = lc_api_body(req, reject_fields)) == NULL)
            return;
        if (lc_api_string(req, body, "reason", true, 1000, &r.reason) < 0)
            goto out;
        if (r.reason[strspn(r.reason, " \t\r\n")] == '\0') {
            lc_reply_error(req, 422, "invalid", "a rejection needs a reason");
            goto out;
        }
    }
    if (lc_bulletin_head_param(req, b->store, &r.h, "bulletins: head") < 0)
        goto out;
    int rc = lc_bulletin_check(&r.h, ev, req);
    if (rc == -EACCES) {
        if (ev == LC_BEV_WITHDRAW)
            lc_reply_error(req, 403, "forbidden",
                           "only the author, an approver or an admin withdraws a bulletin");
        else if (ev == LC_BEV_APPROVE && strcmp(r.h.created_by, req->user) != 0)
            lc_reply_error(req, 403, "forbidden", "nobody approves audio they supplied");
        else
            lc_reply_error(req, 403, "forbidden", "nobody approves or rejects their own bulletin");
        goto out;
    }
    if (rc < 0) {
        lc_reply_error(req, 409, "bad_state", "the bulletin is %s", r.h.status);
        goto out;
    }
    if (ev == LC_BEV_APPROVE) {
        if ((body = lc_api_body(req, approve_fields)) == NULL)
            goto out;
        if (lc_api_string(req, body, "audio_hash", true, 64, &r.heard) < 0)
            goto out;
    }
    rc = lc_store_tx(b->store, review_tx, &r);
    if (rc == -ESTALE)
        lc_reply_error(req, 409, "audio_changed",
                       "the audio changed since it was heard: listen to it again, then approve");
    else if (rc < 0)
        lc_reply_internal(req, "bulletins: review");
    else if (r.expired)
        lc_reply_error(req, 409, "bad_state", "the bulletin has expired");
    else
        lc_reply_json(req, 200, lc_bulletin_load(b->store, r.h.id));
out:
    json_decref(body);
}

static void post_approve(struct lc_req *req, void *ctx)
{
    review(req, ctx, LC_BEV_APPROVE);
}

static void post_reject(struct lc_req *req, void *ctx)
{
    review(req, ctx, LC_BEV_REJECT);
}

static void post_withdraw(struct lc_req *req, void *ctx)
{
    review(req, ctx, LC_BEV_WITHDRAW);
}

int lc_bulletins_routes(struct lc_bulletins *b, struct lc_router *r)
{
#define WRITERS (LC_ROLE_ADMIN | LC_ROLE_EDITOR)
#define REVIEWERS (LC_ROLE_ADMIN | LC_ROLE_APPROVER)
    static const struct {
        int method;
        const char *pattern;
        unsigned roles;
        enum lc_body body;
        lc_route_fn fn;
    } routes[] = {
        {HTTP_GET, "/api/v1/bulletins", LC_ROLES_STAFF, LC_BODY_NONE, get_bulletins},
        {HTTP_POST, "/api/v1/bulletins", WRITERS, LC_BODY_JSON, post_bulletin},
        {HTTP_GET, "/api/v1/bulletins/{id}", LC_ROLES_STAFF, LC_BODY_NONE, get_bulletin},
        {HTTP_POST, "/api/v1/bulletins/{id}/approve", REVIEWERS, LC_BODY_JSON, post_approve},
        {HTTP_POST, "/api/v1/bulletins/{id}/reject", REVIEWERS, LC_BODY_JSON, post_reject},
        {HTTP_POST, "/api/v1/bulletins/{id}/withdraw", WRITERS | LC_ROLE_APPROVER, LC_BODY_NONE,
         post_withdraw},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        int rc = lc_router_add(r, routes[i].method, routes[i].pattern, routes[i].roles,
                                   routes[i].body, routes[i].fn, b);
        if (rc < 0)
            return rc;
    }
    return lc_bulletin_audio_routes(b, r);
}
