/*
 * server/alerts/alerts.h — the door of server/alerts/: CAP 1.2 alerts (issue 18, point 4;
 * docs/alerts.md). It owns the table `alerts`: every write to it is here.
 *
 *   POST /api/v1/alerts        a CAP 1.2 document (Content-Type application/cap+xml or
 *                              application/xml) → 201 {"id","identifier","communes","text",
 *                              "status":"awaiting"|"on_air"|"cancelled", ...}; the same
 *                              sender + identifier + sent again → 200 the alert, no change
 *                              (admin, approver, operator)
 *   GET /api/v1/alerts[?status=]          → {"alerts": [...]}, newest first (every staff role)
 *   GET /api/v1/alerts/{id}               → the alert with "spoken" (its text as it will be
 *                                           spoken) and "targets" [{"id","name"}]
 *   POST /api/v1/alerts/{id}/confirm      → 201 the alert on air as an emergency (admin, approver)
 *
 * A document is parsed and checked against CAP 1.2 (libxml2, the schema data/cap-1.2.xsd
 * compiled in) on the module's own worker thread, with its area (cap_area.c: clusters inside a
 * polygon or circle, communes by administrative code) and its spoken form; the loop thread then
 * decides (duplicate, Update, Cancel) and writes. Malformed XML is 400, a document that is not
 * CAP 1.2 or breaks its rules 422, both naming what is wrong and changing nothing.
 *
 * Files: alerts.c (open, stop, free; the worker), alerts_api.c (POST and GET), alerts_air.c
 * (confirm: an alert on air), cap_parse.c (the parser, cap.h), cap_area.c (which communes),
 * alerts_store.c (the table, and the routes' {id}). Loop thread only,
 * but for the parse jobs.
 */
#ifndef LC_SERVER_ALERTS_H
#define LC_SERVER_ALERTS_H

#include <uv.h>

#include "common/err.h"

struct lc_store;
struct lc_router;
struct lc_scheduler;
struct lc_lexicon;
struct lc_alerts;

/* What the module uses; the handles are borrowed and must outlive it. */
struct lc_alerts_deps {
    uv_loop_t *loop;
    struct lc_store *store;
    struct lc_scheduler *scheduler;     /* a confirmed alert goes on air as its emergency */
    const struct lc_lexicon *lexicon;   /* the text as it will be spoken (codecs/normalize.h) */
    const char *trusted_senders;        /* [alerts] trusted_senders: comma-separated; copied */
};

/* Creates the module (*out, freed by lc_alerts_free) with its worker thread and the CAP 1.2
 * schema; checks the trusted senders. 0, or -ENOMEM / -EINVAL (err says why). */
int lc_alerts_open(struct lc_alerts **out, const struct lc_alerts_deps *deps, struct lc_err *err);
/* Adds the routes above, with a as their handle (NULL when only listed). 0 or -ENOMEM. */
int lc_alerts_routes(struct lc_alerts *a, struct lc_router *r);
/* Shutdown, step one: the worker finishes its job, waiting ones are answered 503. NULL is
 * fine; so is a second call. */
void lc_alerts_stop(struct lc_alerts *a);
/* Step two, after the loop ran out. NULL is fine. */
void lc_alerts_free(struct lc_alerts *a);

#endif
