/*
 * server/stream/stream.c — the streaming engine: on-air events, casts, pacing, fan-out, receivers;
 * see stream.h and docs/streaming.md. Calls stream_batch.c (accounting), stream_clips.c (the
 * programme's audio, read off the loop) and the leaf files; stream_engine.c calls it.
 *
 * Pacing: every page goes out lead_ms before its audio plays (next_play), or earlier: every
 * send_ms, the pages due within the next send_ms are made together and each receiver gets them in
 * one write (one sendmsg per receiver per send_ms: the kernel's work per write is most of the
 * server's CPU). Real-time players keep a cushion of lead_ms to lead_ms + send_ms; a joining
 * receiver gets the burst on top.
 * A ready cast held before its session makes pages of silence up to the session's start (hold
 * audio: players and proxies that time out on a silent connection hold), then the programme's
 * pages, whose first one goes out lead_ms before the start: the programme begins on its own at
 * start − lead_ms, OPEN then only confirms it. An emergency spliced in goes into the next page
 * not made yet: it plays lead_ms to lead_ms + send_ms after its audio was read.
 *
 * Catch-up: for catchup_s after an emergency began, a receiver that did not get its start (it
 * polls every 20–30 s off air) is sent the stream from the emergency's first page; a finished
 * emergency's cast stays until then for them (find_catchup).
 *
 * Re-entrancy: closing a connection (a drop, a replacement) calls our on_close synchronously; a
 * receiver condemned while the engine is inside one of its own entry points is only marked, and
 * freed when the outermost entry point returns (enter()/leave()).
 *
 * Reading the programme: a cast asks stream_clips.c for its items' audio at PREPARE (or at OPEN
 * when it had no PREPARE) and becomes ready when the load returns, normally long before OPEN (a
 * hold window, 60 s, separates them); see struct lc_cast for what waits until then.
 */
#define LC_LOG_MODULE "stream"
#include "server/stream/stream.h"
#include "server/stream/stream_internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <ogg/ogg.h>

#include "common/log.h"
#include "server/http/http.h"
#include "server/registry/registry.h"

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void enter(struct lc_streams *e)
{
    e->depth++;
}

static void free_value(const char *key, void *val, void *arg)
{
    (void)key;
    (void)arg;
    free(val);
}

void lc_stream_maybe_free(struct lc_streams *e)
{
    if (!e->stopping || !e->released || e->handles > 0 || e->nrcv_objects > 0 || e->depth > 0)
        return;
    lc_strmap_each(&e->conflicts, free_value, NULL);
    lc_strmap_clear(&e->conflicts);
    lc_strmap_clear(&e->by_cluster);
    lc_strmap_clear(&e->seen);
    lc_carry_hub_clear(&e->carry);
    lc_relay_cfg_free(&e->relay_cfg);
    free(e);
}

static void rcv_free(struct lc_rcv *r);
static void cast_maybe_free(struct lc_cast *c);

static void leave(struct lc_streams *e)
{
    if (--e->depth > 0)
        return;
    while (e->grave != NULL) {
        struct lc_rcv *r = e->grave;
        e->grave = r->next;
        rcv_free(r);
    }
    for (struct lc_cast *c = e->casts, *nx; c; c = nx) {
        nx = c->next;
        cast_maybe_free(c);
    }
    lc_stream_maybe_free(e);
}

/* ---- receivers ----------------------------------------------------------------------------- */

/* Pages gathered into one sendmsg() to a receiver (a fan-out's new pages, a join's burst). */
#define RUN_MAX 32

struct rw {
    uv_write_t w;
    struct lc_rcv *r;
    struct lc_page *p;
    unsigned char hdr[27];      /* this receiver's renumbered page header, if any */
};

static void rcv_free(struct lc_rcv *r)
{
    struct lc_streams *e = r->eng;
    free(r);
    e->nrcv_objects--;
}

/* The receiver is gone or finishing: out of its cast and of the cluster map; its delivery record
 * gets the disconnection. Idempotent. */
static void rcv_unlink(struct lc_rcv *r)
{
    struct lc_cast *c = r->cast;
    if (c == NULL)
        return;
    struct lc_streams *e = r->eng;
    if (c->fan_next == r)
        c->fan_next = r->next;
    if (r->prev)
        r->prev->next = r->next;
    else
        c->rcvs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
    c->nrcv--;
    if (r->dlv == NULL) {           /* a staff listener: no cluster, no record */
        c->nlisten--;
        e->listeners--;
    } else {
        e->connected--;
        lc_strmap_del(&e->by_cluster, r->dlv->cluster, r);
        lc_dlv_disconnect(r->dlv, wall_ms() / 1000);
    }
    r->cast = NULL;
}

/* What the log calls r: its cluster, or a staff listener. */
static const char *rcv_name(const struct lc_rcv *r)
{
    return r->dlv != NULL ? r->dlv->cluster : "(staff listener)";
}

/* Frees r now, or at the end of the engine's current entry point. */
static void rcv_maybe_free(struct lc_rcv *r)
{
    if (!r->closed || r->inflight > 0 || r->freeing)
        return;
    r->freeing = true;
    if (r->eng->depth > 0) {
        r->next = r->eng->grave;
        r->eng->grave = r;
    } else {
        struct lc_streams *e = r->eng;
        rcv_free(r);
        lc_stream_maybe_free(e);
    }
}

