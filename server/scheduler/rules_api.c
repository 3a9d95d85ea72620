/*
 * server/scheduler/rules_api.c — the broadcast rules' routes (admin, operator; see scheduler.h).
 *
 *   GET|PUT /api/v1/rules                 the defaults, for every commune without rules of its own
 *   GET|PUT /api/v1/communes/{id}/rules   a commune's rules: its own (they replace the defaults
 *                                         whole), or the defaults with "inherited": true
 *
 * The body: {"windows":[{"days":[1..7]?,"from":"05:30","to":"06:30"}],"max_session_minutes",
 * "max_day_minutes","max_sessions_per_day","quiet":[{"from":"22:00","to":"05:00"}],
 * "holidays":["2027-02-16"]}; a missing field is no limit. PUT {"inherited": true} on a commune
 * drops its own rules. A PUT that some commune's weekly slots would break is refused with 422
 * naming the commune, the slot and the rule (change the slots first); ad-hoc sessions already
 * planned stay (the builder still ends them at the longest session allowed). Every change is
 * audited (rules_update) and replans at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "server/accounts/accounts.h"
#include "server/api/api.h"
#include "server/http/http.h"
#include "server/org/org.h"
#include "server/registry/registry.h"
#include "server/scheduler/scheduler.h"
#include "server/scheduler/scheduler_internal.h"
#include "server/scheduler/scheduler_state.h"
#include "server/store/store.h"

static void reply_rules(struct lc_req *req, struct lc_scheduler *s, const char *scope)
{
    struct lc_rules r;
    bool own = false;
    if (lc_rules_load(s->store, scope, &r, &own) < 0) {
        lc_reply_internal(req, "rules: load");
        return;
    }
    json_t *o = lc_rules_json(&r);
    if (strcmp(scope, "*") != 0)
        json_object_set_new(o, "inherited", json_boolean(!own));
    lc_reply_json(req, 200, o);
}

static void get_defaults(struct lc_req *req, void *ctx)
{
    reply_rules(req, ctx, "*");
}

static void get_commune(struct lc_req *req, void *ctx)
{
    struct lc_scheduler *s = ctx;
    if (lc_commune_require(req, s->store, req->params[0], 404) < 0)
        return;
    reply_rules(req, s, req->params[0]);
}

/* The first commune of scope whose slots break r: 1 with why, 0, or -EIO. Scope "*" checks
 * every commune that takes the defaults. */
static int check_slots(struct lc_store *store, const char *scope, const struct lc_rules *r,
                       char *why, size_t whylen)
{
    static const char sql[] =
        "SELECT id FROM communes c WHERE retired_at IS NULL AND (c.id = ?1 OR (?1 = '*' AND"
        " NOT EXISTS (SELECT 1 FROM rules WHERE scope = c.id))) ORDER BY id";
    struct lc_slot v[LC_SLOTS_MAX];
    char broken[320];
    size_t n;
    int rc = 0, step;
    sqlite3_stmt *st = lc_sched_stmt(store, sql, scope);
    if (st == NULL)
        return -EIO;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *commune = lc_col_text(st, 0);
        if (lc_slots_load(store, commune, v, &n, NULL) < 0)
            rc = -EIO;
        else if (lc_rules_check_slots(r, v, n, broken, sizeof broken)) {
            snprintf(why, whylen, "commune %s: %s", commune, broken);
            rc = 1;
        }
    }
    sqlite3_reset(st);
    return rc;
}

struct put_tx {
    struct lc_req *req;
    const char *scope;
    json_t *rules;              /* NULL: drop the commune's own */
};

static int put_tx(struct lc_store *store, void *arg)
{
    static const char del[] = "DELETE FROM rules WHERE scope = ?";
    static const char ins[] =
        "INSERT INTO rules (scope, body, updated_by, updated_at) VALUES (?1, ?2, ?3, ?4)"
        " ON CONFLICT (scope) DO UPDATE SET body = ?2, updated_by = ?3, updated_at = ?4";
    struct put_tx *t = arg;
    sqlite3_stmt *st;
    int step;
    if (t->rules == NULL) {
        if ((st = lc_sched_stmt(store, del, t->scope)) == NULL)
            return -EIO;
    } else {
        char *text = json_dumps(t->rules, JSON_COMPACT);
        if (text == NULL || (st = lc_sched_stmt(store, ins, t->scope)) == NULL) {
            free(text);
            return text ? -EIO : -ENOMEM;
        }
        sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, t->req->user, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, lc_now());
        free(text);
    }
    step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return -EIO;
    return lc_audit(store, t->req, NULL, "rules_update", t->scope,
                    t->rules ? json_deep_copy(t->rules) : json_pack("{s:b}", "inherited", 1));
}

