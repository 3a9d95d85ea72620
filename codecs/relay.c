/*
 * codecs/relay.c — a relay: its thread (connect, read, back off), its packet queue, its end;
 * see relay.h.
 *
 * Lifecycle of the thread:
 *
 *   state       does                                          leaves on
 *   CONNECT     relay_pull_open() (deadline timeout_ms)        open → READ; failure → WAIT
 *   READ        relay_pull_read() → chain → queue             end, error, stall → WAIT
 *   WAIT        sleeps backoff (doubling, min..max; back to    time → CONNECT; max_attempts
 *               min after a connection that gave audio)        reached → ENDED
 *   any         —                                             stop flag → exit
 *
 * The queue is a ring of fixed slots (LC_RELAY_MAX_PACKET bytes each) under the relay's mutex;
 * the thread pushes, the consumer takes. When the ring is full the oldest packet goes.
 *
 * Ownership: two references, the caller's handle and the thread; lc_relay_close() drops the
 * first, the thread's end the second, and the last frees. The thread is detached; the process
 * counts its live relay threads (lc_relay_wait_all).
 */
#define LC_LOG_MODULE "relay"
#include "codecs/relay.h"
#include "codecs/relay_internal.h"
#include "codecs/av_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libavformat/avformat.h>

#include "common/log.h"
#include "common/redact.h"

struct slot {
    uint16_t len;
    unsigned char data[LC_RELAY_MAX_PACKET];
};

struct lc_relay {
    struct lc_relay_opts o;
    char *url;                  /* owned copy of o.url */
    char shown[512];            /* the URL as logged: secrets hidden (common/redact.h) */
    pthread_mutex_t mu;
    pthread_cond_t wake;        /* the stop flag was set */
    atomic_bool stop;
    int refs;                   /* under mu */
    /* the queue, under mu */
    struct slot *ring;
    size_t cap, head, n;
    struct lc_relay_stats st;
    /* the thread's own */
    struct relay_chain chain;
};

/* ---- the process's relay threads ------------------------------------------------------------ */

static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t live_cv = PTHREAD_COND_INITIALIZER;
static int live;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_once(void)
{
    avformat_network_init();
    lc_av_init(); /* libav's messages into our log */
}

int lc_relay_wait_all(int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&live_mu);
    while (live > 0 && pthread_cond_timedwait(&live_cv, &live_mu, &until) == 0)
        ;
    int n = live;
    pthread_mutex_unlock(&live_mu);
    return n;
}

/* ---- the object ------------------------------------------------------------------------------ */

static void relay_free(struct lc_relay *r)
{
    relay_chain_free(&r->chain);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->wake);
    free(r->ring);
    free(r->url);
    free(r);
}

/* Drops one reference; the last frees. */
static void put(struct lc_relay *r)
{
    pthread_mutex_lock(&r->mu);
    int left = --r->refs;
    pthread_mutex_unlock(&r->mu);
    if (left == 0)
        relay_free(r);
}

static void on_packet(void *arg, const unsigned char *pkt, size_t len)
{
    struct lc_relay *r = arg;
    pthread_mutex_lock(&r->mu);
    if (r->n == r->cap) { /* full: the oldest goes */
        r->head = (r->head + 1) % r->cap;
        r->n--;
        r->st.dropped++;
    }
    struct slot *s = &r->ring[(r->head + r->n) % r->cap];
    s->len = (uint16_t)len;
    memcpy(s->data, pkt, len);
    r->n++;
    r->st.packets++;
    pthread_mutex_unlock(&r->mu);
}

size_t lc_relay_take(struct lc_relay *r, unsigned char *pkt)
{
    size_t len = 0;
    pthread_mutex_lock(&r->mu);
    if (r->n > 0) {
        struct slot *s = &r->ring[r->head];
        len = s->len;
        memcpy(pkt, s->data, len);
        r->head = (r->head + 1) % r->cap;
        r->n--;
    }
    pthread_mutex_unlock(&r->mu);
    return len;
}

size_t lc_relay_queued(struct lc_relay *r)
{
    pthread_mutex_lock(&r->mu);
    size_t n = r->n;
    pthread_mutex_unlock(&r->mu);
    return n;
}

size_t lc_relay_trim(struct lc_relay *r, size_t keep)
{
    size_t gone = 0;
    pthread_mutex_lock(&r->mu);
    if (r->n > keep) {
        gone = r->n - keep;
        r->head = (r->head + gone) % r->cap;
        r->n = keep;
        r->st.dropped += gone;
    }
    pthread_mutex_unlock(&r->mu);
    return gone;
}

void lc_relay_stats(struct lc_relay *r, struct lc_relay_stats *st)
{
    pthread_mutex_lock(&r->mu);
    *st = r->st;
    pthread_mutex_unlock(&r->mu);
}

/* ---- the thread ------------------------------------------------------------------------------ */

static bool stopped(struct lc_relay *r)
{
    return atomic_load(&r->stop);
}

/* Sleeps ms unless the relay stops first. */
static void nap(struct lc_relay *r, int ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&r->mu);
    while (!stopped(r) && pthread_cond_timedwait(&r->wake, &r->mu, &until) == 0)
        ;
    pthread_mutex_unlock(&r->mu);
}

static void set_connected(struct lc_relay *r, bool on, bool first_audio)
{
    pthread_mutex_lock(&r->mu);
    r->st.connected = on;
    if (first_audio)
        r->st.connects++;
    r->st.gain_db = r->chain.level.gain_db;
    pthread_mutex_unlock(&r->mu);
}

