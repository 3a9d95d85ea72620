/*
 * server/bulletins/bulletin_audio.c — a bulletin's audio: rendering its text and a recorded
 * upload (the preview is bulletin_preview.c).
 *
 * Both renders go through the render service (bulletin_render.c); their outcome is stored on
 * the loop by a status change (bulletin_status.c): `render ok` / `render fails` for a text,
 * `upload ok` for a recording, whose PUT is held until then and answered with the bulletin.
 * Calls bulletin_render.c, bulletin_status.c, bulletin_data.c and, at start, bulletin_media.c;
 * never bulletins.c.
 */
#define LC_LOG_MODULE "bulletins"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>

#include "common/log.h"
#include "server/api/api.h"
#include "server/bulletins/bulletins_internal.h"
#include "server/http/http.h"
#include "server/store/store.h"

/* Counts a finished render in the server's metrics. */
static void count(struct lc_bulletins *b, const struct lc_render_out *out)
{
    if (b->render_seconds)
        *b->render_seconds += out->seconds;
    uint64_t *n = out->rc == 0 ? b->renders_ok : b->renders_failed;
    if (n)
        (*n)++;
}

/* ---- texts --------------------------------------------------------------------------------- */

/* An outcome that could not be stored (the database was locked, the disk full) is kept and
 * stored again every RETRY_MS, so that the bulletin leaves `rendering` as soon as the database
 * takes writes again, not at the next start. */
#define RETRY_MS 5000

struct text_render {
    struct lc_bulletins *b;
    int64_t id;
    /* the outcome kept for retries (out's pointers point into the fields below) */
    struct lc_render_out out;
    struct lc_err err;
    char hash[72];
    char media_hash[72];
    uv_timer_t timer;
    struct text_render *next;   /* in b->retrying */
};

struct text_outcome {
    const struct text_render *t;
    const struct lc_render_out *out;
};

static int store_text_outcome(struct lc_store *s, void *arg)
{
    const struct text_outcome *o = arg;
    const struct lc_render_out *out = o->out;
    struct lc_bulletin_change c = {.now = lc_now()};
    if (out->rc == 0) {
        c.event = LC_BEV_RENDER_OK;
        c.hash = out->hash;
        c.media_hash = out->media_hash;
        c.bytes = (int64_t)out->bytes;
        c.duration_s = out->duration_s;
        c.detail = json_pack("{s:f}", "duration_s", out->duration_s);
    } else {
        c.event = LC_BEV_RENDER_FAILED;
        c.text = lc_err_msg(out->err);
        c.detail = json_pack("{s:s}", "error", lc_err_msg(out->err));
    }
    int rc = lc_bulletin_transition(s, o->t->id, &c);
    return rc == -EPERM || rc == -ENOENT ? 0 : rc; /* withdrawn meanwhile: nothing to store */
}

static void retry_closed(uv_handle_t *h)
{
    free(h->data);
}

