/*
 * server/lexicon/lexicon_api.c — the station lexicon's routes (see lexicon.h): the list, a
 * write or delete of one entry (in one transaction with its audit entry, then installed before
 * the answer), and the two ways to try a text: its spoken form, or its audio.
 */
#define LC_LOG_MODULE "lexicon"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "codecs/normalize.h"
#include "codecs/render.h"
#include "common/log.h"
#include "common/workers.h"
#include "server/accounts/accounts.h"
#include "server/api/api.h"
#include "server/lexicon/lexicon_internal.h"
#include "server/org/org.h"
#include "server/store/store.h"

#define TEXT_MAX_CHARS 2000

/* The {word} path parameter, percent-decoded (a word may hold "/" or "&": %2F, %26). NULL
 * after answering 400. */
static char *word_param(struct lc_req *req)
{
    const char *s = req->nparams > 0 ? req->params[0] : "";
    size_t n = strlen(s), k = 0;
    char *out = malloc(n + 1);
    if (out == NULL) {
        lc_reply_internal(req, "lexicon: memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n + 0 && isxdigit((unsigned char)s[i + 1]) &&
            isxdigit((unsigned char)s[i + 2])) {
            char hex[3] = {s[i + 1], s[i + 2], 0};
            out[k++] = (char)strtol(hex, NULL, 16);
            i += 2;
        } else if (s[i] == '%') {
            free(out);
            lc_reply_error(req, 400, "bad_field", "the word in the path is badly encoded");
            return NULL;
        } else {
            out[k++] = s[i];
        }
    }
    out[k] = '\0';
    if (k == 0 || memchr(out, '\0', k) != NULL) {
        free(out);
        lc_reply_error(req, 422, "invalid", "the word is empty");
        return NULL;
    }
    return out;
}

static json_t *row_json(sqlite3_stmt *st)
{
    return json_pack("{s:s,s:s,s:o,s:o,s:s}", "word", lc_col_text(st, 0), "reading",
                     lc_col_text(st, 1), "created_at", lc_time_json(sqlite3_column_int64(st, 2)),
                     "updated_at", lc_time_json(sqlite3_column_int64(st, 3)), "updated_by",
                     lc_col_text(st, 4));
}

static void get_list(struct lc_req *req, void *ctx)
{
    struct lc_stlex *m = ctx;
    static const char sql[] = "SELECT word, reading, created_at, updated_at, updated_by "
                              "FROM lexicon_entries ORDER BY word";
    sqlite3_stmt *st = lc_store_stmt(m->d.store, sql);
    json_t *list = json_array();
    if (st == NULL || list == NULL)
        goto fail;
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(list, row_json(st));
    if (lc_store_done(st) < 0)
        goto fail;
    lc_reply_json(req, 200, json_pack("{s:o,s:I}", "entries", list, "builtin",
                                      (json_int_t)m->base_size));
    return;
fail:
    json_decref(list);
    lc_reply_internal(req, "lexicon: list");
}

/* ---- writes ---- */
struct write {
    struct lc_req *req;
    const char *word, *reading;     /* reading NULL: delete */
    bool created;
    char before[LC_LEXICON_READING_MAX + 1];
};