static void on_rcv_closed(void *arg)
{
    struct lc_rcv *r = arg;
    struct lc_streams *e = r->eng;
    enter(e);
    /* the technician's line for every drop: who, from where, how long it listened */
    lc_log(LC_LOG_INFO, "%s from %s disconnected after %.0f s%s", r->who, r->addr,
           (double)(wall_ms() - r->since_ms) / 1000.0,
           r->finished ? " (its stream ended)" : e->stopping ? " (shutting down)" : "");
    rcv_unlink(r);
    r->closed = true;
    rcv_maybe_free(r);
    leave(e);
}

/* Closes the receiver's connection now (cancelling its writes). */
static void rcv_drop(struct lc_rcv *r, const char *why, bool slow)
{
    if (r->closed || r->finished) /* a finished one is closing by itself */
        return;
    struct lc_streams *e = r->eng;
    if (slow) {
        e->dropped_slow++;
        lc_log(LC_LOG_WARN, "cluster %s dropped: %s (%.1f s of audio unsent)", r->who,
               why, (double)r->queued / 48000.0);
    } else {
        lc_log(LC_LOG_INFO, "cluster %s: %s", r->who, why);
    }
    lc_http_conn_abort(r->conn); /* → on_rcv_closed, which may free r (deferred: depth) */
}

/* The last page went out: end the response gracefully. */
static void rcv_finish(struct lc_rcv *r)
{
    if (r->finished || r->closed)
        return;
    r->finished = true;
    rcv_unlink(r);
    lc_http_conn_end(r->conn);
}

/* Replacements from another address within CLONE_WINDOW_MS that make a cluster a likely cloned
 * token (two boxes given one token: each connection knocks the other off). The registry keeps
 * the flag (shown by the clusters API, the console, /metrics) until the token is rotated. */
#define CLONE_WINDOW_MS (10 * 60 * 1000)
#define CLONE_REPLACEMENTS 3

static void clone_check(struct lc_streams *e, const char *cluster, const char *was,
                        const char *now_from)
{
    int64_t now = wall_ms();
    struct lc_conflict *k = lc_strmap_get(&e->conflicts, cluster);
    if (k == NULL) {
        if ((k = calloc(1, sizeof *k)) == NULL || lc_strmap_put(&e->conflicts, cluster, k) < 0) {
            free(k);
            return;
        }
        k->since_ms = now;
    }
    if (now - k->since_ms > CLONE_WINDOW_MS)
        *k = (struct lc_conflict){.since_ms = now};
    k->n++;
    if (k->n < CLONE_REPLACEMENTS || k->flagged || e->o.store == NULL)
        return;
    k->flagged = true;
    lc_log(LC_LOG_WARN, "cluster %s: %d connections from different addresses replaced each other"
           " within %d minutes (%s, %s): two boxes with one token?", cluster, k->n,
           CLONE_WINDOW_MS / 60000, was, now_from);
    if (lc_cluster_flag_clone(e->o.store, cluster, now / 1000, was, now_from) < 0)
        lc_log(LC_LOG_ERR, "cluster %s: cannot store the clone flag", cluster);
}

struct eos_write {
    uv_write_t w;
    unsigned char page[27];
};

static void on_eos_written(uv_write_t *w, int status)
{
    (void)status;
    free(w); /* touches nothing else: the receiver may be gone by now */
}

/* A new connection of the same cluster took r's place: r gets an end-of-stream page after the
 * last page it was given (the same serial, the next sequence number, no packet, granule -1),
 * then its response ends gracefully — a box can tell it was ended, not cut. */
static void rcv_replaced(struct lc_rcv *r, const char *by)
{
    if (r->closed || r->finished)
        return;
    lc_log(LC_LOG_WARN, "cluster %s: replaced by a new connection from %s (this one from %s)",
           r->dlv->cluster, by, r->addr);
    uv_stream_t *s = lc_http_conn_socket(r->conn);
    struct eos_write *x = r->has_last && !r->eos_done && s ? malloc(sizeof *x) : NULL;
    if (x != NULL) {
        memcpy(x->page, r->last_hdr, 27);
        uint32_t seq = (uint32_t)x->page[18] | (uint32_t)x->page[19] << 8 |
                       (uint32_t)x->page[20] << 16 | (uint32_t)x->page[21] << 24;
        seq++;
        x->page[5] = 0x04; /* end of stream */
        memset(x->page + 6, 0xff, 8); /* granule -1: no packet ends on this page (RFC 3533) */
        for (int i = 0; i < 4; i++)
            x->page[18 + i] = (unsigned char)(seq >> (8 * i));
        x->page[26] = 0; /* no segment: no packet */
        ogg_page og = {.header = x->page, .header_len = 27, .body = NULL, .body_len = 0};
        ogg_page_checksum_set(&og);
        uv_buf_t b = uv_buf_init((char *)x->page, 27);
        if (uv_write(&x->w, s, &b, 1, on_eos_written) != 0)
            free(x);
        else
            r->eos_done = true;
    }
    rcv_finish(r); /* the shutdown waits for the queued writes, the EOS page last */
}

static void delivered(struct lc_rcv *r, const struct lc_page *p)
{
    struct lc_streams *e = r->eng;
    e->bytes_sent += p->len;
    uint64_t g0 = p->hold ? 0 : p->g0, g1 = p->hold ? 0 : p->g1; /* hold silence: no audio */
    if (r->dlv != NULL && lc_dlv_delivered(r->dlv, p->len, g0, g1) < 0)
        lc_log(LC_LOG_ERR, "out of memory");
    if (p->eos)
        r->eos_done = true;
}

static void on_rw(uv_write_t *w, int status)
{
    struct rw *x = (struct rw *)w;
    struct lc_rcv *r = x->r;
    struct lc_streams *e = r->eng;
    enter(e);
    r->inflight--;
    r->queued -= x->p->g1 - x->p->g0;
    if (status == 0 && !r->closed)
        delivered(r, x->p);
    lc_page_unref(x->p);
    free(x);
    if (status < 0 && !r->closed)
        rcv_drop(r, "write failed", false);
    else if (r->eos_done && r->inflight == 0)
        rcv_finish(r);
    rcv_maybe_free(r);
    leave(e);
}

