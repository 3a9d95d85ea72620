/*
 * server/accounting/plays.c — what receivers that store report they played (SPEC "Receivers
 * that store", Plays):
 *
 *   POST /api/v1/receivers/{cluster}/plays  (the cluster's receiver token)
 *     {"plays":[{"id","session","bulletin","hash","start","end","played_s","underruns",
 *                "source":"cache"|"live"}]} → 200 {"acked":[ids]}
 *   GET /api/v1/plays?commune=&cluster=&session=&from=&to=  (admin, operator; JSON or CSV)
 *
 * A relay's play (the item of a relay session, played live) has "bulletin": 0, "hash": "" and
 * "source": "live". At least once: a receiver sends a play until it is acked, so the same id may come again; one
 * row per (cluster, id) is kept (INSERT OR IGNORE) and a repeated id is acked again. A batch is
 * checked whole before anything is written: one bad play refuses the batch (400/422, the
 * message names it) and nothing is stored. `start` and `end` are RFC 3339 (fractions of a
 * second kept, to the millisecond): the wall-clock time the sound began and ended at the sink.
 * The table `plays` is this module's.
 */
#define LC_LOG_MODULE "accounting"
#include "server/accounting/coverage.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "schedules/localtime.h"
#include "common/log.h"
#include "server/api/api.h"
#include "server/http/http.h"
#include "server/org/org.h"
#include "server/registry/registry.h"
#include "server/store/store.h"

#define MAX_PLAYS 500

static const char *const play_cols[] = {
    "cluster", "cluster_name", "commune", "commune_name", "id", "session", "bulletin", "hash", "start", "end", "played_s",
    "underruns", "source", "received_at", NULL,
};

struct play {
    const char *id, *hash, *source;
    long long session, bulletin, underruns;
    int64_t start_ms, end_ms;
    double played_s;
};

/* RFC 3339 with its fraction of a second, to the millisecond. */
static int parse_ms(const char *s, int64_t *ms)
{
    int64_t t;
    if (lc_time_parse(s, &t) < 0)
        return -EINVAL;
    int frac = 0, digits = 0;
    if (strlen(s) > 19 && s[19] == '.')
        for (const char *p = s + 20; isdigit((unsigned char)*p) && digits < 3; p++, digits++)
            frac = frac * 10 + (*p - '0');
    while (digits++ < 3)
        frac *= 10;
    *ms = t * 1000 + frac;
    return 0;
}

static bool hex64(const char *s)
{
    if (strlen(s) != 64)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s) && (*s < 'a' || *s > 'f'))
            return false;
    return true;
}

/* One play of the batch, checked; answers and returns -1 on a bad one (i is its index). */
static int read_play(struct lc_req *req, json_t *o, size_t i, struct play *p)
{
    static const char *const fields[] = {"id", "session", "bulletin", "hash", "start", "end",
                                         "played_s", "underruns", "source", NULL};
    const char *start, *end;
    if (!json_is_object(o)) {
        lc_reply_error(req, 400, "bad_field", "plays[%zu] must be an object", i);
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        bool known = false;
        for (const char *const *f = fields; *f; f++)
            known = known || strcmp(*f, key) == 0;
        if (!known) {
            lc_reply_error(req, 400, "unknown_field", "plays[%zu]: unknown field '%.40s'", i, key);
            return -1;
        }
    }
    p->underruns = 0;
    p->source = "cache";
    if (lc_api_string(req, o, "id", true, 64, &p->id) < 0 ||
        lc_api_int(req, o, "session", true, 1, INT64_MAX, &p->session) < 0 ||
        lc_api_int(req, o, "bulletin", true, 0, INT64_MAX, &p->bulletin) < 0 ||
        lc_api_string(req, o, "hash", true, 64, &p->hash) < 0 ||
        lc_api_string(req, o, "start", true, 64, &start) < 0 ||
        lc_api_string(req, o, "end", true, 64, &end) < 0 ||
        lc_api_number(req, o, "played_s", true, 0, 14400, &p->played_s, NULL) < 0 ||
        lc_api_int(req, o, "underruns", false, 0, 1000000, &p->underruns) < 0 ||
        lc_api_string(req, o, "source", false, 8, &p->source) < 0)
        return -1;
    const char *bad = NULL;
    if (p->id[0] == '\0')
        bad = "id must not be empty";
    else if (p->bulletin == 0 && (p->hash[0] != '\0' || strcmp(p->source, "live") != 0))
        bad = "a relay's play (bulletin 0) has hash \"\" and source live";
    else if (p->bulletin > 0 && !hex64(p->hash))
        bad = "hash must be the 64 hex digits of the media's BLAKE2b-256";
    else if (parse_ms(start, &p->start_ms) < 0 || parse_ms(end, &p->end_ms) < 0)
        bad = "start and end must be RFC 3339 times";
    else if (p->end_ms < p->start_ms)
        bad = "end is before start";
    else if (p->played_s > (double)(p->end_ms - p->start_ms) / 1000.0 + 1.0)
        bad = "played_s is longer than from start to end";
    else if (strcmp(p->source, "cache") != 0 && strcmp(p->source, "live") != 0)
        bad = "source must be cache or live";
    if (bad != NULL) {
        lc_reply_error(req, 422, "invalid", "plays[%zu]: %s", i, bad);
        return -1;
    }
    return 0;
}