static void put_rules(struct lc_req *req, struct lc_scheduler *s, const char *scope)
{
    struct lc_rules r;
    char err[400];
    json_error_t e;
    json_t *body = json_loadb((const char *)req->body.data, req->body.len, JSON_REJECT_DUPLICATES,
                              &e), *rules = NULL;
    if (body == NULL) {
        lc_reply_error(req, 400, "bad_json", "the body is not valid JSON: %s", e.text);
        return;
    }
    json_t *inh = json_object_get(body, "inherited");
    bool inherit = false;
    if (inh != NULL && strcmp(scope, "*") != 0) {
        if (!json_is_boolean(inh) || (json_is_true(inh) && json_object_size(body) != 1)) {
            lc_reply_error(req, 400, "bad_field",
                           "inherited: true (alone) takes the default rules again");
            goto out;
        }
        inherit = json_is_true(inh);
        json_object_del(body, "inherited");
    }
    if (!inherit) {
        int rc = lc_rules_from_json(body, &r, err, sizeof err);
        if (rc < 0) {
            lc_reply_error(req, rc == -EPROTO ? 400 : 422, rc == -EPROTO ? "bad_field" : "invalid",
                           "%s", err);
            goto out;
        }
        rc = check_slots(s->store, scope, &r, err, sizeof err);
        if (rc < 0) {
            lc_reply_internal(req, "rules: slots");
            goto out;
        }
        if (rc > 0) {
            lc_reply_error(req, 422, "rule", "these rules would refuse the slots of %s;"
                           " change the slots first", err);
            goto out;
        }
        rules = lc_rules_json(&r);
    } else {
        struct lc_rules d;
        if (lc_rules_load(s->store, "*", &d, NULL) < 0) {
            lc_reply_internal(req, "rules: load");
            goto out;
        }
        int rc = check_slots(s->store, scope, &d, err, sizeof err);
        if (rc != 0) {
            if (rc < 0)
                lc_reply_internal(req, "rules: slots");
            else
                lc_reply_error(req, 422, "rule", "the default rules would refuse the slots of %s;"
                               " change the slots first", err);
            goto out;
        }
    }
    struct put_tx t = {req, scope, rules};
    if (lc_store_tx(s->store, put_tx, &t) < 0) {
        lc_reply_internal(req, "rules: store");
        goto out;
    }
    lc_scheduler_poke(s);
    reply_rules(req, s, scope);
out:
    json_decref(rules);
    json_decref(body);
}

/* The defaults hold for every commune of the station: only staff of the root node change them
 * (org.h); others read them, and set their own communes' rules. */
static void put_defaults(struct lc_req *req, void *ctx)
{
    if (req->node != LC_ORG_ROOT) {
        lc_reply_error(req, 403, "forbidden", "the defaults are the whole station's: only staff of "
                       "the root node change them; set your communes' own rules instead");
        return;
    }
    put_rules(req, ctx, "*");
}

static void put_commune(struct lc_req *req, void *ctx)
{
    struct lc_scheduler *s = ctx;
    if (lc_commune_require(req, s->store, req->params[0], 404) < 0)
        return;
    put_rules(req, s, req->params[0]);
}

int lc_rules_routes(struct lc_scheduler *s, struct lc_router *r)
{
    const unsigned w = LC_ROLE_ADMIN | LC_ROLE_OPERATOR;
    int rc = lc_router_add(r, HTTP_GET, "/api/v1/rules", w, LC_BODY_NONE, get_defaults, s);
    if (rc == 0)
        rc = lc_router_add(r, HTTP_PUT, "/api/v1/rules", w, LC_BODY_JSON, put_defaults, s);
    if (rc == 0)
        rc = lc_router_add(r, HTTP_GET, "/api/v1/communes/{id}/rules", w, LC_BODY_NONE,
                           get_commune, s);
    if (rc == 0)
        rc = lc_router_add(r, HTTP_PUT, "/api/v1/communes/{id}/rules", w, LC_BODY_JSON,
                           put_commune, s);
    return rc;
}