/* What the socket takes of b at once, without blocking: bytes (0 if none), or -1 on an error.
 * The uv_try_write() of libuv, as one sendmsg(): on a socket that skips the file layer of
 * writev() (a few % of the server's CPU at thousands of receivers). Only when nothing of the
 * connection is queued in libuv (r->inflight == 0), as for uv_try_write(). */
static ssize_t try_send(int fd, const uv_buf_t *b, unsigned nb)
{
    struct iovec iov[2 * RUN_MAX];
    for (unsigned i = 0; i < nb; i++)
        iov[i] = (struct iovec){.iov_base = b[i].base, .iov_len = b[i].len};
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = nb};
    ssize_t n;
    do
        n = sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
        return 0;
    return n;
}

/* p's bytes for r into b (1 or 2 buffers, returned; -1: no memory): the page as it is, or, for a
 * receiver that joined in the middle, its own renumbered copy of the 27-byte header (into hdr,
 * stream_page.h) and the shared rest. renumber is false for the header pages. */
static int page_bufs(struct lc_rcv *r, struct lc_page *p, bool renumber, unsigned char hdr[27],
                     uv_buf_t b[2])
{
    int nb = 1;
    b[0] = uv_buf_init((char *)p->data, p->len);
    if (renumber && r->seq_off != 0) {
        if (lc_page_reseq(p, r->seq_off, hdr) < 0)
            return -1;
        b[0] = uv_buf_init((char *)hdr, 27);
        b[1] = uv_buf_init((char *)p->data + 27, p->len - 27);
        nb = 2;
    }
    if (renumber && p->len >= 27) { /* for an end-of-stream page after it (rcv_replaced) */
        memcpy(r->last_hdr, nb == 2 ? hdr : p->data, 27);
        r->has_last = true;
    }
    return nb;
}

/* Queues in libuv what the socket did not take of p (its bufs b, from byte off), with a page
 * reference; the header copy, if any (nb == 2), moves into the request. */
static void rcv_queue(struct lc_rcv *r, struct lc_page *p, uv_buf_t *b, unsigned nb, size_t off)
{
    uv_stream_t *s = lc_http_conn_socket(r->conn);
    if (s == NULL)
        return;
    struct rw *x = malloc(sizeof *x);
    if (x == NULL) {
        rcv_drop(r, "out of memory", false);
        return;
    }
    x->r = r;
    x->p = lc_page_ref(p);
    uv_buf_t v[2] = {b[0], b[nb - 1]};
    if (nb == 2) {
        memcpy(x->hdr, v[0].base, 27);
        v[0] = uv_buf_init((char *)x->hdr, 27);
    }
    unsigned first = 0; /* skip what the socket took */
    while (off > 0 && off >= v[first].len) {
        off -= v[first].len;
        first++;
    }
    v[first].base += off;
    v[first].len -= off;
    if (uv_write(&x->w, s, v + first, nb - first, on_rw) != 0) {
        lc_page_unref(p);
        free(x);
        rcv_drop(r, "write failed", false);
        return;
    }
    r->inflight++;
    r->queued += p->g1 - p->g0;
    if (r->queued > (uint64_t)r->eng->o.backlog_s * 48000)
        rcv_drop(r, "too slow", true);
}

/* Writes to r the page lead (not renumbered: the header pages; NULL: none), then the pages from
 * first to the end of its queue, gathered into one sendmsg() (up to RUN_MAX pages at a time):
 * what the socket takes is delivered at once, the rest is queued with page references. */
static void rcv_send(struct lc_rcv *r, struct lc_page *lead, struct lc_page *first)
{
    struct lc_page *pg[RUN_MAX];
    unsigned char hdr[RUN_MAX][27];
    uv_buf_t b[2 * RUN_MAX];
    unsigned nbuf[RUN_MAX];
    while (!r->closed && !r->finished && (lead != NULL || first != NULL)) {
        int np = 0;
        unsigned nb = 0;
        for (; np < RUN_MAX && (lead != NULL || first != NULL); np++) {
            struct lc_page *p = lead != NULL ? lead : first;
            int k = page_bufs(r, p, lead == NULL, hdr[np], b + nb);
            if (k < 0) {
                rcv_drop(r, "out of memory", false);
                return;
            }
            if (lead != NULL)
                lead = NULL;
            else
                first = first->next;
            pg[np] = p;
            nbuf[np] = (unsigned)k;
            nb += (unsigned)k;
        }
        size_t took = 0;
        if (r->inflight == 0) {
            ssize_t n = try_send(r->fd, b, nb);
            if (n < 0) {
                rcv_drop(r, "write failed", false);
                return;
            }
            took = (size_t)n;
        }
        unsigned bi = 0;
        for (int i = 0; i < np && !r->closed && !r->finished; bi += nbuf[i], i++) {
            if (took >= pg[i]->len) {
                took -= pg[i]->len;
                delivered(r, pg[i]);
                if (r->eos_done)
                    rcv_finish(r);
                continue;
            }
            rcv_queue(r, pg[i], b + bi, nbuf[i], took);
            took = 0;
        }
    }
}

/* ---- casts --------------------------------------------------------------------------------- */

/* Fan-out in slices: the new pages go to at most fan_slice receivers per loop iteration (the
 * rest from the engine's idle handle), so that accepting and answering new receivers is not held
 * up behind thousands of writes. Each receiver gets every new page, in order. The cursor moves on
 * before a receiver is served (it may be unlinked meanwhile; rcv_unlink also moves it). */