struct plays_tx {
    const char *cluster, *commune;
    struct play *v;
    size_t n;
};

static int store_plays(struct lc_store *store, void *arg)
{
    static const char ins[] =
        "INSERT OR IGNORE INTO plays (cluster, id, commune, session, bulletin, hash, start_ms,"
        " end_ms, played_s, underruns, source, received_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
    const struct plays_tx *t = arg;
    int64_t now = lc_now();
    for (size_t i = 0; i < t->n; i++) {
        const struct play *p = &t->v[i];
        sqlite3_stmt *st = lc_store_stmt(store, ins);
        if (st == NULL)
            return -EIO;
        sqlite3_bind_text(st, 1, t->cluster, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, p->id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, t->commune, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, p->session);
        sqlite3_bind_int64(st, 5, p->bulletin);
        sqlite3_bind_text(st, 6, p->hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 7, p->start_ms);
        sqlite3_bind_int64(st, 8, p->end_ms);
        sqlite3_bind_double(st, 9, p->played_s);
        sqlite3_bind_int64(st, 10, p->underruns);
        sqlite3_bind_text(st, 11, p->source, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 12, now);
        int step = sqlite3_step(st);
        sqlite3_reset(st);
        if (step != SQLITE_DONE)
            return -EIO;
    }
    return 0;
}

/* The cluster's commune (the plays are kept with it: a cluster moved later keeps its history). */
static int commune_of(struct lc_store *store, const char *cluster, char out[65])
{
    sqlite3_stmt *st = lc_store_stmt(store, "SELECT commune FROM clusters WHERE id = ?1");
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, cluster, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        snprintf(out, 65, "%s", lc_col_text(st, 0));
    if (lc_store_done(st) < 0 || step != SQLITE_ROW)
        return -EIO;
    return 0;
}

