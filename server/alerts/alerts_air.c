/*
 * server/alerts/alerts_air.c — an alert goes on air (see alerts.h and docs/alerts.md):
 *
 * POST /api/v1/alerts/{id}/confirm (admin, approver): an awaiting alert goes on air as an
 * emergency through the scheduler's door (lc_scheduler_emergency_text); the alert turns on_air
 * in the emergency's own transaction, so both are there or neither. While its text renders the
 * alert is `confirming` in memory: a second confirm is 409. A trusted sender's alert goes the
 * same way at once from POST /api/v1/alerts (alerts_api.c, lc_alerts_start_air()).
 */
#define LC_LOG_MODULE "alerts"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "server/accounts/accounts.h"
#include "server/alerts/alerts_internal.h"
#include "server/api/api.h"
#include "server/http/http.h"
#include "server/scheduler/scheduler.h"
#include "server/store/store.h"

struct air {
    struct lc_alerts *a;
    struct lc_req *req;     /* held until answered */
    int64_t id;
    bool trusted;           /* on air at once at POST (else a confirm) */
    char user[64];
};

static bool confirming(const struct lc_alerts *a, int64_t id)
{
    for (size_t i = 0; i < a->nconfirming; i++)
        if (a->confirming[i] == id)
            return true;
    return false;
}

static void unmark(struct lc_alerts *a, int64_t id)
{
    for (size_t i = 0; i < a->nconfirming; i++)
        if (a->confirming[i] == id) {
            a->confirming[i] = a->confirming[--a->nconfirming];
            return;
        }
}

/* In the emergency's transaction: the alert on air, audited. */
static int air_in_tx(struct lc_store *st, int64_t bulletin, void *ctx)
{
    struct air *x = ctx;
    char target[24];
    int rc = lc_alert_on_air(st, x->id, bulletin, x->user);
    if (rc < 0)
        return rc;
    lc_alert_target(x->id, target);
    return lc_audit(st, x->req, x->user, "alert_on_air", target,
                    json_pack("{s:I,s:b}", "bulletin", (json_int_t)bulletin, "trusted_sender",
                              x->trusted));
}

static void air_done(const struct lc_emergency_result *r, void *ctx)
{
    struct air *x = ctx;
    struct lc_req *req = x->req;
    struct lc_store *st = x->a->d.store;
    char target[24];
    json_t *alert = NULL;
    unmark(x->a, x->id);
    lc_alert_target(x->id, target);
    if (r->rc < 0) {
        lc_log(LC_LOG_WARN, "alert %lld: not on air: %s", (long long)x->id, r->message);
        lc_audit(st, req, x->user, "alert_failed", target,
                 json_pack("{s:s,s:b}", "error", r->status ? r->message : "cancelled meanwhile",
                           "trusted_sender", x->trusted));
    }
    int rc = lc_alert_load(st, x->id, false, &alert);
    if (rc < 0) {
        lc_reply_internal(req, "alerts: load");
    } else if (r->rc == 0) {
        char at[40];
        lc_time_format(r->on_air_at_ms / 1000, at);
        json_object_set_new(alert, "emergency",
                            json_pack("{s:I,s:s,s:O}", "bulletin", (json_int_t)r->bulletin,
                                      "on_air_at", at, "sessions", r->sessions));
        lc_reply_json(req, 201, alert);
        alert = NULL;
    } else if (x->trusted) {
        /* received and kept: it waits for a confirm */
        json_object_set_new(alert, "error", json_string(r->status ? r->message
                                                                  : "cancelled meanwhile"));
        lc_reply_json(req, 201, alert);
        alert = NULL;
    } else if (r->status == 0) {
        lc_reply_error(req, 409, "bad_state", "alert %lld was cancelled or replaced meanwhile",
                       (long long)x->id);
    } else {
        lc_reply_error(req, r->status, r->code, "%s", r->message);
    }
    json_decref(alert);
    lc_req_release(req);
    free(x);
}

