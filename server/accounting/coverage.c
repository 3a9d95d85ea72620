/*
 * server/accounting/coverage.c — the delivery log and coverage reports; see coverage.h.
 *
 * All reads, on the loop thread, of the view deliveries_current (the rows plus the progress of
 * sessions on air, server/accounting/delivery.h): each query is an index range (deliveries by
 * (session, cluster)
 * or (commune, session_start) / (session_start), broadcasts by (commune, start_at)); a month of a
 * district (≈ 1,400 sessions, 40,000 delivery rows) answers in tens of milliseconds (bench/coverage).
 */
#include "server/accounting/coverage.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <http_parser.h>

#include "schedules/localtime.h"
#include "server/api/api.h"
#include "server/http/http.h"
#include "server/org/org.h"
#include "server/registry/registry.h"
#include "server/store/store.h"

static const char *const delivery_cols[] = {
    "cluster", "cluster_name", "commune", "commune_name", "session", "session_start", "connected_at", "disconnected_at",
    "audio_s", "programme_s", "bytes", "reconnections", "reached", "bulletins_whole", "played_s",
    "basis", NULL,
};

static const char *const coverage_cols[] = {
    "commune", "commune_name", "session", "session_start", "session_end", "clusters_total", "clusters_reached",
    "population_total", "population_reached", "percent_clusters", "percent_population",
    "bulletins", NULL,
};

static const char *const summary_cols[] = {
    "commune", "name", "sessions", "mean_percent_clusters", "worst_percent_clusters",
    "mean_percent_population", "worst_session_start", NULL,
};

static json_t *time_or_null(sqlite3_stmt *st, int i)
{
    return lc_col_is_null(st, i) ? json_null() : lc_time_json(sqlite3_column_int64(st, i));
}

static double percent(long long part, long long whole)
{
    return whole > 0 ? round(1000.0 * (double)part / (double)whole) / 10.0 : 0.0;
}

