/*
 * receiver/main.c — loacast-receiver --config FILE: the threads of receiver.h around one shared
 * schedule.
 *
 * struct shared holds the current schedule as a refcounted snapshot: the poller publishes a new
 * one (generation + 1, a broadcast on cv); the player and the prefetcher take a reference
 * (shared_get) and give it back (shared_put); the last reference frees it. Nothing else is
 * shared but the clock (thread-safe), the journal (thread-safe) and a few status fields under
 * the same mutex. Each thread has its own rcv_net handle.
 *
 * Shutdown: SIGTERM/SIGINT are blocked in every thread and taken by sigwait() in main, which sets
 * stop and wakes every wait. The player, clock and reporter end within a buffer or a wait; the
 * poller and prefetcher may be inside an HTTP request (a long-poll holds up to poll_wait_s), so
 * main waits for them a little only, sends the journal one last time and exits.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "receiver/cache.h"
#include "receiver/clock.h"
#include "receiver/journal.h"
#include "receiver/net.h"
#include "receiver/player.h"
#include "receiver/prefetch.h"
#include "receiver/receiver.h"
#include "receiver/schedule.h"
#include "receiver/status.h"
#include "receiver/sink.h"

#ifndef LOACAST_VERSION
#define LOACAST_VERSION "dev"
#endif

/* A published schedule; s first, so that a const struct rcv_schedule * is the snapshot. */
struct snap {
    struct rcv_schedule s;
    int refs;               /* under shared.mu */
};

struct shared {
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* broadcast on a new schedule and at stop */
    struct snap *cur;       /* NULL: none held */
    atomic_uint_fast64_t gen;
    atomic_bool stop;
    const struct rcv_config *cfg;
    struct rcv_clock *clock;
    struct rcv_journal *journal;
    int64_t started_s;      /* rcv_mono_s() at start */
    char last_error[400];   /* the last error, for the status report (under mu) */
};

static void set_error(struct shared *sh, const char *what)
{
    fprintf(stderr, "loacast-receiver: %s\n", what);
    pthread_mutex_lock(&sh->mu);
    snprintf(sh->last_error, sizeof sh->last_error, "%s", what);
    pthread_mutex_unlock(&sh->mu);
}

static int64_t server_ms(struct shared *sh) { return rcv_server_us(sh->clock) / 1000; }

/* ---- the shared schedule ------------------------------------------------------------------- */

static void snap_unref_locked(struct snap *p)
{
    if (p && --p->refs == 0) {
        rcv_schedule_free(&p->s);
        free(p);
    }
}

/* Takes ownership of *s (moved into a snapshot). */
static void shared_publish(struct shared *sh, struct rcv_schedule *s)
{
    struct snap *p = calloc(1, sizeof *p);
    if (!p) {
        rcv_schedule_free(s);
        return;
    }
    p->s = *s;
    memset(s, 0, sizeof *s);
    p->refs = 1;
    pthread_mutex_lock(&sh->mu);
    snap_unref_locked(sh->cur);
    sh->cur = p;
    atomic_fetch_add(&sh->gen, 1);
    pthread_cond_broadcast(&sh->cv);
    pthread_mutex_unlock(&sh->mu);
}

static const struct rcv_schedule *shared_get(void *arg, uint64_t *gen)
{
    struct shared *sh = arg;
    pthread_mutex_lock(&sh->mu);
    struct snap *p = sh->cur;
    if (p)
        p->refs++;
    if (gen)
        *gen = atomic_load(&sh->gen);
    pthread_mutex_unlock(&sh->mu);
    return p ? &p->s : NULL;
}

static void shared_put(void *arg, const struct rcv_schedule *s)
{
    struct shared *sh = arg;
    pthread_mutex_lock(&sh->mu);
    snap_unref_locked((struct snap *)(void *)s);   /* s is the snapshot's first member */
    pthread_mutex_unlock(&sh->mu);
}

static uint64_t shared_generation(void *arg)
{
    struct shared *sh = arg;
    return atomic_load(&sh->gen);
}

/* Sleeps up to ms; returns early at stop or, with any_gen, when the generation is past gen. */
static void wait_until(struct shared *sh, bool any_gen, uint64_t gen, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ns = ts.tv_nsec + (ms > 0 ? ms : 0) * 1000000;
    ts.tv_sec += ns / 1000000000;
    ts.tv_nsec = ns % 1000000000;
    pthread_mutex_lock(&sh->mu);
    while (!atomic_load(&sh->stop) && (!any_gen || atomic_load(&sh->gen) == gen) &&
           pthread_cond_timedwait(&sh->cv, &sh->mu, &ts) != ETIMEDOUT)
        ;
    pthread_mutex_unlock(&sh->mu);
}

