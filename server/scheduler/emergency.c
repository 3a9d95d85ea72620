/*
 * server/scheduler/emergency.c — POST /api/v1/emergency (admin, approver; see scheduler.h).
 *
 *   {"text": "...", "title"?: "...", "voice"?: "vi", "communes": ["quang-phu", ...] | ["*"]}
 *   {"bulletin": ID, "communes": [...]}
 *   → 201 {"bulletin": ID, "on_air_at": time, "sessions": [{"commune","session","interrupted"}]}
 *
 * A text is rendered at once, ahead of every bulletin waiting on the render pool
 * (lc_workers_submit_first); the request is held until it is on air. Then, in one transaction:
 * the text becomes a bulletin (priority `emergency`, approved by the requester — an emergency is
 * its own authorisation, audited as such), and each target commune gets an emergency session
 * (INTERRUPT of the session on air, or an emergency session OPEN now). The events are published
 * after the commit. Every error (bad input 400/422, an unknown or unapproved bulletin 404/409, a
 * text that does not render 422) changes nothing.
 */
#define LC_LOG_MODULE "emergency"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "codecs/render.h"
#include "server/api/api.h"
#include "server/store/audiostore.h"
#include "server/accounts/audit.h"
#include "common/log.h"
#include "server/registry/registry.h"
#include "server/http/router.h"
#include "server/scheduler/scheduler.h"
#include "server/scheduler/scheduler_internal.h"
#include "server/store/store.h"
#include "common/workers.h"

#define DEFAULT_TITLE "Thông báo khẩn cấp"

struct targets {
    bool all;
    char (*v)[65];
    size_t n;
};

struct em_job {
    struct lc_job job;              /* first: the pool links this */
    struct lc_app *app;             /* loop side only */
    struct lc_req *req;             /* held until answered */
    struct lc_renderer *renderer;
    const struct lc_lexicon *lexicon;
    struct targets t;
    char *title, *text;
    char voice[32];
    int bitrate;
    double lufs;
    char audio_dir[PATH_MAX];
    /* results */
    int rc;
    struct lc_err err;
    char hash[LC_AUDIO_HASH_LEN];
    size_t bytes;
    double duration_s;
};

static void targets_free(struct targets *t)
{
    free(t->v);
    *t = (struct targets){0};
}

/* Reads "communes": ids that exist, or ["*"] (every commune, which must not be none). Answers and
 * returns -1 on error. */