static void get_deliveries(struct lc_req *req, void *ctx)
{
    static const char sql[] =
        "SELECT d.cluster, d.commune, d.session, d.session_start, d.connected_at,"
        "  d.disconnected_at, d.audio_s, d.programme_s, d.bytes, d.reconnections, d.reached,"
        "  d.bulletins_whole,"
        "  (SELECT SUM(p.played_s) FROM plays p WHERE p.session = d.session"
        "     AND p.cluster = d.cluster),"
        "  (SELECT x.via FROM deliveries x WHERE x.session = d.session"   /* issue 19: Icecast */
        "     AND x.cluster = d.cluster)"
        " FROM deliveries_current d"
        " WHERE d.session_start >= ?1 AND d.session_start < ?2"
        "   AND (?3 IS NULL OR d.commune = ?3) AND (?4 IS NULL OR d.cluster = ?4)"
        "   AND d.commune IN " LC_SCOPE_COMMUNES   /* the caller's subtree (org.h) */
        " ORDER BY d.session_start, d.commune, d.cluster";
    struct lc_store *store = ((struct lc_accounting *)ctx)->d.store;
    char cbuf[80], kbuf[80];
    const char *commune, *cluster;
    struct lc_tz tz = lc_tz_system();
    struct lc_date date = lc_local_date(&tz, lc_now());

    if (lc_query_commune(req, store, cbuf, sizeof cbuf, &commune) < 0 ||
        lc_query_date(req, "date", &date) < 0)
        return;
    cluster = lc_req_query(req, "cluster", kbuf, sizeof kbuf);
    if (cluster != NULL) {
        sqlite3_stmt *k = lc_store_stmt(store, "SELECT 1 FROM clusters WHERE id = ?1"
                                               " AND commune IN " LC_SCOPE_COMMUNES);
        if (k == NULL) {
            lc_reply_internal(req, "deliveries");
            return;
        }
        sqlite3_bind_text(k, 1, cluster, -1, SQLITE_TRANSIENT);
        lc_store_bind_scope(k, req->node);
        int step = sqlite3_step(k);
        if (lc_store_done(k) < 0 || (step != SQLITE_ROW && step != SQLITE_DONE)) {
            lc_reply_internal(req, "deliveries");
            return;
        }
        if (step != SQLITE_ROW) {
            lc_reply_error(req, 404, "not_found", "no cluster '%.64s'", cluster);
            return;
        }
    }
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL) {
        lc_reply_internal(req, "deliveries");
        return;
    }
    sqlite3_bind_int64(st, 1, lc_local_to_unix(&tz, date, 0));
    sqlite3_bind_int64(st, 2, lc_local_to_unix(&tz, date, 86400));
    lc_store_bind_scope(st, req->node);
    if (commune)
        sqlite3_bind_text(st, 3, commune, -1, SQLITE_TRANSIENT);
    if (cluster)
        sqlite3_bind_text(st, 4, cluster, -1, SQLITE_TRANSIENT);
    json_t *rows = json_array();
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *whole = json_loads(lc_col_text(st, 11), 0, NULL);
        /* a cluster that reports plays is reached by what it played (coverage.h) */
        bool played = !lc_col_is_null(st, 12);
        double played_s = played ? sqlite3_column_double(st, 12) : 0;
        bool reached = played ? played_s >= 0.9 * sqlite3_column_double(st, 7)
                              : sqlite3_column_int(st, 10) != 0;
        json_array_append_new(
            rows,
            json_pack("{s:s,s:s,s:I,s:o,s:o,s:o,s:f,s:f,s:I,s:I,s:b,s:o,s:f,s:s}", "cluster",
                      lc_col_text(st, 0), "commune", lc_col_text(st, 1), "session",
                      (json_int_t)sqlite3_column_int64(st, 2), "session_start",
                      lc_time_json(sqlite3_column_int64(st, 3)), "connected_at",
                      time_or_null(st, 4), "disconnected_at", time_or_null(st, 5), "audio_s",
                      round(sqlite3_column_double(st, 6) * 1000) / 1000, "programme_s",
                      round(sqlite3_column_double(st, 7) * 1000) / 1000, "bytes",
                      (json_int_t)sqlite3_column_int64(st, 8), "reconnections",
                      (json_int_t)sqlite3_column_int64(st, 9), "reached", reached,
                      "bulletins_whole", json_is_array(whole) ? whole : json_array(), "played_s",
                      round(played_s * 1000) / 1000, "basis", played ? "played" : "sent"));
        if (!lc_col_is_null(st, 13)) /* issue 19: a listener through Icecast (delivery_icecast.c) */
            json_object_set_new(json_array_get(rows, json_array_size(rows) - 1), "via",
                                json_string(lc_col_text(st, 13)));
        if (whole != NULL && !json_is_array(whole))
            json_decref(whole);
    }
    if (lc_store_done(st) < 0) { /* never a shorter list */
        json_decref(rows);
        lc_reply_internal(req, "deliveries");
        return;
    }
    char fname[64], fname_vi[96], d[11];
    lc_date_format(date, d);
    snprintf(fname, sizeof fname, "deliveries-%s", d);
    snprintf(fname_vi, sizeof fname_vi, "Nhật ký phát tới cụm loa %s", d);
    struct lc_report rep = {"deliveries", delivery_cols, fname, fname_vi, "Nhật ký phát"};
    lc_reply_table(req, ((struct lc_accounting *)ctx)->d.loop, store,
                   json_pack("{s:o}", "deliveries", rows), &rep);
}

/* The cached statement sql with a range of sessions bound: ?1 ≤ start < ?2, ?3 the commune
 * (NULL: all). NULL on error. */
static sqlite3_stmt *range_stmt(struct lc_store *store, const char *sql, int64_t t0, int64_t t1,
                                const char *commune)
{
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL)
        return NULL;
    sqlite3_bind_int64(st, 1, t0);
    sqlite3_bind_int64(st, 2, t1);
    if (commune)
        sqlite3_bind_text(st, 3, commune, -1, SQLITE_TRANSIENT);
    return st;
}

