/*
 * server/scheduler/slots_api.c — GET|PUT /api/v1/communes/{id}/slots (see scheduler.h).
 *
 *   GET → {"commune","slots":[{"start":"06:00","minutes":60,"days":["mon",...]?,"relay"?}, ...]}
 *   PUT [{"start","minutes","days"?,"relay"?}, ...] or {"slots":[...]} → the same as GET.
 * A PUT replaces the whole set in one transaction, audited (slots_update); a set that is
 * invalid (bad time, length outside 1..240, unknown day, a relay that is not an http(s) URL) is
 * 422, overlapping slots 409, a set that breaks the commune's broadcast rules 422 naming the
 * rule (rules_check.c); either way nothing changes. The new slots apply to sessions not yet in
 * their hold window. A slot with "relay" makes its sessions that upstream stream, live.
 * Handlers get the scheduler as their ctx (lc_slots_routes()).
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

static json_t *slot_json(const struct lc_slot *s, const char *relay)
{
    char start[9];
    lc_slot_format_start(s->start_s, start);
    json_t *o = json_pack("{s:s,s:i}", "start", start, "minutes", (int)s->minutes);
    if (relay[0])
        json_object_set_new(o, "relay", json_string(relay));
    if (s->days) {
        json_t *days = json_array();
        for (int i = 0; i < 7; i++)
            if (s->days & (1u << i))
                json_array_append_new(days, json_string(lc_day_name(i)));
        json_object_set_new(o, "days", days);
    }
    return o;
}

static json_t *slots_json(const char *commune, const struct lc_slot *v,
                          char (*relay)[LC_RELAY_URL_MAX], size_t n)
{
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, slot_json(&v[i], relay[i]));
    return json_pack("{s:s,s:o}", "commune", commune, "slots", list);
}

static void get_slots(struct lc_req *req, void *ctx)
{
    struct lc_scheduler *s = ctx;
    const char *commune = req->params[0];
    struct lc_slot v[LC_SLOTS_MAX];
    char relay[LC_SLOTS_MAX][LC_RELAY_URL_MAX];
    size_t n;
    if (lc_commune_require(req, s->store, commune, 404) < 0)
        return;
    if (lc_slots_load(s->store, commune, v, &n, relay) < 0) {
        lc_reply_internal(req, "slots: load");
        return;
    }
    lc_reply_json(req, 200, slots_json(commune, v, relay, n));
}

/* Reads one slot object; answers and returns -1 on error. */
static int read_slot(struct lc_req *req, json_t *o, size_t i, struct lc_slot *out,
                     char relay[LC_RELAY_URL_MAX])
{
    if (!json_is_object(o)) {
        lc_reply_error(req, 400, "bad_field", "slot %zu must be an object", i);
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        if (strcmp(key, "start") != 0 && strcmp(key, "minutes") != 0 && strcmp(key, "days") != 0 &&
            strcmp(key, "relay") != 0) {
            lc_reply_error(req, 400, "unknown_field", "unknown field '%.64s' in slot %zu", key, i);
            return -1;
        }
    }
    json_t *start = json_object_get(o, "start"), *minutes = json_object_get(o, "minutes"),
           *days = json_object_get(o, "days");
    if (!json_is_string(start) || !json_is_integer(minutes)) {
        lc_reply_error(req, 400, "bad_field",
                       "slot %zu needs \"start\" (\"HH:MM[:SS]\") and \"minutes\" (a whole number)", i);
        return -1;
    }
    *out = (struct lc_slot){0};
    if (lc_slot_parse_start(json_string_value(start), &out->start_s) < 0) {
        lc_reply_error(req, 422, "invalid", "slot %zu: start '%.16s' is not a time HH:MM or HH:MM:SS",
                       i, json_string_value(start));
        return -1;
    }
    json_int_t m = json_integer_value(minutes);
    if (m < LC_SLOT_MIN_MINUTES || m > LC_SLOT_MAX_MINUTES) {
        lc_reply_error(req, 422, "invalid", "slot %zu: minutes must be %d..%d", i,
                       LC_SLOT_MIN_MINUTES, LC_SLOT_MAX_MINUTES);
        return -1;
    }
    out->minutes = (int32_t)m;
    if (days != NULL && !json_is_null(days)) {
        size_t k;
        json_t *d;
        if (!json_is_array(days) || json_array_size(days) == 0) {
            lc_reply_error(req, 400, "bad_field", "slot %zu: days must be a non-empty list", i);
            return -1;
        }
        json_array_foreach(days, k, d) {
            unsigned bit;
            if (!json_is_string(d) || lc_day_parse(json_string_value(d), &bit) < 0) {
                lc_reply_error(req, 422, "invalid",
                               "slot %zu: days are mon, tue, wed, thu, fri, sat, sun", i);
                return -1;
            }
            out->days |= bit;
        }
        if (out->days == LC_DAYS_ALL)
            out->days = 0;
    }
    json_t *r = json_object_get(o, "relay");
    relay[0] = '\0';
    if (r != NULL && !json_is_null(r)) {
        char why[160];
        if (!json_is_string(r)) {
            lc_reply_error(req, 400, "bad_field", "slot %zu: relay must be a URL string", i);
            return -1;
        }
        if (lc_relay_url_check(json_string_value(r), why, sizeof why) < 0) {
            lc_reply_error(req, 422, "invalid", "slot %zu: %s", i, why);
            return -1;
        }
        snprintf(relay, LC_RELAY_URL_MAX, "%s", json_string_value(r));
    }
    return 0;
}