static bool fan_slice(struct lc_cast *c, size_t max)
{
    for (size_t k = 0; c->fan_next != NULL && k < max; k++) {
        struct lc_rcv *r = c->fan_next;
        c->fan_next = r->next;
        rcv_send(r, NULL, c->fan_first);
    }
    if (c->fan_next != NULL)
        return false;
    lc_page_unref(c->fan_first);
    c->fan_first = NULL;
    return true;
}

static void on_fan_idle(uv_idle_t *h);

/* A fan-out continues in the next loop iterations, from the engine's idle handle. */
static void fan_later(struct lc_streams *e)
{
    if (!e->stopping)
        uv_idle_start(&e->fan_idle, on_fan_idle);
}

/* Every fan-out completed: the idle handle stops, and a batch that waited for it runs. */
static void fan_done(struct lc_streams *e)
{
    uv_idle_stop(&e->fan_idle);
    if (e->flush_due)
        lc_streams_flush(e);
}

/* Completes a pending fan-out (before the queue changes). */
static void fan_finish(struct lc_cast *c)
{
    if (c->fan_first != NULL)
        fan_slice(c, SIZE_MAX);
}

/* Sends the pages from first on (the newest ones) to every receiver. */
static void fan_out(struct lc_cast *c, struct lc_page *first)
{
    fan_finish(c);
    if (first == NULL)
        return;
    c->fan_first = lc_page_ref(first);
    c->fan_next = c->rcvs;
    if (!fan_slice(c, (size_t)c->eng->o.fan_slice))
        fan_later(c->eng);
}

static void on_fan_idle(uv_idle_t *h)
{
    struct lc_streams *e = h->data;
    enter(e);
    bool pending = false;
    for (struct lc_cast *c = e->casts; c; c = c->next)
        if (c->fan_first != NULL && !fan_slice(c, (size_t)e->o.fan_slice))
            pending = true;
    if (!pending)
        fan_done(e);
    leave(e);
}

/* The pages from first on were just made: counted, and in the stream's mark. */
static void pages_made(struct lc_cast *c, struct lc_page *first, bool hold)
{
    for (struct lc_page *p = first; p; p = p->next) {
        p->hold = hold;
        c->eng->pages++;
        c->mark.bytes += p->len;
        if (p->g1 > c->mark.g)
            c->mark.g = p->g1;
    }
    lc_stream_tap_pages(c, first); /* issue 19: the Icecast source (stream_tap.c) */
}

/* Makes one page of npk packets of hold silence; returns it (NULL if none). */
static struct lc_page *make_hold(struct lc_cast *c, int npk)
{
    struct lc_streams *e = c->eng;
    struct lc_page *tail = c->q.tail;
    for (int i = 0; i < npk; i++) {
        if (lc_packer_add(&c->pk, e->silence, e->silence_len, LC_OPUS_FRAME, false, 0) < 0)
            break;
        c->hold_g += LC_OPUS_FRAME;
    }
    if (lc_packer_flush(&c->pk, &c->q) < 0)
        lc_log(LC_LOG_ERR, "out of memory");
    struct lc_page *first = tail ? tail->next : c->q.head;
    pages_made(c, first, true);
    return first;
}

/* Makes one page of audio (or the last one); returns the first new page, NULL if none. */
static struct lc_page *make_page(struct lc_cast *c, bool close_now)
{
    struct lc_streams *e = c->eng;
    struct lc_page *tail = c->q.tail;
    int npk = e->o.page_ms / 20;
    for (int i = 0; i < npk || close_now; i++) {
        const unsigned char *pkt = e->silence;
        uint32_t len = e->silence_len;
        bool last = false;
        uint64_t end = 0;
        int rc = lc_prog_next(&c->prog, c->pk.granule, &pkt, &len, &last, &end);
        if (rc < 0)
            break;
        if (rc > 0) /* communes carrying this one's programme get the packet too (carry.h) */
            lc_carry_publish(&e->carry, c->commune, pkt, len);
        if (rc == 0 || last || close_now)
            lc_carry_end(&e->carry, c->commune);
        if (rc == 0) { /* nothing left (an empty programme): one silence packet ends it */
            pkt = e->silence;
            len = e->silence_len;
            last = true;
        }
        if (close_now)
            last = true;
        if (lc_packer_add(&c->pk, pkt, len, LC_OPUS_FRAME, last, end) < 0)
            break;
        if (last) {
            c->state = CAST_DONE;
            break;
        }
    }
    if (lc_packer_flush(&c->pk, &c->q) < 0)
        lc_log(LC_LOG_ERR, "out of memory");
    struct lc_page *first = tail ? tail->next : c->q.head;
    pages_made(c, first, false);
    return first;
}

/* An emergency's catch-up is running (wall clock). */
static bool catching_up(const struct lc_cast *c)
{
    return c->em_until_ms != 0 && wall_ms() < c->em_until_ms;
}

/* The catch-up of an emergency that starts at the packer's position (the next packet). */
static void catchup_begin(struct lc_cast *c)
{
    if (c->eng->o.catchup_s <= 0)
        return;
    c->em_g0 = c->pk.granule;
    c->em_until_ms = wall_ms() + (int64_t)c->eng->o.catchup_s * 1000;
}

/* The queue keeps the longest burst a request may ask for, ahead of which the lead is, and
 * during a catch-up everything from the emergency's first page. */