/* Adds to each row of rows (sessions in [t0, t1), commune or all) its "bulletins": every
 * bulletin its frozen programme listed (and emergencies it hosted), then any other id the
 * deliveries name, with how many clusters (and people) got it whole. Two queries for the whole
 * range, joined here by session id: a per-session query costs a month report ~1,400 of them. */
static int add_bulletins(struct lc_store *store, int64_t t0, int64_t t1, const char *commune,
                         json_t *rows)
{
    static const char aired_sql[] =
        "SELECT COALESCE(b.host, b.id), json_extract(j.value, '$.bulletin'),"
        "  COALESCE(json_extract(j.value, '$.title'), '')"
        " FROM broadcasts b, json_each(b.programme, '$.items') j"
        " WHERE b.start_at >= ?1 AND b.start_at < ?2 AND (?3 IS NULL OR b.commune = ?3)"
        "   AND b.status IN ('on_air', 'done', 'interrupted')";
    static const char got_sql[] =
        "SELECT db.session, db.bulletin, COUNT(*), COALESCE(SUM(c.population), 0)"
        " FROM broadcasts b JOIN delivery_bulletins db ON db.session = b.id"
        "   JOIN clusters c ON c.id = db.cluster"
        " WHERE b.start_at >= ?1 AND b.start_at < ?2 AND (?3 IS NULL OR b.commune = ?3)"
        "   AND b.host IS NULL"
        " GROUP BY 1, 2";
    /* by_session: {"<session id>": {"<bulletin id>": {"id","title","clusters_reached",...}}} */
    json_t *by_session = json_object();
    char sk[24], bk[24];
    for (int pass = 0; pass < 2; pass++) {
        sqlite3_stmt *st = range_stmt(store, pass == 0 ? aired_sql : got_sql, t0, t1, commune);
        if (st == NULL) {
            json_decref(by_session);
            return -EIO;
        }
        while (sqlite3_step(st) == SQLITE_ROW) {
            if (sqlite3_column_type(st, 1) == SQLITE_NULL)
                continue;
            snprintf(sk, sizeof sk, "%lld", (long long)sqlite3_column_int64(st, 0));
            snprintf(bk, sizeof bk, "%lld", (long long)sqlite3_column_int64(st, 1));
            json_t *sess = json_object_get(by_session, sk);
            if (sess == NULL) {
                sess = json_object();
                json_object_set_new(by_session, sk, sess);
            }
            json_t *b = json_object_get(sess, bk);
            if (b == NULL) {
                b = json_pack("{s:I,s:s,s:I,s:I}", "id", (json_int_t)sqlite3_column_int64(st, 1),
                              "title", "", "clusters_reached", (json_int_t)0,
                              "population_reached", (json_int_t)0);
                json_object_set_new(sess, bk, b);
            }
            if (pass == 0) {
                json_object_set_new(b, "title", json_string(lc_col_text(st, 2)));
            } else {
                json_object_set_new(b, "clusters_reached",
                                    json_integer(sqlite3_column_int64(st, 2)));
                json_object_set_new(b, "population_reached",
                                    json_integer(sqlite3_column_int64(st, 3)));
            }
        }
        if (lc_store_done(st) < 0) {
            json_decref(by_session);
            return -EIO;
        }
    }
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        snprintf(sk, sizeof sk, "%lld",
                 (long long)json_integer_value(json_object_get(row, "session")));
        json_t *list = json_array(), *sess = json_object_get(by_session, sk), *b;
        const char *key;
        json_object_foreach(sess, key, b)
            json_array_append(list, b);
        json_object_set_new(row, "bulletins", list);
    }
    json_decref(by_session);
    return 0;
}

/* One coverage row per aired session in [t0, t1) (commune NULL: all) of the communes of scope
 * (org.h), a new array owned by the caller; NULL when a read failed. */