/* The alert's communes that are still in service (a commune may have been retired since). */
static int in_service(struct lc_store *st, json_t *communes, char (**out)[65], size_t *n)
{
    static const char sql[] = "SELECT 1 FROM communes WHERE id = ?1 AND retired_at IS NULL";
    size_t i;
    json_t *v;
    *n = 0;
    *out = calloc(json_array_size(communes) + 1, sizeof **out);
    if (*out == NULL)
        return -ENOMEM;
    json_array_foreach(communes, i, v) {
        sqlite3_stmt *s = lc_store_stmt(st, sql);
        if (s == NULL || !json_is_string(v))
            return -EIO;
        sqlite3_bind_text(s, 1, json_string_value(v), -1, SQLITE_TRANSIENT);
        int step = sqlite3_step(s);
        if (lc_store_done(s) < 0)
            return -EIO;
        if (step == SQLITE_ROW)
            snprintf((*out)[(*n)++], 65, "%s", json_string_value(v));
    }
    return 0;
}

int lc_alerts_start_air(struct lc_alerts *a, struct lc_req *req, json_t *alert, bool trusted,
                        char msg[160])
{
    char (*ids)[65] = NULL;
    size_t n = 0;
    int64_t id = json_integer_value(json_object_get(alert, "id"));
    int rc = in_service(a->d.store, json_object_get(alert, "communes"), &ids, &n);
    int status = 0;
    struct air *x = NULL;
    if (rc < 0) {
        snprintf(msg, 160, "internal error");
        status = 500;
        goto out;
    }
    if (n == 0) {
        snprintf(msg, 160, "none of the alert's communes is in service now");
        status = 409;
        goto out;
    }
    x = calloc(1, sizeof *x);
    int64_t *grown = lc_grow(a->confirming, a->nconfirming, &a->capconfirming,
                             sizeof *a->confirming, 4);
    if (grown)
        a->confirming = grown;
    if (x == NULL || grown == NULL) {
        snprintf(msg, 160, "internal error");
        status = 500;
        goto out;
    }
    x->a = a;
    x->req = req;
    x->id = id;
    x->trusted = trusted;
    snprintf(x->user, sizeof x->user, "%s", req->user);
    struct lc_emergency_text in = {
        .text = json_string_value(json_object_get(alert, "text")),
        .title = json_string_value(json_object_get(alert, "title")), .voice = "vi",
        .communes = (const char (*)[65])ids, .n = n, .user = x->user, .req = req,
        .in_tx = air_in_tx, .done = air_done, .ctx = x};
    lc_req_hold(req);
    rc = lc_scheduler_emergency_text(a->d.scheduler, &in);
    if (rc < 0) {
        lc_req_release(req);
        status = rc == -ESHUTDOWN ? 503 : 500;
        snprintf(msg, 160, "%s", rc == -ESHUTDOWN ? "the server is shutting down"
                                                   : "internal error");
        goto out;
    }
    x = NULL;
    a->confirming[a->nconfirming++] = id;
out:
    free(x);
    free(ids);
    return status;
}

void lc_alerts_post_confirm(struct lc_req *req, void *ctx)
{
    struct lc_alerts *a = ctx;
    json_t *alert;
    int64_t id;
    if (lc_alert_param(req, a->d.store, false, &id, &alert) < 0)
        return;
    const char *status = json_string_value(json_object_get(alert, "status"));
    json_t *exp = json_object_get(alert, "expires");
    int64_t expires = 0;
    if (json_is_string(exp))
        lc_time_parse(json_string_value(exp), &expires);
    if (strcmp(status, "awaiting") != 0) {
        lc_reply_error(req, 409, "bad_state", "alert %lld is %s, not awaiting a confirm",
                       (long long)id, status);
    } else if (confirming(a, id)) {
        lc_reply_error(req, 409, "bad_state", "alert %lld is being put on air already",
                       (long long)id);
    } else if (expires && expires <= lc_now()) {
        lc_reply_error(req, 409, "bad_state", "alert %lld expired at %s", (long long)id,
                       json_string_value(exp));
    } else {
        char msg[160];
        int st = lc_alerts_start_air(a, req, alert, false, msg);
        if (st == 0) {
            char target[24];
            lc_alert_target(id, target);
            lc_audit(a->d.store, req, NULL, "alert_confirmed", target,
                     json_pack("{s:O}", "communes", json_object_get(alert, "communes")));
        } else {
            lc_reply_error(req, st, st == 409 ? "bad_state" : st == 503 ? "shutting_down"
                           : "internal", "%s", msg);
        }
    }
    json_decref(alert);
}
