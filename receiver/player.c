/*
 * receiver/player.c — sessions at their time (player.h).
 *
 * The loop picks what to play from the current schedule (an emergency on air first, else the
 * session on air or starting within PICK_AHEAD_MS), plays its remaining items, and otherwise
 * waits for the next start or a new schedule. Every wait and every buffer written checks the
 * schedule's generation: a new emergency on air ends what plays (OUT_INTERRUPT) and the loop
 * picks again — the emergency, then the interrupted session where its timeline is.
 *
 * Times: server µs (rcv_server_us) for the schedule, CLOCK_MONOTONIC µs for the sink; a sink
 * time converts to the server's as server_now + (t - mono_now).
 */
#include "receiver/player.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <opusfile.h>

#include "receiver/clock.h"
#include "receiver/net.h"

#define CHUNK 960                   /* frames per sink write: 20 ms */
#define DECODE_MAX 5760             /* op_read's largest answer (120 ms at 48 kHz) */
#define PICK_AHEAD_MS 1500          /* a session this close to its start is taken in hand */
#define JOIN_LEAD_US 150000         /* a late item is sought this far past now */
#define LIVE_BEFORE_US 3000000      /* an item not cached this long before its time goes live */
#define FETCH_WAIT_US 1500000       /* an item due now (an emergency) may be arriving: waited for */
#define CACHE_POLL_MS 50            /* how often a wait for an item looks into the cache */
#define LIVE_RETRY_MS 1000          /* a live stream that gave nothing is asked again after this */
#define CLOCK_WAIT_US 3000000       /* at start, nothing plays before the server's time is known
                                     * well (CLOCK_GOOD_US) or this has passed */
#define CLOCK_GOOD_US 40000         /* an exchange this fast bounds the offset's error to 20 ms */

enum outcome { OUT_DONE, OUT_STOP, OUT_INTERRUPT, OUT_CACHED };

struct ctx {
    const struct rcv_player_env *env;
    uint64_t gen;                   /* the generation last looked at */
    int64_t session;                /* what plays */
    const char *kind;
    int16_t silence[CHUNK];
};

static int64_t server_us(const struct ctx *c) { return rcv_server_us(c->env->clock); }

static int64_t mono_to_server(const struct ctx *c, int64_t mono)
{
    return server_us(c) + (mono - rcv_mono_us());
}

static void error(const struct ctx *c, const char *what)
{
    fprintf(stderr, "loacast-receiver: player: %s\n", what);
    if (c->env->on_error)
        c->env->on_error(c->env->arg, what);
}

/* True when an item of s is still to be heard at now (ms; items ending within 50 ms are over). */
static bool has_remaining(const struct rcv_session *s, int64_t now_ms)
{
    for (size_t i = 0; i < s->nitems; i++)
        if (s->start_ms + s->items[i].offset_ms + s->items[i].duration_ms > now_ms + 50)
            return true;
    return false;
}

/* What to play at now_ms: an emergency on air (the latest), else a session on air or about to
 * start. NULL when nothing: *wait_ms then says how long to sleep at most. */
static const struct rcv_session *pick(const struct rcv_schedule *s, int64_t now_ms, int64_t *wait_ms)
{
    const struct rcv_session *emerg = NULL, *on = NULL;
    int64_t next = INT64_MAX;
    *wait_ms = 1000;
    if (!s || now_ms >= s->expires_ms)
        return NULL;    /* an expired schedule plays nothing (SPEC) */
    for (size_t i = 0; i < s->nsessions; i++) {
        const struct rcv_session *x = &s->sessions[i];
        if (x->start_ms - PICK_AHEAD_MS <= now_ms && now_ms < x->end_ms && has_remaining(x, now_ms)) {
            if (strcmp(x->kind, "emergency") == 0) {
                if (!emerg || x->start_ms > emerg->start_ms)
                    emerg = x;
            } else if (!on || x->start_ms < on->start_ms) {
                on = x;
            }
        } else if (x->start_ms - PICK_AHEAD_MS > now_ms && x->start_ms < next) {
            next = x->start_ms;
        }
    }
    if (next != INT64_MAX) {
        int64_t w = next - PICK_AHEAD_MS - now_ms;
        *wait_ms = w < 5000 ? w : 5000;
    }
    return emerg ? emerg : on;
}