static json_t *coverage_rows(struct lc_store *store, int64_t scope, int64_t t0, int64_t t1,
                             const char *commune, bool with_bulletins)
{
    static const char sql[] =
        "SELECT b.id, b.commune, b.start_at, b.end_at,"
        SESSION_COUNTS
        " FROM broadcasts b"
        " WHERE b.start_at >= ?1 AND b.start_at < ?2 AND (?3 IS NULL OR b.commune = ?3)"
        "   AND b.host IS NULL AND b.status IN ('on_air', 'done', 'interrupted')"
        "   AND b.commune IN " LC_SCOPE_COMMUNES   /* the caller's subtree (org.h) */
        " ORDER BY b.start_at, b.commune";
    json_t *rows = json_array();
    sqlite3_stmt *st = range_stmt(store, sql, t0, t1, commune);
    if (st == NULL)
        goto fail;
    lc_store_bind_scope(st, scope);
    while (sqlite3_step(st) == SQLITE_ROW) {
        long long ct = sqlite3_column_int64(st, 4), pt = sqlite3_column_int64(st, 5);
        long long cr = sqlite3_column_int64(st, 6), pr = sqlite3_column_int64(st, 7);
        json_array_append_new(
            rows, json_pack("{s:s,s:I,s:o,s:o,s:I,s:I,s:I,s:I,s:f,s:f}", "commune",
                            lc_col_text(st, 1), "session", (json_int_t)sqlite3_column_int64(st, 0),
                            "session_start", lc_time_json(sqlite3_column_int64(st, 2)),
                            "session_end", lc_time_json(sqlite3_column_int64(st, 3)),
                            "clusters_total", (json_int_t)ct, "clusters_reached", (json_int_t)cr,
                            "population_total", (json_int_t)pt, "population_reached",
                            (json_int_t)pr, "percent_clusters", percent(cr, ct),
                            "percent_population", percent(pr, pt)));
    }
    if (lc_store_done(st) < 0)
        goto fail;
    if (with_bulletins && add_bulletins(store, t0, t1, commune, rows) < 0)
        goto fail;
    return rows;
fail:
    json_decref(rows);
    return NULL;
}

/* "<prefix>-<from>-<to>" into fname, "<title> <from> đến <to>" into fname_vi (96 bytes); from and
 * to as YYYY-MM-DD into f and t. */
static void range_names(const char *prefix, const char *title, struct lc_date from,
                        struct lc_date to, char f[11], char t[11], char *fname, size_t n,
                        char *fname_vi)
{
    lc_date_format(from, f);
    lc_date_format(to, t);
    snprintf(fname, n, "%s-%s-%s", prefix, f, t);
    snprintf(fname_vi, 96, "%s %s đến %s", title, f, t);
}

/* What a coverage report reads (report_job.c copies it to the report pool). */
struct range_args {
    int64_t scope, t0, t1;
    char commune[80];           /* "" for all */
    char f[11], t[11];          /* the range as YYYY-MM-DD */
};

/* GET /api/v1/coverage's body, on the report pool. */
static json_t *build_coverage(struct lc_store *reader, void *arg)
{
    const struct range_args *r = arg;
    json_t *rows = coverage_rows(reader, r->scope, r->t0, r->t1, r->commune[0] ? r->commune : NULL,
                                 true);
    return rows ? json_pack("{s:s,s:s,s:o}", "from", r->f, "to", r->t, "sessions", rows) : NULL;
}

static void get_coverage(struct lc_req *req, void *ctx)
{
    struct lc_accounting *a = ctx;
    struct lc_date from, to;
    struct range_args r = {.scope = req->node};
    char cbuf[80];
    const char *commune;
    if (lc_query_commune(req, a->d.store, cbuf, sizeof cbuf, &commune) < 0 ||
        lc_query_range(req, &from, &to, &r.t0, &r.t1) < 0)
        return;
    snprintf(r.commune, sizeof r.commune, "%s", commune ? commune : "");
    char fname[64], fname_vi[96];
    range_names("coverage", "Độ phủ", from, to, r.f, r.t, fname, sizeof fname, fname_vi);
    struct lc_report rep = {"sessions", coverage_cols, fname, fname_vi, "Độ phủ"};
    lc_report_submit(a, req, build_coverage, &r, sizeof r, &rep);
}

struct commune_acc {
    const char *id;
    long n;
    double sum_c, sum_p, worst;
    json_t *worst_start;
};

