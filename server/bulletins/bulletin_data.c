/*
 * server/bulletins/bulletin_data.c — the rows of a bulletin: reading them (the API object, the
 * head the handlers check, lists) and inserting new bulletins with their communes. Status
 * changes are not here: they go through bulletin_status.c. Loop thread only; calls nothing else
 * of the module.
 */
#define LC_LOG_MODULE "bulletins"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/accounts/accounts.h"
#include "server/api/api.h"
#include "server/bulletins/bulletins_internal.h"
#include "server/org/org.h"
#include "server/store/store.h"

#define COLS                                                                                     \
    "b.id, b.title, b.kind, b.text, b.voice, b.rate, b.priority, b.repeat, b.aired,"            \
    " b.all_communes, b.not_before, b.expires, b.status, b.error, b.reason, b.audio_hash,"      \
    " b.audio_bytes, b.duration_s, b.created_by, b.created_at, b.updated_at, b.approved_by,"    \
    " b.approved_at, b.decided_by, b.decided_at,"                                                \
    " (SELECT group_concat(commune, ',') FROM"                                                   \
    "   (SELECT commune FROM bulletin_communes WHERE bulletin = b.id ORDER BY commune)),"        \
    " b.media_hash, b.node"

void lc_bulletin_target(int64_t id, char out[32])
{
    snprintf(out, 32, "%lld", (long long)id);
}

/* ---- the API object -------------------------------------------------------------------------- */

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
    /* what an approver heard: POST …/approve carries it back */
    json_object_set_new(o, "audio_hash", lc_col_is_null(st, 15) ? json_null()
                                                                : json_string(lc_col_text(st, 15)));
    /* what receivers fetch it by: GET /media/<media_hash>.opus */
    json_object_set_new(o, "media_hash", text_or_null(st, 26));
    /* the author's organisation node: who may see and act on it (server/org/org.h) */
    json_object_set_new(o, "node", json_integer(sqlite3_column_int64(st, 27)));
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

