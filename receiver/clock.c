/*
 * receiver/clock.c — the box's clock and the server's as estimated; see clock.h.
 */
#include "receiver/clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <jansson.h>

struct sample {
    int64_t offset, delay;
};

struct rcv_clock {
    const struct rcv_config *c;
    pthread_mutex_t mu;
    struct sample s[RCV_CLOCK_SAMPLES];    /* a ring: the last n exchanges */
    size_t n, next;
};

int64_t rcv_local_us(const struct rcv_config *c)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + c->clock_skew_ms * 1000;
}

struct rcv_clock *rcv_clock_new(const struct rcv_config *c)
{
    struct rcv_clock *k = calloc(1, sizeof *k);
    if (k == NULL)
        return NULL;
    k->c = c;
    if (pthread_mutex_init(&k->mu, NULL) != 0) {
        free(k);
        return NULL;
    }
    return k;
}

void rcv_clock_free(struct rcv_clock *k)
{
    if (k == NULL)
        return;
    pthread_mutex_destroy(&k->mu);
    free(k);
}

void rcv_clock_add(struct rcv_clock *k, int64_t t0, int64_t t1, int64_t t2, int64_t t3)
{
    struct sample x = {.offset = ((t1 - t0) + (t2 - t3)) / 2, .delay = (t3 - t0) - (t2 - t1)};
    if (x.delay < 0)
        x.delay = 0; /* clocks' rounding: a negative round trip is a zero one */
    pthread_mutex_lock(&k->mu);
    k->s[k->next] = x;
    k->next = (k->next + 1) % RCV_CLOCK_SAMPLES;
    if (k->n < RCV_CLOCK_SAMPLES)
        k->n++;
    pthread_mutex_unlock(&k->mu);
}

bool rcv_clock_estimate(struct rcv_clock *k, int64_t *offset_us, int64_t *delay_us)
{
    pthread_mutex_lock(&k->mu);
    const struct sample *best = NULL;
    for (size_t i = 0; i < k->n; i++)
        if (best == NULL || k->s[i].delay < best->delay)
            best = &k->s[i];
    *offset_us = best ? best->offset : 0;
    *delay_us = best ? best->delay : -1;
    pthread_mutex_unlock(&k->mu);
    return best != NULL;
}

int64_t rcv_server_us(struct rcv_clock *k)
{
    int64_t offset, delay;
    rcv_clock_estimate(k, &offset, &delay);
    return rcv_local_us(k->c) + offset;
}

int rcv_clock_exchange(struct rcv_clock *k, struct rcv_net *n, int timeout_s, char *why,
                       size_t whylen)
{
    struct rcv_answer a;
    int64_t t0 = rcv_local_us(k->c);
    int rc = rcv_net_get(n, "/api/v1/time", timeout_s, &a, why, whylen);
    int64_t t3 = rcv_local_us(k->c);
    if (rc < 0)
        return -1;
    rc = -1;
    json_t *j = a.status == 200 && a.body ? json_loadb(a.body, a.len, 0, NULL) : NULL;
    json_t *r = json_object_get(j, "received_us"), *s = json_object_get(j, "sent_us");
    if (a.status != 200) {
        snprintf(why, whylen, "GET /api/v1/time: HTTP %ld", a.status);
    } else if (!json_is_integer(r) || !json_is_integer(s) ||
               json_integer_value(s) < json_integer_value(r)) {
        snprintf(why, whylen, "GET /api/v1/time: malformed answer");
    } else {
        rcv_clock_add(k, t0, json_integer_value(r), json_integer_value(s), t3);
        rc = 0;
    }
    json_decref(j);
    free(a.body);
    return rc;
}