/* OUT_STOP when stopping, OUT_INTERRUPT when a new schedule has an emergency on air that is
 * not what plays, else OUT_DONE. Cheap unless the generation moved. */
static enum outcome check(struct ctx *c)
{
    const struct rcv_player_env *e = c->env;
    if (atomic_load(e->stop))
        return OUT_STOP;
    uint64_t g = e->generation(e->arg);
    if (g == c->gen)
        return OUT_DONE;
    enum outcome r = OUT_DONE;
    const struct rcv_schedule *s = e->get(e->arg, &c->gen);
    if (s)
        rcv_sink_set_volume(e->sink, s->volume, s->muted);    /* a change applies at once */
    int64_t now_ms = server_us(c) / 1000, w;
    const struct rcv_session *x = pick(s, now_ms, &w);
    if (x && strcmp(x->kind, "emergency") == 0 && x->start_ms <= now_ms &&
        !(x->id == c->session && strcmp(c->kind, "emergency") == 0))
        r = OUT_INTERRUPT;
    if (s)
        e->put(e->arg, s);
    return r;
}

static int write_silence(struct ctx *c, size_t frames)
{
    char why[256];
    while (frames > 0) {
        size_t n = frames < CHUNK ? frames : CHUNK;
        if (rcv_sink_write(c->env->sink, c->silence, n, NULL, why, sizeof why) != 0) {
            error(c, why);
            return -1;
        }
        frames -= n;
    }
    return 0;
}

/* Brings the sink to where the next frame written sounds at target (server µs): waits while
 * the sink is idle and the target far, then writes the missing silence (exact to the frame on a
 * running sink). With hash, returns OUT_CACHED as soon as that media is in the cache. */
static enum outcome approach(struct ctx *c, int64_t target, const char *hash)
{
    const struct rcv_player_env *e = c->env;
    char path[4200];
    for (;;) {
        enum outcome r = check(c);
        if (r != OUT_DONE)
            return r;
        if (hash && e->media_path(e->arg, hash, path, sizeof path) == 0)
            return OUT_CACHED;
        int64_t delay = rcv_sink_delay_us(e->sink);
        int64_t gap = target - (server_us(c) + delay);
        if (gap <= 0)
            return OUT_DONE;
        if (delay == 0 && gap > 150000) {
            int64_t ms = (gap - 100000) / 1000, most = hash ? CACHE_POLL_MS : 500;
            e->wait(e->arg, c->gen, ms < most ? ms : most);
            continue;
        }
        /* a running sink: 20 ms at a time (checks between); an idle one: the whole gap now, so
         * that it ends exactly at target */
        size_t frames = (size_t)(gap * RCV_SINK_RATE / 1000000);
        if (delay > 0 && frames > CHUNK)
            frames = CHUNK;
        if (frames == 0)
            return OUT_DONE;
        if (write_silence(c, frames) != 0)
            return OUT_STOP;
        if (delay == 0)
            return OUT_DONE;
    }
}

/* Mono from n frames of ch channels, in place. */
static void downmix(int16_t *pcm, int n, int ch)
{
    for (int i = 0; i < n; i++) {
        int32_t sum = 0;
        for (int k = 0; k < ch; k++)
            sum += pcm[i * ch + k];
        pcm[i] = (int16_t)(sum / ch);
    }
}

/* What one playing of an item adds up to, turned into a play record at its end (and at each
 * checkpoint on the way). */
struct tally {
    const struct rcv_session *s;
    const struct rcv_item *it;
    const char *source;
    int64_t first_mono, end_mono;   /* sink times; first_mono 0 until a frame was written */
    int64_t saved_mono;             /* the last checkpoint */
    uint64_t frames, under0;
};

