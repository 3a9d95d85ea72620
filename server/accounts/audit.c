/* server/accounts/audit.c — audit entries and their listing; see accounts.h. */
#include "server/accounts/accounts_internal.h"

#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "server/api/api.h"
#include "server/http/http.h"
#include "server/org/org.h"
#include "server/store/store.h"

int lc_audit_prune(struct lc_store *store, int64_t cutoff, int batch)
{
    /* Entries are written in time order, so the oldest ids are the oldest entries: only the
     * first batch rows are looked at (no index on `at`, and a table of millions must not be
     * scanned on the loop every tick to find that nothing is old). */
    static const char sql[] =
        "DELETE FROM audit WHERE id IN (SELECT id FROM audit ORDER BY id LIMIT ?2) AND at < ?1";
    return lc_store_prune(store, sql, cutoff, batch);
}

int lc_audit(struct lc_store *store, const struct lc_req *req, const char *actor, const char *action,
             const char *target, json_t *detail)
{
    static const char sql[] =
        "INSERT INTO audit (at, actor, action, target, detail, address, node)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, coalesce(?7, (SELECT node FROM users WHERE username = ?2)))";
    char *d = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    json_decref(detail);
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL) {
        free(d);
        return -EIO;
    }
    if (actor == NULL)
        actor = req && req->user[0] ? req->user : "system";
    sqlite3_bind_int64(st, 1, lc_now());
    sqlite3_bind_text(st, 2, actor, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
    if (target)
        sqlite3_bind_text(st, 4, target, -1, SQLITE_TRANSIENT);
    if (d)
        sqlite3_bind_text(st, 5, d, -1, SQLITE_TRANSIENT);
    if (req)
        sqlite3_bind_text(st, 6, req->addr, -1, SQLITE_TRANSIENT);
    if (req && req->node > 0)   /* else the actor's node, by name (a login), or none: root's */
        sqlite3_bind_int64(st, 7, req->node);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
    free(d);
    return rc;
}

static void get_audit(struct lc_req *req, void *ctx)
{
    static const char sql[] =
        "SELECT id, at, actor, action, target, detail, address FROM audit"
        " WHERE (?1 IS NULL OR action = ?1) AND (?2 IS NULL OR actor = ?2)"
        "   AND (?3 IS NULL OR target = ?3) AND (?4 IS NULL OR id < ?4)"
        "   AND coalesce(node, 1) IN " LC_SCOPE_NODES   /* entries of staff in the subtree */
        " ORDER BY id DESC LIMIT ?5";
    struct lc_accounts *a = ctx;
    char before[32], limit[32];
    long long lim = 100, bef = 0;
    if (lc_req_query(req, "limit", limit, sizeof limit)) {
        char *end;
        lim = strtoll(limit, &end, 10);
        if (*end || lim < 1 || lim > 1000) {
            lc_reply_error(req, 400, "bad_query", "limit must be 1..1000");
            return;
        }
    }
    if (lc_req_query(req, "before", before, sizeof before)) {
        char *end;
        bef = strtoll(before, &end, 10);
        if (*end || bef < 1) {
            lc_reply_error(req, 400, "bad_query", "before must be an entry id");
            return;
        }
    }
    sqlite3_stmt *st = lc_store_stmt(a->d.store, sql);
    if (st == NULL) {
        lc_reply_internal(req, "audit query");
        return;
    }
    lc_api_bind_query(req, st, 1, "action", 64);
    lc_api_bind_query(req, st, 2, "actor", 128);
    lc_api_bind_query(req, st, 3, "target", 128);
    if (bef)
        sqlite3_bind_int64(st, 4, bef);
    sqlite3_bind_int64(st, 5, lim);
    lc_store_bind_scope(st, req->node);
    json_t *list = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *detail = NULL;
        if (!lc_col_is_null(st, 5))
            detail = json_loads(lc_col_text(st, 5), 0, NULL);
        json_array_append_new(
            list, json_pack("{s:I,s:o,s:s,s:s,s:o,s:o,s:o}", "id",
                            (json_int_t)sqlite3_column_int64(st, 0), "at",
                            lc_time_json(sqlite3_column_int64(st, 1)), "actor", lc_col_text(st, 2),
                            "action", lc_col_text(st, 3), "target",
                            lc_col_is_null(st, 4) ? json_null() : json_string(lc_col_text(st, 4)),
                            "detail", detail ? detail : json_null(), "address",
                            lc_col_is_null(st, 6) ? json_null() : json_string(lc_col_text(st, 6))));
    }
    if (rc != SQLITE_DONE) {
        json_decref(list);
        lc_reply_internal(req, "audit step");
        return;
    }
    lc_reply_json(req, 200, json_pack("{s:o}", "audit", list));
}

static const struct lc_api_route routes[] = {
    {HTTP_GET, "/api/v1/audit", LC_ROLE_ADMIN | LC_ROLE_OPERATOR, LC_BODY_NONE, get_audit},
};

int lc_audit_routes(struct lc_accounts *a, struct lc_router *r)
{
    return LC_API_ROUTES(r, routes, a);
}