static uint64_t queue_keep(const struct lc_cast *c)
{
    uint64_t keep = (uint64_t)LC_STREAM_MAX_BURST_S * 48000 + (uint64_t)c->eng->o.lead_ms * 48;
    if (catching_up(c) && c->q.tail != NULL && c->q.tail->g1 > c->em_g0 &&
        c->q.tail->g1 - c->em_g0 > keep)
        keep = c->q.tail->g1 - c->em_g0;
    return keep;
}

static void on_tick(uv_timer_t *t);

/* The next page is made lead_ms before its audio plays. */
static void arm(struct lc_cast *c)
{
    int64_t now = (int64_t)uv_now(c->eng->o.loop);
    int64_t due = c->next_play - c->eng->o.lead_ms;
    uv_timer_start(&c->timer, on_tick, due > now ? (uint64_t)(due - now) : 0, 0);
}

static void cast_end(struct lc_cast *c, bool close_now);

/* The programme begins: its first packet plays at next_play. */
static void cast_begin(struct lc_cast *c, int64_t offset)
{
    c->state = CAST_ON;
    c->t0 = c->next_play;
    if (c->emergency)
        catchup_begin(c);
    lc_log(LC_LOG_INFO, "commune %s: session %lld on air (offset %lld ms, %zu receivers, its "
           "pages %d ms ahead)", c->commune, (long long)c->session, (long long)offset, c->nrcv,
           c->eng->o.lead_ms);
}

static void on_tick(uv_timer_t *t)
{
    struct lc_cast *c = t->data;
    struct lc_streams *e = c->eng;
    enter(e);
    int64_t now = (int64_t)uv_now(e->o.loop);
    fan_finish(c);
    if (c->state != CAST_DONE) /* here, while no fan-out walks the queue */
        lc_pageq_trim(&c->q, queue_keep(c));
    /* every page whose time came (all of them if the loop stalled) and those due within the next
     * send_ms - page_ms, in one fan-out: one write per receiver per send_ms (arm() brings the
     * timer back when the next page is due, send_ms from now) */
    int64_t ahead = e->o.send_ms - e->o.page_ms;
    struct lc_page *batch = NULL;
    if (c->state == CAST_ON)
        lc_prog_relays_wake(&c->prog, c->next_play - now, RELAY_EARLY_MS);
    while (c->ready && c->state != CAST_DONE && c->next_play - e->o.lead_ms - ahead <= now) {
        struct lc_page *first;
        if (c->state == CAST_HELD) {
            /* hold silence up to the start, in pages that end on it, then the programme */
            int64_t left = (c->t0 - c->next_play + 10) / 20, per = e->o.page_ms / 20;
            if (left <= 0) {
                cast_begin(c, 0);
                continue;
            }
            int npk = (int)(left % per != 0 ? left % per : per);
            first = make_hold(c, npk);
            c->next_play += npk * 20;
        } else {
            first = make_page(c, false);
            c->next_play += e->o.page_ms;
        }
        if (batch == NULL)
            batch = first;
    }
    fan_out(c, batch);
    if (c->state != CAST_DONE)
        arm(c);
    else
        cast_end(c, false);
    leave(e);
}

/* The stream is over (EOS made, or made now): receivers finish once their writes completed. A
 * cast not ready yet ends when it is (cast_ready). */
static void cast_end(struct lc_cast *c, bool close_now)
{
    if (!c->ready) {
        c->end_pending = true;
        return;
    }
    fan_finish(c);
    if (c->state != CAST_DONE) {
        if (c->state == CAST_HELD) /* never opened: the headers alone end it */
            c->state = CAST_ON;
        struct lc_page *first = make_page(c, close_now);
        c->state = CAST_DONE;
        fan_out(c, first);
    }
    lc_prog_relays_stop(&c->prog);
    uv_timer_stop(&c->timer);
    for (struct lc_rcv *r = c->rcvs, *nx; r; r = nx) {
        nx = r->next;
        if (r->inflight == 0 && r->eos_done)
            rcv_finish(r);
    }
    /* kept for late receivers until its catch-up ends (cast_maybe_free), then freed */
    if (catching_up(c) && !c->eng->stopping)
        uv_timer_start(&c->timer, on_tick, (uint64_t)(c->em_until_ms - wall_ms()) + 1, 0);
}

static void on_cast_timer_closed(uv_handle_t *h)
{
    struct lc_cast *c = h->data;
    struct lc_streams *e = c->eng;
    lc_stream_tap_end(c);
    lc_prog_free(&c->prog);
    lc_packer_free(&c->pk);
    lc_page_unref(c->headers);
    lc_page_unref(c->fan_first);
    lc_pageq_clear(&c->q);
    lc_dlv_free_all(&c->dlvs);
    lc_strmap_clear(&c->dlv_by_cluster);
    free(c);
    e->handles--;
    lc_stream_maybe_free(e);
}

/* A cast out of the engine's list goes once no load points at it any more. */
static void cast_close_if_unused(struct lc_cast *c)
{
    if (c->freeing && c->loads == 0)
        uv_close((uv_handle_t *)&c->timer, on_cast_timer_closed);
}

/* A cast that is finished (closed by the scheduler or replaced) and has no receiver left is
 * saved one last time, leaves the engine's list and is freed. */
static void cast_maybe_free(struct lc_cast *c)
{
    if (!c->closed || c->nrcv > 0 || c->freeing ||
        (c->state == CAST_DONE && catching_up(c) && !c->eng->stopping))
        return;
    c->freeing = true;
    struct lc_streams *e = c->eng;
    lc_stream_tap_end(c);
    lc_stream_save_cast(e, c, true);
    struct lc_cast **pp = &e->casts;
    while (*pp != c)
        pp = &(*pp)->next;
    *pp = c->next;
    uv_timer_stop(&c->timer);
    cast_close_if_unused(c);
}