static void make_play(struct ctx *c, const struct tally *t, struct rcv_play *p);

/* Writes pcm (n mono frames) and tallies it. 0 or -1. */
static int play_pcm(struct ctx *c, struct tally *t, const int16_t *pcm, size_t n)
{
    char why[256];
    while (n > 0) {
        size_t k = n < CHUNK ? n : CHUNK;
        int64_t when;
        if (rcv_sink_write(c->env->sink, pcm, k, &when, why, sizeof why) != 0) {
            error(c, why);
            return -1;
        }
        if (t->first_mono == 0)
            t->first_mono = t->saved_mono = when;
        t->end_mono = when + (int64_t)k * 1000000 / RCV_SINK_RATE;
        t->frames += k;
        pcm += k;
        n -= k;
    }
    if (c->env->on_progress && !t->it->relay &&
        t->end_mono - t->saved_mono >= RCV_PROGRESS_EVERY_S * 1000000) {
        struct rcv_play p;
        make_play(c, t, &p);
        c->env->on_progress(c->env->arg, &p);
        t->saved_mono = t->end_mono;
    }
    return 0;
}

static void make_play(struct ctx *c, const struct tally *t, struct rcv_play *out)
{
    const struct rcv_session *s = t->s;
    const struct rcv_item *it = t->it;
    const char *source = t->source;
    struct rcv_play p;
    memset(&p, 0, sizeof p);
    p.session = s->id;
    p.bulletin = it->bulletin;
    snprintf(p.hash, sizeof p.hash, "%s", it->hash);
    p.start_ms = mono_to_server(c, t->first_mono) / 1000;
    p.end_ms = mono_to_server(c, t->end_mono) / 1000;
    p.played_s = (double)t->frames / RCV_SINK_RATE;
    p.underruns = (unsigned)(rcv_sink_underruns(c->env->sink) - t->under0);
    snprintf(p.source, sizeof p.source, "%s", source);
    snprintf(p.id, sizeof p.id, "%lld-%lld-%lld", (long long)s->id, (long long)it->bulletin,
             (long long)p.start_ms);
    *out = p;
}

static void report(struct ctx *c, const struct tally *t)
{
    if (t->frames == 0)
        return;
    /* a relay's play has bulletin 0 and no hash (journal.h) */
    struct rcv_play p;
    make_play(c, t, &p);
    c->env->on_play(c->env->arg, &p);
}

/* ---- the live stream: a detached reader thread feeds a buffer that opusfile reads ---------- */

struct live {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned char *buf;
    size_t len, pos, cap;
    bool ended;                     /* the stream ended (or failed) */
    bool quit;                      /* the player is done with it */
    bool waited;                    /* a read had to wait for data since this was cleared */
    int64_t arrival;                /* mono µs of the last bytes' arrival */
    int refs;                       /* the reader thread and the player */
    char path[128];
    const struct rcv_config *cfg;
};

static void live_unref(struct live *l)
{
    pthread_mutex_lock(&l->mu);
    int left = --l->refs;
    pthread_mutex_unlock(&l->mu);
    if (left == 0) {
        pthread_mutex_destroy(&l->mu);
        pthread_cond_destroy(&l->cv);
        free(l->buf);
        free(l);
    }
}

static int live_on_data(void *arg, const unsigned char *bytes, size_t n)
{
    struct live *l = arg;
    int quit;
    pthread_mutex_lock(&l->mu);
    quit = l->quit;
    if (!quit && l->len + n > l->cap) {
        /* drop what was read already before growing (nothing to move before the first bytes:
         * buf is still NULL then, and memmove must not be given it) */
        if (l->pos > 0)
            memmove(l->buf, l->buf + l->pos, l->len - l->pos);
        l->len -= l->pos;
        l->pos = 0;
        if (l->len + n > l->cap) {
            size_t cap = (l->len + n) * 2;
            unsigned char *p = realloc(l->buf, cap);
            if (!p)
                quit = 1;
            else {
                l->buf = p;
                l->cap = cap;
            }
        }
    }
    if (!quit) {
        memcpy(l->buf + l->len, bytes, n);
        l->len += n;
        l->arrival = rcv_mono_us();
        pthread_cond_broadcast(&l->cv);
    }
    pthread_mutex_unlock(&l->mu);
    return quit;
}