static void retry_drop(struct text_render *t)
{
    for (struct text_render **pp = &t->b->retrying; *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    uv_close((uv_handle_t *)&t->timer, retry_closed);
}

static void on_retry(uv_timer_t *timer)
{
    struct text_render *t = timer->data;
    struct text_outcome o = {t, &t->out};
    if (lc_store_tx(t->b->store, store_text_outcome, &o) < 0)
        return; /* again in RETRY_MS */
    lc_log(LC_LOG_INFO, "bulletin %lld: render result stored at last", (long long)t->id);
    retry_drop(t);
}

/* Keeps t's outcome and tries again later; false if it cannot (t is then the caller's). */
static bool retry_later(struct text_render *t, const struct lc_render_out *out)
{
    t->out = *out;
    t->err = out->err ? *out->err : (struct lc_err){0};
    snprintf(t->hash, sizeof t->hash, "%s", out->hash ? out->hash : "");
    snprintf(t->media_hash, sizeof t->media_hash, "%s", out->media_hash ? out->media_hash : "");
    t->out.err = &t->err;
    t->out.hash = t->hash;
    t->out.media_hash = t->media_hash;
    if (uv_timer_init(t->b->loop, &t->timer) < 0)
        return false;
    t->timer.data = t;
    uv_timer_start(&t->timer, on_retry, RETRY_MS, RETRY_MS);
    t->next = t->b->retrying;
    t->b->retrying = t;
    return true;
}

void lc_bulletins_stop_retries(struct lc_bulletins *b)
{
    /* left `rendering`: lc_bulletins_resume() queues them again at the next start */
    while (b->retrying)
        retry_drop(b->retrying);
}

/* A text render finished: `rendering` → `pending` or `failed` (unless withdrawn meanwhile). */
static void text_done(const struct lc_render_out *out, int cancelled, void *arg)
{
    struct text_render *t = arg;
    if (cancelled)
        goto out; /* stays `rendering`; queued again at the next start */
    count(t->b, out);
    struct text_outcome o = {t, out};
    if (lc_store_tx(t->b->store, store_text_outcome, &o) < 0) {
        lc_log(LC_LOG_ERR, "bulletin %lld: cannot store the render result; trying again every "
               "%d s", (long long)t->id, RETRY_MS / 1000);
        if (t->b->render_pool != NULL && retry_later(t, out))
            return;
    }
out:
    free(t);
}

int lc_bulletin_render_text(struct lc_bulletins *b, int64_t id, const char *title,
                            const char *text, const char *voice, int rate)
{
    struct text_render *t = malloc(sizeof *t);
    if (t == NULL)
        return -ENOMEM;
    *t = (struct text_render){.b = b, .id = id};
    struct lc_render_in in = {.title = title, .text = text, .voice = voice, .rate_wpm = rate};
    int rc = lc_bulletins_render(b, &in, false, text_done, t);
    if (rc < 0)
        free(t);
    return rc;
}

void lc_bulletins_resume(struct lc_bulletins *b)
{
    static const char sql[] =
        "SELECT id, title, text, voice, rate FROM bulletins"
        " WHERE status = 'rendering' AND kind = 'text' ORDER BY id";
    sqlite3_stmt *st = lc_store_stmt(b->store, sql);
    if (st == NULL)
        return;
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (lc_bulletin_render_text(b, sqlite3_column_int64(st, 0), lc_col_text(st, 1),
                                    lc_col_text(st, 2), lc_col_text(st, 3),
                                    sqlite3_column_int(st, 4)) == 0)
            n++;
    }
    lc_store_done(st); /* a failed read is logged; what was read is queued */
    if (n > 0)
        lc_log(LC_LOG_INFO, "%d bulletin(s) left rendering by the last run queued again", n);
    lc_bulletins_hash_media(b);
}

/* ---- uploads ------------------------------------------------------------------------------- */

struct upload {
    struct lc_bulletins *b;
    int64_t id;
    struct lc_req *req;             /* the PUT being answered (held); its body is rendered */
    const struct lc_render_out *out;
};

static int store_upload(struct lc_store *s, void *arg)
{
    struct upload *u = arg;
    struct lc_bulletin_change c = {
        .event = LC_BEV_UPLOAD_OK, .req = u->req, .hash = u->out->hash,
        .media_hash = u->out->media_hash,
        .bytes = (int64_t)u->out->bytes, .duration_s = u->out->duration_s, .now = lc_now(),
        .detail = json_pack("{s:f,s:I}", "duration_s", u->out->duration_s, "upload_bytes",
                            (json_int_t)u->req->body.len)};
    return lc_bulletin_transition(s, u->id, &c);
}

