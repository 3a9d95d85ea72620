/*
 * server/alerts/alerts_internal.h — internal header of server/alerts/: the module's handle and
 * the `alerts` table's functions (alerts_store.c), shared by its files only.
 */
#ifndef LC_SERVER_ALERTS_INTERNAL_H
#define LC_SERVER_ALERTS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "server/alerts/alerts.h"
#include "server/alerts/cap.h"
#include "common/workers.h"

struct lc_workers;
struct lc_req;

struct lc_alerts {
    struct lc_alerts_deps d;        /* d.trusted_senders is not kept: see trusted */
    char (*trusted)[256];           /* [alerts] trusted_senders, split and trimmed */
    size_t ntrusted;
    struct lc_workers *pool;        /* one thread: parse, area, spoken text */
    struct lc_cap_schema *schema;
    int64_t *confirming;            /* alerts whose emergency is being rendered */
    size_t nconfirming, capconfirming;
    bool stopped;
};

/* alerts.c: the module's worker. */
int lc_alerts_submit(struct lc_alerts *a, struct lc_job *job);
bool lc_alerts_trusted(const struct lc_alerts *a, const char *sender);

/* ---- the table (alerts_store.c) ------------------------------------------------------------ */

/* A new row, as the loop thread writes it. */
struct lc_alert_row {
    const struct lc_cap *cap;
    const char *xml;
    size_t xml_len;
    const char *title, *text;       /* text "" for a Cancel without info */
    json_t *communes;               /* borrowed: ["id", ...] */
    json_t *refs;                   /* borrowed: [earlier ids] */
    const char *status;             /* "awaiting" or "cancelled" (a Cancel) */
    const char *received_by;
};

/* Inserts r in the caller's transaction; *id gets the row's id. 0 or -EIO. */
int lc_alert_insert(struct lc_store *st, const struct lc_alert_row *r, int64_t *id);
/* The alert of sender + identifier: 0 with *id and *sent_at, -ENOENT, or -EIO. */
int lc_alert_find(struct lc_store *st, const char *sender, const char *identifier, int64_t *id,
                  int64_t *sent_at);
/* The alert as the API shows it (a new reference in *out; with "xml" when full): 0, -ENOENT,
 * -EIO. */
int lc_alert_load(struct lc_store *st, int64_t id, bool full, json_t **out);
/* GET /api/v1/alerts: answers the list. */
void lc_alerts_list(struct lc_req *req, struct lc_store *st);
/* The earlier alert id was acted on by alert by (an Update or Cancel): an awaiting one becomes
 * cancelled; any other keeps its status. Sets replaced_by. In the caller's transaction; *was gets
 * its status before ("awaiting", "on_air", "cancelled"; 16 bytes). 0 or -EIO. */
int lc_alert_replace(struct lc_store *st, int64_t id, int64_t by, char was[16]);
/* awaiting → on_air with its bulletin, confirmed by user (now). -ESTALE when it is no longer
 * awaiting (cancelled meanwhile); 0 or -EIO. In the caller's transaction. */
int lc_alert_on_air(struct lc_store *st, int64_t id, int64_t bulletin, const char *user);
/* "123", an alert's id as the audit log's target. */
void lc_alert_target(int64_t id, char out[24]);
/* The alert of the path's {id} (full: with its XML) into *alert (a new reference) and *id: 0, or
 * answers (404 not a positive id or no such alert, 500) and returns -1. */
int lc_alert_param(struct lc_req *req, struct lc_store *st, bool full, int64_t *id,
                   json_t **alert);

/* ---- going on air (alerts_air.c) ----------------------------------------------------------- */

/* Starts the emergency of alert (its JSON, borrowed) for req (held once more, until the
 * emergency answers it: 201 on air; a trusted sender's alert that could not go on air 201
 * with "error", still awaiting). 0; or the status to answer (409, 500, 503) with msg, nothing
 * started. */
int lc_alerts_start_air(struct lc_alerts *a, struct lc_req *req, json_t *alert, bool trusted,
                        char msg[160]);
/* POST /api/v1/alerts/{id}/confirm; ctx is the module. */
void lc_alerts_post_confirm(struct lc_req *req, void *ctx);

#endif