static struct lc_cast *find_cast(struct lc_streams *e, const char *commune)
{
    for (struct lc_cast *c = e->casts; c; c = c->next)
        if (!c->closed && strcmp(c->commune, commune) == 0)
            return c;
    return NULL;
}

/* A finished stream of commune whose emergency's catch-up still runs and that cluster (NULL:
 * any) did not get from its start — a receiver that polls off air then gets it whole. */
static struct lc_cast *find_catchup(struct lc_streams *e, const char *commune,
                                    const char *cluster)
{
    for (struct lc_cast *c = e->casts; c; c = c->next) {
        if (c->state != CAST_DONE || c->freeing || !catching_up(c) ||
            strcmp(c->commune, commune) != 0)
            continue;
        const struct lc_dlv *d = cluster ? lc_strmap_get(&c->dlv_by_cluster, cluster) : NULL;
        if (d == NULL || !lc_dlv_covers(d, c->em_g0, c->em_g0 + LC_OPUS_FRAME))
            return c;
    }
    return NULL;
}

static void cast_open(struct lc_cast *c);

/* A ready cast before OPEN: hold silence from now (hold_audio) up to its start, then the
 * programme from start − lead_ms (on_tick). A start already past waits for OPEN. */
static void cast_hold(struct lc_cast *c)
{
    struct lc_streams *e = c->eng;
    uv_update_time(e->o.loop);
    int64_t now = (int64_t)uv_now(e->o.loop), until = c->start_ms - wall_ms();
    if (until <= 0)
        return;
    c->t0 = now + until;
    c->next_play = e->o.hold_audio ? now : c->t0;
    arm(c);
}

/* The programme's audio was read: the cast gets its timeline, its packer and its header page,
 * which the receivers that attached meanwhile get now; then what came meanwhile (an end, OPEN).
 * 0 or -ENOMEM. */
static int cast_ready(struct lc_cast *c, const struct lc_clipload *ld)
{
    int preskip = 312;
    if (lc_prog_append(&c->prog, ld->items, ld->clips, ld->n) < 0)
        return -ENOMEM;
    if (c->prog.nsegs > 0 && c->prog.segs[0].clip != NULL)
        preskip = c->prog.segs[0].clip->enc.preskip;
    uint32_t serial = (uint32_t)(uv_hrtime() ^ ((uint64_t)c->session * 2654435761u));
    if (lc_packer_init(&c->pk, serial, preskip, NULL, 0, &c->headers) < 0)
        return -ENOMEM;
    c->ready = true;
    lc_stream_tap_begin(c); /* issue 19: the Icecast source (stream_tap.c) */
    lc_log(LC_LOG_INFO, "commune %s: session %lld held, %zu items, %.1f s", c->commune,
           (long long)c->session, ld->n, lc_cast_programme_s(c));
    if (!c->end_pending) /* relays at the programme's start: from PREPARE */
        lc_prog_relays_wake(&c->prog, 0, RELAY_EARLY_MS);
    for (struct lc_rcv *r = c->rcvs, *nx; r; r = nx) {
        nx = r->next;
        rcv_send(r, c->headers, NULL);
    }
    if (c->end_pending)
        cast_end(c, true);
    else if (c->open_pending)
        cast_open(c);
    else
        cast_hold(c);
    return 0;
}

static void on_programme(void *arg, const struct lc_clipload *ld, int status)
{
    struct lc_cast *c = arg;
    struct lc_streams *e = c->eng;
    enter(e);
    c->loads--;
    if (!c->freeing && !e->stopping && (status < 0 || cast_ready(c, ld) < 0)) {
        lc_log(LC_LOG_ERR, "commune %s: session %lld: out of memory", c->commune,
               (long long)c->session);
        for (struct lc_rcv *r = c->rcvs, *nx; r; r = nx) {
            nx = r->next;
            rcv_drop(r, "out of memory", false);
        }
        c->state = CAST_DONE;
        c->closed = true;
    }
    cast_close_if_unused(c);
    leave(e);
}

static void on_interrupt(void *arg, const struct lc_clipload *ld, int status)
{
    struct lc_cast *c = arg;
    struct lc_streams *e = c->eng;
    enter(e);
    c->loads--;
    if (c->freeing || e->stopping || status < 0) {
        /* gone meanwhile: nothing to splice */
    } else if (c->state == CAST_DONE) {
        lc_log(LC_LOG_WARN, "commune %s: interrupt while off air (ignored)", c->commune);
    } else {
        uint64_t before = lc_prog_remaining(&c->prog);
        if (lc_prog_interrupt(&c->prog, ld->items, ld->clips, ld->n) < 0) {
            lc_log(LC_LOG_ERR, "commune %s: interrupt: out of memory", c->commune);
        } else {
            /* where it lands in the programme, and how far what follows moves (the emergency,
             * the gap, an interrupted bulletin's replayed part): the scheduler's stored
             * programme follows (onair.h) */
            int64_t at_ms = (int64_t)((c->pk.granule - c->hold_g) / LC_OPUS_FRAME) * 20;
            int64_t shift_ms = (int64_t)(lc_prog_remaining(&c->prog) - before) * 20;
            catchup_begin(c);
            lc_log(LC_LOG_INFO, "commune %s: %zu emergency items spliced in at %lld ms, playing "
                   "in %lld ms", c->commune, ld->n, (long long)at_ms,
                   (long long)(c->next_play - (int64_t)uv_now(e->o.loop)));
            lc_onair_spliced(e->o.onair, c->session, at_ms, shift_ms);
        }
    }
    cast_close_if_unused(c);
    leave(e);
}