/* Sleeps up to ms; returns early at stop or when the generation is past gen. */
static void shared_wait(void *arg, uint64_t gen, int64_t ms)
{
    wait_until(arg, true, gen, ms);
}

/* Sleeps up to ms unless stopping (a new schedule does not wake it); false when stopping. */
static bool nap(struct shared *sh, int64_t ms)
{
    wait_until(sh, false, 0, ms);
    return !atomic_load(&sh->stop);
}

/* ---- the schedule poller ------------------------------------------------------------------- */

static void *poller_main(void *arg)
{
    struct shared *sh = arg;
    const struct rcv_config *c = sh->cfg;
    char path[512], why[256], msg[400];
    int backoff = 1;
    struct rcv_net *n = rcv_net_new(c);
    if (!n) {
        set_error(sh, "poller: out of memory");
        return NULL;
    }
    while (!atomic_load(&sh->stop)) {
        const struct rcv_schedule *cur = shared_get(sh, NULL);
        int64_t have = cur ? cur->version : 0;
        if (cur)
            shared_put(sh, cur);
        if (have)
            snprintf(path, sizeof path, "/api/v1/receivers/%s/schedule?since=%lld&wait=%d", c->cluster,
                     (long long)have, c->poll_wait_s);
        else
            snprintf(path, sizeof path, "/api/v1/receivers/%s/schedule", c->cluster);
        struct rcv_answer a = {0};
        int rc = rcv_net_get(n, path, c->poll_wait_s + 15, &a, why, sizeof why);
        if (rc == 0 && a.status == 200) {
            struct rcv_schedule s;
            if (rcv_schedule_verify(c, a.body, a.len, have, server_ms(sh), &s, why, sizeof why) == 0) {
                if (rcv_schedule_save(c, a.body, a.len, msg, sizeof msg) != 0)
                    set_error(sh, msg);
                fprintf(stderr, "loacast-receiver: schedule version %lld, %zu session(s)\n",
                        (long long)s.version, s.nsessions);
                shared_publish(sh, &s);
                backoff = 1;
            } else {
                snprintf(msg, sizeof msg, "schedule refused: %s", why);
                set_error(sh, msg);
                rc = -1;
            }
        } else if (rc == 0 && a.status == 304) {
            backoff = 1;
        } else {
            if (rc == 0)
                snprintf(why, sizeof why, "HTTP %ld", a.status);
            snprintf(msg, sizeof msg, "schedule: %s", why);
            set_error(sh, msg);
            rc = -1;
        }
        int retry = a.retry_after;
        free(a.body);
        if (rc != 0) {
            nap(sh, (retry > 0 ? retry : backoff) * 1000LL);
            backoff = backoff < 30 ? backoff * 2 : 60;
        }
    }
    rcv_net_free(n);
    return NULL;
}

/* ---- the prefetcher ------------------------------------------------------------------------- */

struct pf {
    struct shared *sh;
    uint64_t gen;       /* the generation of the schedule being fetched */
};

static bool pf_stop(void *arg)
{
    struct pf *p = arg;
    return atomic_load(&p->sh->stop) || atomic_load(&p->sh->gen) != p->gen;
}

static void pf_error(void *arg, const struct rcv_item *it, const char *why)
{
    struct pf *p = arg;
    char msg[400];
    snprintf(msg, sizeof msg, "media %.16s…: %s", it->hash, why);
    set_error(p->sh, msg);
}

static void *prefetch_main(void *arg)
{
    struct shared *sh = arg;
    const struct rcv_config *c = sh->cfg;
    char why[256];
    struct rcv_net *n = rcv_net_new(c);
    struct pf p = {.sh = sh};
    struct rcv_prefetch_hooks hooks = {.stop = pf_stop, .error = pf_error,
                                       .arg = &p};
    if (!n) {
        set_error(sh, "prefetcher: out of memory");
        return NULL;
    }
    while (!atomic_load(&sh->stop)) {
        const struct rcv_schedule *s = shared_get(sh, &p.gen);
        int left = 0;
        if (s) {
            left = rcv_prefetch_schedule(c, n, s, server_ms(sh), NULL, &hooks);
            if (left >= 0 && rcv_cache_evict(c, s, NULL, why, sizeof why) != 0)
                set_error(sh, why);
            shared_put(sh, s);
        }
        /* a new schedule starts a pass at once; items left over are tried again in 10 s */
        shared_wait(sh, p.gen, left > 0 ? 10000 : 60000);
    }
    rcv_net_free(n);
    return NULL;
}

/* ---- the clock ------------------------------------------------------------------------------ */

