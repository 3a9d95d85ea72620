/*
 * server/scheduler/rules_store.c — broadcast rules (schedules/rules.h) in the database and in
 * JSON (see scheduler_internal.h).
 *
 * The `rules` table (migration 40) holds one JSON body per scope: '*' the defaults, else a
 * commune's own rules, which replace the defaults whole (a field missing from them is no limit,
 * not the default's). No row at all is no rules. Calls no other file of the module. Loop
 * thread only.
 */
#include "server/scheduler/scheduler_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "server/api/api.h"
#include "server/store/store.h"

/* ---- JSON ----------------------------------------------------------------------------------- */

#define FAIL(code, ...) do { snprintf(err, errlen, __VA_ARGS__); return (code); } while (0)

static int read_time(json_t *v, const char *what, int32_t *out, char *err, size_t errlen)
{
    if (!json_is_string(v))
        FAIL(-EPROTO, "%s must be a time \"HH:MM\"", what);
    if (lc_slot_parse_start(json_string_value(v), out) < 0)
        FAIL(-EINVAL, "%s '%.16s' is not a time HH:MM", what, json_string_value(v));
    return 0;
}

/* [{"days"?:[1..7],"from","to"}] into v; quiet spans take no days. */
static int read_spans(json_t *list, const char *name, bool days_allowed, struct lc_rule_span *v,
                      size_t *n, char *err, size_t errlen)
{
    json_t *o;
    size_t i;
    if (!json_is_array(list))
        FAIL(-EPROTO, "%s must be a list of {\"from\",\"to\"%s}", name,
             days_allowed ? ",\"days\"" : "");
    if (json_array_size(list) > LC_RULES_SPANS_MAX)
        FAIL(-EINVAL, "%s: at most %d spans", name, LC_RULES_SPANS_MAX);
    *n = 0;
    json_array_foreach(list, i, o) {
        struct lc_rule_span *s = &v[i];
        char what[48];
        const char *key;
        json_t *f;
        *s = (struct lc_rule_span){0};
        if (!json_is_object(o))
            FAIL(-EPROTO, "%s %zu must be an object", name, i);
        json_object_foreach(o, key, f) {
            if (strcmp(key, "from") && strcmp(key, "to") && (strcmp(key, "days") || !days_allowed))
                FAIL(-EPROTO, "unknown field '%.32s' in %s %zu", key, name, i);
        }
        snprintf(what, sizeof what, "%s %zu: from", name, i);
        int rc = read_time(json_object_get(o, "from"), what, &s->from_s, err, errlen);
        snprintf(what, sizeof what, "%s %zu: to", name, i);
        if (rc < 0 || (rc = read_time(json_object_get(o, "to"), what, &s->to_s, err, errlen)) < 0)
            return rc;
        if (s->from_s == s->to_s)
            FAIL(-EINVAL, "%s %zu: from and to are the same time", name, i);
        json_t *days = json_object_get(o, "days"), *d;
        size_t k;
        if (days == NULL)
            continue;
        if (!json_is_array(days) || json_array_size(days) == 0)
            FAIL(-EPROTO, "%s %zu: days must be a non-empty list of 1 (Monday) .. 7 (Sunday)",
                 name, i);
        json_array_foreach(days, k, d) {
            if (!json_is_integer(d) || json_integer_value(d) < 1 || json_integer_value(d) > 7)
                FAIL(-EINVAL, "%s %zu: days are 1 (Monday) .. 7 (Sunday)", name, i);
            s->days |= 1u << (json_integer_value(d) - 1);
        }
        if (s->days == LC_DAYS_ALL)
            s->days = 0;
    }
    *n = json_array_size(list);
    return 0;
}

static int read_limit(json_t *o, const char *key, int max, int32_t *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(o, key);
    *out = 0;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_integer(v))
        FAIL(-EPROTO, "%s must be a whole number", key);
    if (json_integer_value(v) < 1 || json_integer_value(v) > max)
        FAIL(-EINVAL, "%s must be 1..%d (leave it out for no limit)", key, max);
    *out = (int32_t)json_integer_value(v);
    return 0;
}

