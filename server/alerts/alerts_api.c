/*
 * server/alerts/alerts_api.c — the routes of CAP alerts; see alerts.h and docs/alerts.md.
 *
 * POST /api/v1/alerts, in three steps:
 *   loop     Content-Type, a copy of the body, the map of located clusters and commune codes;
 *            the request is held
 *   worker   lc_cap_parse (libxml2, the schema), lc_area_select, lc_normalize of the text
 *   loop     loacast's rules, in this order: malformed 400; not CAP 1.2 422; status other than
 *            Actual, scope other than Public, msgType Ack/Error 422; the same sender+identifier
 *            again: 200 the alert if sent is the same, else 409; references to alerts unknown
 *            422; an Alert or Update needs Vietnamese info with text, not expired, an area that
 *            contains a commune (422). Then one transaction: the row, the earlier alerts an
 *            Update or Cancel acts on, the audit entries. 201. A trusted sender's Extreme and
 *            Immediate alert, posted by an account that may start emergencies, then goes on air
 *            at once (the answer waits for it).
 * Every refusal answers before any write: nothing changes, not even the audit log.
 *
 * GET /api/v1/alerts[/{id}] here too; POST /api/v1/alerts/{id}/confirm, and the trusted
 * sender's alert going on air at once, are alerts_air.c's.
 */
#define LC_LOG_MODULE "alerts"
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>

#include "codecs/normalize.h"
#include "common/log.h"
#include "common/workers.h"
#include "server/accounts/accounts.h"
#include "server/alerts/alerts_internal.h"
#include "server/api/api.h"
#include "server/http/http.h"
#include "server/store/store.h"

#define MAX_TEXT 100000         /* bytes of text to speak, as POST /api/v1/emergency */
#define TITLE_MAX 200

#define JOB_OF(type, j) ((type *)(void *)((char *)(j) - offsetof(type, job)))

/* ---- POST /api/v1/alerts ------------------------------------------------------------------ */

struct post_job {
    struct lc_job job;
    struct lc_alerts *a;
    struct lc_req *req;         /* held */
    char *xml;                  /* a copy of the body */
    size_t len;
    struct lc_area_map map;
    /* the worker's results */
    int rc;
    struct lc_err err;
    struct lc_cap cap;
    char (*communes)[65];
    size_t ncommunes;
    int spoken_rc;
    struct lc_err spoken_err;
};

static void post_job_free(struct post_job *p)
{
    free(p->xml);
    lc_area_map_free(&p->map);
    lc_cap_free(&p->cap);
    free(p->communes);
    free(p);
}

/* The located clusters of communes in service, and the communes' codes. 0 or -EIO/-ENOMEM. */
static int load_map(struct lc_store *st, struct lc_area_map *m)
{
    static const char clusters[] =
        "SELECT k.commune, k.lat, k.lon FROM clusters k JOIN communes c ON c.id = k.commune"
        " WHERE k.retired_at IS NULL AND c.retired_at IS NULL AND k.lat IS NOT NULL"
        " AND k.lon IS NOT NULL";
    static const char codes[] =
        "SELECT id, code FROM communes WHERE code IS NOT NULL AND retired_at IS NULL";
    size_t cap = 0;
    sqlite3_stmt *s = lc_store_stmt(st, clusters);
    if (s == NULL)
        return -EIO;
    while (sqlite3_step(s) == SQLITE_ROW) {
        struct lc_area_cluster *g = lc_grow(m->clusters, m->nclusters, &cap, sizeof *g, 64);
        if (g == NULL) {
            lc_store_done(s);
            return -ENOMEM;
        }
        m->clusters = g;
        snprintf(g[m->nclusters].commune, 65, "%s", lc_col_text(s, 0));
        g[m->nclusters].lat = sqlite3_column_double(s, 1);
        g[m->nclusters++].lon = sqlite3_column_double(s, 2);
    }
    if (lc_store_done(s) < 0 || (s = lc_store_stmt(st, codes)) == NULL)
        return -EIO;
    cap = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        struct lc_area_code *c = lc_grow(m->codes, m->ncodes, &cap, sizeof *c, 64);
        if (c == NULL) {
            lc_store_done(s);
            return -ENOMEM;
        }
        m->codes = c;
        snprintf(c[m->ncodes].commune, 65, "%s", lc_col_text(s, 0));
        snprintf(c[m->ncodes++].code, 17, "%s", lc_col_text(s, 1));
    }
    return lc_store_done(s);
}