static void *clock_main(void *arg)
{
    struct shared *sh = arg;
    char why[256], msg[300];
    struct rcv_net *n = rcv_net_new(sh->cfg);
    if (!n)
        return NULL;
    /* often at the start (8 samples in 4 s, the window the estimate chooses from), then every 10 s */
    for (int i = 0; !atomic_load(&sh->stop); i++) {
        if (rcv_clock_exchange(sh->clock, n, 5, why, sizeof why) != 0) {
            snprintf(msg, sizeof msg, "clock: %s", why);
            set_error(sh, msg);
        }
        if (!nap(sh, i < RCV_CLOCK_SAMPLES ? 500 : 10000))
            break;
    }
    rcv_net_free(n);
    return NULL;
}

/* ---- the reporter: plays every few seconds, status every status_every_s ------------------- */

static void send_status(struct shared *sh, struct rcv_net *n)
{
    char why[256], last_error[400];
    struct rcv_status st;
    const struct rcv_schedule *s = shared_get(sh, NULL);
    pthread_mutex_lock(&sh->mu);
    snprintf(last_error, sizeof last_error, "%s", sh->last_error);
    pthread_mutex_unlock(&sh->mu);
    rcv_status_collect(sh->cfg, sh->clock, s, server_ms(sh), sh->started_s, last_error, &st);
    if (s)
        shared_put(sh, s);
    if (rcv_status_post(sh->cfg, n, &st, 10, why, sizeof why) != 0)
        fprintf(stderr, "loacast-receiver: status: %s\n", why);
}

static void *reporter_main(void *arg)
{
    struct shared *sh = arg;
    char why[256], msg[300];
    struct rcv_net *n = rcv_net_new(sh->cfg);
    int64_t next_status = 0;
    if (!n)
        return NULL;
    for (;;) {
        if (rcv_journal_pending(sh->journal) > 0 &&
            rcv_journal_send(sh->journal, n, 15, NULL, why, sizeof why) != 0) {
            snprintf(msg, sizeof msg, "plays: %s", why);
            set_error(sh, msg);
        }
        if (rcv_mono_us() >= next_status) {
            send_status(sh, n);
            next_status = rcv_mono_us() + sh->cfg->status_every_s * 1000000LL;
        }
        if (!nap(sh, 2000))
            break;
    }
    rcv_journal_send(sh->journal, n, 5, NULL, why, sizeof why);   /* a last try; kept if not */
    rcv_net_free(n);
    return NULL;
}

/* ---- the player's environment ---------------------------------------------------------------- */

static int media_path(void *arg, const char *hash, char *path, size_t len)
{
    struct shared *sh = arg;
    return rcv_cache_path(sh->cfg, hash, path, len);
}

static void on_play(void *arg, const struct rcv_play *p)
{
    struct shared *sh = arg;
    char why[256], msg[300];
    struct rcv_play copy = *p;
    fprintf(stderr, "loacast-receiver: played bulletin %lld of session %lld: %.3f s from %s (%lld underruns)\n",
            (long long)p->bulletin, (long long)p->session, p->played_s, p->source, (long long)p->underruns);
    if (rcv_journal_append(sh->journal, &copy, why, sizeof why) != 0) {
        snprintf(msg, sizeof msg, "journal: %s", why);
        set_error(sh, msg);
        return;     /* the checkpoint stays: the next start journals it */
    }
    rcv_journal_progress_done(sh->journal);
}

static void on_progress(void *arg, const struct rcv_play *p)
{
    struct shared *sh = arg;
    char why[256], msg[300];
    if (rcv_journal_progress(sh->journal, p, why, sizeof why) != 0) {
        snprintf(msg, sizeof msg, "journal: %s", why);
        set_error(sh, msg);
    }
}

static void on_player_error(void *arg, const char *what)
{
    struct shared *sh = arg;
    pthread_mutex_lock(&sh->mu);
    snprintf(sh->last_error, sizeof sh->last_error, "%s", what);
    pthread_mutex_unlock(&sh->mu);
}

struct player_arg {
    struct shared *sh;
    struct rcv_player_env env;
};

static void *player_main(void *arg)
{
    struct player_arg *pa = arg;
    rcv_player_run(&pa->env);
    return NULL;
}