static void post_plays(struct lc_req *req, void *ctx)
{
    static const char *const fields[] = {"plays", NULL};
    struct lc_accounting *a = ctx;
    const char *cluster = req->params[0];
    struct play *v = NULL;
    char commune[65];
    if (lc_receiver_auth(a->d.store, req, cluster) < 0)
        return;
    json_t *body = lc_api_body(req, fields);
    if (body == NULL)
        return;
    json_t *list = json_object_get(body, "plays");
    size_t n = json_array_size(list);
    if (!json_is_array(list)) {
        lc_reply_error(req, 400, "bad_field", "'plays' must be a list");
        goto out;
    }
    if (n == 0 || n > MAX_PLAYS) {
        lc_reply_error(req, 422, "invalid", "'plays' holds 1..%d plays", MAX_PLAYS);
        goto out;
    }
    if ((v = calloc(n, sizeof *v)) == NULL) {
        lc_reply_internal(req, "plays: memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        if (read_play(req, json_array_get(list, i), i, &v[i]) < 0)
            goto out;
    struct plays_tx t = {cluster, commune, v, n};
    if (commune_of(a->d.store, cluster, commune) < 0 || lc_store_tx(a->d.store, store_plays, &t) < 0) {
        lc_reply_internal(req, "plays");
        goto out;
    }
    json_t *acked = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(acked, json_string(v[i].id));
    lc_reply_json(req, 200, json_pack("{s:o}", "acked", acked));
out:
    free(v);
    json_decref(body);
}

static void get_plays(struct lc_req *req, void *ctx)
{
    static const char sql[] =
        "SELECT cluster, commune, id, session, bulletin, hash, start_ms, end_ms, played_s,"
        "  underruns, source, received_at FROM plays"
        " WHERE start_ms >= ?1 AND start_ms < ?2 AND (?3 IS NULL OR commune = ?3)"
        "   AND (?4 IS NULL OR cluster = ?4) AND (?5 IS NULL OR session = ?5)"
        "   AND commune IN " LC_SCOPE_COMMUNES     /* the caller's subtree (org.h) */
        " ORDER BY start_ms, cluster LIMIT 100000";
    struct lc_store *store = ((struct lc_accounting *)ctx)->d.store;
    struct lc_date from, to;
    int64_t t0, t1;
    char cbuf[80], kbuf[80], sbuf[24];
    const char *commune, *cluster = lc_req_query(req, "cluster", kbuf, sizeof kbuf);
    const char *session = lc_req_query(req, "session", sbuf, sizeof sbuf);
    if (lc_query_commune(req, store, cbuf, sizeof cbuf, &commune) < 0 ||
        lc_query_range(req, &from, &to, &t0, &t1) < 0)
        return;
    char *end = NULL;
    long long sid = session ? strtoll(session, &end, 10) : 0;
    if (session != NULL && (*session == '\0' || *end != '\0' || sid < 1)) {
        lc_reply_error(req, 400, "bad_query", "session must be a session id");
        return;
    }
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL) {
        lc_reply_internal(req, "plays");
        return;
    }
    sqlite3_bind_int64(st, 1, t0 * 1000);
    sqlite3_bind_int64(st, 2, t1 * 1000);
    lc_store_bind_scope(st, req->node);
    if (commune)
        sqlite3_bind_text(st, 3, commune, -1, SQLITE_TRANSIENT);
    if (cluster)
        sqlite3_bind_text(st, 4, cluster, -1, SQLITE_TRANSIENT);
    if (session)
        sqlite3_bind_int64(st, 5, sid);
    json_t *rows = json_array();
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(
            rows, json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:o,s:o,s:f,s:I,s:s,s:o}", "cluster",
                            lc_col_text(st, 0), "commune", lc_col_text(st, 1), "id",
                            lc_col_text(st, 2), "session", (json_int_t)sqlite3_column_int64(st, 3),
                            "bulletin", (json_int_t)sqlite3_column_int64(st, 4), "hash",
                            lc_col_text(st, 5), "start", lc_time_ms_json(sqlite3_column_int64(st, 6)),
                            "end", lc_time_ms_json(sqlite3_column_int64(st, 7)), "played_s",
                            sqlite3_column_double(st, 8), "underruns",
                            (json_int_t)sqlite3_column_int64(st, 9), "source", lc_col_text(st, 10),
                            "received_at", lc_time_json(sqlite3_column_int64(st, 11))));
    if (lc_store_done(st) < 0) {
        json_decref(rows);
        lc_reply_internal(req, "plays");
        return;
    }
    char f[11], t[11], fname[64], fname_vi[96];
    lc_date_format(from, f);
    lc_date_format(to, t);
    snprintf(fname, sizeof fname, "plays-%s-%s", f, t);
    snprintf(fname_vi, sizeof fname_vi, "Lượt phát %s đến %s", f, t);
    struct lc_report rep = {"plays", play_cols, fname, fname_vi, "Lượt phát"};
    lc_reply_table(req, ((struct lc_accounting *)ctx)->d.loop, store,
                   json_pack("{s:s,s:s,s:o}", "from", f, "to", t, "plays", rows), &rep);
}

int lc_plays_routes(struct lc_accounting *a, struct lc_router *r)
{
    static const struct lc_api_route routes[] = {
        {HTTP_POST, "/api/v1/receivers/{cluster}/plays", LC_ROUTE_OPEN, LC_BODY_JSON, post_plays},
        {HTTP_GET, "/api/v1/plays", LC_ROLE_ADMIN | LC_ROLE_OPERATOR, LC_BODY_NONE, get_plays},
    };
    return LC_API_ROUTES(r, routes, a);
}
