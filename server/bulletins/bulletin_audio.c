/*
 * server/bulletins/bulletin_audio.c — rendering bulletins on the render pool, recorded uploads, and the
 * audio preview with Range support.
 *
 * A render job owns copies of everything its worker needs (text or upload bytes, voice, title,
 * the audio directory); the worker calls the blocking lc_render_text()/lc_render_audio(),
 * writes the Ogg Opus file durably (audiostore.h) and stores the outcome in the job. The done
 * callback, on the loop, writes the database and answers the upload request if there is one.
 * The database is therefore only touched on the loop, and a file on disk without a row is at
 * worst an orphan, never a row without its file.
 */
#define LC_LOG_MODULE "bulletins"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <http_parser.h>

#include "codecs/render.h"
#include "server/api/api.h"
#include "server/store/audiostore.h"
#include "server/accounts/audit.h"
#include "server/bulletins/bulletins.h"
#include "server/bulletins/bulletins_internal.h"
#include "common/workers.h"
#include "server/http/router.h"
#include "common/log.h"
#include "server/store/store.h"

struct render_job {
    struct lc_job job;              /* first: the pool links this */
    struct lc_app *app;             /* loop side only */
    struct lc_renderer *renderer;
    const struct lc_lexicon *lexicon;
    int64_t id;
    char *title;
    char *text;                     /* text bulletins */
    struct lc_req *req;             /* uploads: the PUT being answered (held) */
    char voice[32];
    int rate, bitrate;
    double lufs;
    char audio_dir[PATH_MAX];
    /* results */
    int rc;
    struct lc_err err;
    char hash[LC_AUDIO_HASH_LEN];
    size_t bytes;
    double duration_s, seconds;
};

static void job_free(struct render_job *j)
{
    if (j->req)
        lc_req_release(j->req);
    free(j->title);
    free(j->text);
    free(j);
}

static void render_work(struct lc_job *job)
{
    struct render_job *j = (struct render_job *)job;
    struct lc_render_opts o = {.voice = j->voice, .rate_wpm = j->rate, .bitrate_kbps = j->bitrate,
                               .complexity = LC_RENDER_DEFAULT_COMPLEXITY,
                               .loudness_lufs = j->lufs, .title = j->title};
    struct lc_rendered out = {0};
    uint64_t t0 = uv_hrtime();
    j->rc = lc_render_opts_resolve(&o, &j->err);
    if (j->rc == 0) {
        if (j->text)
            j->rc = lc_render_text(j->renderer, &o, j->lexicon, j->text, strlen(j->text), &out,
                                   &j->err);
        else
            j->rc = lc_render_audio(j->renderer, &o, j->req->body.data, j->req->body.len, &out,
                                    &j->err);
    }
    if (j->rc == 0) {
        j->rc = lc_audio_store(j->audio_dir, out.ogg.data, out.ogg.len, j->hash, &j->err);
        j->bytes = out.ogg.len;
        j->duration_s = out.duration_s;
    }
    lc_rendered_free(&out);
    j->seconds = (double)(uv_hrtime() - t0) / 1e9;
}

static struct render_job *job_new(struct lc_app *app, int64_t id, const char *title,
                                  const char *voice, int rate)
{
    struct render_job *j = calloc(1, sizeof *j);
    if (j == NULL || (j->title = strdup(title)) == NULL) {
        free(j);
        return NULL;
    }
    j->job.work = render_work;
    j->app = app;
    j->renderer = app->renderer;
    j->lexicon = app->lexicon;
    j->id = id;
    snprintf(j->voice, sizeof j->voice, "%s", voice);
    j->rate = rate;
    j->bitrate = app->cfg.bitrate_kbps;
    j->lufs = app->cfg.loudness_lufs;
    snprintf(j->audio_dir, sizeof j->audio_dir, "%s", app->audio_dir);
    return j;
}