/* GET /api/v1/coverage/summary's body, on the report pool. */
static json_t *build_summary(struct lc_store *reader, void *arg)
{
    const struct range_args *r = arg;
    json_t *rows = coverage_rows(reader, r->scope, r->t0, r->t1, NULL, false);
    if (rows == NULL)
        return NULL;
    /* Per commune, in the order of the communes table (names for the report). */
    json_t *communes = json_array();
    sqlite3_stmt *st = lc_store_stmt(reader, "SELECT id, name FROM communes WHERE id IN "
                                     LC_SCOPE_COMMUNES " ORDER BY id");
    if (st != NULL)
        lc_store_bind_scope(st, r->scope);
    double all_c = 0, all_p = 0, all_worst = 100;
    size_t n_all = json_array_size(rows);
    while (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
        struct commune_acc c = {.id = lc_col_text(st, 0), .worst = 100};
        size_t i;
        json_t *row;
        json_array_foreach(rows, i, row) {
            if (strcmp(json_string_value(json_object_get(row, "commune")), c.id) != 0)
                continue;
            double pc = json_real_value(json_object_get(row, "percent_clusters"));
            c.n++;
            c.sum_c += pc;
            c.sum_p += json_real_value(json_object_get(row, "percent_population"));
            if (pc <= c.worst) {
                c.worst = pc;
                c.worst_start = json_object_get(row, "session_start");
            }
        }
        if (c.n == 0)
            continue;
        all_c += c.sum_c;
        all_p += c.sum_p;
        all_worst = c.worst < all_worst ? c.worst : all_worst;
        json_array_append_new(
            communes, json_pack("{s:s,s:s,s:I,s:f,s:f,s:f,s:O}", "commune", c.id, "name",
                                lc_col_text(st, 1), "sessions", (json_int_t)c.n,
                                "mean_percent_clusters", round(10 * c.sum_c / c.n) / 10,
                                "worst_percent_clusters", c.worst, "mean_percent_population",
                                round(10 * c.sum_p / c.n) / 10, "worst_session_start",
                                c.worst_start));
    }
    json_decref(rows);
    if (st == NULL || lc_store_done(st) < 0) {
        json_decref(communes);
        return NULL;
    }
    return json_pack(
        "{s:s,s:s,s:I,s:o,s:o,s:o,s:o}", "from", r->f, "to", r->t, "sessions_aired",
        (json_int_t)n_all, "mean_percent_clusters",
        n_all ? json_real(round(10 * all_c / n_all) / 10) : json_null(), "worst_percent_clusters",
        n_all ? json_real(all_worst) : json_null(), "mean_percent_population",
        n_all ? json_real(round(10 * all_p / n_all) / 10) : json_null(), "communes", communes);
}

static void get_summary(struct lc_req *req, void *ctx)
{
    struct lc_accounting *a = ctx;
    struct lc_date from, to;
    struct range_args r = {.scope = req->node};
    if (lc_query_range(req, &from, &to, &r.t0, &r.t1) < 0)
        return;
    char fname[64], fname_vi[96];
    range_names("coverage-summary", "Tổng hợp độ phủ", from, to, r.f, r.t, fname, sizeof fname,
                fname_vi);
    struct lc_report rep = {"communes", summary_cols, fname, fname_vi, "Tổng hợp độ phủ"};
    lc_report_submit(a, req, build_summary, &r, sizeof r, &rep);
}

int lc_coverage_routes(struct lc_accounting *a, struct lc_router *r)
{
    static const struct lc_api_route routes[] = {
        {HTTP_GET, "/api/v1/deliveries", LC_ROLE_ADMIN | LC_ROLE_OPERATOR, LC_BODY_NONE,
         get_deliveries},
        {HTTP_GET, "/api/v1/coverage", LC_ROLE_ADMIN | LC_ROLE_OPERATOR, LC_BODY_NONE,
         get_coverage},
        {HTTP_GET, "/api/v1/coverage/summary", LC_ROLE_ADMIN | LC_ROLE_OPERATOR, LC_BODY_NONE,
         get_summary},
    };
    return LC_API_ROUTES(r, routes, a);
}
