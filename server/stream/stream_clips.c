/*
 * server/stream/stream_clips.c — the clip cache and its reader thread; see stream_clips.h.
 */
#define LC_LOG_MODULE "stream"
#include "server/stream/stream_clips.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <opus/opus.h>

#include "codecs/oggmux.h"
#include "common/log.h"
#include "common/workers.h"

/* One file this load reads (the clip was created by it, state READING). The reader thread
 * writes enc and rc only; the loop moves them into the clip when the job is done. */
struct read {
    struct lc_clip *clip;
    char path[4096 + 100];
    struct lc_encoded enc;
    int rc;
};

struct load {
    struct lc_job job;              /* first: the job is the load */
    struct lc_clipload pub;
    struct read *reads;
    size_t nreads;
    lc_clips_load_cb cb;
    void *arg;
};

/* ---- the reader thread --------------------------------------------------------------------- */

static int read_file(const char *path, unsigned char **data, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat sb;
    int rc = 0;
    unsigned char *buf = NULL;
    if (fstat(fd, &sb) != 0 || sb.st_size <= 0 || sb.st_size > (64 << 20)) {
        rc = -EINVAL;
        goto cleanup;
    }
    buf = malloc((size_t)sb.st_size);
    if (buf == NULL) {
        rc = -ENOMEM;
        goto cleanup;
    }
    size_t got = 0;
    while (got < (size_t)sb.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);
        if (n <= 0) {
            rc = n < 0 ? -errno : -EIO;
            goto cleanup;
        }
        got += (size_t)n;
    }
    *data = buf;
    *len = got;
    buf = NULL;
cleanup:
    free(buf);
    close(fd);
    return rc;
}

/* Reads and checks one file into x->enc (x->rc: 0 or < 0, logged). */
static void read_clip(struct read *x)
{
    unsigned char *data = NULL;
    size_t len = 0;
    struct lc_err err = {0};
    x->rc = read_file(x->path, &data, &len);
    if (x->rc < 0) {
        lc_log(LC_LOG_ERR, "%s: cannot read: %s", x->path, strerror(-x->rc));
        return;
    }
    x->rc = lc_ogg_demux(data, len, &x->enc, &err);
    free(data);
    if (x->rc < 0) {
        lc_log(LC_LOG_ERR, "%s: %s", x->path, err.msg);
        return;
    }
    for (size_t i = 0; i < x->enc.npkts; i++) {
        const struct lc_packet *pk = &x->enc.pkts[i];
        if (opus_packet_get_nb_samples(x->enc.data + pk->off, (opus_int32)pk->len,
                                       LC_OPUS_RATE) != LC_OPUS_FRAME) {
            lc_log(LC_LOG_ERR, "%s: packet %zu is not 20 ms", x->path, i);
            x->rc = -EINVAL;
            break;
        }
    }
    if (x->rc == 0 && x->enc.npkts == 0)
        x->rc = -EINVAL;
    if (x->rc < 0)
        lc_encoded_free(&x->enc);
}

static void on_work(struct lc_job *job)
{
    struct load *ld = (struct load *)job;
    for (size_t i = 0; i < ld->nreads; i++)
        read_clip(&ld->reads[i]);
}

/* ---- the cache (loop thread) --------------------------------------------------------------- */

static void unlink_clip(struct lc_clip *k)
{
    if (!k->linked)
        return;
    if (k->prev)
        k->prev->next = k->next;
    else
        k->cache->head = k->next;
    if (k->next)
        k->next->prev = k->prev;
    k->prev = k->next = NULL;
    k->linked = false;
}

void lc_clip_put(struct lc_clip *k)
{
    if (k == NULL || --k->refs > 0)
        return;
    unlink_clip(k);
    lc_encoded_free(&k->enc);
    free(k);
}

static void load_free(struct load *ld)
{
    for (size_t i = 0; i < ld->pub.n; i++) {
        lc_clip_put(ld->pub.clips[i]);
        free((char *)ld->pub.items[i].audio);
        free((char *)ld->pub.items[i].relay);
    }
    for (size_t i = 0; i < ld->nreads; i++)
        lc_encoded_free(&ld->reads[i].enc);
    free(ld->pub.items);
    free(ld->pub.clips);
    free(ld->reads);
    free(ld);
}

