/*
 * server/scheduler/sessions_api.c — ad-hoc sessions and the programme of a day (see scheduler.h).
 *
 *   POST /api/v1/communes/{id}/sessions {"start": RFC 3339 (any offset), "minutes": 1..240,
 *     "relay"?: URL} → 201 the session (with its predicted programme; a relay session is that
 *     upstream stream, live, for its whole window). Refused with 409 if it overlaps another
 *     session of the commune that is not over (a slot occurrence or an ad-hoc session;
 *     emergencies do not count), 422 if it would be over already or breaks the commune's
 *     broadcast rules (naming the rule). Audited (session_create).
 *   GET /api/v1/communes/{id}/programme[?date=YYYY-MM-DD] (default: today, local)
 *     → {"commune","date","sessions":[session...]}: frozen programmes as they were frozen; the
 *     others predicted: every session from now to the end of that date is built in order, each
 *     counting its airings for the next, as the scheduler will do (up to 62 days ahead).
 * Handlers get the scheduler as their ctx (lc_sessions_routes()).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "server/api/api.h"
#include "server/accounts/accounts.h"
#include "server/registry/registry.h"
#include "server/http/http.h"
#include "server/scheduler/scheduler.h"
#include "server/scheduler/scheduler_internal.h"
#include "server/scheduler/scheduler_state.h"
#include "server/store/store.h"

#define PREDICT_DAYS 62

static json_t *empty_programme(void)
{
    return json_pack("{s:[],s:[],s:i}", "items", "not_fitting", "length_ms", 0);
}

static bool plays_later(const struct lc_bsession *x, int64_t now_ms)
{
    return x->programme == NULL && strcmp(x->status, "scheduled") == 0 && x->end * 1000 > now_ms;
}

static void get_programme(struct lc_req *req, void *ctx)
{
    struct lc_scheduler *s = ctx;
    const char *commune = req->params[0];
    char buf[32];
    struct lc_tz tz = lc_station_tz();
    int64_t now_ms = lc_wall_ms();
    struct lc_date today = lc_local_date(&tz, now_ms / 1000), date = today;
    struct lc_cands cs = {0};
    struct lc_bsessions day = {0};
    json_t *list = NULL;
    const char *q = lc_req_query(req, "date", buf, sizeof buf);
    if (q != NULL && lc_date_parse(q, &date) < 0) {
        lc_reply_error(req, 400, "bad_query", "date must be YYYY-MM-DD");
        return;
    }
    if (lc_commune_require(req, s->store, commune, 404) < 0)
        return;
    if (lc_cands_load(s->store, commune, &cs) < 0)
        goto fail;
    int64_t d0 = lc_days_from_civil(today), d1 = lc_days_from_civil(date);
    if (d1 - d0 > PREDICT_DAYS)
        d0 = d1;    /* too far to follow the airings: the programme as of today's counts */
    /* The sessions before that date, in order, only to count their airings. */
    for (int64_t d = d0; d < d1; d++) {
        struct lc_bsessions l = {0};
        if (lc_sessions_of_day(s->store, commune, lc_civil_from_days(d), &l) < 0) {
            lc_bsessions_free(&l);
            goto fail;
        }
        for (size_t i = 0; i < l.n; i++)
            if (plays_later(&l.v[i], now_ms) && strcmp(l.v[i].kind, "emergency") != 0)
                json_decref(lc_sched_programme(&cs, s->gap_ms, commune, &l.v[i], true));
        lc_bsessions_free(&l);
    }
    if (lc_sessions_of_day(s->store, commune, date, &day) < 0)
        goto fail;
    list = json_array();
    for (size_t i = 0; i < day.n; i++) {
        struct lc_bsession *x = &day.v[i];
        json_t *p;
        if (x->programme)
            p = json_incref(x->programme);
        else if (plays_later(x, now_ms))
            p = lc_sched_programme(&cs, s->gap_ms, commune, x, true);
        else
            p = empty_programme();
        json_t *o = p ? lc_bsession_json(x, p) : NULL;
        json_decref(p);
        if (o == NULL)
            goto fail;
        json_array_append_new(list, o);
    }
    char ds[11];
    lc_date_format(date, ds);
    lc_reply_json(req, 200, json_pack("{s:s,s:s,s:o}", "commune", commune, "date", ds, "sessions", list));
    list = NULL;
    goto out;
fail:
    lc_reply_internal(req, "programme");
out:
    json_decref(list);
    lc_bsessions_free(&day);
    lc_cands_free(&cs);
}

