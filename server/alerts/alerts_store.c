/*
 * server/alerts/alerts_store.c — the `alerts` table (migration 43): this module is its only
 * writer. One row per CAP message received and accepted (Alert, Update, Cancel), keyed by
 * sender + identifier; the XML as received is kept. See alerts_internal.h.
 *
 *   status    awaiting ──confirm / trusted──▶ on_air
 *                 │
 *                 └──Update or Cancel of it──▶ cancelled      (a Cancel's own row: cancelled)
 *   An Update or Cancel of an alert on air only sets its replaced_by: what aired, aired.
 */
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "common/workers.h"
#include "server/alerts/alerts_internal.h"
#include "server/api/api.h"
#include "server/org/org.h"
#include "server/store/store.h"

#define COLUMNS                                                                                   \
    "id, identifier, sender, sent, msg_type, cap_status, scope, category, event, urgency,"        \
    " severity, certainty, headline, area_desc, title, text, communes, expires_at, refs,"         \
    " replaced_by, status, bulletin, received_by, received_at, confirmed_by, confirmed_at,"       \
    " on_air_at, cancelled_at, xml"

static json_t *opt_text(sqlite3_stmt *st, int i)
{
    return lc_col_is_null(st, i) ? json_null() : json_string(lc_col_text(st, i));
}

static json_t *opt_time(sqlite3_stmt *st, int i)
{
    return lc_col_is_null(st, i) ? json_null() : lc_time_json(sqlite3_column_int64(st, i));
}

static json_t *opt_int(sqlite3_stmt *st, int i)
{
    return lc_col_is_null(st, i) ? json_null() : json_integer(sqlite3_column_int64(st, i));
}

/* A JSON column (communes, refs), [] when unreadable. */
static json_t *json_col(sqlite3_stmt *st, int i)
{
    json_t *v = json_loads(lc_col_text(st, i), 0, NULL);
    return json_is_array(v) ? v : (json_decref(v), json_array());
}

static json_t *row_json(sqlite3_stmt *st, bool full)
{
    json_t *o = json_pack(
        "{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:s,s:s,s:o,s:o,s:o,s:o,s:s,"
        "s:o,s:s,s:o,s:o,s:o,s:o,s:o}",
        "id", (json_int_t)sqlite3_column_int64(st, 0), "identifier", lc_col_text(st, 1),
        "sender", lc_col_text(st, 2), "sent", lc_col_text(st, 3), "msg_type", lc_col_text(st, 4),
        "cap_status", lc_col_text(st, 5), "scope", lc_col_text(st, 6), "category",
        opt_text(st, 7), "event", opt_text(st, 8), "urgency", opt_text(st, 9), "severity",
        opt_text(st, 10), "certainty", opt_text(st, 11), "headline", opt_text(st, 12), "area",
        opt_text(st, 13), "title", lc_col_text(st, 14), "text", lc_col_text(st, 15), "communes",
        json_col(st, 16), "expires", opt_time(st, 17), "references", json_col(st, 18),
        "replaced_by", opt_int(st, 19), "status", lc_col_text(st, 20), "bulletin",
        opt_int(st, 21), "received_by", lc_col_text(st, 22), "received_at",
        lc_time_json(sqlite3_column_int64(st, 23)), "confirmed_by", opt_text(st, 24),
        "confirmed_at", opt_time(st, 25), "on_air_at", opt_time(st, 26), "cancelled_at",
        opt_time(st, 27));
    if (o && full)
        json_object_set_new(o, "xml", json_stringn((const char *)sqlite3_column_blob(st, 28),
                                                   (size_t)sqlite3_column_bytes(st, 28)));
    return o;
}