/* A text render finished: `rendering` → `pending` or `failed` (unless withdrawn meanwhile). */
static void text_done(struct lc_job *job, int cancelled)
{
    static const char upd_ok[] =
        "UPDATE bulletins SET status = 'pending', audio_hash = ?2, audio_bytes = ?3,"
        " duration_s = ?4, error = NULL, updated_at = ?5 WHERE id = ?1 AND status = 'rendering'";
    static const char upd_fail[] =
        "UPDATE bulletins SET status = 'failed', error = ?2, updated_at = ?3"
        " WHERE id = ?1 AND status = 'rendering'";
    struct render_job *j = (struct render_job *)job;
    struct lc_app *app = j->app;
    if (cancelled)
        goto out; /* stays `rendering`; queued again at the next start */
    app->metrics.render_seconds += j->seconds;
    if (j->rc == 0)
        app->metrics.renders_ok++;
    else
        app->metrics.renders_failed++;
    char target[32];
    snprintf(target, sizeof target, "%lld", (long long)j->id);
    if (lc_store_begin(app->store) < 0)
        goto out;
    sqlite3_stmt *st = lc_store_stmt(app->store, j->rc == 0 ? upd_ok : upd_fail);
    if (st == NULL)
        goto fail;
    sqlite3_bind_int64(st, 1, j->id);
    if (j->rc == 0) {
        sqlite3_bind_text(st, 2, j->hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)j->bytes);
        sqlite3_bind_double(st, 4, j->duration_s);
        sqlite3_bind_int64(st, 5, lc_now());
    } else {
        sqlite3_bind_text(st, 2, lc_err_msg(&j->err), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, lc_now());
    }
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        goto fail;
    if (lc_store_changes(app->store) > 0) {
        json_t *detail = j->rc == 0 ? json_pack("{s:f}", "duration_s", j->duration_s)
                                    : json_pack("{s:s}", "error", lc_err_msg(&j->err));
        if (lc_audit(app->store, NULL, "system", j->rc == 0 ? "bulletin_rendered" : "bulletin_failed",
                     target, detail) < 0)
            goto fail;
    }
    if (lc_store_commit(app->store) < 0)
        goto fail;
    goto out;
fail:
    lc_store_rollback(app->store);
    lc_log(LC_LOG_ERR, "bulletin %lld: cannot store the render result", (long long)j->id);
out:
    job_free(j);
}

int lc_bulletin_render_text(struct lc_app *app, int64_t id, const char *title, const char *text,
                            const char *voice, int rate)
{
    struct render_job *j = job_new(app, id, title, voice, rate);
    if (j == NULL || (j->text = strdup(text)) == NULL) {
        if (j)
            job_free(j);
        return -ENOMEM;
    }
    j->job.done = text_done;
    int rc = lc_workers_submit(app->render_pool, &j->job);
    if (rc < 0)
        job_free(j);
    return rc;
}

void lc_bulletins_resume(struct lc_app *app)
{
    static const char sql[] =
        "SELECT id, title, text, voice, rate FROM bulletins"
        " WHERE status = 'rendering' AND kind = 'text' ORDER BY id";
    sqlite3_stmt *st = lc_store_stmt(app->store, sql);
    if (st == NULL)
        return;
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (lc_bulletin_render_text(app, sqlite3_column_int64(st, 0), lc_col_text(st, 1),
                                    lc_col_text(st, 2), lc_col_text(st, 3),
                                    sqlite3_column_int(st, 4)) == 0)
            n++;
    }
    sqlite3_reset(st);
    if (n > 0)
        lc_log(LC_LOG_INFO, "%d bulletin(s) left rendering by the last run queued again", n);
}

/* ---- uploads ------------------------------------------------------------------------------- */

