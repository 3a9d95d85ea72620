/*
 * server/icecast/icecast_source.c — the source client: one thread per mount, libshout in its
 * blocking mode on that thread only. The loop hands pages over by copy into the mount's queue
 * (bounded by QUEUE_MAX bytes, about a minute of audio); the thread waits on a condition variable.
 *
 * A connection that fails (Icecast down, refused, a send error) is tried again after 1, 2, 4 ...
 * 30 s; pages queued while disconnected are dropped at the next connection, which starts again
 * with the header pages (Icecast takes it as a new stream of the mount; its listeners were cut
 * when the old one went). The thread ends after the EOS page, or at once when told to stop.
 *
 * Ownership: a mount is shared by the loop (until lc_ice_mount_end) and its thread; the last of
 * the two frees it (refs under its mutex). The threads are detached; a process-wide list lets
 * lc_ice_mounts_stop_all() reach them and lc_ice_mounts_wait() wait for them at shutdown.
 */
#define LC_LOG_MODULE "icecast"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <shout/shout.h>

#include "common/log.h"
#include "server/icecast/icecast_internal.h"

#define QUEUE_MAX (512 * 1024)  /* bytes queued for one mount; past it: dropped, connect again */
#define BACKOFF_MAX_S 30

struct qpage {
    struct qpage *next;
    size_t len;
    unsigned char data[];
};

struct lc_ice_mount {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct qpage *head, *tail;
    size_t qbytes;
    bool ended;                 /* no more pages (the loop let go) */
    bool stop;                  /* shutdown: end now */
    bool overflow;              /* pages were dropped: connect again */
    int refs;
    struct lc_ice_mount *gnext; /* in the process-wide list */
    unsigned char *headers;
    size_t hlen;
    char mount[80];
    char host[256], user[128], pass[256];
    int port;
};

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static struct lc_ice_mount *g_mounts;   /* threads running */

static void q_clear(struct lc_ice_mount *m)
{
    for (struct qpage *p = m->head, *nx; p; p = nx) {
        nx = p->next;
        free(p);
    }
    m->head = m->tail = NULL;
    m->qbytes = 0;
}

/* Drops one reference (mutex not held); frees the mount at zero. */
static void mount_unref(struct lc_ice_mount *m)
{
    pthread_mutex_lock(&m->mu);
    bool last = --m->refs == 0;
    pthread_mutex_unlock(&m->mu);
    if (!last)
        return;
    q_clear(m);
    free(m->headers);
    pthread_mutex_destroy(&m->mu);
    pthread_cond_destroy(&m->cv);
    free(m);
}

/* Waits on the mount's condition until woken or s seconds passed (mutex held). */
static void wait_s(struct lc_ice_mount *m, int s)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += s;
    pthread_cond_timedwait(&m->cv, &m->mu, &ts);
}

static shout_t *connect_once(struct lc_ice_mount *m)
{
    shout_t *sh = shout_new();
    if (sh == NULL)
        return NULL;
    if (shout_set_host(sh, m->host) != SHOUTERR_SUCCESS ||
        shout_set_port(sh, (unsigned short)m->port) != SHOUTERR_SUCCESS ||
        shout_set_user(sh, m->user) != SHOUTERR_SUCCESS ||
        shout_set_password(sh, m->pass) != SHOUTERR_SUCCESS ||
        shout_set_mount(sh, m->mount) != SHOUTERR_SUCCESS ||
        shout_set_protocol(sh, SHOUT_PROTOCOL_HTTP) != SHOUTERR_SUCCESS ||
        shout_set_tls(sh, SHOUT_TLS_DISABLED) != SHOUTERR_SUCCESS ||
        shout_set_content_format(sh, SHOUT_FORMAT_OGG, SHOUT_USAGE_AUDIO, NULL) !=
            SHOUTERR_SUCCESS ||
        shout_set_agent(sh, "loacast") != SHOUTERR_SUCCESS) {
        lc_log(LC_LOG_ERR, "%s: libshout settings: %s", m->mount, shout_get_error(sh));
        shout_free(sh);
        return NULL;
    }
    if (shout_open(sh) != SHOUTERR_SUCCESS) {
        lc_log(LC_LOG_WARN, "%s: cannot connect to Icecast %s:%d: %s", m->mount, m->host, m->port,
               shout_get_error(sh));
        shout_free(sh);
        return NULL;
    }
    return sh;
}