struct put_tx {
    struct lc_req *req;
    const char *commune;
    const struct lc_slot *v;
    char (*relay)[LC_RELAY_URL_MAX];
    size_t n;
    json_t *answer;             /* borrowed: its "slots" are audited */
};

/* Replaces the commune's slots with t->v, audited (slots_update). */
static int put_tx(struct lc_store *store, void *arg)
{
    static const char del[] = "DELETE FROM slots WHERE commune = ?";
    static const char ins[] =
        "INSERT INTO slots (commune, position, start_s, minutes, days, relay)"
        " VALUES (?,?,?,?,?,nullif(?,''))";
    struct put_tx *t = arg;
    sqlite3_stmt *st = lc_sched_stmt(store, del, t->commune);
    if (st == NULL)
        return -EIO;
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    for (size_t i = 0; step == SQLITE_DONE && i < t->n; i++) {
        if ((st = lc_sched_stmt(store, ins, t->commune)) == NULL)
            return -EIO;
        sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
        sqlite3_bind_int(st, 3, t->v[i].start_s);
        sqlite3_bind_int(st, 4, t->v[i].minutes);
        sqlite3_bind_int(st, 5, (int)t->v[i].days);
        sqlite3_bind_text(st, 6, t->relay[i], -1, SQLITE_TRANSIENT);
        step = sqlite3_step(st);
        sqlite3_reset(st);
    }
    if (step != SQLITE_DONE)
        return -EIO;
    return lc_audit(store, t->req, NULL, "slots_update", t->commune,
                    json_deep_copy(json_object_get(t->answer, "slots")));
}

static void put_slots(struct lc_req *req, void *ctx)
{
    struct lc_scheduler *s = ctx;
    const char *commune = req->params[0];
    struct lc_slot v[LC_SLOTS_MAX];
    char relay[LC_SLOTS_MAX][LC_RELAY_URL_MAX];
    struct lc_rules rules;
    char why[400];
    size_t n = 0, a = 0, b = 0;
    json_error_t e;
    json_t *body = json_loadb((const char *)req->body.data, req->body.len, JSON_REJECT_DUPLICATES, &e);
    if (body == NULL) {
        lc_reply_error(req, 400, "bad_json", "the body is not valid JSON: %s", e.text);
        return;
    }
    json_t *list = body;
    if (json_is_object(body)) {
        list = json_object_get(body, "slots");
        if (json_object_size(body) != 1 || list == NULL) {
            lc_reply_error(req, 400, "bad_field", "expected a list of slots or {\"slots\": [...]}");
            goto out;
        }
    }
    if (!json_is_array(list)) {
        lc_reply_error(req, 400, "bad_field", "expected a list of slots");
        goto out;
    }
    if (lc_commune_require(req, s->store, commune, 404) < 0)
        goto out;
    if (json_array_size(list) > LC_SLOTS_MAX) {
        lc_reply_error(req, 422, "invalid", "at most %d slots", LC_SLOTS_MAX);
        goto out;
    }
    for (n = 0; n < json_array_size(list); n++)
        if (read_slot(req, json_array_get(list, n), n, &v[n], relay[n]) < 0)
            goto out;
    for (size_t i = 0; i < n; i++) {
        int carry = lc_carry_check(s->store, commune, relay[i], why, sizeof why);
        if (carry == -EIO) {
            lc_reply_internal(req, "slots: carry");
            goto out;
        }
        if (carry < 0) {
            lc_reply_error(req, 422, "invalid", "slot %zu: %s", i, why);
            goto out;
        }
    }
    int rc = lc_slots_check(v, n, &a, &b);
    if (rc == -EEXIST) {
        char sa[9], sb[9];
        lc_slot_format_start(v[a].start_s, sa);
        lc_slot_format_start(v[b].start_s, sb);
        lc_reply_error(req, 409, "conflict", "slots %zu (%s, %d min) and %zu (%s, %d min) overlap",
                       a, sa, (int)v[a].minutes, b, sb, (int)v[b].minutes);
        goto out;
    }
    if (rc < 0) {
        lc_reply_error(req, 422, "invalid", "slot %zu is not valid", a);
        goto out;
    }
    if (lc_rules_load(s->store, commune, &rules, NULL) < 0) {
        lc_reply_internal(req, "slots: rules");
        goto out;
    }
    if (lc_rules_check_slots(&rules, v, n, why, sizeof why)) {
        lc_reply_error(req, 422, "rule", "the broadcast rules refuse %s", why);
        goto out;
    }
    struct put_tx t = {req, commune, v, relay, n, slots_json(commune, v, relay, n)};
    if (lc_store_tx(s->store, put_tx, &t) < 0) {
        json_decref(t.answer);
        lc_reply_internal(req, "slots: store");
        goto out;
    }
    lc_scheduler_poke(s);
    lc_reply_json(req, 200, t.answer);
out:
    json_decref(body);
}

int lc_slots_routes(struct lc_scheduler *s, struct lc_router *r)
{
    const unsigned w = LC_ROLE_ADMIN | LC_ROLE_OPERATOR;
    const char *path = "/api/v1/communes/{id}/slots";
    int rc = lc_router_add(r, HTTP_GET, path, LC_ROLES_STAFF, LC_BODY_NONE, get_slots, s);
    if (rc == 0)
        rc = lc_router_add(r, HTTP_PUT, path, w, LC_BODY_JSON, put_slots, s);
    return rc;
}