static int write_tx(struct lc_store *s, void *arg)
{
    struct write *w = arg;
    static const char find[] = "SELECT reading FROM lexicon_entries WHERE word = ?1";
    static const char ins[] = "INSERT INTO lexicon_entries (word, reading, created_at, "
                              "updated_at, updated_by) VALUES (?1, ?2, ?3, ?3, ?4) "
                              "ON CONFLICT (word) DO UPDATE SET reading = ?2, updated_at = ?3, "
                              "updated_by = ?4";
    static const char del[] = "DELETE FROM lexicon_entries WHERE word = ?1";
    sqlite3_stmt *st = lc_store_stmt(s, find);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, w->word, -1, SQLITE_STATIC);
    bool had = sqlite3_step(st) == SQLITE_ROW;
    if (had)
        snprintf(w->before, sizeof w->before, "%s", lc_col_text(st, 0));
    if (lc_store_done(st) < 0)
        return -EIO;
    if (w->reading == NULL && !had)
        return -ENOENT;
    st = lc_store_stmt(s, w->reading ? ins : del);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, w->word, -1, SQLITE_STATIC);
    if (w->reading) {
        sqlite3_bind_text(st, 2, w->reading, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, lc_now());
        sqlite3_bind_text(st, 4, w->req->user, -1, SQLITE_STATIC);
    }
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return -EIO;
    w->created = !had;
    json_t *detail = w->reading ? json_pack("{s:s}", "reading", w->reading) : json_object();
    if (had)
        json_object_set_new(detail, "before", json_string(w->before));
    return lc_audit(s, w->req, NULL, w->reading ? "lexicon_put" : "lexicon_delete", w->word,
                    detail);
}

static void apply(struct lc_stlex *m, struct write *w)
{
    struct lc_err err = {0};
    /* the table changed: the cache and the lexicon in use follow, before the answer */
    if (lc_stlex_cache_set(m, w->word, w->reading) < 0 || lc_stlex_install(m, &err) < 0)
        lc_log(LC_LOG_ERR, "lexicon: '%s' saved but not installed: %s", w->word,
               err.code ? lc_err_msg(&err) : "out of memory");
    else
        lc_log(LC_LOG_INFO, "lexicon: %s '%s'%s%s by %s", w->reading ? "set" : "deleted",
               w->word, w->reading ? " → " : "", w->reading ? w->reading : "", w->req->user);
}

/* The lexicon is the whole station's voice: staff of the root node change it, others read and
 * try it (org.h). -1 after answering 403. */
static int station_staff(struct lc_req *req)
{
    if (req->node == LC_ORG_ROOT)
        return 0;
    lc_reply_error(req, 403, "forbidden", "the lexicon is the whole station's: only staff of the "
                   "root node change it");
    return -1;
}

