/*
 * server/accounting/last_session.c — each commune's last finished session, its coverage and the
 * clusters it reached (issue 19: the console's map; the door is accounting.h,
 * lc_coverage_last_sessions()). "Finished" and "reached" are coverage.c's: a session of its own
 * (host NULL) now done or interrupted; reached by REACHED_IN_SESSION's rule.
 *
 * Two statements whatever the number of clusters: the sessions with their counts (one row per
 * commune, found through broadcasts_commune), then the reached clusters of those sessions
 * (through the primary keys of deliveries and plays).
 */
#include <errno.h>
#include <math.h>

#include "server/accounting/coverage.h"
#include "server/api/api.h"
#include "server/store/store.h"

/* The id of each commune's last finished session (NULL for a commune without one). */
#define LAST_SESSIONS                                                                               \
    "last(id) AS (SELECT (SELECT b2.id FROM broadcasts b2 WHERE b2.commune = k.id"                \
    "   AND b2.host IS NULL AND b2.status IN ('done', 'interrupted')"                              \
    "   ORDER BY b2.start_at DESC LIMIT 1) FROM communes k)"

static double percent(long long part, long long whole)
{
    return whole > 0 ? round(1000.0 * (double)part / (double)whole) / 10.0 : 0.0;
}

/* The per-commune rows into out (commune → object). 0 or -EIO. */
static int sessions(struct lc_store *store, json_t *out)
{
    static const char sql[] =
        "WITH " LAST_SESSIONS
        " SELECT b.id, b.commune, b.start_at, b.end_at,"
        SESSION_COUNTS
        " FROM last l JOIN broadcasts b ON b.id = l.id";
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL)
        return -EIO;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        long long ct = sqlite3_column_int64(st, 4), pt = sqlite3_column_int64(st, 5);
        long long cr = sqlite3_column_int64(st, 6), pr = sqlite3_column_int64(st, 7);
        json_object_set_new(
            out, lc_col_text(st, 1),
            json_pack("{s:I,s:o,s:o,s:I,s:I,s:I,s:I,s:f,s:f,s:{}}", "session",
                      (json_int_t)sqlite3_column_int64(st, 0), "session_start",
                      lc_time_json(sqlite3_column_int64(st, 2)), "session_end",
                      lc_time_json(sqlite3_column_int64(st, 3)), "clusters_total", (json_int_t)ct,
                      "clusters_reached", (json_int_t)cr, "population_total", (json_int_t)pt,
                      "population_reached", (json_int_t)pr, "percent_clusters", percent(cr, ct),
                      "percent_population", percent(pr, pt), "reached"));
    }
    return lc_store_done(st) < 0 || step != SQLITE_DONE ? -EIO : 0;
}

/* Adds each reached cluster to its commune's "reached" set. 0 or -EIO. The outer aliases are
 * not d or p: PLAYED_OR_SENT's own subqueries use those, and would shadow them. */
static int reached(struct lc_store *store, json_t *out)
{
    static const char sql[] =
        "WITH " LAST_SESSIONS
        " SELECT b.commune, dv.cluster FROM last l JOIN broadcasts b ON b.id = l.id"
        "  JOIN deliveries_current dv ON dv.session = b.id WHERE " PLAYED_OR_SENT("dv.cluster", "b")
        " UNION"
        " SELECT b.commune, pl.cluster FROM last l JOIN broadcasts b ON b.id = l.id"
        "  JOIN plays pl ON pl.session = b.id WHERE " PLAYED_OR_SENT("pl.cluster", "b");
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL)
        return -EIO;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *set = json_object_get(json_object_get(out, lc_col_text(st, 0)), "reached");
        if (set)
            json_object_set_new(set, lc_col_text(st, 1), json_true());
    }
    return lc_store_done(st) < 0 || step != SQLITE_DONE ? -EIO : 0;
}

json_t *lc_coverage_last_sessions(struct lc_store *store)
{
    json_t *out = json_object();
    if (out == NULL || sessions(store, out) < 0 || reached(store, out) < 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}