/* An upload was rendered: answer it; on success the bulletin is `pending` with the new audio. */
static void upload_done(const struct lc_render_out *out, int cancelled, void *arg)
{
    struct upload *u = arg;
    struct lc_req *req = u->req;
    if (cancelled) {
        lc_reply_error(req, 503, "shutting_down", "the server is shutting down");
        goto out;
    }
    count(u->b, out);
    if (out->rc < 0) {
        /* too long, or audio of a known format that is damaged or cut short: 422; not audio: 415 */
        if (out->rc == -EFBIG || out->rc == -EBADMSG)
            lc_reply_error(req, 422, "invalid", "%s", lc_err_msg(out->err));
        else if (out->rc == -EINVAL || out->rc == -ENODATA)
            lc_reply_error(req, 415, "unsupported_media",
                           "the upload is not audio loacast can read (WAV, FLAC, Ogg, MP3, "
                           "AAC/M4A, WebM/Opus, ...): %s", lc_err_msg(out->err));
        else
            lc_reply_error(req, 500, "internal", "the recording could not be processed: %s",
                           lc_err_msg(out->err));
        goto out;
    }
    u->out = out;
    int rc = lc_store_tx(u->b->store, store_upload, u);
    if (rc == -EPERM || rc == -ENOENT || rc == -EACCES)
        lc_reply_error(req, 409, "bad_state", "the bulletin changed while the upload was processed");
    else if (rc < 0)
        lc_reply_internal(req, "upload: store");
    else
        lc_reply_json(req, 200, lc_bulletin_load(u->b->store, u->id));
out:
    lc_req_release(req);
    free(u);
}

static void put_audio(struct lc_req *req, void *ctx)
{
    struct lc_bulletins *b = ctx;
    struct lc_bulletin_head h;
    if (lc_bulletin_head_param(req, b->store, &h, "upload: head") < 0)
        return;
    int rc = lc_bulletin_check(&h, LC_BEV_UPLOAD_OK, req);
    if (rc == -EACCES) {
        lc_reply_error(req, 403, "forbidden", "only the author or an admin uploads its audio");
        return;
    }
    if (rc < 0) {
        lc_reply_error(req, 409, "bad_state", "the bulletin is %s", h.status);
        return;
    }
    const char *ct = lc_req_header(req, "content-type");
    if (ct != NULL && (strncasecmp(ct, "text/", 5) == 0 || strncasecmp(ct, "application/json", 16) == 0 ||
                       strncasecmp(ct, "multipart/", 10) == 0)) {
        lc_reply_error(req, 415, "unsupported_media",
                       "send the recording itself as the body (audio/wav, audio/mp4, "
                       "audio/webm, ...)");
        return;
    }
    if (req->body.len == 0) {
        lc_reply_error(req, 400, "bad_request", "the body is empty: send the recording");
        return;
    }
    struct upload *u = calloc(1, sizeof *u);
    if (u == NULL) {
        lc_reply_internal(req, "upload: memory");
        return;
    }
    *u = (struct upload){.b = b, .id = h.id, .req = req};
    json_t *o = lc_bulletin_load(b->store, h.id);
    const char *title = o ? json_string_value(json_object_get(o, "title")) : "";
    const char *voice = o ? json_string_value(json_object_get(o, "voice")) : "vi";
    struct lc_render_in in = {.title = title ? title : "", .voice = voice ? voice : "vi",
                              .audio = req->body.data, .audio_len = req->body.len};
    lc_req_hold(req);
    rc = lc_bulletins_render(b, &in, false, upload_done, u);
    json_decref(o);
    if (rc == -ENOMEM) {
        lc_reply_internal(req, "upload: memory");
    } else if (rc < 0) {
        lc_reply_error(req, 503, "shutting_down", "the server is shutting down");
    }
    if (rc < 0) {
        lc_req_release(req);
        free(u);
    }
}

/* ---- preview ------------------------------------------------------------------------------- */

int lc_bulletin_audio_routes(struct lc_bulletins *b, struct lc_router *r)
{
    int rc = lc_router_add(r, HTTP_PUT, "/api/v1/bulletins/{id}/audio",
                               LC_ROLE_ADMIN | LC_ROLE_EDITOR, LC_BODY_AUDIO, put_audio, b);
    if (rc == 0)
        rc = lc_router_add(r, HTTP_GET, "/api/v1/bulletins/{id}/audio", LC_ROLES_STAFF,
                           LC_BODY_NONE, lc_bulletin_get_audio, b);
    return rc;
}
