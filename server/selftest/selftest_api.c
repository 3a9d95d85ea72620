/*
 * server/selftest/selftest_api.c — the self-test routes (admin, operator; see selftest.h):
 *
 *   POST /api/v1/selftest {"communes": ["*"] | ids, "text"?}     a run now (selftest_run.c)
 *   GET  /api/v1/selftest/schedule                                the weekly schedule
 *   PUT  /api/v1/selftest/schedule {"days":[1..7],"time":"HH:MM[:SS]","enabled":bool,
 *                                   "text"?,"communes"?}          (absent: kept as they are)
 *   GET  /api/v1/selftest/report[?format=csv]                     the broken clusters
 *
 * Bad input answers 400 (malformed: bad JSON, wrong types, unknown fields) or 422 (a value out
 * of range: a day outside 1..7 or twice, a time that is not HH:MM, an empty or too long text,
 * an unknown commune, a time in the quiet hours) and changes nothing. The PUT and every run are
 * audited (selftest_schedule, selftest_run). Handlers get the module as their ctx.
 */
#define LC_LOG_MODULE "selftest"
#include "server/selftest/selftest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "schedules/localtime.h"
#include "schedules/slots.h"
#include "server/accounts/accounts.h"
#include "server/api/api.h"
#include "server/http/http.h"
#include "server/org/org.h"
#include "server/scheduler/scheduler.h"
#include "server/selftest/selftest_internal.h"
#include "server/store/store.h"

#define TEST_SPAN_S 60  /* the span checked against the quiet hours: a test is under a minute */

static const char *const report_cols[] = {
    "commune", "commune_name", "cluster", "cluster_name", "failing_since", "last_test",
    "failed_tests", "reason", "reason_text", NULL,
};

/* A test text: non-empty, at most LC_SELFTEST_TEXT_CHARS. Answers and returns -1 if not. */
static int read_text(struct lc_req *req, json_t *body, const char **text)
{
    if (lc_api_string(req, body, "text", false, LC_SELFTEST_TEXT_CHARS, text) < 0)
        return -1;
    if (*text != NULL && strspn(*text, " \t\r\n") == strlen(*text)) {
        lc_reply_error(req, 422, "invalid", "text must not be empty");
        return -1;
    }
    return 0;
}

/* ---- POST /api/v1/selftest ------------------------------------------------------------------ */

static void post_run(struct lc_req *req, void *ctx)
{
    static const char *const fields[] = {"communes", "text", NULL};
    struct lc_selftest *st = ctx;
    const char *text = NULL;
    json_t *communes = NULL;
    struct lc_st_schedule sc = {0};
    json_t *body = lc_api_body(req, fields);
    if (body == NULL)
        return;
    if (read_text(req, body, &text) < 0 ||
        lc_st_read_communes(req, st->store, body, &communes) < 0)
        goto out;
    if (text == NULL) {
        if (lc_st_schedule_load(st->store, &sc) < 0) {
            lc_reply_internal(req, "selftest: schedule");
            goto out;
        }
        text = sc.text;
    }
    lc_st_run(st, req, communes, text, req->user, false);
out:
    lc_st_schedule_free(&sc);
    json_decref(communes);
    json_decref(body);
}

/* ---- the schedule --------------------------------------------------------------------------- */

static void get_schedule(struct lc_req *req, void *ctx)
{
    struct lc_selftest *st = ctx;
    struct lc_st_schedule sc;
    if (lc_st_schedule_load(st->store, &sc) < 0) {
        lc_reply_internal(req, "selftest: schedule");
        return;
    }
    lc_reply_json(req, 200, lc_st_schedule_json(&sc, sc.enabled ? st->next_due : 0));
    lc_st_schedule_free(&sc);
}

/* "days": a non-empty list of 1 (Monday) .. 7 (Sunday), each once, into bits. Answers and
 * returns -1 if not. */
static int read_days(struct lc_req *req, json_t *body, unsigned *days)
{
    json_t *list = json_object_get(body, "days"), *v;
    size_t i;
    *days = 0;
    if (!json_is_array(list)) {
        lc_reply_error(req, 400, "bad_field", "days must be a list of 1 (Monday) .. 7 (Sunday)");
        return -1;
    }
    if (json_array_size(list) == 0) {
        lc_reply_error(req, 422, "invalid", "days must name at least one day");
        return -1;
    }
    json_array_foreach(list, i, v) {
        if (!json_is_integer(v)) {
            lc_reply_error(req, 400, "bad_field", "days must be a list of 1 (Monday) .. 7 (Sunday)");
            return -1;
        }
        json_int_t d = json_integer_value(v);
        if (d < 1 || d > 7) {
            lc_reply_error(req, 422, "invalid", "day %lld is not 1 (Monday) .. 7 (Sunday)",
                           (long long)d);
            return -1;
        }
        if (*days & (1u << (d - 1))) {
            lc_reply_error(req, 422, "invalid", "day %lld is listed twice", (long long)d);
            return -1;
        }
        *days |= 1u << (d - 1);
    }
    return 0;
}

/* 1 and why when the schedule's time falls in the quiet hours of one of its communes (the
 * defaults for "*") on one of its days, checked at each day's next date; 0; -EIO. */