static void put_entry(struct lc_req *req, void *ctx)
{
    static const char *const allowed[] = {"reading", NULL};
    struct lc_stlex *m = ctx;
    char *word = NULL, *nword = NULL, *nreading = NULL;
    const char *reading = NULL;
    struct lc_err err = {0};
    json_t *body = NULL;
    if (station_staff(req) < 0 || (word = word_param(req)) == NULL)
        goto out;
    if ((body = lc_api_body(req, allowed)) == NULL ||
        lc_api_string(req, body, "reading", true, 1000, &reading) < 0)
        goto out;
    if (lc_lexicon_check_entry(word, reading, &nword, &nreading, &err) < 0) {
        if (err.code == -ENOMEM)
            lc_reply_internal(req, "lexicon: memory");
        else
            lc_reply_error(req, 422, "invalid", "%s", lc_err_msg(&err));
        goto out;
    }
    bool known = false;
    for (size_t i = 0; i < m->n && !known; i++)
        known = strcmp(m->v[i].word, nword) == 0;
    if (!known && m->n >= LC_STLEX_MAX_ENTRIES) {
        lc_reply_error(req, 409, "conflict", "the station lexicon is full (%d entries)",
                       LC_STLEX_MAX_ENTRIES);
        goto out;
    }
    struct write w = {.req = req, .word = nword, .reading = nreading};
    int rc = lc_store_tx(m->d.store, write_tx, &w);
    if (rc < 0) {
        lc_reply_internal(req, "lexicon: put");
        goto out;
    }
    apply(m, &w);
    static const char one[] = "SELECT word, reading, created_at, updated_at, updated_by "
                              "FROM lexicon_entries WHERE word = ?1";
    sqlite3_stmt *st = lc_store_stmt(m->d.store, one);
    json_t *row = NULL;
    if (st) {
        sqlite3_bind_text(st, 1, nword, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            row = row_json(st);
        lc_store_done(st);
    }
    if (row)
        lc_reply_json(req, w.created ? 201 : 200, row);
    else
        lc_reply_internal(req, "lexicon: read back");
out:
    json_decref(body);
    free(word);
    free(nword);
    free(nreading);
}

static void delete_entry(struct lc_req *req, void *ctx)
{
    struct lc_stlex *m = ctx;
    char *word = NULL, *nword = NULL, *nreading = NULL;
    struct lc_err err = {0};
    if (station_staff(req) < 0 || (word = word_param(req)) == NULL)
        goto out;
    /* the same NFC and trimming as when it was written */
    if (lc_lexicon_check_entry(word, "a", &nword, &nreading, &err) < 0) {
        lc_reply_error(req, 404, "not_found", "no station entry for this word");
        goto out;
    }
    struct write w = {.req = req, .word = nword};
    int rc = lc_store_tx(m->d.store, write_tx, &w);
    if (rc == -ENOENT) {
        lc_reply_error(req, 404, "not_found", "no station entry '%.64s'", nword);
        goto out;
    }
    if (rc < 0) {
        lc_reply_internal(req, "lexicon: delete");
        goto out;
    }
    apply(m, &w);
    lc_reply_no_content(req);
out:
    free(word);
    free(nword);
    free(nreading);
}

/* ---- trying a text: its spoken form, its audio ---- */
struct try_job {
    struct lc_job job;      /* first */
    struct lc_stlex *m;
    struct lc_req *req;     /* held */
    bool audio;
    char *text, *word, *reading;    /* word/reading NULL: the lexicon in use */
    int rate_wpm;
    /* results */
    int rc;
    struct lc_err err;
    char *spoken;
    struct lc_rendered out;
};

static void try_free(struct try_job *j)
{
    free(j->text);
    free(j->word);
    free(j->reading);
    free(j->spoken);
    lc_rendered_free(&j->out);
    free(j);
}

static void try_work(struct lc_job *job)
{
    struct try_job *j = (struct try_job *)(void *)job;
    struct lc_lexicon *trial = NULL;
    const struct lc_lexicon *lex = j->m->d.lexicon;
    if (j->word) {
        /* the entry being tried, over a copy of the lexicon in use: nothing shared changes */
        if ((j->rc = lc_lexicon_clone(&trial, lex, &j->err)) < 0 ||
            (j->rc = lc_lexicon_add(trial, j->word, j->reading, &j->err)) < 0)
            goto out;
        lex = trial;
    }
    if ((j->rc = lc_normalize(lex, j->text, strlen(j->text), &j->spoken, &j->err)) < 0)
        goto out;
    if (j->audio) {
        struct lc_render_opts o = {.rate_wpm = j->rate_wpm, .bitrate_kbps = j->m->d.bitrate_kbps,
                                   .loudness_lufs = j->m->d.loudness_lufs,
                                   .title = "loacast preview"};
        if ((j->rc = lc_render_opts_resolve(&o, &j->err)) == 0)
            j->rc = lc_render_text(j->m->d.renderer, &o, lex, j->text, strlen(j->text), &j->out,
                                   &j->err);
    }
out:
    lc_lexicon_free(trial);
}

/* Percent-encodes s for a header value (what decodeURIComponent reads). */
static char *header_escape(const char *s)
{
    size_t n = strlen(s);
    char *o = malloc(n * 3 + 1), *p = o;
    if (o == NULL)
        return NULL;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || strchr("-_.!~*'()", c))
            *p++ = (char)c;
        else
            p += sprintf(p, "%%%02X", c);
    }
    *p = '\0';
    return o;
}