static void *live_main(void *arg)
{
    struct live *l = arg;
    char why[256];
    long status = 0;
    struct rcv_net *n = rcv_net_new(l->cfg);
    if (n) {
        if (rcv_net_stream(n, l->path, 10, live_on_data, l, &status, why, sizeof why) != 0)
            fprintf(stderr, "loacast-receiver: live stream: %s\n", why);
        else if (status != 200)
            fprintf(stderr, "loacast-receiver: live stream: HTTP %ld\n", status);
        rcv_net_free(n);
    }
    pthread_mutex_lock(&l->mu);
    l->ended = true;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    live_unref(l);
    return NULL;
}

/* opusfile's read: blocks until bytes come; 0 (EOF) when the stream ended or nothing came for
 * 3 s. */
static int live_read(void *arg, unsigned char *ptr, int nbytes)
{
    struct live *l = arg;
    int n = 0;
    int64_t give_up = rcv_mono_us() + 3000000;
    pthread_mutex_lock(&l->mu);
    while (l->pos == l->len && !l->ended && rcv_mono_us() < give_up) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        l->waited = true;
        pthread_cond_timedwait(&l->cv, &l->mu, &ts);
    }
    if (l->pos < l->len) {
        n = (int)(l->len - l->pos < (size_t)nbytes ? l->len - l->pos : (size_t)nbytes);
        memcpy(ptr, l->buf + l->pos, (size_t)n);
        l->pos += (size_t)n;
    }
    pthread_mutex_unlock(&l->mu);
    return n;
}

/* Plays the live stream while it is item it's time (until t_end, server µs): the burst the
 * server sends first is decoded and dropped; then each new page sounds RCV_LIVE_LEAD_MS after it
 * arrived, as the server paces it. */
static enum outcome play_live(struct ctx *c, const struct rcv_session *s, const struct rcv_item *it,
                              int64_t t_end)
{
    const struct rcv_player_env *e = c->env;
    enum outcome r = OUT_DONE;
    struct tally t = {.s = s, .it = it, .source = "live", .under0 = rcv_sink_underruns(e->sink)};
    int16_t pcm[DECODE_MAX * 2];
    OggOpusFile *of = NULL;
    pthread_t th;
    struct live *l = calloc(1, sizeof *l);
    if (!l)
        return OUT_DONE;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    l->refs = 2;
    l->cfg = e->cfg;
    snprintf(l->path, sizeof l->path, "/stream/%s.opus", e->cfg->cluster);
    if (pthread_create(&th, NULL, live_main, l) != 0) {
        l->refs = 1;
        goto done;
    }
    pthread_detach(th);

    OpusFileCallbacks cb = {.read = live_read};
    int err;
    of = op_open_callbacks(l, &cb, NULL, 0, &err);
    if (!of) {
        error(c, "live stream: no Ogg Opus headers");
        goto done;
    }
    bool aligned = false;
    for (;;) {
        if ((r = check(c)) != OUT_DONE)
            break;
        if (server_us(c) + rcv_sink_delay_us(e->sink) >= t_end)
            break;
        pthread_mutex_lock(&l->mu);
        l->waited = false;
        pthread_mutex_unlock(&l->mu);
        int n = op_read(of, pcm, DECODE_MAX * 2, NULL);
        if (n <= 0)
            break;  /* the end, or a hole: what was played is reported */
        int ch = op_channel_count(of, -1);
        if (ch > 1)
            downmix(pcm, n, ch);
        pthread_mutex_lock(&l->mu);
        bool caught_up = l->waited;
        int64_t arrival = l->arrival;
        pthread_mutex_unlock(&l->mu);
        if (!aligned) {
            if (!caught_up)
                continue;   /* the burst: audio whose time has passed */
            aligned = true;
            int64_t gap = arrival + RCV_LIVE_LEAD_MS * 1000 - (rcv_mono_us() + rcv_sink_delay_us(e->sink));
            if (gap > 0 && write_silence(c, (size_t)(gap * RCV_SINK_RATE / 1000000)) != 0)
                break;
        }
        if (play_pcm(c, &t, pcm, (size_t)n) != 0) {
            r = OUT_STOP;
            break;
        }
    }
done:
    if (of)
        op_free(of);
    pthread_mutex_lock(&l->mu);
    l->quit = true;
    pthread_mutex_unlock(&l->mu);
    live_unref(l);
    report(c, &t);
    /* a stream that gave nothing (no network, off air) is not asked again at once: the loop
     * would pick this item again and again while it lasts */
    if (r == OUT_DONE && t.frames == 0) {
        int64_t left = (t_end - server_us(c)) / 1000;
        if (left > 0)
            e->wait(e->arg, c->gen, left < LIVE_RETRY_MS ? left : LIVE_RETRY_MS);
    }
    return r;
}

