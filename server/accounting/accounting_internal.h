/*
 * server/accounting/accounting_internal.h — the handle shared by the files of server/accounting/
 * (internal header: other modules include accounting.h).
 */
#ifndef LC_SERVER_ACCOUNTING_INTERNAL_H
#define LC_SERVER_ACCOUNTING_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>

#include <jansson.h>

#include "server/accounting/accounting.h"

struct lc_retention;

struct lc_accounting {
    struct lc_accounting_deps d;    /* copied at open; nothing in it is owned */
    struct lc_http *http;           /* lc_accounting_watch(); NULL before, and after stop */
    lc_metrics_source_cb source;    /* idem: more /metrics lines (the streaming engine's) */
    void *source_ctx;
    struct lc_retention *retention; /* the running timer (retention.c), NULL when stopped */
    bool stopping;                  /* lc_accounting_stop() was called: /healthz answers 503 */
    atomic_bool reports_stop;       /* idem, read by the report pool's reads (report_job.c) */
};

/* A report's body built from reader, a read-only connection of the report pool's thread (never
 * the loop's store: no lc_reply_*, no req): a new JSON object, or NULL when a read failed. arg is
 * the handler's, copied. */
struct lc_store;
struct lc_req;
struct lc_report;
typedef json_t *(*lc_report_build_fn)(struct lc_store *reader, void *arg);
/* Builds the report off the loop (report_job.c) and answers it as lc_reply_table() does: JSON,
 * CSV or XLSX; 500 when build failed, 503 at shutdown. arg (len bytes) and rep are copied. */
void lc_report_submit(struct lc_accounting *a, struct lc_req *req, lc_report_build_fn build,
                      const void *arg, size_t len, const struct lc_report *rep);

/* GET /metrics and /healthz (metrics.c). */
int lc_metrics_routes(struct lc_accounting *a, struct lc_router *r);
/* Appends one printf-formatted line (at most 511 bytes) of /metrics to b (metrics.c). */
struct lc_buf;
void lc_metrics_put(struct lc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