/* A session a receiver must know of: on air, or not over and starting before until_s. */
static bool ahead(const struct lc_bsession *x, int64_t now_ms, int64_t until_s)
{
    if (strcmp(x->status, "on_air") == 0)
        return true;
    return strcmp(x->status, "scheduled") == 0 && x->end * 1000 > now_ms && x->start < until_s;
}

json_t *lc_scheduler_ahead(struct lc_scheduler *s, const char *commune, int64_t now_ms,
                           int64_t until_s)
{
    struct lc_tz tz = lc_station_tz();
    struct lc_cands cs = {0};
    json_t *list = json_array();
    if (list == NULL || lc_cands_load(s->store, commune, &cs) < 0)
        goto fail;
    /* From yesterday (a session on air since before midnight) to the day until_s falls in, in
     * order: each predicted programme counts its airings for the next, as the scheduler will. */
    int64_t d0 = lc_days_from_civil(lc_local_date(&tz, now_ms / 1000)) - 1;
    int64_t d1 = lc_days_from_civil(lc_local_date(&tz, until_s));
    for (int64_t d = d0; d <= d1; d++) {
        struct lc_bsessions l = {0};
        if (lc_sessions_of_day(s->store, commune, lc_civil_from_days(d), &l) < 0) {
            lc_bsessions_free(&l);
            goto fail;
        }
        for (size_t i = 0; i < l.n; i++) {
            struct lc_bsession *x = &l.v[i];
            json_t *p = NULL;
            if (x->programme)
                p = json_incref(x->programme);
            else if (plays_later(x, now_ms) && strcmp(x->kind, "emergency") != 0)
                p = lc_sched_programme(&cs, s->gap_ms, commune, x, true);
            if (p != NULL && ahead(x, now_ms, until_s)) {
                json_t *o = json_pack("{s:o,s:I,s:I,s:s,s:s,s:O}", "id",
                                      x->id ? json_integer(x->id) : json_null(), "start",
                                      (json_int_t)x->start, "end", (json_int_t)x->end, "kind",
                                      x->kind, "status", x->status, "items",
                                      json_object_get(p, "items"));
                if (o == NULL || json_array_append_new(list, o) < 0) {
                    json_decref(p);
                    lc_bsessions_free(&l);
                    goto fail;
                }
            }
            json_decref(p);
        }
        lc_bsessions_free(&l);
    }
    lc_cands_free(&cs);
    return list;
fail:
    lc_cands_free(&cs);
    json_decref(list);
    return NULL;
}

/* The first session of commune overlapping [start, end) (emergencies aside), or 0 if none. */
static int find_overlap(struct lc_store *store, const char *commune, int64_t start, int64_t end,
                        struct lc_bsession *hit)
{
    struct lc_tz tz = lc_station_tz();
    int64_t d0 = lc_days_from_civil(lc_local_date(&tz, start)) - 1;
    int64_t d1 = lc_days_from_civil(lc_local_date(&tz, end));
    int found = 0;
    for (int64_t d = d0; d <= d1 && !found; d++) {
        struct lc_bsessions l = {0};
        if (lc_sessions_of_day(store, commune, lc_civil_from_days(d), &l) < 0) {
            lc_bsessions_free(&l);
            return -EIO;
        }
        for (size_t i = 0; i < l.n && !found; i++) {
            const struct lc_bsession *x = &l.v[i];
            /* emergencies, sessions that are over (a programme may end before its window) */
            if (strcmp(x->kind, "emergency") == 0 || strcmp(x->status, "missed") == 0 ||
                strcmp(x->status, "done") == 0 || strcmp(x->status, "interrupted") == 0)
                continue;
            if (lc_windows_overlap(start, end, x->start, x->end)) {
                *hit = *x;
                hit->programme = NULL;
                found = 1;
            }
        }
        lc_bsessions_free(&l);
    }
    return found;
}

struct post_tx {
    struct lc_req *req;
    const char *commune;
    int64_t start, end;
    long long minutes;
    const char *relay;          /* "" for none */
    int64_t id;                 /* out: the new row */
};

/* The ad-hoc session's row, audited (session_create). */
static int post_tx(struct lc_store *store, void *arg)
{
    static const char ins[] =
        "INSERT INTO broadcasts (commune, kind, start_at, end_at, status, created_by, created_at,"
        " relay) VALUES (?, 'adhoc', ?, ?, 'scheduled', ?, ?, nullif(?, ''))";
    struct post_tx *t = arg;
    sqlite3_stmt *st = lc_sched_stmt(store, ins, t->commune);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 2, t->start);
    sqlite3_bind_int64(st, 3, t->end);
    sqlite3_bind_text(st, 4, t->req->user, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, lc_now());
    sqlite3_bind_text(st, 6, t->relay, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return -EIO;
    t->id = lc_store_last_id(store);
    char target[32];
    snprintf(target, sizeof target, "%lld", (long long)t->id);
    json_t *detail = json_pack("{s:s,s:o,s:I}", "commune", t->commune, "start",
                               lc_time_json(t->start), "minutes", (json_int_t)t->minutes);
    if (detail && t->relay[0])
        json_object_set_new(detail, "relay", json_string(t->relay));
    return lc_audit(store, t->req, NULL, "session_create", target, detail);
}