/* ---- an item from the cache ----------------------------------------------------------------- */

/* Plays item it so that its first sample sounds at *t0 (server µs). A late start seeks to where
 * the timeline is — or, with from_start (emergencies), plays from the top now and moves *t0. */
static enum outcome play_item(struct ctx *c, const struct rcv_session *s, const struct rcv_item *it,
                              int64_t *t0, bool from_start)
{
    const struct rcv_player_env *e = c->env;
    char path[4200], msg[4400];
    int16_t pcm[DECODE_MAX * 2];
    int64_t t_end = *t0 + it->duration_ms * 1000;
    enum outcome r;

    if (it->relay) { /* an upstream relayed by the server: live, at its time (issue 18) */
        r = approach(c, *t0 - LIVE_BEFORE_US, NULL);
        return r == OUT_DONE ? play_live(c, s, it, t_end) : r;
    }
    if (e->media_path(e->arg, it->hash, path, sizeof path) != 0) {
        /* an item due now (an emergency: its schedule came when it went on air) is most likely
         * being fetched this very moment by the prefetcher, woken by the same schedule; the
         * live stream is seconds behind, so the cache is given FETCH_WAIT_US first */
        int64_t until = *t0 - LIVE_BEFORE_US;
        if (from_start && until < server_us(c) + FETCH_WAIT_US)
            until = server_us(c) + FETCH_WAIT_US;
        r = approach(c, until, it->hash);
        if (r == OUT_STOP || r == OUT_INTERRUPT)
            return r;
        if (r != OUT_CACHED && e->media_path(e->arg, it->hash, path, sizeof path) != 0) {
            snprintf(msg, sizeof msg, "bulletin %lld not in the cache at its time: live stream",
                     (long long)it->bulletin);
            error(c, msg);
            return play_live(c, s, it, t_end);
        }
    }
    int err;
    OggOpusFile *of = op_open_file(path, &err);
    if (!of) {
        snprintf(msg, sizeof msg, "%s: opusfile error %d: live stream", path, err);
        error(c, msg);
        return play_live(c, s, it, t_end);
    }
    int64_t next = server_us(c) + rcv_sink_delay_us(e->sink);
    if (*t0 < next + 2000) {            /* late by more than can be written as silence */
        if (from_start) {
            *t0 = next + (rcv_sink_delay_us(e->sink) ? 0 : 20000);
        } else {
            int64_t skip = next + JOIN_LEAD_US - *t0;
            if (op_pcm_seek(of, skip * RCV_SINK_RATE / 1000000) != 0) {
                op_free(of);
                return OUT_DONE;        /* past its end: nothing left of it */
            }
            *t0 += skip;
        }
    }
    r = approach(c, *t0, NULL);
    if (r != OUT_DONE) {
        op_free(of);
        return r;
    }
    struct tally t = {.s = s, .it = it, .source = "cache", .under0 = rcv_sink_underruns(e->sink)};
    for (;;) {
        int n = op_read(of, pcm, DECODE_MAX * 2, NULL);
        if (n < 0) {
            snprintf(msg, sizeof msg, "%s: decoding error %d", path, n);
            error(c, msg);
            break;
        }
        if (n == 0)
            break;
        int ch = op_channel_count(of, -1);
        if (ch > 1)
            downmix(pcm, n, ch);
        /* 20 ms at a time, so that an emergency cuts in within one buffer */
        for (int k = 0; k < n; k += CHUNK) {
            size_t m = (size_t)(n - k < CHUNK ? n - k : CHUNK);
            if ((r = check(c)) != OUT_DONE || play_pcm(c, &t, pcm + k, m) != 0) {
                if (r == OUT_DONE)
                    r = OUT_STOP;
                goto out;
            }
        }
    }
    r = OUT_DONE;
out:
    op_free(of);
    report(c, &t);
    return r;
}

