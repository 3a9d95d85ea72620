/*
 * server/alerts/alerts.c — the alerts module's handle: its worker thread, the CAP 1.2 schema,
 * the trusted senders; see alerts.h.
 *
 * The worker is one thread of its own (common/workers.h): a CAP document is parsed, validated,
 * matched against the clusters and normalised there, never on the loop, and never behind a
 * bulletin's render. libxml2 is set up once here, on the main thread, before the worker starts.
 */
#define LC_LOG_MODULE "alerts"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/workers.h"
#include "server/alerts/alerts_internal.h"

/* Splits "a@x.gov.vn, b@y" into a->trusted. A sender is what CAP allows in <sender>: no
 * spaces, commas, '<' or '&'. -EINVAL (err) for an empty entry or one too long. */
static int split_trusted(struct lc_alerts *a, const char *list, struct lc_err *err)
{
    size_t cap = 0;
    const char *p = list ? list : "";
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '\0')
            break;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        size_t n = (size_t)(e - p);
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        for (size_t i = 0; i < n; i++)
            if (isspace((unsigned char)p[i]) || p[i] == '<' || p[i] == '&')
                return lc_err_set(err, -EINVAL, "[alerts] trusted_senders: '%.*s' is not a CAP "
                                  "sender (no spaces, '<' or '&')", (int)(n > 60 ? 60 : n), p);
        if (n >= sizeof a->trusted[0])
            return lc_err_set(err, -EINVAL, "[alerts] trusted_senders: an entry is too long");
        char (*t)[256] = lc_grow(a->trusted, a->ntrusted, &cap, sizeof *t, 4);
        if (t == NULL)
            return -ENOMEM;
        a->trusted = t;
        memcpy(a->trusted[a->ntrusted], p, n);
        a->trusted[a->ntrusted++][n] = '\0';
        p = e;
    }
    return 0;
}

bool lc_alerts_trusted(const struct lc_alerts *a, const char *sender)
{
    for (size_t i = 0; sender && i < a->ntrusted; i++)
        if (strcasecmp(a->trusted[i], sender) == 0)
            return true;
    return false;
}

int lc_alerts_open(struct lc_alerts **out, const struct lc_alerts_deps *deps, struct lc_err *err)
{
    *out = NULL;
    struct lc_alerts *a = calloc(1, sizeof *a);
    if (a == NULL)
        return lc_err_set(err, -ENOMEM, "out of memory");
    a->d = *deps;
    a->d.trusted_senders = NULL;
    int rc = split_trusted(a, deps->trusted_senders, err);
    if (rc < 0)
        goto fail;
    lc_cap_init();
    if ((rc = lc_cap_schema_load(&a->schema, err)) < 0)
        goto fail;
    if ((rc = lc_workers_open(&a->pool, deps->loop, 1)) < 0) {
        lc_err_set(err, rc, "cannot start the alerts' worker thread");
        goto fail;
    }
    *out = a;
    return 0;
fail:
    lc_alerts_free(a);
    return rc;
}

int lc_alerts_submit(struct lc_alerts *a, struct lc_job *job)
{
    return a->stopped || a->pool == NULL ? -ESHUTDOWN : lc_workers_submit(a->pool, job);
}

void lc_alerts_stop(struct lc_alerts *a)
{
    if (a == NULL || a->stopped)
        return;
    a->stopped = true;
    lc_workers_close(a->pool);  /* waiting jobs: done(cancelled) → 503 */
    a->pool = NULL;
}

void lc_alerts_free(struct lc_alerts *a)
{
    if (a == NULL)
        return;
    if (!a->stopped)
        lc_alerts_stop(a);
    lc_cap_schema_free(a->schema);
    free(a->trusted);
    free(a->confirming);
    free(a);
}
