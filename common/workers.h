/*
 * common/workers.h — a pool of our own worker threads for blocking jobs, with results back on the
 * loop thread.
 *
 * Why not uv_queue_work: rendering takes seconds and Argon2id a tenth of one; both would fill
 * libuv's small shared pool (which also serves DNS and fs requests). Each kind of job gets its
 * own pool with a fixed number of threads.
 *
 *   loop thread                     worker threads
 *   lc_workers_submit(job) ─ queue ──▶ job->work(job)      (must not touch the loop or the DB)
 *   job->done(job, 0)  ◀── done ──  push, uv_async_send  (sends coalesce: on_async drains all)
 *
 * Ownership: the job is embedded in the caller's struct (container_of); the pool only links
 * it. done() runs exactly once per submitted job, on the loop thread, and is where the caller
 * frees it. At close, running jobs finish (close blocks until they do), and jobs never started
 * get done(job, 1) ("cancelled").
 */
#ifndef LC_SERVER_WORKERS_H
#define LC_SERVER_WORKERS_H

#include <stddef.h>

#include <uv.h>

struct lc_job;
typedef void (*lc_job_work_cb)(struct lc_job *job);
typedef void (*lc_job_done_cb)(struct lc_job *job, int cancelled);

struct lc_job {
    lc_job_work_cb work;
    lc_job_done_cb done;
    struct lc_job *next;    /* private */
};

struct lc_workers;

int lc_workers_open(struct lc_workers **out, uv_loop_t *loop, int threads);
/* Queues job (work and done set by the caller). -ESHUTDOWN once the pool is closing. */
int lc_workers_submit(struct lc_workers *p, struct lc_job *job);
/* Like lc_workers_submit, but job goes ahead of the waiting jobs (emergencies, issue 5); jobs
 * already running are not interrupted. */
int lc_workers_submit_first(struct lc_workers *p, struct lc_job *job);
/* Jobs waiting plus jobs running. */
size_t lc_workers_pending(struct lc_workers *p);
/* Finishes the running jobs, cancels the waiting ones (their done callbacks run before this
 * returns), joins the threads; the pool is freed once its async handle closed. */
void lc_workers_close(struct lc_workers *p);

#endif