static int in_quiet_hours(struct lc_selftest *st, const struct lc_st_schedule *sc, char *why,
                          size_t whylen)
{
    static const char *const names[7] = {"Monday", "Tuesday", "Wednesday", "Thursday",
                                         "Friday", "Saturday", "Sunday"};
    struct lc_tz tz = lc_tz_system();
    int64_t today = lc_days_from_civil(lc_local_date(&tz, lc_now()));
    for (int64_t d = today; d < today + 7; d++) {
        struct lc_date date = lc_civil_from_days(d);
        int wd = lc_weekday(date);
        if (!(sc->days & (1u << wd)))
            continue;
        int64_t start = lc_local_to_unix(&tz, date, sc->time_s);
        size_t i;
        json_t *c;
        json_array_foreach(sc->communes, i, c) {
            const char *scope = json_string_value(c);
            char rule[200];
            int rc = lc_scheduler_quiet(st->scheduler, scope, start, start + TEST_SPAN_S, rule,
                                        sizeof rule);
            if (rc < 0)
                return rc;
            if (rc > 0) {
                char at[9];
                lc_slot_format_start(sc->time_s, at);
                snprintf(why, whylen, "%s on %s falls in the quiet hours of %s: %s", at,
                         names[wd], strcmp(scope, "*") == 0 ? "the default rules" : scope,
                         rule);
                return 1;
            }
        }
    }
    return 0;
}

struct put_tx {
    struct lc_req *req;
    const struct lc_st_schedule *sc;
};

static int put_tx(struct lc_store *store, void *arg)
{
    struct put_tx *t = arg;
    int rc = lc_st_schedule_store(store, t->sc, t->req->user);
    if (rc < 0)
        return rc;
    return lc_audit(store, t->req, NULL, "selftest_schedule", "schedule",
                    lc_st_schedule_json(t->sc, 0));
}

static void put_schedule(struct lc_req *req, void *ctx)
{
    static const char *const fields[] = {"days", "time", "text", "communes", "enabled", NULL};
    struct lc_selftest *st = ctx;
    struct lc_st_schedule sc = {0};
    const char *time_s = NULL, *text = NULL;
    json_t *communes = NULL;
    unsigned days;
    bool enabled;
    char why[400];
    if (req->node != LC_ORG_ROOT) {
        lc_reply_error(req, 403, "forbidden", "the weekly self-test is the whole station's: only "
                       "staff of the root node change it; run one for your communes instead");
        return;
    }
    json_t *body = lc_api_body(req, fields);
    if (body == NULL)
        return;
    if (read_days(req, body, &days) < 0 ||
        lc_api_string(req, body, "time", true, 8, &time_s) < 0 ||
        lc_api_bool(req, body, "enabled", true, &enabled, NULL) < 0 ||
        read_text(req, body, &text) < 0)
        goto out;
    int32_t at;
    if (lc_slot_parse_start(time_s, &at) < 0) {
        lc_reply_error(req, 422, "invalid", "time must be HH:MM (or HH:MM:SS), e.g. 08:00");
        goto out;
    }
    if (json_object_get(body, "communes") != NULL &&
        !json_is_null(json_object_get(body, "communes")) &&
        lc_st_read_communes(req, st->store, body, &communes) < 0)
        goto out;
    if (lc_st_schedule_load(st->store, &sc) < 0) {
        lc_reply_internal(req, "selftest: schedule");
        goto out;
    }
    sc.days = days;
    sc.time_s = at;
    sc.enabled = enabled;
    if (text != NULL) {
        char *copy = strdup(text);
        if (copy == NULL) {
            lc_reply_internal(req, "selftest: memory");
            goto out;
        }
        free(sc.text);
        sc.text = copy;
    }
    if (communes != NULL) {
        json_decref(sc.communes);
        sc.communes = communes;
        communes = NULL;
    }
    int rc = in_quiet_hours(st, &sc, why, sizeof why);
    if (rc < 0) {
        lc_reply_internal(req, "selftest: rules");
        goto out;
    }
    if (rc > 0) {
        lc_reply_error(req, 422, "invalid", "%s", why);
        goto out;
    }
    struct put_tx t = {req, &sc};
    if (lc_store_tx(st->store, put_tx, &t) < 0) {
        lc_reply_internal(req, "selftest: schedule");
        goto out;
    }
    lc_st_reschedule(st);
    lc_reply_json(req, 200, lc_st_schedule_json(&sc, sc.enabled ? st->next_due : 0));
out:
    lc_st_schedule_free(&sc);
    json_decref(communes);
    json_decref(body);
}

/* ---- the report ----------------------------------------------------------------------------- */

static void get_report(struct lc_req *req, void *ctx)
{
    struct lc_selftest *st = ctx;
    /* the caller's subtree only (org.h) */
    json_t *clusters = lc_st_broken(st->store, req->node);
    json_t *runs = clusters ? lc_st_runs(st->store, 10, req->node) : NULL;
    if (runs == NULL) {
        json_decref(clusters);
        lc_reply_internal(req, "selftest: report");
        return;
    }
    struct lc_report rep = {"clusters", report_cols, "selftest-report", "Cụm loa hỏng (tự kiểm tra)",
                            "Cụm loa hỏng"};
    lc_reply_table(req, st->loop, st->store,
                   json_pack("{s:o,s:o}", "clusters", clusters, "runs", runs), &rep);
}

int lc_selftest_routes(struct lc_selftest *st, struct lc_router *r)
{
    const unsigned ao = LC_ROLE_ADMIN | LC_ROLE_OPERATOR;
    int rc = lc_router_add(r, HTTP_POST, "/api/v1/selftest", ao, LC_BODY_JSON, post_run, st);
    if (rc == 0)
        rc = lc_router_add(r, HTTP_GET, "/api/v1/selftest/schedule", ao, LC_BODY_NONE,
                           get_schedule, st);
    if (rc == 0)
        rc = lc_router_add(r, HTTP_PUT, "/api/v1/selftest/schedule", ao, LC_BODY_JSON,
                           put_schedule, st);
    if (rc == 0)
        rc = lc_router_add(r, HTTP_GET, "/api/v1/selftest/report", ao, LC_BODY_NONE,
                           get_report, st);
    return rc;
}
