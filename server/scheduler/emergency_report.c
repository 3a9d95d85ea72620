/*
 * server/scheduler/emergency_report.c — GET /api/v1/emergency/{bulletin} (admin, approver,
 * operator): where an emergency went, cluster by cluster (issue 15).
 *
 *   → 200 {"bulletin", "title", "on_air_at", "catchup_until", "final",
 *          "clusters_total", "clusters_delivered",
 *          "communes": [{"commune", "session", "interrupted", "status", "clusters_total",
 *                        "clusters_delivered",
 *                        "clusters": [{"cluster", "name", "delivered", "connected"}]}]}
 *     404 when the bulletin never went out as an emergency.
 *
 * A cluster got the emergency when it was sent the bulletin whole in the stream that carried it
 * (delivery_bulletins, from completed writes: the emergency session's own stream, or the stream
 * of the session it interrupted) or reported playing at least 90 % of it (plays, receivers that
 * store). `connected`: it had a connection to that stream at all. Only what reached a cluster
 * is called delivered: the answer of POST /api/v1/emergency says where it was sent, this says
 * where it arrived. `final` once the stream's catch-up ([stream] catchup_s: receivers polling
 * off air still get it from its start) and the accounting's last batch are over.
 *
 * Reads broadcasts (this module's), deliveries and plays (accounting's), clusters (registry's).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "server/api/api.h"
#include "server/http/http.h"
#include "server/org/org.h"
#include "server/scheduler/scheduler.h"
#include "server/scheduler/scheduler_internal.h"
#include "server/scheduler/scheduler_state.h"
#include "server/store/store.h"

#define SETTLE_MS 5000 /* the accounting's last batch after a stream ends (as airings.c) */

/* The clusters of one target commune and whether each got the emergency; adds to the totals. */
static int commune_clusters(struct lc_store *store, json_t *c, int64_t stream_session,
                            int64_t em_session, int64_t bulletin, double dur_s, int64_t since_s,
                            int *total, int *delivered)
{
    static const char sql[] =
        "SELECT k.id, k.name,"
        " EXISTS (SELECT 1 FROM delivery_bulletins d WHERE d.session = ?2 AND d.bulletin = ?3"
        "         AND d.cluster = k.id)"
        " OR coalesce((SELECT sum(p.played_s) FROM plays p WHERE p.session IN (?2, ?4)"
        "         AND p.bulletin = ?3 AND p.cluster = k.id), 0) >= 0.9 * ?5,"
        " EXISTS (SELECT 1 FROM deliveries_current d WHERE d.session = ?2 AND d.cluster = k.id)"
        " OR EXISTS (SELECT 1 FROM plays p WHERE p.session IN (?2, ?4) AND p.cluster = k.id)"
        " FROM clusters k WHERE k.commune = ?1 AND (k.retired_at IS NULL OR k.retired_at > ?6)"
        " ORDER BY k.id";
    json_t *list = json_array();
    int n = 0, got = 0, step;
    sqlite3_stmt *st = list ? lc_store_stmt(store, sql) : NULL;
    if (st == NULL) {
        json_decref(list);
        return -EIO;
    }
    sqlite3_bind_text(st, 1, json_string_value(json_object_get(c, "commune")), -1,
                      SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, stream_session);
    sqlite3_bind_int64(st, 3, bulletin);
    sqlite3_bind_int64(st, 4, em_session);
    sqlite3_bind_double(st, 5, dur_s);
    sqlite3_bind_int64(st, 6, since_s);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        bool yes = sqlite3_column_int(st, 2) != 0;
        n++;
        got += yes;
        json_array_append_new(list, json_pack("{s:s,s:s,s:b,s:b}", "cluster", lc_col_text(st, 0),
                                              "name", lc_col_text(st, 1), "delivered", yes,
                                              "connected", sqlite3_column_int(st, 3) != 0));
    }
    if (lc_store_done(st) < 0 || step != SQLITE_DONE) {
        json_decref(list);
        return -EIO;
    }
    json_object_set_new(c, "clusters_total", json_integer(n));
    json_object_set_new(c, "clusters_delivered", json_integer(got));
    json_object_set_new(c, "clusters", list);
    *total += n;
    *delivered += got;
    return 0;
}

