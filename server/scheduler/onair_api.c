/*
 * server/scheduler/onair_api.c — GET /api/v1/onair (every staff role, issue 20): what is on air
 * now in every commune in service, for the console's "Đang phát" screen.
 *
 *   → 200 {"now": time, "communes": [{"commune","name","clusters","connected",
 *          "session": {"id","kind","start","end","status","emergency"} | null,
 *          "playing": {"bulletin","title","relay","emergency","offset_s","duration_s"} | null,
 *          "next": {"id","kind","start","end"} | null}]}   (communes by id)
 *
 *   session   the session on air ("status": "on_air") or held before its start ("prepared"),
 *             from the scheduler's sessions followed (memory, not the database);
 *   playing   the item of its programme at now − the programme's start (the stored programme,
 *             which an emergency moves: what was streamed), an emergency that interrupts it
 *             first ("emergency": true); null in the gap between items or after the last;
 *             "bulletin" 0 and "relay" the upstream URL for a relay item;
 *   clusters  the commune's clusters (one grouped query); connected: those whose receiver is
 *             connected to the commune's stream now, counted by the stream engine in memory
 *             (lc_onair_counts(): staff listeners are not clusters);
 *   next      when nothing is on air or held: the next scheduled session within 7 days.
 *
 * Cost on the loop: two statements for every commune together, plus, for a commune with nothing
 * on air, its days read until a next session is found (what the scheduler's timer reads for
 * every commune anyway) — nothing per cluster.
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

#define NEXT_DAYS 7

static json_t *item_json(const struct lc_onair_item *it, int64_t off_ms, bool emergency)
{
    return json_pack("{s:I,s:s,s:o,s:b,s:f,s:f}", "bulletin", (json_int_t)it->bulletin, "title",
                     it->title ? it->title : "", "relay",
                     it->relay ? json_string(it->relay) : json_null(), "emergency", emergency,
                     "offset_s", (double)(off_ms - it->offset_ms) / 1000.0, "duration_s",
                     (double)it->duration_ms / 1000.0);
}

/* The item of a at now_ms, or NULL. */
static const struct lc_onair_item *item_at(const struct active *a, int64_t now_ms, int64_t *off)
{
    *off = now_ms - a->prog_start_ms;
    for (size_t i = 0; i < a->nitems; i++)
        if (a->items[i].offset_ms <= *off && *off < a->items[i].offset_ms + a->items[i].duration_ms)
            return &a->items[i];
    return NULL;
}

static json_t *playing_json(struct lc_scheduler *s, const struct active *a, int64_t now_ms)
{
    int64_t off;
    const struct lc_onair_item *it;
    if (!a->on_air)
        return json_null();
    /* an emergency inside this session plays first */
    for (const struct active *x = s->active; x; x = x->next)
        if (x->host == a->id && x->on_air && now_ms < x->close_ms &&
            (it = item_at(x, now_ms, &off)) != NULL)
            return item_json(it, off, true);
    it = item_at(a, now_ms, &off);
    if (it == NULL)
        return json_null();
    json_t *o = item_json(it, off, a->emergency);
    return o ? o : json_null();
}

/* The kinds of the sessions on air, by id (one statement). */
static json_t *kinds_on_air(struct lc_store *store)
{
    static const char sql[] = "SELECT id, kind FROM broadcasts WHERE status = 'on_air'";
    json_t *m = json_object();
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (m == NULL || st == NULL) {
        json_decref(m);
        return NULL;
    }
    char key[24];
    while (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(key, sizeof key, "%lld", (long long)sqlite3_column_int64(st, 0));
        json_object_set_new(m, key, json_string(lc_col_text(st, 1)));
    }
    if (lc_store_done(st) < 0) {
        json_decref(m);
        return NULL;
    }
    return m;
}

static json_t *session_json(const struct active *a, json_t *kinds)
{
    char key[24];
    snprintf(key, sizeof key, "%lld", (long long)a->id);
    const char *kind = json_string_value(json_object_get(kinds, key));
    if (kind == NULL)
        kind = a->emergency ? "emergency" : "slot";
    return json_pack("{s:I,s:s,s:o,s:o,s:s,s:b}", "id", (json_int_t)a->id, "kind", kind, "start",
                     lc_time_json(a->start_ms / 1000), "end", lc_time_json(a->end_ms / 1000),
                     "status", a->on_air ? "on_air" : "prepared", "emergency", a->emergency);
}

/* The next scheduled session of commune from now_ms, within NEXT_DAYS: a new object, json null
 * for none, or NULL on a read error. */