static int read_targets(struct lc_req *req, json_t *body, struct targets *t)
{
    struct lc_app *app = lc_app(req);
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
        static const char sql[] = "SELECT id FROM communes ORDER BY id";
        size_t cap = 0;
        t->all = true;
        sqlite3_stmt *st = lc_store_stmt(app->store, sql);
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
        sqlite3_reset(st);
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
        if (strlen(id) > 64 || !lc_commune_exists(app->store, id)) {
            lc_reply_error(req, 422, "invalid", "unknown commune '%.64s'", id);
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

/* In one transaction: the airings in every target commune, the audit entry; then the events and
 * the answer. bulletin exists, is approved and has audio. Returns 0, or -1 after answering. */
static int go_on_air(struct lc_req *req, int64_t bulletin, const struct targets *t,
                     bool created)
{
    struct lc_app *app = lc_app(req);
    struct lc_scheduler *s = app->scheduler;
    json_t *sessions = json_array();
    if (s == NULL) {
        json_decref(sessions);
        lc_reply_error(req, 503, "shutting_down", "the server is shutting down");
        return -1;
    }
    int64_t t0 = lc_wall_ms();
    for (size_t i = 0; i < t->n; i++) {
        int64_t sid;
        bool interrupted;
        if (lc_scheduler_emergency(s, t->v[i], bulletin, req->user, &sid, &interrupted) < 0)
            goto fail;
        json_array_append_new(sessions, json_pack("{s:s,s:I,s:b}", "commune", t->v[i], "session",
                                                  (json_int_t)sid, "interrupted", interrupted));
    }
    char target[32];
    snprintf(target, sizeof target, "%lld", (long long)bulletin);
    if (lc_audit(app->store, req, NULL, "emergency", target,
                 json_pack("{s:b,s:O,s:b}", "all", t->all, "sessions", sessions, "created",
                           created)) < 0 ||
        lc_store_commit(app->store) < 0)
        goto fail;
    lc_scheduler_publish_pending(s);
    lc_log(LC_LOG_INFO, "emergency bulletin %lld on air in %zu commune(s) by %s",
           (long long)bulletin, t->n, req->user);
    char at[40];
    lc_time_format(t0 / 1000, at);
    lc_reply_json(req, 201, json_pack("{s:I,s:s,s:I,s:o}", "bulletin", (json_int_t)bulletin,
                                      "on_air_at", at, "on_air_at_ms", (json_int_t)t0,
                                      "sessions", sessions));
    return 0;
fail:
    lc_scheduler_drop_pending(s);
    lc_store_rollback(app->store);
    json_decref(sessions);
    lc_reply_internal(req, "emergency: store");
    return -1;
}

/* ---- an approved bulletin ------------------------------------------------------------------ */

static void air_bulletin(struct lc_req *req, int64_t id, struct targets *t)
{
    static const char sql[] = "SELECT status, audio_hash IS NOT NULL FROM bulletins WHERE id = ?";
    struct lc_app *app = lc_app(req);
    sqlite3_stmt *st = lc_store_stmt(app->store, sql);
    if (st == NULL) {
        lc_reply_internal(req, "emergency: bulletin");
        return;
    }
    sqlite3_bind_int64(st, 1, id);
    int step = sqlite3_step(st);
    bool approved = step == SQLITE_ROW && strcmp(lc_col_text(st, 0), "approved") == 0 &&
                    sqlite3_column_int(st, 1);
    sqlite3_reset(st);
    if (step != SQLITE_ROW) {
        lc_reply_error(req, 404, "not_found", "no bulletin %lld", (long long)id);
        return;
    }
    if (!approved) {
        lc_reply_error(req, 409, "bad_state", "bulletin %lld is not approved", (long long)id);
        return;
    }
    if (lc_store_begin(app->store) < 0) {
        lc_reply_internal(req, "emergency: begin");
        return;
    }
    go_on_air(req, id, t, false);
}

/* ---- a text, rendered first ---------------------------------------------------------------- */

static void job_free(struct em_job *j)
{
    if (j->req)
        lc_req_release(j->req);
    targets_free(&j->t);
    free(j->title);
    free(j->text);
    free(j);
}

static void render_work(struct lc_job *job)
{
    struct em_job *j = (struct em_job *)job;
    struct lc_render_opts o = {.voice = j->voice, .bitrate_kbps = j->bitrate,
                               .complexity = LC_RENDER_DEFAULT_COMPLEXITY,
                               .loudness_lufs = j->lufs, .title = j->title};
    struct lc_rendered out = {0};
    j->rc = lc_render_opts_resolve(&o, &j->err);
    if (j->rc == 0)
        j->rc = lc_render_text(j->renderer, &o, j->lexicon, j->text, strlen(j->text), &out, &j->err);
    if (j->rc == 0) {
        j->rc = lc_audio_store(j->audio_dir, out.ogg.data, out.ogg.len, j->hash, &j->err);
        j->bytes = out.ogg.len;
        j->duration_s = out.duration_s;
    }
    lc_rendered_free(&out);
}

static int insert_bulletin(struct lc_app *app, const struct em_job *j, const char *user,
                           int64_t *id)
{
    static const char ins[] =
        "INSERT INTO bulletins (title, kind, text, voice, rate, priority, repeat, all_communes,"
        " status, audio_hash, audio_bytes, duration_s, created_by, created_at, updated_at,"
        " approved_by, approved_at)"
        " VALUES (?1, 'text', ?2, ?3, 150, 'emergency', 1, ?4, 'approved', ?5, ?6, ?7, ?8, ?9, ?9,"
        " ?8, ?9)";
    static const char ins_o[] = "INSERT OR REPLACE INTO approval_order (bulletin) VALUES (?)";
    static const char ins_c[] = "INSERT INTO bulletin_communes (bulletin, commune) VALUES (?,?)";
    sqlite3_stmt *st = lc_store_stmt(app->store, ins);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, j->title, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, j->text, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, j->voice, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 4, j->t.all);
    sqlite3_bind_text(st, 5, j->hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)j->bytes);
    sqlite3_bind_double(st, 7, j->duration_s);
    sqlite3_bind_text(st, 8, user, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 9, lc_now());
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return -EIO;
    *id = lc_store_last_id(app->store);
    if ((st = lc_store_stmt(app->store, ins_o)) == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, *id);
    step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return -EIO;
    for (size_t i = 0; !j->t.all && i < j->t.n; i++) {
        if ((st = lc_store_stmt(app->store, ins_c)) == NULL)
            return -EIO;
        sqlite3_bind_int64(st, 1, *id);
        sqlite3_bind_text(st, 2, j->t.v[i], -1, SQLITE_TRANSIENT);
        step = sqlite3_step(st);
        sqlite3_reset(st);
        if (step != SQLITE_DONE)
            return -EIO;
    }
    char target[32];
    snprintf(target, sizeof target, "%lld", (long long)*id);
    return lc_audit(app->store, NULL, user, "bulletin_create", target,
                    json_pack("{s:s,s:s,s:f}", "title", j->title, "priority", "emergency",
                              "duration_s", j->duration_s));
}