int lc_bulletin_find(struct lc_store *s, int64_t id, json_t **out)
{
    static const char sql[] = "SELECT " COLS " FROM bulletins b WHERE b.id = ?";
    *out = NULL;
    sqlite3_stmt *st = lc_store_stmt(s, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *out = bulletin_json(st);
    if (lc_store_done(st) < 0 || (step != SQLITE_ROW && step != SQLITE_DONE)) {
        json_decref(*out);
        *out = NULL;
        return -EIO;
    }
    return step == SQLITE_ROW ? 0 : -ENOENT;
}

json_t *lc_bulletin_load(struct lc_store *s, int64_t id)
{
    json_t *o;
    lc_bulletin_find(s, id, &o);
    return o;
}

int lc_bulletin_list(struct lc_store *s, const struct lc_bulletin_filter *f, json_t **out)
{
    static const char sql[] =
        "SELECT " COLS " FROM bulletins b"
        " WHERE (?1 IS NULL OR b.status = ?1) AND (?2 IS NULL OR b.created_by = ?2)"
        "   AND (?3 IS NULL OR b.all_communes OR EXISTS (SELECT 1 FROM bulletin_communes bc"
        "        WHERE bc.bulletin = b.id AND bc.commune = ?3))"
        "   AND (?4 IS NULL OR b.id < ?4) AND b.node IN " LC_SCOPE_NODES
        " ORDER BY b.id DESC LIMIT ?5";
    sqlite3_stmt *st = lc_store_stmt(s, sql);
    if (st == NULL)
        return -EIO;
    if (f->status)
        sqlite3_bind_text(st, 1, f->status, -1, SQLITE_TRANSIENT);
    if (f->created_by)
        sqlite3_bind_text(st, 2, f->created_by, -1, SQLITE_TRANSIENT);
    if (f->commune)
        sqlite3_bind_text(st, 3, f->commune, -1, SQLITE_TRANSIENT);
    if (f->before)
        sqlite3_bind_int64(st, 4, f->before);
    sqlite3_bind_int64(st, 5, f->limit);
    lc_store_bind_scope(st, f->scope);
    json_t *list = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(list, bulletin_json(st));
    if (lc_store_done(st) < 0 || rc != SQLITE_DONE) {
        json_decref(list);
        return -EIO;
    }
    *out = list;
    return 0;
}

/* ---- the head -------------------------------------------------------------------------------- */

int lc_bulletin_head(struct lc_store *s, int64_t id, struct lc_bulletin_head *h)
{
    static const char sql[] =
        "SELECT status, kind, created_by, audio_hash, expires, audio_by, node FROM bulletins"
        " WHERE id = ?";
    sqlite3_stmt *st = lc_store_stmt(s, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    int rc = -ENOENT, step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        h->id = id;
        snprintf(h->status, sizeof h->status, "%s", lc_col_text(st, 0));
        snprintf(h->kind, sizeof h->kind, "%s", lc_col_text(st, 1));
        snprintf(h->created_by, sizeof h->created_by, "%s", lc_col_text(st, 2));
        snprintf(h->audio_hash, sizeof h->audio_hash, "%s", lc_col_text(st, 3));
        h->expires = lc_col_is_null(st, 4) ? 0 : sqlite3_column_int64(st, 4);
        snprintf(h->audio_by, sizeof h->audio_by, "%s", lc_col_text(st, 5));
        h->node = sqlite3_column_int64(st, 6);
        rc = 0;
    }
    if (lc_store_done(st) < 0 || (step != SQLITE_ROW && step != SQLITE_DONE))
        rc = -EIO; /* never "no such bulletin" for a read that failed */
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

int lc_bulletin_head_param(struct lc_req *req, struct lc_store *s, struct lc_bulletin_head *h,
                           const char *what)
{
    int64_t id;
    if (lc_bulletin_id_param(req, &id) < 0)
        return -1;
    int rc = lc_bulletin_head(s, id, h);
    if (rc == 0) {  /* one outside the caller's subtree does not exist for them */
        int in = lc_org_in_scope(s, req->node, h->node);
        rc = in < 0 ? -EIO : in == 0 ? -ENOENT : 0;
    }
    if (rc == -ENOENT) {
        lc_reply_error(req, 404, "not_found", "no bulletin %lld", (long long)id);
        return -1;
    }
    if (rc < 0) {
        lc_reply_internal(req, what);
        return -1;
    }
    return 0;
}

int lc_bulletin_in_scope(struct lc_store *s, int64_t scope, int64_t id)
{
    struct lc_bulletin_head h;
    int rc = lc_bulletin_head(s, id, &h);
    if (rc == -ENOENT)
        return 0;
    return rc < 0 ? rc : lc_org_in_scope(s, scope, h.node);
}

int lc_bulletin_airable(struct lc_store *s, int64_t id)
{
    struct lc_bulletin_head h;
    int rc = lc_bulletin_head(s, id, &h);
    if (rc < 0)
        return rc;
    return strcmp(h.status, "approved") == 0 && h.audio_hash[0] != '\0';
}

/* ---- inserting ------------------------------------------------------------------------------- */

static int insert_commune(struct lc_store *s, int64_t id, const char *commune)
{
    static const char ins[] = "INSERT INTO bulletin_communes (bulletin, commune) VALUES (?,?)";
    sqlite3_stmt *st = lc_store_stmt(s, ins);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, commune, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    return step == SQLITE_DONE ? 0 : -EIO;
}

int lc_bulletin_insert(struct lc_store *s, const struct lc_req *req,
                       const struct lc_bulletin_new *n, int64_t *id)
{
    static const char ins[] =
        "INSERT INTO bulletins (title, kind, text, voice, rate, priority, repeat, all_communes,"
        " not_before, expires, status, created_by, created_at, updated_at, node)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    bool text = n->text != NULL;
    int64_t now = lc_now();
    sqlite3_stmt *st = lc_store_stmt(s, ins);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, n->title, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, text ? "text" : "audio", -1, SQLITE_STATIC);
    if (text)
        sqlite3_bind_text(st, 3, n->text, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, n->voice, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, n->rate);
    sqlite3_bind_text(st, 6, n->priority, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 7, n->repeat);
    sqlite3_bind_int(st, 8, n->all);
    if (n->has_not_before)
        sqlite3_bind_int64(st, 9, n->not_before);
    if (n->has_expires)
        sqlite3_bind_int64(st, 10, n->expires);
    sqlite3_bind_text(st, 11, text ? "rendering" : "draft", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 12, n->user, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 13, now);
    sqlite3_bind_int64(st, 14, now);
    sqlite3_bind_int64(st, 15, n->node > 0 ? n->node : LC_ORG_ROOT);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return -EIO;
    *id = lc_store_last_id(s);
    for (size_t i = 0; !n->all && i < json_array_size(n->communes); i++)
        if (insert_commune(s, *id, json_string_value(json_array_get(n->communes, i))) < 0)
            return -EIO;
    char target[32];
    lc_bulletin_target(*id, target);
    return lc_audit(s, req, NULL, "bulletin_create", target,
                    json_pack("{s:s,s:s}", "title", n->title, "kind", text ? "text" : "audio"));
}

int lc_bulletin_insert_approved(struct lc_store *s, const struct lc_bulletin_approved *b,
                                int64_t *id)
{
    static const char ins[] =
        "INSERT INTO bulletins (title, kind, text, voice, rate, priority, repeat, all_communes,"
        " status, audio_hash, audio_bytes, duration_s, created_by, created_at, updated_at,"
        " approved_by, approved_at, media_hash, node)"
        " VALUES (?1, 'text', ?2, ?3, 150, ?11, ?12, ?4, 'approved', ?5, ?6, ?7, ?8, ?9, ?9,"
        " ?13, ?9, ?10, ?14)";
    sqlite3_stmt *st = lc_store_stmt(s, ins);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, b->title, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, b->text, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, b->voice, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 4, b->all);
    sqlite3_bind_text(st, 5, b->hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)b->bytes);
    sqlite3_bind_double(st, 7, b->duration_s);
    sqlite3_bind_text(st, 8, b->user, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 9, lc_now());
    if (b->media_hash)
        sqlite3_bind_text(st, 10, b->media_hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 11, b->priority, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 12, b->repeat);
    sqlite3_bind_text(st, 13, b->approver, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 14, b->node > 0 ? b->node : LC_ORG_ROOT);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return -EIO;
    *id = lc_store_last_id(s);
    return 0;
}

int lc_bulletin_create_emergency(struct lc_store *s, const struct lc_bulletin_emergency *e,
                                 int64_t *id)
{
    /* An approval by UPDATE puts the bulletin in approval_order by trigger; an insert does not. */
    static const char ins_o[] = "INSERT OR REPLACE INTO approval_order (bulletin) VALUES (?)";
    const struct lc_bulletin_approved b = {e->title, e->text, e->voice, "emergency", 1, e->all,
                                           e->hash, e->media_hash, e->bytes, e->duration_s,
                                           e->user, e->user, e->node};
    sqlite3_stmt *st;
    int step;
    if (lc_bulletin_insert_approved(s, &b, id) < 0 || (st = lc_store_stmt(s, ins_o)) == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, *id);
    step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return -EIO;
    for (size_t i = 0; !e->all && i < e->n; i++)
        if (insert_commune(s, *id, e->communes[i]) < 0)
            return -EIO;
    char target[32];
    lc_bulletin_target(*id, target);
    return lc_audit(s, NULL, e->user, "bulletin_create", target,
                    json_pack("{s:s,s:s,s:f}", "title", e->title, "priority", "emergency",
                              "duration_s", e->duration_s));
}
