/* server/accounting/query.c — the query parameters the reports share (coverage.h). */
#include "server/accounting/coverage.h"

#include <stdio.h>

#include "schedules/localtime.h"
#include "server/api/api.h"
#include "server/http/http.h"
#include "server/registry/registry.h"

#define MAX_RANGE_DAYS 400

/* Reads ?name=YYYY-MM-DD into *d; absent leaves *d. Answers 400 and returns -1 if malformed. */
int lc_query_date(struct lc_req *req, const char *name, struct lc_date *d)
{
    char buf[32];
    const char *v = lc_req_query(req, name, buf, sizeof buf);
    if (v == NULL)
        return 0;
    if (lc_date_parse(v, d) < 0) {
        lc_reply_error(req, 400, "bad_query", "%s must be a date YYYY-MM-DD, not '%.20s'", name, v);
        return -1;
    }
    return 0;
}

/* Reads ?commune= (must exist) into buf; *out NULL if absent. Answers 404 and returns -1. */
int lc_query_commune(struct lc_req *req, struct lc_store *store, char *buf, size_t n,
                     const char **out)
{
    *out = lc_req_query(req, "commune", buf, n);
    if (*out != NULL && lc_commune_require_recorded(req, store, *out, 404) < 0)
        return -1;
    return 0;
}

/* [from, to] inclusive local dates → [*t0, *t1) Unix seconds. Default: the 30 days to today.
 * Answers 400/422 and returns -1 on bad input. */
int lc_query_range(struct lc_req *req, struct lc_date *from, struct lc_date *to, int64_t *t0,
                   int64_t *t1)
{
    struct lc_tz tz = lc_tz_system();
    struct lc_date today = lc_local_date(&tz, lc_now());
    *to = today;
    if (lc_query_date(req, "to", to) < 0)
        return -1;
    *from = lc_civil_from_days(lc_days_from_civil(*to) - 29);
    if (lc_query_date(req, "from", from) < 0)
        return -1;
    int64_t days = lc_days_from_civil(*to) - lc_days_from_civil(*from);
    if (days < 0) {
        lc_reply_error(req, 400, "bad_query", "from is after to");
        return -1;
    }
    if (days >= MAX_RANGE_DAYS) {
        lc_reply_error(req, 422, "invalid", "a report covers at most %d days", MAX_RANGE_DAYS);
        return -1;
    }
    *t0 = lc_local_to_unix(&tz, *from, 0);
    *t1 = lc_local_to_unix(&tz, *to, 86400);
    return 0;
}