static void try_done(struct lc_job *job, int cancelled)
{
    struct try_job *j = (struct try_job *)(void *)job;
    if (cancelled) {
        lc_reply_error(j->req, 503, "shutting_down", "the server is shutting down");
    } else if (j->rc == -ENODATA || j->rc == -EINVAL || j->rc == -E2BIG || j->rc == -EFBIG) {
        lc_reply_error(j->req, 422, "invalid", "%s", lc_err_msg(&j->err));
    } else if (j->rc < 0) {
        lc_log(LC_LOG_ERR, "lexicon: try: %s", lc_err_msg(&j->err));
        lc_reply_internal(j->req, "lexicon: try");
    } else if (!j->audio) {
        lc_reply_json(j->req, 200, json_pack("{s:s}", "spoken", j->spoken));
    } else {
        char *esc = header_escape(j->spoken);
        size_t hl = (esc ? strlen(esc) : 0) + 128;
        char *hdr = malloc(hl);
        if (esc == NULL || hdr == NULL) {
            lc_reply_internal(j->req, "lexicon: memory");
        } else {
            snprintf(hdr, hl, "X-Loacast-Spoken: %s\r\nCache-Control: no-store\r\n", esc);
            lc_http_respond(j->req, 200, "audio/ogg", hdr, j->out.ogg.data, j->out.ogg.len);
        }
        free(esc);
        free(hdr);
    }
    lc_req_release(j->req);
    try_free(j);
}

static void try_text(struct lc_req *req, struct lc_stlex *m, bool audio)
{
    static const char *const allowed[] = {"text", "word", "reading", "rate", NULL};
    const char *text = NULL, *word = NULL, *reading = NULL;
    long long rate = 0;
    struct lc_err err = {0};
    struct try_job *j = NULL;
    json_t *body = lc_api_body(req, allowed);
    if (body == NULL || lc_api_string(req, body, "text", true, TEXT_MAX_CHARS, &text) < 0 ||
        lc_api_string(req, body, "word", false, 200, &word) < 0 ||
        lc_api_string(req, body, "reading", false, 1000, &reading) < 0 ||
        lc_api_int(req, body, "rate", false, 80, 450, &rate) < 0)
        goto out;
    if ((word && word[0]) != (reading && reading[0])) {
        lc_reply_error(req, 422, "invalid", "a word to try needs its reading, and the reverse");
        goto out;
    }
    if ((j = calloc(1, sizeof *j)) == NULL || (j->text = strdup(text)) == NULL) {
        lc_reply_internal(req, "lexicon: memory");
        goto out;
    }
    if (word && word[0] &&
        lc_lexicon_check_entry(word, reading, &j->word, &j->reading, &err) < 0) {
        lc_reply_error(req, err.code == -ENOMEM ? 500 : 422, "invalid", "%s", lc_err_msg(&err));
        goto out;
    }
    j->m = m;
    j->req = req;
    j->audio = audio;
    j->rate_wpm = (int)rate;
    j->job.work = try_work;
    j->job.done = try_done;
    lc_req_hold(req);
    if (lc_workers_submit(m->d.render_pool, &j->job) < 0) {
        lc_req_release(req);
        lc_reply_error(req, 503, "shutting_down", "the server is shutting down");
        goto out;
    }
    j = NULL;
out:
    if (j)
        try_free(j);
    json_decref(body);
}

static void post_normalize(struct lc_req *req, void *ctx)
{
    try_text(req, ctx, false);
}

static void post_preview(struct lc_req *req, void *ctx)
{
    try_text(req, ctx, true);
}

int lc_stlex_routes(struct lc_stlex *m, struct lc_router *r)
{
    enum { W = LC_ROLE_ADMIN | LC_ROLE_EDITOR | LC_ROLE_APPROVER };
    static const struct lc_api_route routes[] = {
        {HTTP_GET, "/api/v1/lexicon", LC_ROLES_STAFF, LC_BODY_NONE, get_list},
        {HTTP_POST, "/api/v1/lexicon/preview", LC_ROLES_STAFF, LC_BODY_JSON, post_preview},
        {HTTP_PUT, "/api/v1/lexicon/{word}", W, LC_BODY_JSON, put_entry},
        {HTTP_DELETE, "/api/v1/lexicon/{word}", W, LC_BODY_NONE, delete_entry},
        {HTTP_POST, "/api/v1/normalize", LC_ROLES_STAFF, LC_BODY_JSON, post_normalize},
    };
    return LC_API_ROUTES(r, routes, m);
}