static void on_done(struct lc_job *job, int cancelled)
{
    struct load *ld = (struct load *)job;
    for (size_t i = 0; i < ld->nreads; i++) {
        struct read *x = &ld->reads[i];
        if (!cancelled && x->rc == 0) {
            x->clip->enc = x->enc;
            memset(&x->enc, 0, sizeof x->enc);
            x->clip->state = LC_CLIP_READY;
        } else { /* out of the cache: a later load tries again */
            x->clip->state = LC_CLIP_FAILED;
            unlink_clip(x->clip);
        }
        lc_clip_put(x->clip); /* the read's reference; the item keeps its own */
        x->clip = NULL;
    }
    /* Clips read by earlier loads are done too (one thread, in order); what is not READY plays
     * as silence. The load keeps its references until the callback returned. */
    for (size_t i = 0; i < ld->pub.n; i++)
        if (ld->pub.clips[i] != NULL && ld->pub.clips[i]->state != LC_CLIP_READY) {
            lc_clip_put(ld->pub.clips[i]);
            ld->pub.clips[i] = NULL;
        }
    ld->cb(ld->arg, &ld->pub, cancelled ? -ECANCELED : 0);
    load_free(ld);
}

/* The cached clip of name (any state), with one more reference; or a new READING one, linked,
 * queued on ld's reads. NULL for a bad name (logged) or out of memory. */
static struct lc_clip *find_or_read(struct lc_clips *cc, struct load *ld, const char *name)
{
    for (struct lc_clip *k = cc->head; k; k = k->next)
        if (strcmp(k->name, name) == 0)
            return lc_clip_ref(k);
    size_t nl = strlen(name);
    if (nl == 0 || nl >= sizeof ((struct lc_clip *)0)->name || strchr(name, '/') ||
        name[0] == '.') {
        lc_log(LC_LOG_ERR, "bad audio name '%.80s'", name);
        return NULL;
    }
    struct lc_clip *k = calloc(1, sizeof *k);
    if (k == NULL)
        return NULL;
    memcpy(k->name, name, nl + 1);
    k->refs = 1;
    k->cache = cc;
    k->state = LC_CLIP_READING;
    k->linked = true;
    k->next = cc->head;
    if (cc->head)
        cc->head->prev = k;
    cc->head = k;
    struct read *x = &ld->reads[ld->nreads++];
    x->clip = k;
    snprintf(x->path, sizeof x->path, "%s/%s", cc->dir, name);
    return lc_clip_ref(k); /* one reference for the item, one for the read */
}

int lc_clips_load(struct lc_clips *cc, const struct lc_onair_item *items, size_t n,
                  lc_clips_load_cb cb, void *arg)
{
    if (cc->reader == NULL)
        return -ESHUTDOWN;
    struct load *ld = calloc(1, sizeof *ld);
    if (ld == NULL)
        return -ENOMEM;
    size_t cap = n > 0 ? n : 1;
    ld->pub.items = calloc(cap, sizeof *ld->pub.items);
    ld->pub.clips = calloc(cap, sizeof *ld->pub.clips);
    ld->reads = calloc(cap, sizeof *ld->reads);
    ld->job.work = on_work;
    ld->job.done = on_done;
    ld->cb = cb;
    ld->arg = arg;
    int rc = -ENOMEM;
    if (ld->pub.items == NULL || ld->pub.clips == NULL || ld->reads == NULL)
        goto fail;
    for (size_t i = 0; i < n; i++, ld->pub.n++) {
        ld->pub.items[i] = items[i];
        ld->pub.items[i].title = NULL; /* not kept */
        ld->pub.items[i].audio = NULL;
        ld->pub.items[i].relay = NULL;
        if (items[i].relay != NULL && (ld->pub.items[i].relay = strdup(items[i].relay)) == NULL)
            goto fail; /* a relay's URL, for the programme (stream_relay.h) */
        if (items[i].audio == NULL)
            continue;
        if ((ld->pub.items[i].audio = strdup(items[i].audio)) == NULL) {
            free((char *)ld->pub.items[i].relay); /* item i is not counted in pub.n yet */
            goto fail;
        }
        ld->pub.clips[i] = find_or_read(cc, ld, items[i].audio);
    }
    if ((rc = lc_workers_submit(cc->reader, &ld->job)) < 0)
        goto fail;
    return 0;
fail:
    for (size_t i = 0; i < ld->nreads; i++) { /* nothing was read: the clips go */
        ld->reads[i].clip->state = LC_CLIP_FAILED;
        unlink_clip(ld->reads[i].clip);
        lc_clip_put(ld->reads[i].clip);
    }
    ld->nreads = 0;
    load_free(ld);
    return rc;
}

int lc_clips_open(struct lc_clips *cc, uv_loop_t *loop, const char *dir)
{
    memset(cc, 0, sizeof *cc);
    snprintf(cc->dir, sizeof cc->dir, "%s", dir);
    return lc_workers_open(&cc->reader, loop, 1);
}

void lc_clips_close(struct lc_clips *cc)
{
    struct lc_workers *r = cc->reader;
    cc->reader = NULL;
    lc_workers_close(r);
}