/* Worker thread: parse, check, area, spoken form. Touches neither the loop nor the database. */
static void post_work(struct lc_job *job)
{
    struct post_job *p = JOB_OF(struct post_job, job);
    struct lc_cap *c = &p->cap;
    p->rc = lc_cap_parse(p->a->schema, p->xml, p->len, c, &p->err);
    if (p->rc < 0 || !c->has_vi)
        return;
    if (lc_area_select(c, &p->map, &p->communes, &p->ncommunes) < 0) {
        p->rc = lc_err_set(&p->err, -ENOMEM, "out of memory");
        return;
    }
    if (c->text != NULL && strlen(c->text) <= MAX_TEXT) {
        char *spoken = NULL;
        p->spoken_rc = lc_normalize(p->a->d.lexicon, c->text, strlen(c->text), &spoken,
                                    &p->spoken_err);
        free(spoken);
    }
}

/* The ids of the alerts c's references name, in *out (a new array). 0, or -1 after answering
 * (422 for an unknown one). */
static int resolve_refs(struct lc_req *req, struct lc_store *st, const struct lc_cap *c,
                        json_t **out)
{
    *out = json_array();
    for (size_t i = 0; *out && i < c->nrefs; i++) {
        const struct lc_cap_ref *r = &c->refs[i];
        int64_t id, sent_at;
        int rc = lc_alert_find(st, r->sender, r->identifier, &id, &sent_at);
        if (rc == -EIO) {
            lc_reply_internal(req, "alerts: references");
            goto fail;
        }
        if (rc == -ENOENT || sent_at != r->sent_at) {
            lc_reply_error(req, 422, "invalid", "references: no alert '%.80s,%.80s,%.40s' was "
                           "received; an %s acts on an alert received before", r->sender,
                           r->identifier, r->sent, c->msg_type);
            goto fail;
        }
        bool dup = false;
        for (size_t k = 0; k < json_array_size(*out); k++)
            dup = dup || json_integer_value(json_array_get(*out, k)) == id;
        if (!dup)
            json_array_append_new(*out, json_integer(id));
    }
    if (*out)
        return 0;
    lc_reply_internal(req, "alerts: memory");
fail:
    json_decref(*out);
    *out = NULL;
    return -1;
}

/* A Cancel's communes: those of the alerts it cancels. */
static json_t *communes_of(struct lc_store *st, json_t *refs)
{
    json_t *all = json_array(), *v, *alert = NULL;
    size_t i, k;
    json_array_foreach(refs, i, v) {
        if (lc_alert_load(st, json_integer_value(v), false, &alert) < 0)
            continue;
        json_t *c;
        json_array_foreach(json_object_get(alert, "communes"), k, c) {
            bool dup = false;
            for (size_t j = 0; j < json_array_size(all); j++)
                dup = dup || json_equal(json_array_get(all, j), c);
            if (!dup)
                json_array_append(all, c);
        }
        json_decref(alert);
    }
    return all;
}

/* "Cảnh báo: <event>" (or "Hủy cảnh báo: ..."), cut to TITLE_MAX bytes on a character. */
static void make_title(const struct lc_cap *c, char out[TITLE_MAX + 1])
{
    bool cancel = strcmp(c->msg_type, "Cancel") == 0;
    snprintf(out, TITLE_MAX + 1, "%s%s%s", cancel ? "Hủy cảnh báo" : "Cảnh báo",
             c->event ? ": " : "", c->event ? c->event : "");
    size_t n = strlen(out);
    if (n == TITLE_MAX)
        while (n > 0 && ((unsigned char)out[n] & 0xc0) == 0x80)
            out[--n] = '\0';
}

/* What the transaction of a new alert writes. */
struct new_alert {
    struct lc_req *req;
    struct lc_alert_row row;
    int64_t id;
    bool at_once;
};

static int new_alert_tx(struct lc_store *st, void *arg)
{
    struct new_alert *n = arg;
    const struct lc_cap *c = n->row.cap;
    char target[24];
    size_t i;
    json_t *v;
    int rc = lc_alert_insert(st, &n->row, &n->id);
    if (rc < 0)
        return rc;
    lc_alert_target(n->id, target);
    rc = lc_audit(st, n->req, NULL, "alert_received", target,
                  json_pack("{s:s,s:s,s:s,s:s,s:O,s:O,s:b}", "identifier", c->identifier,
                            "sender", c->sender, "sent", c->sent, "msg_type", c->msg_type,
                            "communes", n->row.communes, "references", n->row.refs,
                            "on_air_at_once", n->at_once));
    bool cancel = strcmp(c->msg_type, "Cancel") == 0;
    json_array_foreach(n->row.refs, i, v) {
        char was[16], earlier[24];
        if (rc < 0)
            break;
        int64_t eid = json_integer_value(v);
        if ((rc = lc_alert_replace(st, eid, n->id, was)) < 0)
            break;
        lc_alert_target(eid, earlier);
        const char *effect = strcmp(was, "awaiting") == 0 ? "cancelled"
                           : strcmp(was, "on_air") == 0   ? "recorded: it aired already"
                                                          : "none: it was cancelled already";
        rc = lc_audit(st, n->req, NULL, cancel ? "alert_cancelled" : "alert_updated", earlier,
                      json_pack("{s:I,s:s,s:s}", "by", (json_int_t)n->id, "was", was, "effect",
                                effect));
    }
    return rc;
}