static void get_report(struct lc_req *req, void *ctx)
{
    static const char sql[] =
        "SELECT b.id, b.commune, b.host, b.status, b.aired_at_ms,"
        " coalesce(b.ended_at_ms, b.end_at * 1000),"
        " coalesce(json_extract(b.programme, '$.items[0].duration_ms'), 0),"
        " json_extract(b.programme, '$.items[0].title')"
        " FROM broadcasts b WHERE b.kind = 'emergency'"
        "   AND json_extract(b.programme, '$.items[0].bulletin') = ?1"
        "   AND b.commune IN " LC_SCOPE_COMMUNES " ORDER BY b.commune";
    struct lc_scheduler *s = ctx;
    char *end;
    long long bulletin = strtoll(req->params[0], &end, 10);
    if (*end != '\0' || bulletin <= 0) {
        lc_reply_error(req, 400, "bad_request", "a bulletin id is a positive integer");
        return;
    }
    json_t *communes = json_array(), *title = NULL;
    int64_t first_ms = 0, last_end_ms = 0;
    int total = 0, delivered = 0, step;
    bool all_over = true;
    sqlite3_stmt *st = communes ? lc_store_stmt(s->store, sql) : NULL;
    if (st == NULL)
        goto internal;
    sqlite3_bind_int64(st, 1, bulletin);
    lc_store_bind_scope(st, req->node);     /* the caller's communes only */
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0), host = sqlite3_column_int64(st, 2);
        int64_t at_ms = sqlite3_column_int64(st, 4), end_ms = sqlite3_column_int64(st, 5);
        const char *status = lc_col_text(st, 3);
        if (first_ms == 0 || at_ms < first_ms)
            first_ms = at_ms;
        if (end_ms > last_end_ms)
            last_end_ms = end_ms;
        all_over = all_over && strcmp(status, "on_air") != 0;
        if (title == NULL && sqlite3_column_type(st, 7) == SQLITE_TEXT)
            title = json_string(lc_col_text(st, 7));
        json_t *c = json_pack("{s:s,s:I,s:b,s:s,s:I,s:f}", "commune", lc_col_text(st, 1),
                              "session", (json_int_t)id, "interrupted", host != 0, "status",
                              status, "stream_session", (json_int_t)(host ? host : id),
                              "duration_s", sqlite3_column_int64(st, 6) / 1000.0);
        if (c == NULL || json_array_append_new(communes, c) < 0)
            goto internal_reset;
    }
    if (lc_store_done(st) < 0 || step != SQLITE_DONE)
        goto internal;
    if (json_array_size(communes) == 0) {
        json_decref(communes);
        json_decref(title);
        lc_reply_error(req, 404, "not_found", "bulletin %lld never went out as an emergency",
                       bulletin);
        return;
    }
    size_t i;
    json_t *c;
    json_array_foreach(communes, i, c) {
        int64_t stream = json_integer_value(json_object_get(c, "stream_session"));
        double dur = json_real_value(json_object_get(c, "duration_s"));
        if (commune_clusters(s->store, c, stream, json_integer_value(json_object_get(c, "session")),
                             bulletin, dur, first_ms / 1000, &total, &delivered) < 0)
            goto internal;
        json_object_del(c, "stream_session");
        json_object_del(c, "duration_s");
    }
    int64_t until_ms = last_end_ms + (int64_t)s->catchup_s * 1000;
    bool final = all_over && lc_wall_ms() >= until_ms + SETTLE_MS;
    lc_reply_json(req, 200, json_pack("{s:I,s:o,s:o,s:o,s:b,s:i,s:i,s:o}", "bulletin",
                                      (json_int_t)bulletin, "title", title ? title : json_null(),
                                      "on_air_at", lc_time_ms_json(first_ms), "catchup_until",
                                      lc_time_ms_json(until_ms), "final", final, "clusters_total",
                                      total, "clusters_delivered", delivered, "communes",
                                      communes));
    return;
internal_reset:
    sqlite3_reset(st);
internal:
    json_decref(communes);
    json_decref(title);
    lc_reply_internal(req, "emergency report");
}

int lc_emergency_report_routes(struct lc_scheduler *s, struct lc_router *r)
{
    return lc_router_add(r, HTTP_GET, "/api/v1/emergency/{bulletin}",
                         LC_ROLE_ADMIN | LC_ROLE_APPROVER | LC_ROLE_OPERATOR, LC_BODY_NONE,
                         get_report, s);
}
