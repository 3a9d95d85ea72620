/*
 * server/map/map.c — GET /api/v1/map: every cluster in service with its position, its state for
 * the console's map and its commune's last session (map.h says the contract and the states).
 *
 * Ownership: struct lc_map is the assembly's (lc_map_open/free); each request builds its answer
 * in one json_t that lc_reply_json() takes.
 */
#include "server/map/map.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>
#include <jansson.h>

#include "server/accounting/accounting.h"
#include "server/api/api.h"
#include "server/org/org.h"
#include "server/selftest/selftest.h"
#include "server/store/store.h"

struct lc_map {
    struct lc_map_deps d;
};

int lc_map_open(struct lc_map **out, const struct lc_map_deps *deps)
{
    *out = calloc(1, sizeof **out);
    if (*out == NULL)
        return -ENOMEM;
    (*out)->d = *deps;
    return 0;
}

void lc_map_free(struct lc_map *m)
{
    free(m);
}

/* The states, in the order of precedence (map.h). */
static const char *const states[] = {"failing", "offline", "not_reached", "reached", "online",
                                     "idle"};

/* The communes the map shows: those of the caller's subtree (org.h), or of ?node=ID, a node of
 * it (*scope gets the node). Returns -1 after answering 400 (malformed) or 404 (no such node
 * in the caller's subtree). */
static int node_param(struct lc_req *req, struct lc_store *store, int64_t *scope)
{
    char buf[32], *end;
    *scope = req->node;
    const char *v = lc_req_query(req, "node", buf, sizeof buf);
    if (v == NULL)
        return 0;
    errno = 0;
    long long node = strtoll(v, &end, 10);
    if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 || node < 1) {
        lc_reply_error(req, 400, "bad_query", "node must be a node's id (a positive integer)");
        return -1;
    }
    if (lc_org_require(req, store, node, 404) < 0)
        return -1;
    *scope = node;
    return 0;
}

/* cluster id → its self-test verdict row, for the failing ones; NULL after a failed read. */
static json_t *failing_clusters(struct lc_store *store)
{
    json_t *rows = lc_selftest_broken(store), *by = json_object(), *row;
    size_t i;
    if (rows == NULL || by == NULL) {
        json_decref(rows);
        json_decref(by);
        return NULL;
    }
    json_array_foreach(rows, i, row) {
        const char *id = json_string_value(json_object_get(row, "cluster"));
        if (id)
            json_object_set(by, id, row);
    }
    json_decref(rows);
    return by;
}

static json_t *nullable_real(sqlite3_stmt *st, int i)
{
    return lc_col_is_null(st, i) ? json_null() : json_real(sqlite3_column_double(st, i));
}

/* One cluster's row from the listing's columns, with its state. */
static json_t *cluster_row(const struct lc_map *m, sqlite3_stmt *st, json_t *last,
                           json_t *failing, int64_t now)
{
    bool seen = !lc_col_is_null(st, 6);
    int64_t last_seen = sqlite3_column_int64(st, 6), created = sqlite3_column_int64(st, 7);
    const char *id = lc_col_text(st, 0), *commune = lc_col_text(st, 2);
    bool online = seen && last_seen >= now - m->d.active_window_s;
    bool offline = !seen || last_seen < now - m->d.offline_after_s;
    json_t *sess = json_object_get(last, commune), *fail = json_object_get(failing, id);
    int64_t sess_end = 0;
    /* a cluster registered after its commune's last session is not judged by it */
    if (sess && (lc_time_parse(json_string_value(json_object_get(sess, "session_end")),
                               &sess_end) < 0 || created > sess_end))
        sess = NULL;
    bool reached = sess && json_object_get(json_object_get(sess, "reached"), id) != NULL;
    const char *state = fail ? "failing" : offline ? "offline"
                        : sess ? (reached ? "reached" : "not_reached")
                        : online ? "online" : "idle";
    return json_pack(
        "{s:s,s:s,s:s,s:s,s:o,s:o,s:I,s:o,s:b,s:b,s:o,s:o,s:O,s:O,s:s}", "id", id, "name",
        lc_col_text(st, 1), "commune", commune, "commune_name", lc_col_text(st, 3), "lat",
        nullable_real(st, 4), "lon", nullable_real(st, 5), "population",
        (json_int_t)sqlite3_column_int64(st, 8), "last_seen",
        seen ? lc_time_json(last_seen) : json_null(), "online", online, "offline", offline,
        "session", sess ? json_incref(json_object_get(sess, "session")) : json_null(), "reached",
        sess ? json_boolean(reached) : json_null(), "failing_since",
        fail ? json_object_get(fail, "failing_since") : json_null(), "selftest_reason",
        fail ? json_object_get(fail, "reason") : json_null(), "state", state);
}