/* The duplicate of a known alert: 200 with it, audited; or 409 when sent differs. */
static void duplicate(struct lc_req *req, struct lc_store *st, const struct lc_cap *c, int64_t id,
                      int64_t sent_at)
{
    json_t *alert = NULL;
    char target[24];
    if (sent_at != c->sent_at) {
        lc_reply_error(req, 409, "conflict", "sender '%.80s' sent identifier '%.80s' already, "
                       "with another time: an identifier names one message", c->sender,
                       c->identifier);
        return;
    }
    if (lc_alert_load(st, id, false, &alert) < 0) {
        lc_reply_internal(req, "alerts: load");
        return;
    }
    lc_alert_target(id, target);
    lc_audit(st, req, NULL, "alert_duplicate", target, NULL);
    lc_reply_json(req, 200, alert);
}

/* Loop thread, after the worker: loacast's rules, then the write (see the top of the file). */
static void decide(struct post_job *p)
{
    struct lc_req *req = p->req;
    struct lc_alerts *a = p->a;
    struct lc_store *st = a->d.store;
    const struct lc_cap *c = &p->cap;
    json_t *refs = NULL, *communes = NULL, *alert = NULL;
    int64_t id, sent_at;
    if (p->rc == -EBADMSG) {
        lc_reply_error(req, 400, "bad_xml", "%s", lc_err_msg(&p->err));
        return;
    }
    if (p->rc == -ENOMEM || (p->rc < 0 && p->rc != -EPROTO && p->rc != -EINVAL)) {
        lc_reply_internal(req, "alerts: parse");
        return;
    }
    if (p->rc < 0) {
        lc_reply_error(req, 422, "invalid", "%s", lc_err_msg(&p->err));
        return;
    }
    if (strcmp(c->status, "Actual") != 0) {
        lc_reply_error(req, 422, "invalid", "status %s: only Actual alerts are broadcast; "
                       "nothing was recorded", c->status);
        return;
    }
    if (strcmp(c->scope, "Public") != 0) {
        lc_reply_error(req, 422, "invalid", "scope %s: only Public alerts go to loudspeakers",
                       c->scope);
        return;
    }
    if (strcmp(c->msg_type, "Ack") == 0 || strcmp(c->msg_type, "Error") == 0) {
        lc_reply_error(req, 422, "invalid", "msgType %s is not an alert to broadcast",
                       c->msg_type);
        return;
    }
    int rc = lc_alert_find(st, c->sender, c->identifier, &id, &sent_at);
    if (rc == 0) {
        duplicate(req, st, c, id, sent_at);
        return;
    }
    if (rc != -ENOENT) {
        lc_reply_internal(req, "alerts: find");
        return;
    }
    if (resolve_refs(req, st, c, &refs) < 0)
        return;
    bool cancel = strcmp(c->msg_type, "Cancel") == 0;
    if (!cancel) {
        if (!c->has_vi) {
            lc_reply_error(req, 422, "invalid", "no Vietnamese info: an <info> with <language> vi "
                           "or vi-VN is needed (the alert has %zu info)", c->ninfo);
            goto out;
        }
        if (c->text == NULL) {
            lc_reply_error(req, 422, "invalid", "the Vietnamese info has no headline, "
                           "description or instruction to speak");
            goto out;
        }
        if (strlen(c->text) > MAX_TEXT) {
            lc_reply_error(req, 422, "invalid", "the text to speak is over %d bytes", MAX_TEXT);
            goto out;
        }
        if (c->expires_at && c->expires_at <= lc_now()) {
            char at[40];
            lc_time_format(c->expires_at, at);
            lc_reply_error(req, 422, "invalid", "the alert expired at %s", at);
            goto out;
        }
        if (p->spoken_rc < 0) {
            lc_reply_error(req, 422, "invalid", "the text cannot be spoken: %s",
                           lc_err_msg(&p->spoken_err));
            goto out;
        }
        if (c->nareas == 0) {
            lc_reply_error(req, 422, "invalid", "the Vietnamese info has no <area>");
            goto out;
        }
        if (p->ncommunes == 0) {
            lc_reply_error(req, 422, "invalid", "the area contains no commune (%.100s): no "
                           "located cluster inside its polygons or circles, no commune with "
                           "its MADVHC geocode", c->area_desc ? c->area_desc : "");
            goto out;
        }
        communes = json_array();
        for (size_t i = 0; communes && i < p->ncommunes; i++)
            json_array_append_new(communes, json_string(p->communes[i]));
    } else {
        communes = communes_of(st, refs);
    }
    char title[TITLE_MAX + 1];
    make_title(c, title);
    bool may_air = (req->role & (LC_ROLE_ADMIN | LC_ROLE_APPROVER)) != 0;
    struct new_alert n = {
        .req = req,
        .row = {.cap = c, .xml = p->xml, .xml_len = p->len, .title = title,
                .text = c->text ? c->text : "", .communes = communes, .refs = refs,
                .status = cancel ? "cancelled" : "awaiting", .received_by = req->user},
        .at_once = !cancel && may_air && lc_alerts_trusted(a, c->sender) && c->severity &&
                   strcmp(c->severity, "Extreme") == 0 && c->urgency &&
                   strcmp(c->urgency, "Immediate") == 0};
    if (communes == NULL || (rc = lc_store_tx(st, new_alert_tx, &n)) < 0) {
        lc_reply_internal(req, "alerts: store");
        goto out;
    }
    lc_log(LC_LOG_INFO, "alert %lld (%s %s from %s) received by %s: %zu commune(s)%s",
           (long long)n.id, c->msg_type, c->identifier, c->sender, req->user,
           json_array_size(communes), n.at_once ? ", on air at once (trusted sender)" : "");
    if ((rc = lc_alert_load(st, n.id, false, &alert)) < 0) {
        lc_reply_internal(req, "alerts: load");
        goto out;
    }
    if (n.at_once) {
        char msg[160];
        if (lc_alerts_start_air(a, req, alert, true, msg) == 0)
            goto out;
        /* received and kept: it waits for a confirm */
        json_object_set_new(alert, "error", json_string(msg));
    }
    if (!cancel && lc_alerts_trusted(a, c->sender) && !may_air)
        json_object_set_new(alert, "note",
                            json_string("trusted sender, but posted by an account that may not "
                                        "start emergencies: it waits for a confirm"));
    lc_reply_json(req, 201, alert);
    alert = NULL;
out:
    json_decref(alert);
    json_decref(refs);
    json_decref(communes);
}