/* ---- main ----------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: loacast-receiver --config FILE\n"
            "\n"
            "The reference receiver of loacast: long-polls its signed schedule, prefetches every\n"
            "item into its cache, plays each session at its time (the live stream for what it\n"
            "does not hold) and reports what it played.\n"
            "\n"
            "  -c, --config FILE   the INI file: [receiver] server, cluster, token, station_key,\n"
            "                      cache_dir, sink (alsa:DEVICE | wav:PATH | null)\n"
            "  -h, --help          this text\n");
}

/* Joins t, waiting at most ms; false if it is still running (it is then left to exit()). */
static bool join_within(pthread_t t, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ns = ts.tv_nsec + ms * 1000000;
    ts.tv_sec += ns / 1000000000;
    ts.tv_nsec = ns % 1000000000;
    return pthread_timedjoin_np(t, NULL, &ts) == 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};
    const char *config = NULL;
    int ch, status = 1;
    while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        if (ch == 'c') {
            config = optarg;
        } else if (ch == 'h') {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (!config || optind != argc) {
        usage(stderr);
        return 2;
    }

    static struct rcv_config cfg;   /* 9 kB: not on the stack; outlives every thread */
    static struct shared sh;
    struct player_arg pa;
    char why[512];
    struct rcv_sink *sink = NULL;
    pthread_t th[5];
    int nth = 0;
    bool slow_ok = true;

    if (rcv_config_load(config, &cfg, why, sizeof why) != 0) {
        fprintf(stderr, "loacast-receiver: %s\n", why);
        return 1;
    }
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        fprintf(stderr, "loacast-receiver: cannot initialise libsodium or libcurl\n");
        return 1;
    }
    pthread_mutex_init(&sh.mu, NULL);
    pthread_cond_init(&sh.cv, NULL);
    atomic_init(&sh.gen, 1);
    atomic_init(&sh.stop, false);
    sh.cfg = &cfg;
    sh.started_s = rcv_mono_s();
    if (rcv_cache_init(&cfg, why, sizeof why) != 0) {
        fprintf(stderr, "loacast-receiver: %s\n", why);
        goto out;
    }
    sh.clock = rcv_clock_new(&cfg);
    sh.journal = rcv_journal_open(&cfg, NULL, why, sizeof why);
    if (!sh.clock || !sh.journal) {
        fprintf(stderr, "loacast-receiver: %s\n", sh.clock ? why : "out of memory");
        goto out;
    }
    sink = rcv_sink_open(cfg.sink, 1, why, sizeof why);
    if (!sink) {
        fprintf(stderr, "loacast-receiver: %s\n", why);
        goto out;
    }

    /* the last schedule kept: a restart plays without the network */
    struct rcv_schedule kept;
    int rc = rcv_schedule_load(&cfg, rcv_local_us(&cfg) / 1000, &kept, why, sizeof why);
    if (rc == 0) {
        fprintf(stderr, "loacast-receiver: kept schedule version %lld restored\n", (long long)kept.version);
        shared_publish(&sh, &kept);
    } else if (rc < 0) {
        fprintf(stderr, "loacast-receiver: kept schedule not used: %s\n", why);
    }

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);   /* every thread inherits it; sigwait below */
    signal(SIGPIPE, SIG_IGN);

    pa.sh = &sh;
    pa.env = (struct rcv_player_env){
        .cfg = &cfg, .clock = sh.clock, .sink = sink, .stop = &sh.stop, .arg = &sh,
        .get = shared_get, .put = shared_put, .generation = shared_generation, .wait = shared_wait,
        .media_path = media_path, .on_play = on_play, .on_progress = on_progress,
        .on_error = on_player_error,
    };
    /* the order matters for shutdown: th[0..2] end promptly, th[3..4] may sit in a request */
    void *(*mains[5])(void *) = {player_main, clock_main, reporter_main, poller_main, prefetch_main};
    void *args[5] = {&pa, &sh, &sh, &sh, &sh};
    for (; nth < 5; nth++) {
        if (pthread_create(&th[nth], NULL, mains[nth], args[nth]) != 0) {
            fprintf(stderr, "loacast-receiver: cannot start a thread\n");
            break;
        }
    }
    fprintf(stderr, "loacast-receiver %s: cluster %s, server %s, sink %s\n", LOACAST_VERSION,
            cfg.cluster, cfg.server, cfg.sink);
    if (nth == 5) {
        int sig;
        sigwait(&sigs, &sig);
        fprintf(stderr, "loacast-receiver: signal %d: stopping\n", sig);
        status = 0;
    }
    pthread_mutex_lock(&sh.mu);
    atomic_store(&sh.stop, true);
    pthread_cond_broadcast(&sh.cv);
    pthread_mutex_unlock(&sh.mu);
    for (int i = 0; i < nth; i++) {
        if (i < 3)
            pthread_join(th[i], NULL);
        else if (!join_within(th[i], 1500))
            slow_ok = false;
    }
    if (!slow_ok)
        exit(status);   /* a thread is still inside an HTTP request: leave without freeing */
out:
    rcv_sink_close(sink);
    if (sh.journal)
        rcv_journal_close(sh.journal);
    if (sh.clock)
        rcv_clock_free(sh.clock);
    pthread_mutex_lock(&sh.mu);
    snap_unref_locked(sh.cur);
    sh.cur = NULL;
    pthread_mutex_unlock(&sh.mu);
    curl_global_cleanup();
    return status;
}