int lc_alert_insert(struct lc_store *st, const struct lc_alert_row *r, int64_t *id)
{
    static const char sql[] =
        "INSERT INTO alerts (identifier, sender, sent, sent_at, msg_type, cap_status, scope,"
        " category, event, urgency, severity, certainty, headline, area_desc, title, text,"
        " communes, expires_at, refs, status, received_by, received_at, cancelled_at, xml)"
        " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,"
        " ?22, CASE WHEN ?20 = 'cancelled' THEN ?22 END, ?23)";
    const struct lc_cap *c = r->cap;
    char *communes = json_dumps(r->communes, JSON_COMPACT), *refs = json_dumps(r->refs,
                                                                              JSON_COMPACT);
    sqlite3_stmt *s = lc_store_stmt(st, sql);
    int rc = -EIO;
    if (s == NULL || communes == NULL || refs == NULL)
        goto out;
    const char *texts[] = {c->identifier, c->sender, c->sent};
    for (int i = 0; i < 3; i++)
        sqlite3_bind_text(s, i + 1, texts[i], -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 4, c->sent_at);
    const char *more[] = {c->msg_type, c->status, c->scope, c->category, c->event, c->urgency,
                          c->severity, c->certainty, c->headline, c->area_desc, r->title,
                          r->text};
    for (int i = 0; i < 12; i++)
        sqlite3_bind_text(s, i + 5, more[i], -1, SQLITE_TRANSIENT);    /* NULL binds NULL */
    sqlite3_bind_text(s, 17, communes, -1, SQLITE_TRANSIENT);
    if (c->expires_at)
        sqlite3_bind_int64(s, 18, c->expires_at);
    sqlite3_bind_text(s, 19, refs, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 20, r->status, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 21, r->received_by, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 22, lc_now());
    sqlite3_bind_blob(s, 23, r->xml, (int)r->xml_len, SQLITE_TRANSIENT);
    rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
    sqlite3_reset(s);
    if (rc == 0)
        *id = lc_store_last_id(st);
out:
    free(communes);
    free(refs);
    return rc;
}

int lc_alert_find(struct lc_store *st, const char *sender, const char *identifier, int64_t *id,
                  int64_t *sent_at)
{
    static const char sql[] = "SELECT id, sent_at FROM alerts WHERE sender = ?1 AND identifier = ?2";
    sqlite3_stmt *s = lc_store_stmt(st, sql);
    if (s == NULL)
        return -EIO;
    sqlite3_bind_text(s, 1, sender, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, identifier, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
        *id = sqlite3_column_int64(s, 0);
        *sent_at = sqlite3_column_int64(s, 1);
    }
    if (lc_store_done(s) < 0 || (step != SQLITE_ROW && step != SQLITE_DONE))
        return -EIO;
    return step == SQLITE_ROW ? 0 : -ENOENT;
}

int lc_alert_load(struct lc_store *st, int64_t id, bool full, json_t **out)
{
    static const char sql[] = "SELECT " COLUMNS " FROM alerts WHERE id = ?1";
    *out = NULL;
    sqlite3_stmt *s = lc_store_stmt(st, sql);
    if (s == NULL)
        return -EIO;
    sqlite3_bind_int64(s, 1, id);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW)
        *out = row_json(s, full);
    if (lc_store_done(s) < 0 || (step != SQLITE_ROW && step != SQLITE_DONE) ||
        (step == SQLITE_ROW && *out == NULL)) {
        json_decref(*out);
        *out = NULL;
        return -EIO;
    }
    return step == SQLITE_ROW ? 0 : -ENOENT;
}

void lc_alerts_list(struct lc_req *req, struct lc_store *st)
{
    /* staff below the root see the alerts that touch one of their communes (org.h) */
    static const char sql[] = "SELECT " COLUMNS " FROM alerts WHERE (?1 IS NULL OR status = ?1)"
                              " AND (" LC_SCOPE " IN (0, 1) OR EXISTS (SELECT 1 FROM"
                              "  json_each(alerts.communes) j WHERE j.value IN " LC_SCOPE_COMMUNES "))"
                              " ORDER BY id DESC LIMIT 500";
    char status[16];
    const char *want = lc_req_query(req, "status", status, sizeof status);
    if (want && strcmp(want, "awaiting") != 0 && strcmp(want, "on_air") != 0 &&
        strcmp(want, "cancelled") != 0) {
        lc_reply_error(req, 400, "bad_query", "status must be awaiting, on_air or cancelled");
        return;
    }
    sqlite3_stmt *s = lc_store_stmt(st, sql);
    json_t *list = json_array();
    if (s == NULL || list == NULL) {
        json_decref(list);
        lc_reply_internal(req, "alerts: list");
        return;
    }
    if (want)
        sqlite3_bind_text(s, 1, want, -1, SQLITE_TRANSIENT);
    lc_store_bind_scope(s, req->node);
    while (sqlite3_step(s) == SQLITE_ROW)
        json_array_append_new(list, row_json(s, false));
    if (lc_store_done(s) < 0) {
        json_decref(list);
        lc_reply_internal(req, "alerts: list");
        return;
    }
    lc_reply_json(req, 200, json_pack("{s:o}", "alerts", list));
}