/* A cast HELD at once, not ready until its programme's audio is read (on_programme). */
static struct lc_cast *cast_new(struct lc_streams *e, const struct lc_onair_session *s)
{
    struct lc_cast *c = calloc(1, sizeof *c);
    if (c == NULL)
        goto fail;
    c->eng = e;
    c->session = s->id;
    snprintf(c->commune, sizeof c->commune, "%s", s->commune);
    c->start_ms = s->start_ms;
    c->end_ms = s->end_ms;
    c->emergency = s->emergency != 0;
    c->prog.silence = e->silence;
    c->prog.silence_len = e->silence_len;
    c->prog.relay_cfg = &e->relay_cfg;
    if (lc_clips_load(&e->clips, s->items, s->nitems, on_programme, c) < 0)
        goto fail;
    c->loads = 1;
    uv_timer_init(e->o.loop, &c->timer);
    c->timer.data = c;
    e->handles++;
    c->state = CAST_HELD;
    c->next = e->casts;
    e->casts = c;
    return c;
fail:
    free(c);
    lc_log(LC_LOG_ERR, "commune %s: session %lld: out of memory", s->commune, (long long)s->id);
    return NULL;
}

/* An earlier cast of the commune gives way to a new session. */
static void cast_retire(struct lc_cast *c)
{
    cast_end(c, true);
    c->closed = true;
}

/* OPEN: the stream plays from now − start (a restart in the middle of the session goes on where
 * it is). A cast not ready yet remembers when OPEN came and opens as of then when it is. A cast
 * that began on its own at start − lead_ms (on_tick) is ON already. */
static void cast_open(struct lc_cast *c)
{
    struct lc_streams *e = c->eng;
    if (c->state != CAST_HELD)
        return;
    if (!c->open_pending) {
        c->open_wall_ms = wall_ms();
        uv_update_time(e->o.loop);
        c->open_t0 = uv_now(e->o.loop);
        c->open_pending = true;
    }
    if (!c->ready)
        return;
    c->open_pending = false;
    int64_t offset = c->open_wall_ms - c->start_ms;
    if (offset >= 1000) { /* a restart in the middle of the session: go on where it is */
        uint64_t skip = (uint64_t)offset / 20;
        lc_prog_skip(&c->prog, skip);
        c->pk.granule = c->pk.flushed = c->hold_g + skip * LC_OPUS_FRAME;
    }
    /* the programme plays from OPEN, or after the hold silence already sent */
    if (c->next_play < (int64_t)c->open_t0)
        c->next_play = (int64_t)c->open_t0;
    cast_begin(c, offset);
    on_tick(&c->timer);
}

void lc_stream_onair_cb(void *ctx, enum lc_onair_event ev, const struct lc_onair_session *s)
{
    struct lc_streams *e = ctx;
    if (e->stopping)
        return;
    enter(e);
    struct lc_cast *c = find_cast(e, s->commune);
    switch (ev) {
    case LC_ONAIR_PREPARE:
    case LC_ONAIR_OPEN:
        if (c != NULL && c->session != s->id) {
            cast_retire(c);
            c = NULL;
        }
        if (c == NULL)
            c = cast_new(e, s);
        if (c != NULL && ev == LC_ONAIR_OPEN) {
            /* OPEN carries when the programme starts: its start, or (a session opened late,
             * not resumed) the moment it went on air, so that it plays from the top */
            if (c->state == CAST_HELD)
                c->start_ms = s->start_ms;
            cast_open(c);
        }
        break;
    case LC_ONAIR_INTERRUPT:
        if (c == NULL || c->state == CAST_DONE) {
            lc_log(LC_LOG_WARN, "commune %s: interrupt while off air (ignored)", s->commune);
            break;
        }
        /* spliced in when its audio is read (on_interrupt), after the programme's own */
        if (lc_clips_load(&e->clips, s->items, s->nitems, on_interrupt, c) < 0)
            lc_log(LC_LOG_ERR, "commune %s: interrupt: out of memory", s->commune);
        else
            c->loads++;
        break;
    case LC_ONAIR_MOVED: /* the stream made that move itself */
        break;
    case LC_ONAIR_CLOSE:
        if (c != NULL && c->session == s->id) {
            cast_end(c, true);
            c->closed = true;
            lc_log(LC_LOG_INFO, "commune %s: session %lld closed", c->commune,
                   (long long)c->session);
        }
        break;
    }
    leave(e);
}

void lc_stream_end_all(struct lc_streams *e)
{
    enter(e);
    for (struct lc_cast *c = e->casts; c; c = c->next) {
        c->em_until_ms = 0; /* no catch-up past a shutdown */
        for (struct lc_rcv *r = c->rcvs, *nx; r; r = nx) {
            nx = r->next;
            rcv_drop(r, "the server stops", false);
        }
        if (c->state != CAST_DONE)
            cast_end(c, true);
        c->closed = true;
    }
    leave(e);
}

/* ---- attach -------------------------------------------------------------------------------- */

bool lc_streams_on_air(struct lc_streams *e, const char *commune)
{
    const struct lc_cast *c = find_cast(e, commune);
    return !e->stopping && ((c != NULL && c->state != CAST_DONE) ||
                            find_catchup(e, commune, NULL) != NULL);
}

void lc_streams_drop_cluster(struct lc_streams *e, const char *cluster, const char *why)
{
    if (e == NULL)
        return;
    struct lc_rcv *r = lc_strmap_get(&e->by_cluster, cluster);
    if (r == NULL)
        return;
    enter(e);
    rcv_drop(r, why, false);
    leave(e);
}