/* An upload was rendered: answer it; on success the bulletin is `pending` with the new audio. */
static void upload_done(struct lc_job *job, int cancelled)
{
    static const char upd[] =
        "UPDATE bulletins SET status = 'pending', kind = 'audio', text = NULL, audio_hash = ?2,"
        " audio_bytes = ?3, duration_s = ?4, error = NULL, updated_at = ?5"
        " WHERE id = ?1 AND status IN ('draft', 'pending', 'failed')";
    struct render_job *j = (struct render_job *)job;
    struct lc_app *app = j->app;
    struct lc_req *req = j->req;
    if (cancelled) {
        lc_reply_error(req, 503, "shutting_down", "the server is shutting down");
        goto out;
    }
    app->metrics.render_seconds += j->seconds;
    if (j->rc < 0) {
        app->metrics.renders_failed++;
        if (j->rc == -EINVAL || j->rc == -ENODATA)
            lc_reply_error(req, 415, "unsupported_media",
                           "the upload is not audio loacast can read (WAV, FLAC, Ogg, MP3): %s",
                           lc_err_msg(&j->err));
        else
            lc_reply_error(req, 500, "internal", "the recording could not be processed: %s",
                           lc_err_msg(&j->err));
        goto out;
    }
    app->metrics.renders_ok++;
    char target[32];
    snprintf(target, sizeof target, "%lld", (long long)j->id);
    if (lc_store_begin(app->store) < 0) {
        lc_reply_internal(req, "upload: begin");
        goto out;
    }
    sqlite3_stmt *st = lc_store_stmt(app->store, upd);
    if (st == NULL)
        goto fail;
    sqlite3_bind_int64(st, 1, j->id);
    sqlite3_bind_text(st, 2, j->hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)j->bytes);
    sqlite3_bind_double(st, 4, j->duration_s);
    sqlite3_bind_int64(st, 5, lc_now());
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        goto fail;
    if (lc_store_changes(app->store) == 0) {
        lc_store_rollback(app->store);
        lc_reply_error(req, 409, "bad_state", "the bulletin changed while the upload was processed");
        goto out;
    }
    if (lc_audit(app->store, req, NULL, "bulletin_audio", target,
                 json_pack("{s:f,s:I}", "duration_s", j->duration_s, "upload_bytes",
                           (json_int_t)req->body.len)) < 0 ||
        lc_store_commit(app->store) < 0)
        goto fail;
    lc_reply_json(req, 200, lc_bulletin_load(app, j->id));
    goto out;
fail:
    lc_store_rollback(app->store);
    lc_reply_internal(req, "upload: store");
out:
    job_free(j);
}

static void put_audio(struct lc_req *req)
{
    struct lc_app *app = lc_app(req);
    struct lc_bulletin_head h;
    int64_t id;
    if (lc_bulletin_id_param(req, &id) < 0)
        return;
    int rc = lc_bulletin_head(app, id, &h);
    if (rc == -ENOENT) {
        lc_reply_error(req, 404, "not_found", "no bulletin %lld", (long long)id);
        return;
    }
    if (rc < 0) {
        lc_reply_internal(req, "upload: head");
        return;
    }
    if (strcmp(h.created_by, req->user) != 0 && !(req->role & LC_ROLE_ADMIN)) {
        lc_reply_error(req, 403, "forbidden", "only the author or an admin uploads its audio");
        return;
    }
    if (strcmp(h.status, "draft") && strcmp(h.status, "pending") && strcmp(h.status, "failed")) {
        lc_reply_error(req, 409, "bad_state", "the bulletin is %s", h.status);
        return;
    }
    const char *ct = lc_req_header(req, "content-type");
    if (ct != NULL && (strncasecmp(ct, "text/", 5) == 0 || strncasecmp(ct, "application/json", 16) == 0 ||
                       strncasecmp(ct, "multipart/", 10) == 0)) {
        lc_reply_error(req, 415, "unsupported_media",
                       "send the recording itself as the body (audio/wav, audio/ogg, ...)");
        return;
    }
    if (req->body.len == 0) {
        lc_reply_error(req, 400, "bad_request", "the body is empty: send the recording");
        return;
    }
    json_t *b = lc_bulletin_load(app, id);
    const char *title = b ? json_string_value(json_object_get(b, "title")) : "";
    const char *voice = b ? json_string_value(json_object_get(b, "voice")) : "vi";
    struct render_job *j = job_new(app, id, title ? title : "", voice ? voice : "vi", 0);
    json_decref(b);
    if (j == NULL) {
        lc_reply_internal(req, "upload: memory");
        return;
    }
    j->job.done = upload_done;
    j->req = req;
    lc_req_hold(req);
    if (lc_workers_submit(app->render_pool, &j->job) < 0) {
        lc_reply_error(req, 503, "shutting_down", "the server is shutting down");
        job_free(j);
    }
}

/* ---- preview ------------------------------------------------------------------------------- */

/* Parses a single "bytes=a-b" range against size. 1 = a range in [*from, *to], 0 = no (usable)
 * Range header, -1 = unsatisfiable. */
