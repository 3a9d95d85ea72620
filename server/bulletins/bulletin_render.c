/*
 * server/bulletins/bulletin_render.c — the render service: one job kind on the render pool for
 * every rendering of the server (text bulletins, recorded uploads, emergencies).
 *
 * A job owns copies of everything its worker needs (title, text, voice, the audio directory,
 * the options); a recording's bytes are borrowed from the caller, who keeps them until done.
 * The worker calls the blocking lc_render_text()/lc_render_audio(), writes the Ogg Opus file
 * durably (audiostore.h) and computes its media hash (BLAKE2b-256, what receivers fetch it
 * by) from the same bytes; the done callback, on the loop, hands the outcome to the caller's
 * callback and frees the job. The database is never touched here: a file without a row is at
 * worst an orphan, never a row without its file. Calls nothing else of the module.
 */
#define LC_LOG_MODULE "bulletins"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codecs/render.h"
#include "common/workers.h"
#include "server/bulletins/bulletins_internal.h"
#include "server/store/store.h"

struct render_job {
    struct lc_job job;              /* first: the pool links this */
    struct lc_renderer *renderer;
    const struct lc_lexicon *lexicon;
    char *title;
    char *text;                     /* NULL: a recording */
    const void *audio;              /* borrowed */
    size_t audio_len;
    char voice[32];
    int rate, bitrate;
    double lufs;
    double max_s;
    bool urgent;                    /* an emergency: ahead of other renders' work in codecs */
    char audio_dir[PATH_MAX];
    lc_render_done_cb done;
    void *arg;
    /* results */
    int rc;
    struct lc_err err;
    char hash[LC_AUDIO_HASH_LEN];
    char media_hash[LC_AUDIO_HASH_LEN];
    size_t bytes;
    double duration_s, seconds;
};

static void job_free(struct render_job *j)
{
    free(j->title);
    free(j->text);
    free(j);
}

static void on_work(struct lc_job *job)
{
    struct render_job *j = (struct render_job *)job;
    struct lc_render_opts o = {.voice = j->voice, .rate_wpm = j->rate, .bitrate_kbps = j->bitrate,
                               .complexity = LC_RENDER_DEFAULT_COMPLEXITY,
                               .loudness_lufs = j->lufs, .title = j->title, .max_s = j->max_s,
                               .urgent = j->urgent};
    struct lc_rendered out = {0};
    uint64_t t0 = uv_hrtime();
    j->rc = lc_render_opts_resolve(&o, &j->err);
    if (j->rc == 0) {
        if (j->text)
            j->rc = lc_render_text(j->renderer, &o, j->lexicon, j->text, strlen(j->text), &out,
                                   &j->err);
        else
            j->rc = lc_render_audio(j->renderer, &o, j->audio, j->audio_len, &out, &j->err);
    }
    if (j->rc == 0) {
        j->rc = lc_audio_store(j->audio_dir, out.ogg.data, out.ogg.len, j->hash, &j->err);
        lc_media_hash(out.ogg.data, out.ogg.len, j->media_hash);
        j->bytes = out.ogg.len;
        j->duration_s = out.duration_s;
    }
    lc_rendered_free(&out);
    j->seconds = (double)(uv_hrtime() - t0) / 1e9;
}

static void on_done(struct lc_job *job, int cancelled)
{
    struct render_job *j = (struct render_job *)job;
    struct lc_render_out out = {.rc = j->rc, .err = &j->err, .hash = j->hash,
                                .media_hash = j->media_hash, .bytes = j->bytes,
                                .duration_s = j->duration_s, .seconds = j->seconds};
    j->done(&out, cancelled, j->arg);
    job_free(j);
}

int lc_bulletins_render(struct lc_bulletins *b, const struct lc_render_in *in, bool first,
                        lc_render_done_cb done, void *arg)
{
    if (b->render_pool == NULL)
        return -ESHUTDOWN;
    struct render_job *j = calloc(1, sizeof *j);
    if (j == NULL || (j->title = strdup(in->title)) == NULL ||
        (in->text && (j->text = strdup(in->text)) == NULL)) {
        if (j)
            job_free(j);
        return -ENOMEM;
    }
    j->job.work = on_work;
    j->job.done = on_done;
    j->renderer = b->renderer;
    j->lexicon = b->lexicon;
    j->audio = in->audio;
    j->audio_len = in->audio_len;
    snprintf(j->voice, sizeof j->voice, "%s", in->voice);
    j->rate = in->rate_wpm;
    j->bitrate = b->bitrate_kbps;
    j->lufs = b->loudness_lufs;
    j->max_s = b->max_bulletin_s;
    j->urgent = first;
    snprintf(j->audio_dir, sizeof j->audio_dir, "%s", b->audio_dir);
    j->done = done;
    j->arg = arg;
    /* An emergency never waits for a render worker: it has its own (urgent_pool), and its
     * synthesis and encoding go ahead of the other renders' waiting work. */
    int rc = !first ? lc_workers_submit(b->render_pool, &j->job)
             : b->urgent_pool ? lc_workers_submit_first(b->urgent_pool, &j->job)
                              : lc_workers_submit_first(b->render_pool, &j->job);
    if (rc < 0)
        job_free(j);
    return rc;
}
