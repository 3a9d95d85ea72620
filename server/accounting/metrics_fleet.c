/*
 * server/accounting/metrics_fleet.c — /metrics lines per commune and per cluster, read from the
 * database at each scrape, so that alerts can name the commune or the box (docs/coverage.md,
 * "Alerts"):
 *
 *   loacast_commune_clusters{commune}              gauge  clusters in service
 *   loacast_commune_on_air{commune}                gauge  1 while a session of it is on air
 *   loacast_commune_reached_ratio{commune}         gauge  reached / total in its last aired
 *                                                         session (absent: none aired yet)
 *   loacast_cluster_online{commune,cluster}        gauge  seen within offline_after_s
 *   loacast_cluster_last_seen_timestamp_seconds{commune,cluster}
 *                                                  gauge  Unix time (absent: never seen)
 *   loacast_cluster_clone_suspected{commune,cluster}
 *                                                  gauge  1: its connections kept replacing each
 *                                                         other from different addresses (only
 *                                                         the flagged ones are listed)
 *
 * Cardinality is bounded by the registry: 3 series per commune, 2 per cluster (a province of
 * 5,000 clusters: ~10,000 lines, ~1 MB a scrape). Retired communes and clusters are left out.
 * Label values are ids (slugs), so they need no escaping. The stream engine adds
 * loacast_commune_receivers_connected{commune} for the communes on air.
 */
#include "server/accounting/coverage.h"

#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "server/api/api.h"
#include "server/store/store.h"

/* The reached share of session id (as coverage computes it), or -1 when it had no cluster. */
static double reached_ratio(struct lc_store *store, int64_t id)
{
    static const char sql[] =
        "SELECT (SELECT COUNT(*) FROM clusters c WHERE c.commune = b.commune"
        "   AND c.created_at <= b.end_at AND (c.retired_at IS NULL OR c.retired_at > b.start_at)),"
        "  (SELECT COUNT(*) FROM clusters c WHERE c.id IN " REACHED_IN_SESSION ")"
        " FROM broadcasts b WHERE b.id = ?1";
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    double r = -1;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0)
        r = (double)sqlite3_column_int64(st, 1) / (double)sqlite3_column_int64(st, 0);
    lc_store_done(st);
    return r;
}

static void communes(struct lc_store *store, struct lc_buf *b)
{
    static const char sql[] =
        "SELECT c.id,"
        " (SELECT count(*) FROM clusters k WHERE k.commune = c.id AND k.retired_at IS NULL),"
        " EXISTS (SELECT 1 FROM broadcasts s WHERE s.commune = c.id AND s.status = 'on_air'),"
        " (SELECT s.id FROM broadcasts s WHERE s.commune = c.id AND s.host IS NULL"
        "    AND s.status IN ('done', 'interrupted') ORDER BY s.start_at DESC LIMIT 1)"
        " FROM communes c WHERE c.retired_at IS NULL ORDER BY c.id";
    struct row {
        char id[65];
        long long clusters;
        int on_air;
        int64_t last;
    } *rows = NULL;
    size_t n = 0, cap = 0;
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL)
        return;
    while (sqlite3_step(st) == SQLITE_ROW) {
        struct row *g = lc_grow(rows, n + 1, &cap, sizeof *rows, 64);
        if (g == NULL)
            break;
        rows = g;
        snprintf(rows[n].id, sizeof rows[n].id, "%s", lc_col_text(st, 0));
        rows[n].clusters = sqlite3_column_int64(st, 1);
        rows[n].on_air = sqlite3_column_int(st, 2);
        rows[n].last = lc_col_is_null(st, 3) ? 0 : sqlite3_column_int64(st, 3);
        n++;
    }
    lc_store_done(st);
    lc_metrics_put(b, "# HELP loacast_commune_clusters Clusters in service, per commune.\n"
           "# TYPE loacast_commune_clusters gauge\n");
    for (size_t i = 0; i < n; i++)
        lc_metrics_put(b, "loacast_commune_clusters{commune=\"%s\"} %lld\n", rows[i].id, rows[i].clusters);
    lc_metrics_put(b, "# HELP loacast_commune_on_air 1 while a session of the commune is on air.\n"
           "# TYPE loacast_commune_on_air gauge\n");
    for (size_t i = 0; i < n; i++)
        lc_metrics_put(b, "loacast_commune_on_air{commune=\"%s\"} %d\n", rows[i].id, rows[i].on_air);
    lc_metrics_put(b, "# HELP loacast_commune_reached_ratio Share of the commune's clusters reached in its"
           " last aired session.\n# TYPE loacast_commune_reached_ratio gauge\n");
    for (size_t i = 0; i < n; i++) {
        double r = rows[i].last ? reached_ratio(store, rows[i].last) : -1;
        if (r >= 0)
            lc_metrics_put(b, "loacast_commune_reached_ratio{commune=\"%s\"} %.4f\n", rows[i].id, r);
    }
    free(rows);
}

static void clusters(struct lc_store *store, int offline_after_s, struct lc_buf *b)
{
    static const char sql[] =
        "SELECT commune, id, last_seen, clone_suspected_at IS NOT NULL FROM clusters"
        " WHERE retired_at IS NULL ORDER BY commune, id";
    int64_t since = lc_now() - offline_after_s;
    for (int pass = 0; pass < 3; pass++) {
        if (pass == 0)
            lc_metrics_put(b, "# HELP loacast_cluster_online 1 if the cluster was seen within offline_after_s.\n"
                   "# TYPE loacast_cluster_online gauge\n");
        else if (pass == 1)
            lc_metrics_put(b, "# HELP loacast_cluster_last_seen_timestamp_seconds When the cluster was last"
                   " seen (Unix time).\n# TYPE loacast_cluster_last_seen_timestamp_seconds gauge\n");
        else
            lc_metrics_put(b, "# HELP loacast_cluster_clone_suspected 1: the cluster's connections kept"
                   " replacing each other from different addresses (a cloned token?).\n"
                   "# TYPE loacast_cluster_clone_suspected gauge\n");
        sqlite3_stmt *st = lc_store_stmt(store, sql);
        if (st == NULL)
            return;
        while (sqlite3_step(st) == SQLITE_ROW) {
            bool seen = !lc_col_is_null(st, 2);
            int64_t at = seen ? sqlite3_column_int64(st, 2) : 0;
            if (pass == 0)
                lc_metrics_put(b, "loacast_cluster_online{commune=\"%s\",cluster=\"%s\"} %d\n",
                    lc_col_text(st, 0), lc_col_text(st, 1), seen && at >= since);
            else if (pass == 1 && seen)
                lc_metrics_put(b, "loacast_cluster_last_seen_timestamp_seconds{commune=\"%s\",cluster=\"%s\"}"
                       " %lld\n", lc_col_text(st, 0), lc_col_text(st, 1), (long long)at);
            else if (pass == 2 && sqlite3_column_int(st, 3))
                lc_metrics_put(b, "loacast_cluster_clone_suspected{commune=\"%s\",cluster=\"%s\"} 1\n",
                    lc_col_text(st, 0), lc_col_text(st, 1));
        }
        lc_store_done(st);
    }
}

void lc_metrics_fleet(struct lc_accounting *a, struct lc_buf *b)
{
    communes(a->d.store, b);
    clusters(a->d.store, a->d.offline_after_s, b);
}