static void post_session(struct lc_req *req, void *ctx)
{
    static const char *const fields[] = {"start", "minutes", "relay", NULL};
    struct lc_scheduler *s = ctx;
    const char *commune = req->params[0], *start_s = NULL, *relay = NULL;
    char why[400];
    long long minutes = 0;
    int64_t start;
    json_t *prog = NULL;
    json_t *body = lc_api_body(req, fields);
    if (body == NULL)
        return;
    if (lc_api_string(req, body, "start", true, 64, &start_s) < 0 ||
        lc_api_int(req, body, "minutes", true, LC_SLOT_MIN_MINUTES, LC_SLOT_MAX_MINUTES, &minutes) < 0 ||
        lc_api_string(req, body, "relay", false, LC_RELAY_URL_MAX - 1, &relay) < 0)
        goto out;
    if (relay != NULL && lc_relay_url_check(relay, why, sizeof why) < 0) {
        lc_reply_error(req, 422, "invalid", "%s", why);
        goto out;
    }
    if (lc_time_parse(start_s, &start) < 0) {
        lc_reply_error(req, 422, "invalid", "start must be an RFC 3339 time, e.g. 2026-11-24T06:00:00+07:00");
        goto out;
    }
    if (lc_commune_require(req, s->store, commune, 404) < 0)
        goto out;
    int carry = lc_carry_check(s->store, commune, relay, why, sizeof why);
    if (carry == -EIO) {
        lc_reply_internal(req, "sessions: carry");
        goto out;
    }
    if (carry < 0) {
        lc_reply_error(req, 422, "invalid", "%s", why);
        goto out;
    }
    int64_t end = start + minutes * 60;
    if (end * 1000 <= lc_wall_ms()) {
        lc_reply_error(req, 422, "invalid", "the session would be over already");
        goto out;
    }
    struct lc_bsession hit;
    int rc = find_overlap(s->store, commune, start, end, &hit);
    if (rc < 0) {
        lc_reply_internal(req, "sessions: overlap");
        goto out;
    }
    if (rc > 0) {
        char a[40], b[40];
        lc_time_format(hit.start, a);
        lc_time_format(hit.end, b);
        lc_reply_error(req, 409, "conflict", "it overlaps the %s session %s .. %s", hit.kind, a, b);
        goto out;
    }
    rc = lc_rules_check_session(s->store, commune, start, end, true, why, sizeof why);
    if (rc < 0) {
        lc_reply_internal(req, "sessions: rules");
        goto out;
    }
    if (rc > 0) {
        lc_reply_error(req, 422, "rule", "the broadcast rules refuse this session: %s", why);
        goto out;
    }
    struct post_tx t = {req, commune, start, end, minutes, relay ? relay : "", 0};
    if (lc_store_tx(s->store, post_tx, &t) < 0) {
        lc_reply_internal(req, "sessions: insert");
        goto out;
    }
    lc_scheduler_poke(s);
    struct lc_bsession x = {0};
    if (lc_bsession_load(s->store, t.id, &x) < 0 ||
        (prog = lc_programme_build_for(s->store, s->gap_ms, commune, &x)) == NULL) {
        json_decref(x.programme);
        lc_reply_internal(req, "sessions: load");
        goto out;
    }
    json_t *o = lc_bsession_json(&x, x.programme ? x.programme : prog);
    json_decref(x.programme);
    json_object_set_new(o, "commune", json_string(commune));
    lc_reply_json(req, 201, o);
out:
    json_decref(prog);
    json_decref(body);
}

int lc_sessions_routes(struct lc_scheduler *s, struct lc_router *r)
{
    const unsigned w = LC_ROLE_ADMIN | LC_ROLE_OPERATOR;
    int rc = lc_router_add(r, HTTP_POST, "/api/v1/communes/{id}/sessions", w, LC_BODY_JSON,
                               post_session, s);
    if (rc == 0)
        rc = lc_router_add(r, HTTP_GET, "/api/v1/communes/{id}/programme", LC_ROLES_STAFF,
                               LC_BODY_NONE, get_programme, s);
    return rc;
}