int lc_alert_replace(struct lc_store *st, int64_t id, int64_t by, char was[16])
{
    static const char get[] = "SELECT status FROM alerts WHERE id = ?1";
    static const char upd[] =
        "UPDATE alerts SET replaced_by = ?2,"
        " cancelled_at = CASE WHEN status = 'awaiting' THEN ?3 ELSE cancelled_at END,"
        " status = CASE WHEN status = 'awaiting' THEN 'cancelled' ELSE status END"
        " WHERE id = ?1";
    sqlite3_stmt *s = lc_store_stmt(st, get);
    if (s == NULL)
        return -EIO;
    sqlite3_bind_int64(s, 1, id);
    int step = sqlite3_step(s);
    snprintf(was, 16, "%s", step == SQLITE_ROW ? lc_col_text(s, 0) : "");
    if (lc_store_done(s) < 0 || step != SQLITE_ROW)
        return -EIO;
    if ((s = lc_store_stmt(st, upd)) == NULL)
        return -EIO;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, by);
    sqlite3_bind_int64(s, 3, lc_now());
    int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
    sqlite3_reset(s);
    return rc;
}

int lc_alert_on_air(struct lc_store *st, int64_t id, int64_t bulletin, const char *user)
{
    static const char sql[] =
        "UPDATE alerts SET status = 'on_air', bulletin = ?2, confirmed_by = ?3,"
        " confirmed_at = ?4, on_air_at = ?4 WHERE id = ?1 AND status = 'awaiting'";
    sqlite3_stmt *s = lc_store_stmt(st, sql);
    if (s == NULL)
        return -EIO;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, bulletin);
    sqlite3_bind_text(s, 3, user, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 4, lc_now());
    int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
    sqlite3_reset(s);
    if (rc == 0 && lc_store_changes(st) == 0)
        return -ESTALE;
    return rc;
}

/* ---- the routes' {id} ------------------------------------------------------------------- */

void lc_alert_target(int64_t id, char out[24])
{
    snprintf(out, 24, "%lld", (long long)id);
}

/* {id} of the path: a positive integer, else -1 after answering 404. */
static int64_t path_id(struct lc_req *req)
{
    char *end;
    long long id = strtoll(req->params[0], &end, 10);
    if (*end != '\0' || id <= 0 || req->params[0][0] == '+' || req->params[0][0] == '-') {
        lc_reply_error(req, 404, "not_found", "no alert '%.32s'", req->params[0]);
        return -1;
    }
    return id;
}

/* How many of the alert's communes lie in the subtree of scope: *in of *n. 0 or -EIO. */
static int communes_in_scope(struct lc_store *st, const json_t *alert, int64_t scope, size_t *in,
                             size_t *n)
{
    static const char sql[] = "SELECT 1 FROM communes WHERE id = ?1 AND node IN " LC_SCOPE_NODES;
    const json_t *list = json_object_get(alert, "communes"), *v;
    size_t i;
    *in = *n = 0;
    json_array_foreach(list, i, v) {
        sqlite3_stmt *s = lc_store_stmt(st, sql);
        if (s == NULL)
            return -EIO;
        sqlite3_bind_text(s, 1, json_string_value(v), -1, SQLITE_TRANSIENT);
        lc_store_bind_scope(s, scope);
        int step = sqlite3_step(s);
        if (lc_store_done(s) < 0 || (step != SQLITE_ROW && step != SQLITE_DONE))
            return -EIO;
        *in += step == SQLITE_ROW;
        (*n)++;
    }
    return 0;
}

int lc_alert_param(struct lc_req *req, struct lc_store *st, bool full, int64_t *id,
                   json_t **alert)
{
    *alert = NULL;
    if ((*id = path_id(req)) < 0)
        return -1;
    int rc = lc_alert_load(st, *id, full, alert);
    size_t in, n;
    if (rc == 0 && req->node != 0 && req->node != LC_ORG_ROOT) {
        /* below the root: an alert that touches none of the caller's communes is not there;
         * one that reaches beyond them is seen, and only an approver above may confirm it */
        rc = communes_in_scope(st, *alert, req->node, &in, &n);
        if (rc == 0 && in == 0)
            rc = -ENOENT;
        if (rc == 0 && in < n && req->method == HTTP_POST) {
            json_decref(*alert);
            *alert = NULL;
            lc_reply_error(req, 403, "forbidden", "the alert reaches %zu communes outside your "
                           "node: an approver of a node above them confirms it", n - in);
            return -1;
        }
        if (rc < 0) {
            json_decref(*alert);
            *alert = NULL;
        }
    }
    if (rc == -ENOENT)
        lc_reply_error(req, 404, "not_found", "no alert %lld", (long long)*id);
    else if (rc < 0)
        lc_reply_internal(req, "alerts: load");
    return rc < 0 ? -1 : 0;
}
