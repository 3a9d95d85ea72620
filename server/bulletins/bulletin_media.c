/*
 * server/bulletins/bulletin_media.c — media hashes for audio stored before they existed.
 *
 * Every render stores a bulletin's media hash (the hex BLAKE2b-256 of its Ogg Opus file, what
 * receivers fetch it by: GET /media/{hash}.opus) with its audio hash. Bulletins whose audio was
 * stored before migration 36 have none: at start, lc_bulletins_resume() calls
 * lc_bulletins_hash_media(), which reads and hashes their files on the render pool and stores
 * the hashes on the loop.
 *
 *   loop: SELECT up to BATCH audio hashes without a media hash, after the last one done
 *     → render pool: lc_media_hash_file() each (blocking reads, never on the loop)
 *     → loop: UPDATE bulletins SET media_hash … WHERE audio_hash = … (one transaction),
 *             then the next batch
 *
 * One batch is in flight at a time, so at most one render thread is busy with this and the
 * renders of new bulletins are not held up. Batches go in audio-hash order, each after the
 * last hash of the previous one, so a missing or unreadable file is logged and passed over
 * (tried again at the next start), never looped on. A shutdown cancels the waiting batch; the
 * next start goes on. Calls nothing else of the module.
 */
#define LC_LOG_MODULE "bulletins"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/workers.h"
#include "server/bulletins/bulletins_internal.h"
#include "server/store/store.h"

#define BATCH 32

struct media_batch {
    struct lc_job job;                  /* first: the pool links this */
    struct lc_bulletins *b;
    char audio_dir[PATH_MAX];           /* a copy: the worker touches only the batch */
    int n;
    char audio[BATCH][LC_AUDIO_HASH_LEN];
    /* results, filled on the worker */
    char media[BATCH][LC_AUDIO_HASH_LEN];
    int rc[BATCH];
    struct lc_err err[BATCH];
    int done_total;                     /* hashes stored by the batches before, for the log */
};

/* Worker thread: reads and hashes each file of the batch. */
static void hash_files(struct lc_job *job)
{
    struct media_batch *m = (struct media_batch *)job;
    for (int i = 0; i < m->n; i++)
        m->rc[i] = lc_media_hash_file(m->audio_dir, m->audio[i], m->media[i], &m->err[i]);
}

static int store_hashes(struct lc_store *s, void *arg)
{
    static const char upd[] =
        "UPDATE bulletins SET media_hash = ?2 WHERE audio_hash = ?1 AND media_hash IS NULL";
    struct media_batch *m = arg;
    for (int i = 0; i < m->n; i++) {
        if (m->rc[i] < 0)
            continue;
        sqlite3_stmt *st = lc_store_stmt(s, upd);
        if (st == NULL)
            return -EIO;
        sqlite3_bind_text(st, 1, m->audio[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, m->media[i], -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        sqlite3_reset(st);
        if (step != SQLITE_DONE)
            return -EIO;
    }
    return 0;
}

static int next_batch(struct lc_bulletins *b, const char *after, int done_total);

/* Loop thread: stores the batch's hashes and starts the next batch. */
static void hashed(struct lc_job *job, int cancelled)
{
    struct media_batch *m = (struct media_batch *)job;
    int stored = 0;
    if (cancelled)
        goto out; /* shutting down: the next start goes on */
    for (int i = 0; i < m->n; i++) {
        if (m->rc[i] < 0)
            lc_log(LC_LOG_WARN, "no media hash for audio %s: %s", m->audio[i],
                   lc_err_msg(&m->err[i]));
        else
            stored++;
    }
    if (lc_store_tx(m->b->store, store_hashes, m) < 0) {
        lc_log(LC_LOG_ERR, "media hashes: cannot store them; tried again at the next start");
        goto out;
    }
    if (m->n == BATCH && next_batch(m->b, m->audio[m->n - 1], m->done_total + stored) == 0)
        goto out;
    if (m->done_total + stored > 0)
        lc_log(LC_LOG_INFO, "media hashes: %d stored audio file(s) hashed",
               m->done_total + stored);
out:
    free(m);
}

/* Queues the batch of audio hashes after `after` ("" for the first); 0 when one was queued,
 * 1 when there is nothing left, or -errno. */
static int next_batch(struct lc_bulletins *b, const char *after, int done_total)
{
    static const char sql[] =
        "SELECT DISTINCT audio_hash FROM bulletins"
        " WHERE audio_hash IS NOT NULL AND media_hash IS NULL AND audio_hash > ?1"
        " ORDER BY audio_hash LIMIT ?2";
    if (b->render_pool == NULL)
        return -ESHUTDOWN;
    struct media_batch *m = calloc(1, sizeof *m);
    if (m == NULL)
        return -ENOMEM;
    sqlite3_stmt *st = lc_store_stmt(b->store, sql);
    if (st == NULL) {
        free(m);
        return -EIO;
    }
    sqlite3_bind_text(st, 1, after, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, BATCH);
    while (m->n < BATCH && sqlite3_step(st) == SQLITE_ROW)
        snprintf(m->audio[m->n++], LC_AUDIO_HASH_LEN, "%s", lc_col_text(st, 0));
    if (lc_store_done(st) < 0 || m->n == 0) {
        int rc = m->n == 0 ? 1 : -EIO;
        free(m);
        return rc;
    }
    m->b = b;
    m->done_total = done_total;
    snprintf(m->audio_dir, sizeof m->audio_dir, "%s", b->audio_dir);
    m->job.work = hash_files;
    m->job.done = hashed;
    int rc = lc_workers_submit(b->render_pool, &m->job);
    if (rc < 0)
        free(m);
    return rc;
}

void lc_bulletins_hash_media(struct lc_bulletins *b)
{
    int rc = next_batch(b, "", 0);
    if (rc < 0)
        lc_log(LC_LOG_ERR, "media hashes: cannot start hashing stored audio: %s", strerror(-rc));
}