/* Plays what remains of session s; the sink drains at its end. */
static enum outcome play_session(struct ctx *c, const struct rcv_session *s)
{
    bool emergency = strcmp(s->kind, "emergency") == 0;
    int64_t shift = 0;          /* emergencies: how much later than its start it began */
    c->session = s->id;
    c->kind = s->kind;
    for (size_t i = 0; i < s->nitems; i++) {
        const struct rcv_item *it = &s->items[i];
        int64_t t0 = (s->start_ms + it->offset_ms) * 1000 + shift;
        if (t0 + it->duration_ms * 1000 <= server_us(c) + 50000 && !(emergency && i == 0 && shift == 0))
            continue;           /* over */
        int64_t want = t0;
        enum outcome r = play_item(c, s, it, &t0, emergency);
        if (emergency)
            shift += t0 - want;
        if (r != OUT_DONE)
            return r;
    }
    rcv_sink_drain(c->env->sink);
    return OUT_DONE;
}

void rcv_player_run(const struct rcv_player_env *env)
{
    struct ctx *c = calloc(1, sizeof *c);
    if (!c) {
        fprintf(stderr, "loacast-receiver: player: out of memory\n");
        return;
    }
    c->env = env;
    /* The box's own clock may be seconds off (no RTC, NTP not synced yet after a power cut):
     * a player started in the middle of a session would join it that far from where its
     * timeline is, and stay there. So it waits for an exchange with the server whose round trip
     * bounds the offset's error to 20 ms (the clock thread makes one every 500 ms at start), up
     * to CLOCK_WAIT_US; then the best estimate is taken — offline, the box's own clock. */
    int64_t offset, delay, give_up = rcv_mono_us() + CLOCK_WAIT_US;
    while (!atomic_load(env->stop) && rcv_mono_us() < give_up &&
           !(rcv_clock_estimate(env->clock, &offset, &delay) && delay <= CLOCK_GOOD_US))
        env->wait(env->arg, env->generation(env->arg), 20);
    while (!atomic_load(env->stop)) {
        int64_t wait_ms;
        const struct rcv_schedule *s = env->get(env->arg, &c->gen);
        rcv_sink_set_volume(env->sink, s ? s->volume : 100, s ? s->muted : 0);
        const struct rcv_session *x = pick(s, server_us(c) / 1000, &wait_ms);
        if (x) {
            enum outcome r = play_session(c, x);
            if (r == OUT_INTERRUPT)
                fprintf(stderr, "loacast-receiver: session %lld interrupted by an emergency\n",
                        (long long)x->id);
            if (r == OUT_STOP && !atomic_load(env->stop)) {
                x = NULL;       /* the sink failed: try again in a while */
                wait_ms = 1000;
            }
        }
        uint64_t gen = c->gen;
        if (s)
            env->put(env->arg, s);
        if (!x)
            env->wait(env->arg, gen, wait_ms > 0 ? wait_ms : 0);
    }
    rcv_sink_drain(env->sink);
    free(c);
}