static void render_done(struct lc_job *job, int cancelled)
{
    struct em_job *j = (struct em_job *)job;
    struct lc_app *app = j->app;
    struct lc_req *req = j->req;
    int64_t id;
    if (cancelled) {
        lc_reply_error(req, 503, "shutting_down", "the server is shutting down");
        goto out;
    }
    if (j->rc < 0) {
        lc_reply_error(req, 422, "invalid", "the text cannot be spoken: %s", lc_err_msg(&j->err));
        goto out;
    }
    if (lc_store_begin(app->store) < 0) {
        lc_reply_internal(req, "emergency: begin");
        goto out;
    }
    if (insert_bulletin(app, j, req->user, &id) < 0) {
        lc_store_rollback(app->store);
        lc_reply_internal(req, "emergency: bulletin");
        goto out;
    }
    go_on_air(req, id, &j->t, true);
out:
    job_free(j);
}

static void post_emergency(struct lc_req *req)
{
    static const char *const fields[] = {"text", "bulletin", "communes", "title", "voice", NULL};
    struct lc_app *app = lc_app(req);
    const char *text = NULL, *title = DEFAULT_TITLE, *voice = "vi";
    long long bulletin = 0;
    struct targets t = {0};
    struct em_job *j = NULL;
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
    if (read_targets(req, body, &t) < 0)
        goto out;
    if (bulletin) {
        air_bulletin(req, bulletin, &t);
        goto out;
    }
    j = calloc(1, sizeof *j);
    if (j == NULL || (j->title = strdup(title[0] ? title : DEFAULT_TITLE)) == NULL ||
        (j->text = strdup(text)) == NULL) {
        lc_reply_internal(req, "emergency: memory");
        goto out;
    }
    j->job.work = render_work;
    j->job.done = render_done;
    j->app = app;
    j->renderer = app->renderer;
    j->lexicon = app->lexicon;
    snprintf(j->voice, sizeof j->voice, "%s", voice);
    j->bitrate = app->cfg.bitrate_kbps;
    j->lufs = app->cfg.loudness_lufs;
    snprintf(j->audio_dir, sizeof j->audio_dir, "%s", app->audio_dir);
    j->t = t;
    t = (struct targets){0};
    lc_req_hold(req);
    j->req = req;
    if (app->render_pool == NULL || lc_workers_submit_first(app->render_pool, &j->job) < 0) {
        lc_reply_error(req, 503, "shutting_down", "the server is shutting down");
        goto out;
    }
    j = NULL;
out:
    if (j)
        job_free(j);
    targets_free(&t);
    json_decref(body);
}

int lc_emergency_routes(struct lc_router *r)
{
    return lc_router_add(r, HTTP_POST, "/api/v1/emergency", LC_ROLE_ADMIN | LC_ROLE_APPROVER,
                         LC_BODY_JSON, post_emergency);
}
