/*
 * server/accounting/report_job.c — coverage reports read off the loop (issue 19, point 5: a year
 * of a province's coverage is ~40 s of SQL, which on the loop stopped every stream and answer of
 * the server for that long; bench/province measured it).
 *
 *   loop: handler checks the query ─▶ report pool (one thread): a read-only connection of its
 *   own (lc_store_open_reader), build(reader, arg) → the body ─▶ loop: lc_reply_table (JSON, CSV,
 *   or XLSX on libuv's pool)
 *
 * One report is read at a time (one thread: a second waits its turn, and the server's other
 * work goes on). The request is held meanwhile; a client that left gets nothing and its body is
 * dropped. At shutdown a report being read is interrupted (SQLite's progress handler) and
 * answered 503; waiting ones are cancelled (503).
 */
#define LC_LOG_MODULE "accounting"
#include "server/accounting/accounting_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/workers.h"
#include "server/api/api.h"
#include "server/http/http.h"
#include "server/store/store.h"

struct report_job {
    struct lc_job job;
    struct lc_accounting *a;
    struct lc_req *req;             /* held */
    lc_report_build_fn build;
    void *arg;                      /* a copy, owned */
    struct lc_report rep;           /* file and file_vi point into the two below */
    char file[128], file_vi[192];
    json_t *body;                   /* the worker's result; NULL: failed */
    bool interrupted;
};

/* SQLite calls this every 10,000 steps of the reader's statements: non-zero stops them. */
static int stop_check(void *arg)
{
    struct lc_accounting *a = arg;
    return atomic_load(&a->reports_stop) ? 1 : 0;
}

static void work(struct lc_job *job)
{
    struct report_job *j = (struct report_job *)job;
    struct lc_store *reader;
    if (lc_store_open_reader(j->a->d.store, &reader) < 0)
        return;
    sqlite3_progress_handler(lc_store_db(reader), 10000, stop_check, j->a);
    j->body = j->build(reader, j->arg);
    j->interrupted = atomic_load(&j->a->reports_stop);
    lc_store_close(reader);
}

static void done(struct lc_job *job, int cancelled)
{
    struct report_job *j = (struct report_job *)job;
    if (cancelled || j->interrupted)
        lc_reply_error(j->req, 503, "shutting_down", "the server is shutting down");
    else if (j->body == NULL)
        lc_reply_internal(j->req, j->rep.list_key);
    else if (lc_req_alive(j->req))
        lc_reply_table(j->req, j->a->d.loop, j->a->d.store, j->body, &j->rep), j->body = NULL;
    json_decref(j->body);
    lc_req_release(j->req);
    free(j->arg);
    free(j);
}

void lc_report_submit(struct lc_accounting *a, struct lc_req *req, lc_report_build_fn build,
                      const void *arg, size_t len, const struct lc_report *rep)
{
    struct report_job *j = calloc(1, sizeof *j);
    if (j == NULL || (j->arg = malloc(len ? len : 1)) == NULL) {
        free(j);
        lc_reply_internal(req, "report: memory");
        return;
    }
    memcpy(j->arg, arg, len);
    j->a = a;
    j->req = req;
    j->build = build;
    j->rep = *rep;
    snprintf(j->file, sizeof j->file, "%s", rep->file);
    snprintf(j->file_vi, sizeof j->file_vi, "%s", rep->file_vi);
    j->rep.file = j->file;
    j->rep.file_vi = j->file_vi;
    j->job.work = work;
    j->job.done = done;
    if (a->d.report_pool == NULL) { /* no pool (the module alone in a test): on the loop */
        lc_req_hold(req);
        j->body = build(a->d.store, j->arg);
        done(&j->job, 0);
        return;
    }
    lc_req_hold(req);
    if (lc_workers_submit(a->d.report_pool, &j->job) < 0) {
        lc_reply_error(req, 503, "shutting_down", "the server is shutting down");
        lc_req_release(req);
        free(j->arg);
        free(j);
    }
}