static void post_done(struct lc_job *job, int cancelled)
{
    struct post_job *p = JOB_OF(struct post_job, job);
    if (cancelled)
        lc_reply_error(p->req, 503, "shutting_down", "the server is shutting down");
    else
        decide(p);
    lc_req_release(p->req);
    post_job_free(p);
}

/* application/cap+xml or application/xml, with or without parameters. */
static bool xml_type(const char *ct)
{
    static const char *const ok[] = {"application/cap+xml", "application/xml"};
    if (ct == NULL)
        return false;
    while (*ct == ' ')
        ct++;
    for (size_t i = 0; i < 2; i++) {
        size_t n = strlen(ok[i]);
        if (strncasecmp(ct, ok[i], n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '))
            return true;
    }
    return false;
}

static void post_alert(struct lc_req *req, void *ctx)
{
    struct lc_alerts *a = ctx;
    if (!xml_type(lc_req_header(req, "content-type"))) {
        lc_reply_error(req, 415, "unsupported_media", "a CAP 1.2 alert is sent as "
                       "application/cap+xml or application/xml");
        return;
    }
    struct post_job *p = calloc(1, sizeof *p);
    if (p == NULL || (p->xml = malloc(req->body.len + 1)) == NULL) {
        free(p);
        lc_reply_internal(req, "alerts: memory");
        return;
    }
    if (req->body.len)
        memcpy(p->xml, req->body.data, req->body.len);
    p->xml[req->body.len] = '\0';
    p->len = req->body.len;
    p->a = a;
    p->req = req;
    p->job.work = post_work;
    p->job.done = post_done;
    int rc = load_map(a->d.store, &p->map);
    if (rc < 0) {
        post_job_free(p);
        lc_reply_internal(req, "alerts: clusters");
        return;
    }
    lc_req_hold(req);
    if ((rc = lc_alerts_submit(a, &p->job)) < 0) {
        lc_reply_error(req, 503, "shutting_down", "the server is shutting down");
        lc_req_release(req);
        post_job_free(p);
    }
}

/* ---- GET ------------------------------------------------------------------------------------ */

static void get_alerts(struct lc_req *req, void *ctx)
{
    struct lc_alerts *a = ctx;
    lc_alerts_list(req, a->d.store);
}

/* GET one: the text as it will be spoken is made on the worker (the normaliser). */
struct spoken_job {
    struct lc_job job;
    struct lc_alerts *a;
    struct lc_req *req;     /* held */
    json_t *alert;          /* owned; only the loop touches it */
    char *text, *spoken;
    int rc;
    struct lc_err err;
};

static void spoken_work(struct lc_job *job)
{
    struct spoken_job *j = JOB_OF(struct spoken_job, job);
    if (j->text[0] != '\0')
        j->rc = lc_normalize(j->a->d.lexicon, j->text, strlen(j->text), &j->spoken, &j->err);
}

static void spoken_done(struct lc_job *job, int cancelled)
{
    struct spoken_job *j = JOB_OF(struct spoken_job, job);
    if (cancelled) {
        lc_reply_error(j->req, 503, "shutting_down", "the server is shutting down");
    } else {
        json_object_set_new(j->alert, "spoken", j->spoken ? json_string(j->spoken) : json_null());
        if (j->rc < 0)
            json_object_set_new(j->alert, "spoken_error", json_string(lc_err_msg(&j->err)));
        lc_reply_json(j->req, 200, j->alert);
        j->alert = NULL;
    }
    lc_req_release(j->req);
    json_decref(j->alert);
    free(j->text);
    free(j->spoken);
    free(j);
}

/* [{"id","name"}] of the alert's communes, as the console shows them. */
static json_t *targets(struct lc_store *st, json_t *communes)
{
    static const char sql[] = "SELECT name FROM communes WHERE id = ?1";
    json_t *out = json_array(), *v;
    size_t i;
    json_array_foreach(communes, i, v) {
        sqlite3_stmt *s = lc_store_stmt(st, sql);
        if (s == NULL || out == NULL)
            break;
        sqlite3_bind_text(s, 1, json_string_value(v), -1, SQLITE_TRANSIENT);
        int step = sqlite3_step(s);
        json_array_append_new(out, json_pack("{s:O,s:s}", "id", v, "name",
                                             step == SQLITE_ROW ? lc_col_text(s, 0)
                                                                : json_string_value(v)));
        lc_store_done(s);
    }
    return out;
}

static void get_alert(struct lc_req *req, void *ctx)
{
    struct lc_alerts *a = ctx;
    json_t *alert;
    int64_t id;
    if (lc_alert_param(req, a->d.store, true, &id, &alert) < 0)
        return;
    json_object_set_new(alert, "targets", targets(a->d.store, json_object_get(alert, "communes")));
    struct spoken_job *j = calloc(1, sizeof *j);
    if (j == NULL ||
        (j->text = strdup(json_string_value(json_object_get(alert, "text")))) == NULL) {
        free(j);
        json_decref(alert);
        lc_reply_internal(req, "alerts: memory");
        return;
    }
    j->a = a;
    j->req = req;
    j->alert = alert;
    j->job.work = spoken_work;
    j->job.done = spoken_done;
    lc_req_hold(req);
    if (lc_alerts_submit(a, &j->job) < 0) {
        lc_reply_error(req, 503, "shutting_down", "the server is shutting down");
        lc_req_release(req);
        json_decref(alert);
        free(j->text);
        free(j);
    }
}

int lc_alerts_routes(struct lc_alerts *a, struct lc_router *r)
{
    static const struct lc_api_route routes[] = {
        {HTTP_POST, "/api/v1/alerts", LC_ROLE_ADMIN | LC_ROLE_APPROVER | LC_ROLE_OPERATOR,
         LC_BODY_JSON, post_alert},
        {HTTP_GET, "/api/v1/alerts", LC_ROLES_STAFF, LC_BODY_NONE, get_alerts},
        {HTTP_GET, "/api/v1/alerts/{id}", LC_ROLES_STAFF, LC_BODY_NONE, get_alert},
        {HTTP_POST, "/api/v1/alerts/{id}/confirm", LC_ROLE_ADMIN | LC_ROLE_APPROVER,
         LC_BODY_NONE, lc_alerts_post_confirm},
    };
    return LC_API_ROUTES(r, routes, a);
}
