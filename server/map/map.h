/*
 * server/map/map.h — the door of server/map/ (issue 19, point 3): the console's cluster map.
 *
 *   GET /api/v1/map[?node=ID]   (every staff role)
 *     → {"generated_at", "active_window_s", "offline_after_s",
 *        "states": ["failing","offline","not_reached","reached","online","idle"] (precedence),
 *        "clusters": [{"id","name","commune","commune_name","lat","lon","population",
 *                      "last_seen","online","offline","session","reached","failing_since",
 *                      "selftest_reason","state"}],     (clusters in service with lat and lon)
 *        "unplaced": [the same without a position],
 *        "communes": {id: {"name","clusters","last_session": {"session","session_start",
 *                      "session_end","clusters_total","clusters_reached","population_total",
 *                      "population_reached","percent_clusters","percent_population"} | null}}}
 *
 * A cluster's state is the first that holds, in this order (docs/console.md, "Bản đồ"):
 *   failing      its last self-test failed (selftest/: failing_since)
 *   offline      never seen, or not seen for longer than [coverage] offline_after_s
 *   not_reached  its commune's last finished session did not reach it (accounting/: the rule of
 *                GET /api/v1/coverage; only clusters that existed when that session ended)
 *   reached      that session reached it
 *   online       seen within [coverage] active_window_s (a connected receiver is seen every
 *                stream batch, a polling one at each report)
 *   idle         seen, but not within the active window, and no finished session to judge
 * The raw fields stay in each row, so the console can show why.
 *
 * The clusters are those of the caller's subtree of the organisation tree (server/org/org.h);
 * ?node= restricts them to that node's subtree: a malformed id is 400, a node that is not in the
 * caller's subtree 404.
 *
 * Cost: four statements whatever the number of clusters — the clusters (here), the last
 * sessions and their reached clusters (accounting's door), the failing clusters (selftest's
 * door). Reads only; writes no table. Loop thread only.
 */
#ifndef LC_SERVER_MAP_H
#define LC_SERVER_MAP_H

struct lc_store;
struct lc_router;
struct lc_map;

struct lc_map_deps {
    struct lc_store *store;
    int offline_after_s;        /* [coverage] offline_after_s */
    int active_window_s;        /* [coverage] active_window_s */
};

/* The module's handle (*out, freed by lc_map_free); deps are copied. 0 or -ENOMEM. */
int lc_map_open(struct lc_map **out, const struct lc_map_deps *deps);
void lc_map_free(struct lc_map *m);

/* Adds GET /api/v1/map with m as its handle (m may be NULL when the table is only listed). */
int lc_map_routes(struct lc_map *m, struct lc_router *r);

#endif
