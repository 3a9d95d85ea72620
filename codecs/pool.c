/*
 * codecs/pool.c — worker pool; see pool.h.
 *
 * One mutex guards the FIFO of jobs; workers sleep on `work`. A job's batch counter is decremented
 * under the batch's own mutex after the job returns, so a waiter sees all of its jobs' effects.
 */
#include "codecs/pool.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

struct job {
    struct job *next;
    lc_pool_job_cb fn;
    void *arg;
    struct lc_pool_batch *batch;
};

struct lc_pool {
    pthread_mutex_t mu;
    pthread_cond_t work;
    struct job *head, *tail;
    int stopping;
    int nthreads;
    pthread_t *threads;
};

static void *worker_main(void *arg)
{
    struct lc_pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->head == NULL && !p->stopping)
            pthread_cond_wait(&p->work, &p->mu);
        struct job *j = p->head;
        if (j == NULL) { /* stopping and drained */
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        p->head = j->next;
        if (p->head == NULL)
            p->tail = NULL;
        pthread_mutex_unlock(&p->mu);

        j->fn(j->arg);
        struct lc_pool_batch *b = j->batch;
        free(j);
        pthread_mutex_lock(&b->mu);
        if (--b->pending == 0)
            pthread_cond_broadcast(&b->cv);
        pthread_mutex_unlock(&b->mu);
    }
}

int lc_pool_ncpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}

int lc_pool_open(struct lc_pool **out, int n)
{
    struct lc_pool *p = calloc(1, sizeof *p);
    if (p == NULL)
        return -ENOMEM;
    p->threads = calloc((size_t)n, sizeof *p->threads);
    if (p->threads == NULL) {
        free(p);
        return -ENOMEM;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    for (int i = 0; i < n; i++) {
        if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0) {
            p->nthreads = i;
            lc_pool_close(p);
            return -EAGAIN;
        }
    }
    p->nthreads = n;
    *out = p;
    return 0;
}

void lc_pool_close(struct lc_pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->mu);
    free(p->threads);
    free(p);
}

void lc_pool_batch_init(struct lc_pool_batch *b)
{
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    b->pending = 0;
}

void lc_pool_batch_destroy(struct lc_pool_batch *b)
{
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
}

static int submit(struct lc_pool *p, struct lc_pool_batch *b, lc_pool_job_cb fn, void *arg,
                  bool first)
{
    struct job *j = malloc(sizeof *j);
    if (j == NULL)
        return -ENOMEM;
    j->next = NULL;
    j->fn = fn;
    j->arg = arg;
    j->batch = b;
    pthread_mutex_lock(&b->mu);
    b->pending++;
    pthread_mutex_unlock(&b->mu);
    pthread_mutex_lock(&p->mu);
    if (first) {
        j->next = p->head;
        p->head = j;
        if (p->tail == NULL)
            p->tail = j;
    } else if (p->tail) {
        p->tail->next = j;
        p->tail = j;
    } else {
        p->head = p->tail = j;
    }
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

int lc_pool_submit(struct lc_pool *p, struct lc_pool_batch *b, lc_pool_job_cb fn, void *arg)
{
    return submit(p, b, fn, arg, false);
}

int lc_pool_submit_first(struct lc_pool *p, struct lc_pool_batch *b, lc_pool_job_cb fn, void *arg)
{
    return submit(p, b, fn, arg, true);
}

void lc_pool_batch_wait(struct lc_pool_batch *b)
{
    pthread_mutex_lock(&b->mu);
    while (b->pending > 0)
        pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
}