static json_t *next_json(struct lc_scheduler *s, const char *commune, int64_t now_ms)
{
    struct lc_tz tz = lc_station_tz();
    int64_t today = lc_days_from_civil(lc_local_date(&tz, now_ms / 1000));
    for (int64_t d = today; d <= today + NEXT_DAYS; d++) {
        struct lc_bsessions l = {0};
        if (lc_sessions_of_day(s->store, commune, lc_civil_from_days(d), &l) < 0) {
            lc_bsessions_free(&l);
            return NULL;
        }
        for (size_t i = 0; i < l.n; i++) {
            const struct lc_bsession *x = &l.v[i];
            if (x->end * 1000 > now_ms && strcmp(x->status, "scheduled") == 0) {
                json_t *o = json_pack("{s:o,s:s,s:o,s:o}", "id",
                                      x->id ? json_integer(x->id) : json_null(), "kind", x->kind,
                                      "start", lc_time_json(x->start), "end",
                                      lc_time_json(x->end));
                lc_bsessions_free(&l);
                return o;
            }
        }
        lc_bsessions_free(&l);
    }
    return json_null();
}

static void on_count(void *arg, const char *commune, int64_t session, size_t clusters)
{
    (void)session;
    json_t *o = json_object_get(arg, commune);
    if (o != NULL)
        json_object_set_new(o, "connected",
                            json_integer(json_integer_value(json_object_get(o, "connected")) +
                                         (json_int_t)clusters));
}

static void get_onair(struct lc_req *req, void *ctx)
{
    static const char sql[] =
        "SELECT c.id, c.name, (SELECT count(*) FROM clusters k WHERE k.commune = c.id)"
        " FROM communes c WHERE c.retired_at IS NULL AND c.node IN " LC_SCOPE_NODES " ORDER BY c.id";
    struct lc_scheduler *s = ctx;
    int64_t now_ms = lc_wall_ms();
    json_t *list = json_array(), *by_id = json_object(), *kinds = kinds_on_air(s->store);
    sqlite3_stmt *st = lc_store_stmt(s->store, sql);
    if (list == NULL || by_id == NULL || kinds == NULL || st == NULL)
        goto fail;
    lc_store_bind_scope(st, req->node);     /* the communes of the caller's subtree */
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *o = json_pack("{s:s,s:s,s:I,s:i,s:n,s:n,s:n}", "commune", lc_col_text(st, 0),
                              "name", lc_col_text(st, 1), "clusters",
                              (json_int_t)sqlite3_column_int64(st, 2), "connected", 0, "session",
                              "playing", "next");
        if (o == NULL || json_array_append_new(list, o) < 0 ||
            json_object_set(by_id, lc_col_text(st, 0), o) < 0) {
            lc_store_done(st);
            goto fail;
        }
    }
    if (lc_store_done(st) < 0)
        goto fail;
    /* the sessions followed: on air first (a held one of the same commune is its next) */
    for (int pass = 0; pass < 2; pass++)
        for (const struct active *a = s->active; a; a = a->next) {
            json_t *o = json_object_get(by_id, a->commune);
            if (o == NULL || a->host != 0 || a->on_air != (pass == 0) ||
                !json_is_null(json_object_get(o, "session")))
                continue;
            json_t *sj = session_json(a, kinds);
            if (sj == NULL || json_object_set_new(o, "session", sj) < 0 ||
                json_object_set_new(o, "playing", playing_json(s, a, now_ms)) < 0)
                goto fail;
        }
    lc_onair_counts(s->onair, on_count, by_id);
    size_t i;
    json_t *o;
    json_array_foreach(list, i, o) {
        if (!json_is_null(json_object_get(o, "session")))
            continue;
        json_t *nx = next_json(s, json_string_value(json_object_get(o, "commune")), now_ms);
        if (nx == NULL || json_object_set_new(o, "next", nx) < 0)
            goto fail;
    }
    json_decref(by_id);
    json_decref(kinds);
    lc_reply_json(req, 200, json_pack("{s:o,s:o}", "now", lc_time_json(now_ms / 1000), "communes",
                                      list));
    return;
fail:
    json_decref(list);
    json_decref(by_id);
    json_decref(kinds);
    lc_reply_internal(req, "onair");
}

int lc_onair_routes(struct lc_scheduler *s, struct lc_router *r)
{
    return lc_router_add(r, HTTP_GET, "/api/v1/onair", LC_ROLES_STAFF, LC_BODY_NONE, get_onair, s);
}
