/*
 * server/accounting/accounting_internal.h — the handle shared by the files of server/accounting/
 * (internal header: other modules include accounting.h).
 */
#ifndef LC_SERVER_ACCOUNTING_INTERNAL_H
#define LC_SERVER_ACCOUNTING_INTERNAL_H

#include <stdbool.h>

#include "server/accounting/accounting.h"

struct lc_retention;

struct lc_accounting {
    struct lc_accounting_deps d;    /* copied at open; nothing in it is owned */
    struct lc_http *http;           /* lc_accounting_watch(); NULL before, and after stop */
    lc_metrics_source_cb source;    /* idem: more /metrics lines (the streaming engine's) */
    void *source_ctx;
    struct lc_retention *retention; /* the running timer (retention.c), NULL when stopped */
    bool stopping;                  /* lc_accounting_stop() was called: /healthz answers 503 */
};

/* GET /metrics and /healthz (metrics.c). */
int lc_metrics_routes(struct lc_accounting *a, struct lc_router *r);
/* Appends one printf-formatted line (at most 511 bytes) of /metrics to b (metrics.c). */
struct lc_buf;
void lc_metrics_put(struct lc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
