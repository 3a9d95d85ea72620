/*
 * server/selftest/selftest_data.c — the self-test schedule's row (one, id 1), its next
 * occurrence in the station's zone, and the target communes of a run; see
 * selftest_internal.h. Loop thread only; calls no other file of the module.
 */
#define LC_LOG_MODULE "selftest"
#include "server/selftest/selftest_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedules/localtime.h"
#include "schedules/slots.h"
#include "server/api/api.h"
#include "server/org/org.h"
#include "server/registry/registry.h"
#include "server/store/store.h"

void lc_st_schedule_free(struct lc_st_schedule *sc)
{
    free(sc->text);
    json_decref(sc->communes);
    memset(sc, 0, sizeof *sc);
}

int lc_st_schedule_load(struct lc_store *store, struct lc_st_schedule *out)
{
    static const char sql[] =
        "SELECT days, time_s, text, communes, enabled, last_due FROM selftest_schedule WHERE id = 1";
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL)
        return -EIO;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        out->days = (unsigned)sqlite3_column_int(st, 0);
        out->time_s = sqlite3_column_int(st, 1);
        out->text = strdup(lc_col_text(st, 2));
        out->communes = json_loads(lc_col_text(st, 3), 0, NULL);
        out->enabled = sqlite3_column_int(st, 4) != 0;
        out->last_due = sqlite3_column_int64(st, 5);
        out->stored = true;
    }
    if (lc_store_done(st) < 0 || (step != SQLITE_ROW && step != SQLITE_DONE)) {
        lc_st_schedule_free(out);
        return -EIO;
    }
    if (step == SQLITE_DONE) {
        out->days = 1;                  /* Monday */
        out->time_s = 8 * 3600;
        out->text = strdup(LC_SELFTEST_DEFAULT_TEXT);
        out->communes = json_pack("[s]", "*");
    }
    if (out->text == NULL || !json_is_array(out->communes)) {
        lc_st_schedule_free(out);
        return -ENOMEM;
    }
    return 0;
}

int lc_st_schedule_store(struct lc_store *store, const struct lc_st_schedule *sc,
                         const char *user)
{
    static const char sql[] =
        "INSERT INTO selftest_schedule (id, days, time_s, text, communes, enabled, updated_by,"
        " updated_at) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        " ON CONFLICT (id) DO UPDATE SET days = ?1, time_s = ?2, text = ?3, communes = ?4,"
        " enabled = ?5, updated_by = ?6, updated_at = ?7";
    char *communes = json_dumps(sc->communes, JSON_COMPACT);
    if (communes == NULL)
        return -ENOMEM;
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    int step = SQLITE_ERROR;
    if (st) {
        sqlite3_bind_int(st, 1, (int)sc->days);
        sqlite3_bind_int(st, 2, sc->time_s);
        sqlite3_bind_text(st, 3, sc->text, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, communes, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 5, sc->enabled);
        sqlite3_bind_text(st, 6, user, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 7, lc_now());
        step = sqlite3_step(st);
        sqlite3_reset(st);
    }
    free(communes);
    return step == SQLITE_DONE ? 0 : -EIO;
}

int lc_st_schedule_mark(struct lc_store *store, int64_t due)
{
    static const char sql[] = "UPDATE selftest_schedule SET last_due = ?1 WHERE id = 1";
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, due);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    return step == SQLITE_DONE ? 0 : -EIO;
}

json_t *lc_st_schedule_json(const struct lc_st_schedule *sc, int64_t next_due)
{
    json_t *days = json_array();
    for (int i = 0; i < 7; i++)
        if (sc->days & (1u << i))
            json_array_append_new(days, json_integer(i + 1));
    char at[9];
    lc_slot_format_start(sc->time_s, at);
    return json_pack("{s:o,s:s,s:s,s:O,s:b,s:o}", "days", days, "time", at, "text", sc->text,
                     "communes", sc->communes, "enabled", sc->enabled, "next_run",
                     next_due ? lc_time_json(next_due) : json_null());
}

int64_t lc_st_next_due(const struct lc_st_schedule *sc, int64_t from)
{
    if (!sc->enabled || sc->days == 0)
        return 0;
    struct lc_tz tz = lc_tz_system();
    int64_t today = lc_days_from_civil(lc_local_date(&tz, from));
    /* yesterday (a zone's odd day) .. a week and a day ahead: the first one that qualifies */
    for (int64_t d = today - 1; d <= today + 8; d++) {
        struct lc_date date = lc_civil_from_days(d);
        if (!(sc->days & (1u << lc_weekday(date))))
            continue;
        int64_t t = lc_local_to_unix(&tz, date, sc->time_s);
        if (t >= from && t > sc->last_due)
            return t;
    }
    return 0;
}

int lc_st_read_communes(struct lc_req *req, struct lc_store *store, json_t *body, json_t **out)
{
    /* "*" of staff below the root: every commune of their subtree, by name (org.h) */
    static const char scoped[] = "SELECT id FROM communes WHERE retired_at IS NULL"
                                 " AND node IN " LC_SCOPE_NODES " ORDER BY id";
    *out = lc_communes_param(req, store, json_object_get(body, "communes"));
    if (*out == NULL)
        return -1;
    if (req->node == 0 || req->node == LC_ORG_ROOT ||
        strcmp(json_string_value(json_array_get(*out, 0)), "*") != 0)
        return 0;
    json_array_clear(*out);
    sqlite3_stmt *st = lc_store_stmt(store, scoped);
    if (st == NULL)
        goto internal;
    lc_store_bind_scope(st, req->node);
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(*out, json_string(lc_col_text(st, 0)));
    if (lc_store_done(st) < 0)
        goto internal;
    if (json_array_size(*out) > 0)
        return 0;
    lc_reply_error(req, 422, "invalid", "there is no commune under your node");
    goto fail;
internal:
    lc_reply_internal(req, "selftest: communes");
fail:
    json_decref(*out);
    *out = NULL;
    return -1;
}

json_t *lc_st_expand_communes(struct lc_store *store, const json_t *communes)
{
    static const char all[] = "SELECT id FROM communes WHERE retired_at IS NULL ORDER BY id";
    static const char one[] = "SELECT 1 FROM communes WHERE id = ?1 AND retired_at IS NULL";
    json_t *out = json_array(), *v;
    size_t i;
    if (out == NULL)
        return NULL;
    bool star = json_array_size(communes) == 1 &&
                strcmp(json_string_value(json_array_get(communes, 0)), "*") == 0;
    sqlite3_stmt *st;
    int step;
    if (star) {
        if ((st = lc_store_stmt(store, all)) == NULL)
            goto fail;
        while ((step = sqlite3_step(st)) == SQLITE_ROW)
            json_array_append_new(out, json_string(lc_col_text(st, 0)));
        if (lc_store_done(st) < 0)
            goto fail;
        return out;
    }
    json_array_foreach(communes, i, v) {
        if ((st = lc_store_stmt(store, one)) == NULL)
            goto fail;
        sqlite3_bind_text(st, 1, json_string_value(v), -1, SQLITE_TRANSIENT);
        step = sqlite3_step(st);
        if (lc_store_done(st) < 0)
            goto fail;
        if (step == SQLITE_ROW)
            json_array_append(out, v);
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}
