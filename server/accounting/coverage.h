/*
 * server/accounting/coverage.h — what reached whom: delivery logs, coverage reports, retention
 * (internal header of server/accounting/: the routes' contract; other modules include
 * accounting.h).
 *
 *   GET /api/v1/deliveries?commune=&cluster=&date=YYYY-MM-DD  (admin, operator)
 *     → {"deliveries": [{"cluster","commune","session","session_start","connected_at",
 *        "disconnected_at","audio_s","programme_s","bytes","reconnections","reached",
 *        "bulletins_whole":[ids],"played_s","basis"}]}, one row per cluster and session of
 *        that local date (default today), oldest session first. basis is "played" when the
 *        cluster reported plays of the session (receivers that store: plays.c), and then
 *        played_s (their sum) decides reached; else "sent" (what the stream delivered).
 *   GET /api/v1/coverage?from=&to=&commune=  (admin, operator; dates YYYY-MM-DD, inclusive;
 *        default the last 30 days)
 *     → {"from","to","sessions": [{"commune","session","session_start","session_end",
 *        "clusters_total","clusters_reached","population_total","population_reached",
 *        "percent_clusters","percent_population",
 *        "bulletins":[{"id","title","clusters_reached","population_reached"}]}]}, oldest first,
 *        one row per commune and aired session (emergencies that interrupted a session are
 *        counted inside the session they interrupted).
 *   GET /api/v1/coverage/summary?from=&to=  (admin, operator)
 *     → {"from","to","sessions_aired","mean_percent_clusters","worst_percent_clusters",
 *        "mean_percent_population","communes":[{"commune","name","sessions",
 *        "mean_percent_clusters","worst_percent_clusters","mean_percent_population",
 *        "worst_session_start"}]}
 *   All three answer CSV (UTF-8 with BOM) for ?format=csv or Accept: text/csv.
 *
 * Reached (SPEC): a cluster received ≥ 90% of the programme's audio in that session (the
 * streaming engine writes it into deliveries.reached) — or, when it reported plays of the
 * session, it played ≥ 90% of it. Totals count the commune's clusters that
 * existed when the session ended.
 *
 * Retention: delivery rows older than [coverage] retention_days are deleted in batches of a few
 * hundred rows, one batch per timer tick, so pruning never holds the loop for long.
 */
#ifndef LC_SERVER_COVERAGE_H
#define LC_SERVER_COVERAGE_H

#include "server/accounting/accounting_internal.h"

/* GET /api/v1/deliveries, /api/v1/coverage, /api/v1/coverage/summary (coverage.c). */
int lc_coverage_routes(struct lc_accounting *a, struct lc_router *r);

/* /metrics lines per commune and per cluster (metrics_fleet.c). */
struct lc_buf;
void lc_metrics_fleet(struct lc_accounting *a, struct lc_buf *b);

/* POST /api/v1/receivers/{cluster}/plays, GET /api/v1/plays (plays.c). */
int lc_plays_routes(struct lc_accounting *a, struct lc_router *r);

/* The clusters x reached in session b: those that received it live (deliveries) or report
 * plays of it (receivers that store); a cluster that reports plays is reached by what it played
 * (≥ 90% of the programme), not by what it was sent. */
#define REACHED_IN_SESSION                                                                          \
    "(SELECT x.cluster FROM (SELECT cluster FROM deliveries_current WHERE session = b.id"           \
    "  UNION SELECT cluster FROM plays WHERE session = b.id) x"                                     \
    " WHERE " PLAYED_OR_SENT("x.cluster", "b") ")"

/* The four counts of a coverage row of broadcast b: its clusters (those there while it aired)
 * and their population, then those reached and theirs. */
#define SESSION_COUNTS                                                                              \
    "  (SELECT COUNT(*) FROM clusters c WHERE c.commune = b.commune AND c.created_at <= b.end_at"  \
    "     AND (c.retired_at IS NULL OR c.retired_at > b.start_at)),"                               \
    "  (SELECT COALESCE(SUM(c.population), 0) FROM clusters c"                                     \
    "     WHERE c.commune = b.commune AND c.created_at <= b.end_at"                                \
    "     AND (c.retired_at IS NULL OR c.retired_at > b.start_at)),"                               \
    "  (SELECT COUNT(*) FROM clusters c WHERE c.id IN " REACHED_IN_SESSION "),"                    \
    "  (SELECT COALESCE(SUM(c.population), 0) FROM clusters c"                                     \
    "     WHERE c.id IN " REACHED_IN_SESSION ")"

/* The SQL truth of "cluster k was reached in broadcast b" (see REACHED_IN_SESSION). */
#define PLAYED_OR_SENT(k, b)                                                                        \
    "(CASE WHEN EXISTS (SELECT 1 FROM plays p WHERE p.session = " b ".id AND p.cluster = " k ")"  \
    " THEN (SELECT SUM(p.played_s) FROM plays p WHERE p.session = " b ".id AND p.cluster = " k ")" \
    "   >= 0.9 * coalesce(json_extract(" b ".programme, '$.length_ms'), 0) / 1000.0"              \
    " ELSE EXISTS (SELECT 1 FROM deliveries_current d WHERE d.session = " b ".id"                 \
    "   AND d.cluster = " k " AND d.reached = 1) END)"

/* The query parameters the reports share (query.c). Each answers 400/404/422 and returns -1 on
 * bad input, else 0. */
struct lc_date;
struct lc_req;
struct lc_store;
/* ?name=YYYY-MM-DD into *d (absent: *d unchanged). */
int lc_query_date(struct lc_req *req, const char *name, struct lc_date *d);
/* ?commune= (on record, retired or not) into buf; *out NULL if absent. */
int lc_query_commune(struct lc_req *req, struct lc_store *store, char *buf, size_t n,
                     const char **out);
/* ?from=&to= inclusive local dates → [*t0, *t1) Unix seconds; default the 30 days to today; at
 * most 400 days. */
int lc_query_range(struct lc_req *req, struct lc_date *from, struct lc_date *to, int64_t *t0,
                   int64_t *t1);

/* The retention timer (retention.c): started on a->d.loop, a->retention set; stopped (the
 * handle closed, freed in its close callback) and a->retention NULL. Start: 0 or -ENOMEM. */
int lc_retention_start(struct lc_accounting *a);
void lc_retention_stop(struct lc_accounting *a);

#endif