static int parse_range(const char *h, uint64_t size, uint64_t *from, uint64_t *to)
{
    if (h == NULL || strncmp(h, "bytes=", 6) != 0 || strchr(h, ',') != NULL)
        return 0;
    const char *p = h + 6;
    char *end;
    if (*p == '-') {
        unsigned long long n = strtoull(p + 1, &end, 10);
        if (end == p + 1 || *end)
            return 0;
        if (n == 0 || size == 0)
            return -1;
        *from = n >= size ? 0 : size - n;
        *to = size - 1;
        return 1;
    }
    unsigned long long a = strtoull(p, &end, 10);
    if (end == p || *end != '-')
        return 0;
    p = end + 1;
    unsigned long long b = size ? size - 1 : 0;
    if (*p) {
        b = strtoull(p, &end, 10);
        if (*end || b < a)
            return 0;
        if (b >= size)
            b = size - 1;
    }
    if (a >= size)
        return -1;
    *from = a;
    *to = b;
    return 1;
}

static void get_audio(struct lc_req *req)
{
    struct lc_app *app = lc_app(req);
    struct lc_bulletin_head h;
    int64_t id;
    char path[PATH_MAX + 80], extra[256];
    unsigned char *buf = NULL;
    int fd = -1;
    if (lc_bulletin_id_param(req, &id) < 0)
        return;
    int rc = lc_bulletin_head(app, id, &h);
    if (rc == -ENOENT) {
        lc_reply_error(req, 404, "not_found", "no bulletin %lld", (long long)id);
        return;
    }
    if (rc < 0) {
        lc_reply_internal(req, "audio: head");
        return;
    }
    if (h.audio_hash[0] == '\0') {
        lc_reply_error(req, 404, "not_found", "bulletin %lld has no audio (it is %s)",
                       (long long)id, h.status);
        return;
    }
    if (lc_audio_path(app->audio_dir, h.audio_hash, path, sizeof path) < 0) {
        lc_reply_internal(req, "audio: path");
        return;
    }
    /* Files are a few hundred kB (24 kbit/s); a read from the page cache on the loop is cheaper
     * than a round trip through a thread. */
    struct stat st;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        lc_reply_internal(req, "audio: file missing");
        goto out;
    }
    uint64_t size = (uint64_t)st.st_size, from = 0, to = size ? size - 1 : 0;
    const char *inm = lc_req_header(req, "if-none-match");
    if (inm && strstr(inm, h.audio_hash)) {
        snprintf(extra, sizeof extra, "ETag: \"%s\"\r\n", h.audio_hash);
        lc_http_respond(req, 304, NULL, extra, NULL, 0);
        goto out;
    }
    int r = parse_range(lc_req_header(req, "range"), size, &from, &to);
    if (r < 0) {
        snprintf(extra, sizeof extra, "Content-Range: bytes */%llu\r\n", (unsigned long long)size);
        json_t *o = json_pack("{s:s,s:s}", "error", "bad_range", "message", "range not satisfiable");
        char *s = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        lc_http_respond(req, 416, "application/json", extra, s, s ? strlen(s) : 0);
        free(s);
        goto out;
    }
    size_t n = size ? (size_t)(to - from + 1) : 0;
    buf = malloc(n ? n : 1);
    if (buf == NULL || (n && pread(fd, buf, n, (off_t)from) != (ssize_t)n)) {
        lc_reply_internal(req, "audio: read");
        goto out;
    }
    if (r > 0)
        snprintf(extra, sizeof extra,
                 "Accept-Ranges: bytes\r\nETag: \"%s\"\r\nCache-Control: private, max-age=3600\r\n"
                 "Content-Range: bytes %llu-%llu/%llu\r\n",
                 h.audio_hash, (unsigned long long)from, (unsigned long long)to,
                 (unsigned long long)size);
    else
        snprintf(extra, sizeof extra,
                 "Accept-Ranges: bytes\r\nETag: \"%s\"\r\nCache-Control: private, max-age=3600\r\n",
                 h.audio_hash);
    lc_http_respond(req, r > 0 ? 206 : 200, "audio/ogg", extra, buf, n);
out:
    free(buf);
    if (fd >= 0)
        close(fd);
}

int lc_bulletin_audio_routes(struct lc_router *r)
{
    int rc = lc_router_add(r, HTTP_PUT, "/api/v1/bulletins/{id}/audio",
                           LC_ROLE_ADMIN | LC_ROLE_EDITOR, LC_BODY_AUDIO, put_audio);
    if (rc == 0)
        rc = lc_router_add(r, HTTP_GET, "/api/v1/bulletins/{id}/audio", LC_ROLES_STAFF,
                           LC_BODY_NONE, get_audio);
    return rc;
}