static void get_map(struct lc_req *req, void *ctx)
{
    static const char sql[] =
        "SELECT c.id, c.name, c.commune, k.name, c.lat, c.lon, c.last_seen, c.created_at,"
        "  c.population"
        " FROM clusters c JOIN communes k ON k.id = c.commune"
        " WHERE c.retired_at IS NULL"
        /* the communes of the caller's subtree, or of ?node= (node_param) */
        "   AND c.commune IN " LC_SCOPE_COMMUNES
        " ORDER BY c.commune, c.id";
    struct lc_map *m = ctx;
    struct lc_store *store = m->d.store;
    int64_t scope;
    json_t *last = NULL, *failing = NULL, *out = NULL, *placed, *unplaced, *by_commune, *counts;
    if (node_param(req, store, &scope) < 0)
        return;
    last = lc_coverage_last_sessions(store);
    failing = last ? failing_clusters(store) : NULL;
    out = json_pack("{s:o,s:i,s:i,s:[],s:[],s:[],s:{},s:{}}", "generated_at",
                    lc_time_json(lc_now()), "active_window_s", m->d.active_window_s,
                    "offline_after_s", m->d.offline_after_s, "states", "clusters", "unplaced",
                    "communes", "counts");
    sqlite3_stmt *st = out && failing ? lc_store_stmt(store, sql) : NULL;
    if (st == NULL)
        goto fail;
    json_t *list = json_object_get(out, "states");
    counts = json_object_get(out, "counts");
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
        json_array_append_new(list, json_string(states[i]));
        json_object_set_new(counts, states[i], json_integer(0));
    }
    placed = json_object_get(out, "clusters");
    unplaced = json_object_get(out, "unplaced");
    by_commune = json_object_get(out, "communes");
    lc_store_bind_scope(st, scope);
    int64_t now = lc_now();
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *row = cluster_row(m, st, last, failing, now);
        if (row == NULL)
            continue;
        const char *commune = json_string_value(json_object_get(row, "commune"));
        json_t *c = json_object_get(by_commune, commune);
        if (c == NULL) {
            json_t *sess = json_deep_copy(json_object_get(last, commune));
            json_object_del(sess, "reached");       /* the set, used above */
            c = json_pack("{s:O,s:i,s:o}", "name", json_object_get(row, "commune_name"),
                          "clusters", 0, "last_session", sess ? sess : json_null());
            json_object_set_new(by_commune, commune, c);
        }
        json_object_set_new(c, "clusters",
                            json_integer(json_integer_value(json_object_get(c, "clusters")) + 1));
        const char *state = json_string_value(json_object_get(row, "state"));
        json_object_set_new(counts, state,
                            json_integer(json_integer_value(json_object_get(counts, state)) + 1));
        bool has_pos = json_is_real(json_object_get(row, "lat")) &&
                       json_is_real(json_object_get(row, "lon"));
        json_array_append_new(has_pos ? placed : unplaced, row);
    }
    if (lc_store_done(st) < 0 || step != SQLITE_DONE)
        goto fail;
    json_decref(last);
    json_decref(failing);
    lc_reply_json(req, 200, out);
    return;
fail:
    json_decref(last);
    json_decref(failing);
    json_decref(out);
    lc_reply_internal(req, "map");
}

int lc_map_routes(struct lc_map *m, struct lc_router *r)
{
    return lc_router_add(r, HTTP_GET, "/api/v1/map", LC_ROLES_STAFF, LC_BODY_NONE, get_map, m);
}