static void *mount_main(void *arg)
{
    struct lc_ice_mount *m = arg;
    shout_t *sh = NULL;
    int backoff = 1, tries = 0;

    pthread_mutex_lock(&m->mu);
    for (;;) {
        if (m->stop || (m->ended && m->head == NULL))
            break;
        if (sh == NULL) {
            if (m->ended && tries > 0)
                break; /* down at the end: what is left is dropped */
            pthread_mutex_unlock(&m->mu);
            sh = connect_once(m);
            pthread_mutex_lock(&m->mu);
            if (sh == NULL) {
                tries++;
                if (m->stop || m->ended)
                    break;
                wait_s(m, backoff);
                backoff = backoff * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : backoff * 2;
                continue;
            }
            if (tries > 0 || m->overflow) /* stale: the stream goes on from the next page */
                q_clear(m);
            m->overflow = false;
            lc_log(LC_LOG_INFO, "%s: connected to Icecast %s:%d%s", m->mount, m->host, m->port,
                   tries > 0 ? " again" : "");
            tries = 0;
            backoff = 1;
            pthread_mutex_unlock(&m->mu);
            int rc = shout_send(sh, m->headers, m->hlen);
            pthread_mutex_lock(&m->mu);
            if (rc != SHOUTERR_SUCCESS)
                goto send_failed;
            continue;
        }
        if (m->overflow) {
            lc_log(LC_LOG_WARN, "%s: Icecast does not keep up: pages dropped, connecting again",
                   m->mount);
            shout_close(sh);
            shout_free(sh);
            sh = NULL;
            tries = 1;
            continue;
        }
        struct qpage *p = m->head;
        if (p == NULL) {
            pthread_cond_wait(&m->cv, &m->mu);
            continue;
        }
        m->head = p->next;
        if (m->head == NULL)
            m->tail = NULL;
        m->qbytes -= p->len;
        pthread_mutex_unlock(&m->mu);
        int rc = shout_send(sh, p->data, p->len);
        free(p);
        pthread_mutex_lock(&m->mu);
        if (rc == SHOUTERR_SUCCESS)
            continue;
send_failed:
        lc_log(LC_LOG_WARN, "%s: Icecast %s:%d: send failed: %s", m->mount, m->host, m->port,
               shout_get_error(sh));
        shout_close(sh);
        shout_free(sh);
        sh = NULL;
        tries = 1;
        if (!m->stop && !m->ended)
            wait_s(m, 1);
    }
    pthread_mutex_unlock(&m->mu);
    if (sh != NULL) {
        shout_close(sh);
        shout_free(sh);
        lc_log(LC_LOG_INFO, "%s: disconnected from Icecast (the stream ended)", m->mount);
    }
    pthread_mutex_lock(&g_mu);
    for (struct lc_ice_mount **pp = &g_mounts; *pp; pp = &(*pp)->gnext)
        if (*pp == m) {
            *pp = m->gnext;
            break;
        }
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
    mount_unref(m);
    return NULL;
}

struct lc_ice_mount *lc_ice_mount_start(struct lc_icecast *ic, const char *commune,
                                        const unsigned char *headers, size_t len)
{
    struct lc_ice_mount *m = calloc(1, sizeof *m);
    if (m == NULL)
        goto fail;
    m->headers = malloc(len);
    if (m->headers == NULL) {
        free(m);
        goto fail;
    }
    memcpy(m->headers, headers, len);
    m->hlen = len;
    snprintf(m->mount, sizeof m->mount, "/%s.opus", commune);
    snprintf(m->host, sizeof m->host, "%s", ic->host);
    snprintf(m->user, sizeof m->user, "%s", ic->user);
    snprintf(m->pass, sizeof m->pass, "%s", ic->pass);
    m->port = ic->port;
    m->refs = 2; /* the loop's and the thread's */
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    pthread_mutex_lock(&g_mu);
    m->gnext = g_mounts;
    g_mounts = m;
    pthread_mutex_unlock(&g_mu);
    pthread_t th;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&th, &at, mount_main, m);
    pthread_attr_destroy(&at);
    if (rc != 0) {
        pthread_mutex_lock(&g_mu);
        g_mounts = m->gnext; /* still first: nothing else ran meanwhile on the loop */
        pthread_mutex_unlock(&g_mu);
        m->refs = 1;
        mount_unref(m);
        lc_log(LC_LOG_ERR, "/%s.opus: cannot start the Icecast source thread: %s", commune,
               strerror(rc));
        return NULL;
    }
    return m;
fail:
    lc_log(LC_LOG_ERR, "/%s.opus: out of memory", commune);
    return NULL;
}

void lc_ice_mount_page(struct lc_ice_mount *m, const unsigned char *data, size_t len)
{
    struct qpage *p = malloc(sizeof *p + len);
    pthread_mutex_lock(&m->mu);
    if (p == NULL || m->qbytes + len > QUEUE_MAX) {
        q_clear(m);
        m->overflow = true;
        free(p);
    } else {
        p->next = NULL;
        p->len = len;
        memcpy(p->data, data, len);
        if (m->tail)
            m->tail->next = p;
        else
            m->head = p;
        m->tail = p;
        m->qbytes += len;
    }
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
}

void lc_ice_mount_end(struct lc_ice_mount *m)
{
    pthread_mutex_lock(&m->mu);
    m->ended = true;
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
    mount_unref(m);
}

void lc_ice_mounts_stop_all(void)
{
    pthread_mutex_lock(&g_mu);
    for (struct lc_ice_mount *m = g_mounts; m; m = m->gnext) {
        pthread_mutex_lock(&m->mu);
        m->stop = true;
        pthread_cond_signal(&m->cv);
        pthread_mutex_unlock(&m->mu);
    }
    pthread_mutex_unlock(&g_mu);
}

bool lc_ice_mounts_wait(int wait_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += wait_ms / 1000;
    ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&g_mu);
    while (g_mounts != NULL)
        if (pthread_cond_timedwait(&g_cv, &g_mu, &ts) == ETIMEDOUT)
            break;
    bool done = g_mounts == NULL;
    pthread_mutex_unlock(&g_mu);
    return done;
}
