/*
 * codecs/pool.h — a fixed pool of worker threads for CPU-bound jobs (Opus encoding).
 *
 * Jobs run in submission order on the first free thread. A batch counts the jobs a caller
 * submitted and lets it wait for all of them; the caller must not be a pool thread (a pool thread
 * that waits on its own pool can deadlock). Long jobs stay here, out of libuv's small shared pool.
 */
#ifndef LC_CODECS_POOL_H
#define LC_CODECS_POOL_H

#include <pthread.h>

struct lc_pool;

struct lc_pool_batch {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int pending;
};

typedef void (*lc_pool_job_cb)(void *arg);

/* Starts n threads (n >= 1). */
int lc_pool_open(struct lc_pool **out, int n);
/* Runs the jobs already queued, then joins the threads and frees the pool. NULL is a no-op. */
void lc_pool_close(struct lc_pool *p);

void lc_pool_batch_init(struct lc_pool_batch *b);
void lc_pool_batch_destroy(struct lc_pool_batch *b);
/* Queues fn(arg) as part of batch b. -ENOMEM leaves nothing queued. */
int lc_pool_submit(struct lc_pool *p, struct lc_pool_batch *b, lc_pool_job_cb fn, void *arg);
/* The same, ahead of every job waiting (an emergency's render does not wait behind long ones). */
int lc_pool_submit_first(struct lc_pool *p, struct lc_pool_batch *b, lc_pool_job_cb fn,
                         void *arg);
/* Waits until every job of b has returned. */
void lc_pool_batch_wait(struct lc_pool_batch *b);

/* Number of online CPUs (at least 1). */
int lc_pool_ncpu(void);

#endif
