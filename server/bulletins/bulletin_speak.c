/*
 * server/bulletins/bulletin_speak.c — speech kept in memory (issue 20): a text rendered exactly
 * as a bulletin or an emergency would be (the same renderer, lexicon, voice, loudness and
 * bitrate), but the Ogg Opus bytes go back to the caller and nothing is stored — no file, no
 * row. Its caller is the emergency preview (POST /api/v1/emergency/preview, server/scheduler/).
 *
 * The job runs on the urgent pool (the render pool when there is none), queued behind what waits
 * there: an emergency, queued first, still goes ahead of every preview. Calls nothing else of
 * the module.
 */
#define LC_LOG_MODULE "bulletins"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codecs/render.h"
#include "common/workers.h"
#include "server/bulletins/bulletins_internal.h"

struct speak_job {
    struct lc_job job;              /* first: the pool links this */
    struct lc_renderer *renderer;
    const struct lc_lexicon *lexicon;
    char *text;
    char voice[32];
    int bitrate;
    double lufs, max_s;
    lc_speak_done_cb done;
    void *arg;
    /* results */
    int rc;
    struct lc_err err;
    struct lc_rendered out;         /* owned; freed with the job */
};

static void job_free(struct speak_job *j)
{
    lc_rendered_free(&j->out);
    free(j->text);
    free(j);
}

static void on_work(struct lc_job *job)
{
    struct speak_job *j = (struct speak_job *)job;
    struct lc_render_opts o = {.voice = j->voice, .bitrate_kbps = j->bitrate,
                               .complexity = LC_RENDER_DEFAULT_COMPLEXITY,
                               .loudness_lufs = j->lufs, .title = "preview", .max_s = j->max_s,
                               .urgent = true};
    j->rc = lc_render_opts_resolve(&o, &j->err);
    if (j->rc == 0)
        j->rc = lc_render_text(j->renderer, &o, j->lexicon, j->text, strlen(j->text), &j->out,
                               &j->err);
}

static void on_done(struct lc_job *job, int cancelled)
{
    struct speak_job *j = (struct speak_job *)job;
    struct lc_spoken out = {.rc = j->rc, .err = &j->err, .ogg = j->out.ogg.data,
                            .len = j->rc == 0 ? j->out.ogg.len : 0,
                            .duration_s = j->out.duration_s};
    j->done(&out, cancelled, j->arg);
    job_free(j);
}

int lc_bulletins_speak(struct lc_bulletins *b, const char *text, const char *voice,
                       lc_speak_done_cb done, void *arg)
{
    struct lc_workers *pool = b->urgent_pool ? b->urgent_pool : b->render_pool;
    if (pool == NULL)
        return -ESHUTDOWN;
    struct speak_job *j = calloc(1, sizeof *j);
    if (j == NULL || (j->text = strdup(text)) == NULL) {
        free(j);
        return -ENOMEM;
    }
    j->job.work = on_work;
    j->job.done = on_done;
    j->renderer = b->renderer;
    j->lexicon = b->lexicon;
    snprintf(j->voice, sizeof j->voice, "%s", voice);
    j->bitrate = b->bitrate_kbps;
    j->lufs = b->loudness_lufs;
    j->max_s = b->max_bulletin_s;
    j->done = done;
    j->arg = arg;
    int rc = lc_workers_submit(pool, &j->job);
    if (rc < 0)
        job_free(j);
    return rc;
}
