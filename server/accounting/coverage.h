/*
 * server/accounting/coverage.h — what reached whom: delivery logs, coverage reports, retention
 * (internal header of server/accounting/: the routes' contract; other modules include
 * accounting.h).
 *
 *   GET /api/v1/deliveries?commune=&cluster=&date=YYYY-MM-DD  (admin, operator)
 *     → {"deliveries": [{"cluster","commune","session","session_start","connected_at",
 *        "disconnected_at","audio_s","programme_s","bytes","reconnections","reached",
 *        "bulletins_whole":[ids]}]}, one row per cluster and session of that local date
 *        (default today), oldest session first.
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
 * Reached (SPEC): a cluster received ≥ 90% of the programme's audio in that session; the
 * streaming engine writes it into deliveries.reached. Totals count the commune's clusters that
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

/* The retention timer (retention.c): started on a->d.loop, a->retention set; stopped (the
 * handle closed, freed in its close callback) and a->retention NULL. Start: 0 or -ENOMEM. */
int lc_retention_start(struct lc_accounting *a);
void lc_retention_stop(struct lc_accounting *a);

#endif