/* One connection: open, read until it ends. Returns true if audio flowed. */
static bool session(struct lc_relay *r, uint64_t attempt)
{
    struct relay_pull p = {0};
    struct lc_err err = {0};
    lc_log(LC_LOG_INFO, "%s: connecting (attempt %llu)", r->shown, (unsigned long long)attempt);
    if (relay_pull_open(&p, r->url, r->o.allow_file, r->o.timeout_ms, &r->stop, &err) < 0) {
        if (!stopped(r))
            lc_log(LC_LOG_WARN, "%s: %s", r->shown, lc_err_msg(&err));
        return false;
    }
    lc_log(LC_LOG_INFO, "%s: connected (%s)", r->shown, p.desc);
    bool audio = false;
    uint64_t samples = 0;
    int rc;
    for (;;) {
        const float *pcm = NULL;
        size_t n = 0;
        if ((rc = relay_pull_read(&p, &pcm, &n, &err)) < 0)
            break;
        if (!audio) {
            audio = true;
            set_connected(r, true, true);
        }
        if ((rc = relay_chain_feed(&r->chain, pcm, n, p.rate)) < 0) {
            lc_err_set(&err, rc, "%s", rc == -ENOMEM ? "out of memory" : "encoding failed");
            break;
        }
        samples += n;
        set_connected(r, true, false); /* the gain, for the stats */
    }
    set_connected(r, false, false);
    if (!stopped(r))
        lc_log(LC_LOG_WARN, "%s: upstream lost after %.1f s of audio: %s", r->shown,
               p.rate > 0 ? (double)samples / p.rate : 0.0, lc_err_msg(&err));
    relay_pull_close(&p);
    return audio;
}

static void *relay_main(void *arg)
{
    struct lc_relay *r = arg;
    int wait_ms = r->o.backoff_min_ms;
    for (uint64_t attempt = 1; !stopped(r); attempt++) {
        pthread_mutex_lock(&r->mu);
        r->st.attempts = attempt;
        pthread_mutex_unlock(&r->mu);
        if (session(r, attempt))
            wait_ms = r->o.backoff_min_ms; /* it flowed: a fresh start */
        if (stopped(r))
            break;
        if (r->o.max_attempts > 0 && attempt >= (uint64_t)r->o.max_attempts) {
            lc_log(LC_LOG_INFO, "%s: ended after %llu attempts", r->shown,
                   (unsigned long long)attempt);
            pthread_mutex_lock(&r->mu);
            r->st.ended = true;
            pthread_mutex_unlock(&r->mu);
            break;
        }
        lc_log(LC_LOG_INFO, "%s: next attempt in %.1f s", r->shown, wait_ms / 1000.0);
        nap(r, wait_ms);
        wait_ms = wait_ms * 2 > r->o.backoff_max_ms ? r->o.backoff_max_ms : wait_ms * 2;
    }
    put(r);
    pthread_mutex_lock(&live_mu);
    live--;
    pthread_cond_broadcast(&live_cv);
    pthread_mutex_unlock(&live_mu);
    return NULL;
}

/* ---- open, close ------------------------------------------------------------------------------ */

static int check_opts(const struct lc_relay_opts *o, struct lc_err *err)
{
    if (o->url == NULL || o->url[0] == 0)
        return lc_err_set(err, -EINVAL, "a relay needs a URL");
    bool net = strncmp(o->url, "http://", 7) == 0 || strncmp(o->url, "https://", 8) == 0;
    if (!net && !(o->allow_file && strstr(o->url, "://") == NULL))
        return lc_err_set(err, -EINVAL, "a relay URL is http:// or https://");
    if (o->bitrate_kbps < 12 || o->bitrate_kbps > 64 || o->complexity < 0 || o->complexity > 10)
        return lc_err_set(err, -EINVAL, "bad Opus settings");
    if (o->queue_ms < 200 || o->timeout_ms < 500 || o->backoff_min_ms < 50 ||
        o->backoff_max_ms < o->backoff_min_ms || o->max_attempts < 0)
        return lc_err_set(err, -EINVAL, "bad relay timings");
    return 0;
}

int lc_relay_open(struct lc_relay **out, const struct lc_relay_opts *o, struct lc_err *err)
{
    int rc = check_opts(o, err);
    if (rc < 0)
        return rc;
    pthread_once(&once, init_once);
    struct lc_relay *r = calloc(1, sizeof *r);
    if (r == NULL)
        return lc_err_set(err, -ENOMEM, "out of memory");
    r->o = *o;
    r->cap = (size_t)o->queue_ms / 20;
    r->url = strdup(o->url);
    lc_url_redact(o->url, r->shown, sizeof r->shown);
    r->ring = calloc(r->cap, sizeof *r->ring);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->wake, NULL);
    atomic_init(&r->stop, false);
    r->o.url = r->url;
    if (r->url == NULL || r->ring == NULL) {
        relay_free(r);
        return lc_err_set(err, -ENOMEM, "out of memory");
    }
    if ((rc = relay_chain_init(&r->chain, o, on_packet, r, err)) < 0) {
        relay_free(r);
        return rc;
    }
    r->refs = 2; /* the caller's and the thread's */
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_t th;
    pthread_mutex_lock(&live_mu);
    live++;
    pthread_mutex_unlock(&live_mu);
    if (pthread_create(&th, &at, relay_main, r) != 0) {
        pthread_mutex_lock(&live_mu);
        live--;
        pthread_mutex_unlock(&live_mu);
        pthread_attr_destroy(&at);
        relay_free(r);
        return lc_err_set(err, -EAGAIN, "cannot start the relay's thread");
    }
    pthread_attr_destroy(&at);
    *out = r;
    return 0;
}

void lc_relay_close(struct lc_relay *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    atomic_store(&r->stop, true);
    pthread_cond_broadcast(&r->wake);
    pthread_mutex_unlock(&r->mu);
    put(r);
}
