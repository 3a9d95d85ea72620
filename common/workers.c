/* common/workers.c — worker threads with a done-queue drained on the loop; see workers.h. */
#include "common/workers.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

struct lc_workers {
    uv_async_t async;
    uv_mutex_t mu;
    uv_cond_t cond;
    uv_thread_t *threads;
    int nthreads;
    struct lc_job *todo_head, *todo_tail;   /* FIFO */
    struct lc_job *done_head, *done_tail;
    size_t pending;                          /* loop-thread view: submitted, done not yet run */
    bool stop;
};

static void worker(void *arg)
{
    struct lc_workers *p = arg;
    uv_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->todo_head == NULL)
            uv_cond_wait(&p->cond, &p->mu);
        if (p->stop)
            break;
        struct lc_job *j = p->todo_head;
        p->todo_head = j->next;
        if (p->todo_head == NULL)
            p->todo_tail = NULL;
        uv_mutex_unlock(&p->mu);
        j->work(j);
        uv_mutex_lock(&p->mu);
        j->next = NULL;
        if (p->done_tail)
            p->done_tail->next = j;
        else
            p->done_head = j;
        p->done_tail = j;
        uv_async_send(&p->async);
    }
    uv_mutex_unlock(&p->mu);
}

static void drain(struct lc_workers *p)
{
    uv_mutex_lock(&p->mu);
    struct lc_job *j = p->done_head;
    p->done_head = p->done_tail = NULL;
    uv_mutex_unlock(&p->mu);
    while (j != NULL) {
        struct lc_job *next = j->next;
        p->pending--;
        j->done(j, 0);
        j = next;
    }
}

static void on_async(uv_async_t *a)
{
    drain(a->data);
}

int lc_workers_open(struct lc_workers **out, uv_loop_t *loop, int threads)
{
    struct lc_workers *p = calloc(1, sizeof *p);
    if (p == NULL)
        return -ENOMEM;
    p->threads = calloc((size_t)threads, sizeof *p->threads);
    if (p->threads == NULL) {
        free(p);
        return -ENOMEM;
    }
    uv_mutex_init(&p->mu);
    uv_cond_init(&p->cond);
    int rc = uv_async_init(loop, &p->async, on_async);
    if (rc < 0) {
        uv_cond_destroy(&p->cond);
        uv_mutex_destroy(&p->mu);
        free(p->threads);
        free(p);
        return rc;
    }
    p->async.data = p;
    for (int i = 0; i < threads; i++) {
        uv_thread_options_t opt = {UV_THREAD_HAS_STACK_SIZE, 4 << 20};
        if (uv_thread_create_ex(&p->threads[i], &opt, worker, p) != 0)
            break;
        p->nthreads++;
    }
    if (p->nthreads == 0) {
        lc_workers_close(p);
        return -EAGAIN;
    }
    *out = p;
    return 0;
}

int lc_workers_submit(struct lc_workers *p, struct lc_job *job)
{
    uv_mutex_lock(&p->mu);
    if (p->stop) {
        uv_mutex_unlock(&p->mu);
        return -ESHUTDOWN;
    }
    job->next = NULL;
    if (p->todo_tail)
        p->todo_tail->next = job;
    else
        p->todo_head = job;
    p->todo_tail = job;
    p->pending++;
    uv_cond_signal(&p->cond);
    uv_mutex_unlock(&p->mu);
    return 0;
}

int lc_workers_submit_first(struct lc_workers *p, struct lc_job *job)
{
    uv_mutex_lock(&p->mu);
    if (p->stop) {
        uv_mutex_unlock(&p->mu);
        return -ESHUTDOWN;
    }
    job->next = p->todo_head;
    p->todo_head = job;
    if (p->todo_tail == NULL)
        p->todo_tail = job;
    p->pending++;
    uv_cond_signal(&p->cond);
    uv_mutex_unlock(&p->mu);
    return 0;
}

size_t lc_workers_pending(struct lc_workers *p)
{
    return p->pending;
}

static void on_closed(uv_handle_t *h)
{
    struct lc_workers *p = h->data;
    uv_cond_destroy(&p->cond);
    uv_mutex_destroy(&p->mu);
    free(p->threads);
    free(p);
}

void lc_workers_close(struct lc_workers *p)
{
    if (p == NULL)
        return;
    uv_mutex_lock(&p->mu);
    p->stop = true;
    struct lc_job *todo = p->todo_head;
    p->todo_head = p->todo_tail = NULL;
    uv_cond_broadcast(&p->cond);
    uv_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++)
        uv_thread_join(&p->threads[i]);
    drain(p);
    while (todo != NULL) {
        struct lc_job *next = todo->next;
        p->pending--;
        todo->done(todo, 1);
        todo = next;
    }
    uv_close((uv_handle_t *)&p->async, on_closed);
}