static int rcv_begin(struct lc_streams *e, struct lc_cast *c, struct lc_req *req,
                     struct lc_dlv *d, int burst_s);

int lc_streams_attach(struct lc_streams *e, struct lc_req *req, const char *cluster,
                      const char *commune, int burst_s)
{
    struct lc_cast *c = find_cast(e, commune);
    struct lc_cast *k = find_catchup(e, commune, cluster);
    if (k != NULL && (c == NULL || c->state != CAST_ON)) /* an emergency it missed comes first */
        c = k;
    if (e->stopping || c == NULL || (c->state == CAST_DONE && c != k))
        return -ENOENT;
    enter(e);
    int rc = 0;
    struct lc_rcv *old = lc_strmap_get(&e->by_cluster, cluster);
    if (old != NULL) {
        e->replaced++;
        lc_strmap_del(&e->by_cluster, cluster, old);
        if (strcmp(old->addr, req->addr) != 0)
            clone_check(e, cluster, old->addr, req->addr);
        rcv_replaced(old, req->addr);
    }
    struct lc_dlv *d = lc_strmap_get(&c->dlv_by_cluster, cluster);
    if (d == NULL) {
        d = lc_dlv_new(cluster, &c->dlvs);
        if (d == NULL || lc_strmap_put(&c->dlv_by_cluster, cluster, d) < 0) {
            rc = -ENOMEM; /* a record made stays in the list, unconnected */
            goto out;
        }
        if (e->o.store != NULL) {
            struct lc_dlv_session ds = {.id = c->session};
            lc_delivery_load(e->o.store, &ds, d);
        }
    }
    rc = rcv_begin(e, c, req, d, burst_s);
out:
    leave(e);
    return rc;
}

int lc_stream_listen_attach(struct lc_streams *e, struct lc_req *req, const char *commune,
                            int burst_s)
{
    struct lc_cast *c = find_cast(e, commune);
    if (e->stopping || c == NULL || c->state == CAST_DONE)
        return -ENOENT;
    enter(e);
    int rc = rcv_begin(e, c, req, NULL, burst_s);
    leave(e);
    return rc;
}

/* A new receiver of c for req: the cluster of record d, or a staff listener (d NULL: out of the
 * cluster map, no record, counted apart). Begins the 200 answer and sends the headers and the
 * burst. 0 (also when the client went away meanwhile) or -ENOMEM. Inside enter/leave. */
static int rcv_begin(struct lc_streams *e, struct lc_cast *c, struct lc_req *req,
                     struct lc_dlv *d, int burst_s)
{
    struct lc_rcv *r = calloc(1, sizeof *r);
    if (r == NULL || (d != NULL && lc_strmap_put(&e->by_cluster, d->cluster, r) < 0)) {
        free(r);
        return -ENOMEM;
    }
    struct lc_http_conn *conn = NULL;
    if (lc_http_stream_begin(req, 200, "audio/ogg", "X-Content-Type-Options: nosniff\r\n") < 0 ||
        (conn = lc_http_stream_detach(req)) == NULL) {
        if (d != NULL)
            lc_strmap_del(&e->by_cluster, d->cluster, r);
        free(r);
        return 0; /* the client is gone: nothing to answer */
    }
    /* A small kernel buffer: what the kernel holds for a stalled receiver counts as delivered,
     * so keep it to a few seconds of audio; the engine's backlog bound does the rest. */
    int sndbuf = 8192;
    uv_send_buffer_size((uv_handle_t *)lc_http_conn_socket(conn), &sndbuf);
    uv_os_fd_t fd = -1;
    uv_fileno((uv_handle_t *)lc_http_conn_socket(conn), &fd);
    r->fd = fd;
    e->nrcv_objects++;
    r->eng = e;
    snprintf(r->addr, sizeof r->addr, "%s", req->addr);
    r->conn = conn;
    r->cast = c;
    r->dlv = d;
    lc_http_conn_on_close(conn, on_rcv_closed, r);
    r->next = c->rcvs;
    if (c->rcvs)
        c->rcvs->prev = r;
    c->rcvs = r;
    c->nrcv++;
    if (d == NULL) {
        c->nlisten++;
        e->listeners++;
    } else {
        e->connected++;
        lc_dlv_connect(d, wall_ms() / 1000);
    }
    r->since_ms = wall_ms();
    snprintf(r->who, sizeof r->who, "%s", rcv_name(r));
    lc_log(LC_LOG_INFO, "%s connected from %s: commune %s, session %lld", r->who, r->addr,
           c->commune, (long long)c->session);
    /* the burst: the newest pages covering ≥ burst seconds of what has played, plus the lead
     * (the queue keeps the longest burst a request may ask for), numbered on from the headers;
     * during an emergency's catch-up, from its first page if this cluster did not get it */
    struct lc_page *from = c->q.head;
    uint64_t want = (uint64_t)(burst_s < 0 ? e->o.burst_s : burst_s) * 48000 +
                    (uint64_t)e->o.lead_ms * 48;
    while (from != NULL && from->next != NULL && c->q.tail->g1 - from->next->g0 >= want)
        from = from->next;
    if (want == 0 && c->q.tail != NULL)
        from = c->q.tail;
    if (d != NULL && catching_up(c) && !lc_dlv_covers(d, c->em_g0, c->em_g0 + LC_OPUS_FRAME))
        for (from = c->q.head; from != NULL && from->g1 <= c->em_g0; from = from->next)
            ;
    if (from != NULL)
        r->seq_off = lc_page_seq(from) - 2;
    /* the headers (else when they are made: cast_ready) and the burst, in one write */
    rcv_send(r, c->ready ? c->headers : NULL, from);
    return 0;
}