int lc_rules_from_json(json_t *o, struct lc_rules *r, char *err, size_t errlen)
{
    static const char *const known[] = {"windows", "max_session_minutes", "max_day_minutes",
                                        "max_sessions_per_day", "quiet", "holidays", NULL};
    const char *key;
    json_t *v;
    memset(r, 0, sizeof *r);
    if (!json_is_object(o))
        FAIL(-EPROTO, "the rules must be an object");
    json_object_foreach(o, key, v) {
        size_t k = 0;
        while (known[k] && strcmp(known[k], key) != 0)
            k++;
        if (known[k] == NULL)
            FAIL(-EPROTO, "unknown rule '%.32s' (known: windows, max_session_minutes,"
                 " max_day_minutes, max_sessions_per_day, quiet, holidays)", key);
    }
    int rc = 0;
    if ((v = json_object_get(o, "windows")) != NULL)
        rc = read_spans(v, "windows", true, r->windows, &r->nwindows, err, errlen);
    if (rc == 0 && (v = json_object_get(o, "quiet")) != NULL)
        rc = read_spans(v, "quiet", false, r->quiet, &r->nquiet, err, errlen);
    if (rc == 0)
        rc = read_limit(o, "max_session_minutes", LC_SLOT_MAX_MINUTES, &r->max_session_minutes,
                        err, errlen);
    if (rc == 0)
        rc = read_limit(o, "max_day_minutes", 1440, &r->max_day_minutes, err, errlen);
    if (rc == 0)
        rc = read_limit(o, "max_sessions_per_day", LC_SLOTS_MAX, &r->max_sessions_per_day, err,
                        errlen);
    if (rc < 0)
        return rc;
    if ((v = json_object_get(o, "holidays")) != NULL) {
        json_t *d;
        size_t i;
        if (!json_is_array(v))
            FAIL(-EPROTO, "holidays must be a list of dates \"YYYY-MM-DD\"");
        if (json_array_size(v) > LC_RULES_HOLIDAYS_MAX)
            FAIL(-EINVAL, "at most %d holidays", LC_RULES_HOLIDAYS_MAX);
        json_array_foreach(v, i, d) {
            if (!json_is_string(d) || lc_date_parse(json_string_value(d), &r->holidays[i]) < 0)
                FAIL(-EINVAL, "holidays %zu is not a date YYYY-MM-DD", i);
        }
        r->nholidays = json_array_size(v);
    }
    return 0;
}

static json_t *spans_json(const struct lc_rule_span *v, size_t n, bool with_days)
{
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        char from[9], to[9];
        lc_slot_format_start(v[i].from_s, from);
        lc_slot_format_start(v[i].to_s, to);
        json_t *o = json_pack("{s:s,s:s}", "from", from, "to", to);
        if (with_days) {
            json_t *days = json_array();
            for (int d = 0; d < 7; d++)
                if (v[i].days == 0 || (v[i].days & (1u << d)))
                    json_array_append_new(days, json_integer(d + 1));
            json_object_set_new(o, "days", days);
        }
        json_array_append_new(list, o);
    }
    return list;
}

json_t *lc_rules_json(const struct lc_rules *r)
{
    json_t *o = json_object();
    if (r->nwindows)
        json_object_set_new(o, "windows", spans_json(r->windows, r->nwindows, true));
    if (r->max_session_minutes)
        json_object_set_new(o, "max_session_minutes", json_integer(r->max_session_minutes));
    if (r->max_day_minutes)
        json_object_set_new(o, "max_day_minutes", json_integer(r->max_day_minutes));
    if (r->max_sessions_per_day)
        json_object_set_new(o, "max_sessions_per_day", json_integer(r->max_sessions_per_day));
    if (r->nquiet)
        json_object_set_new(o, "quiet", spans_json(r->quiet, r->nquiet, false));
    if (r->nholidays) {
        json_t *h = json_array();
        for (size_t i = 0; i < r->nholidays; i++) {
            char d[11];
            lc_date_format(r->holidays[i], d);
            json_array_append_new(h, json_string(d));
        }
        json_object_set_new(o, "holidays", h);
    }
    return o;
}

/* ---- store ---------------------------------------------------------------------------------- */

int lc_rules_load(struct lc_store *store, const char *scope, struct lc_rules *r, bool *own)
{
    static const char sql[] = "SELECT body, scope = ?1 FROM rules WHERE scope IN (?1, '*')"
                              " ORDER BY scope = '*' LIMIT 1";
    char err[160];
    memset(r, 0, sizeof *r);
    if (own)
        *own = false;
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, scope, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st), rc = 0;
    if (step == SQLITE_ROW) {
        json_t *o = json_loads(lc_col_text(st, 0), 0, NULL);
        if (own)
            *own = sqlite3_column_int(st, 1) == 1;
        rc = o ? lc_rules_from_json(o, r, err, sizeof err) : -EIO;
        json_decref(o);
    }
    sqlite3_reset(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return -EIO;
    return rc < 0 ? -EIO : 0;
}
