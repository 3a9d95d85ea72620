/*
 * codecs/tts.c — espeak-ng behind one owner thread; see tts.h.
 *
 * Threads: lc_tts_open() starts `synth_main`, which alone calls espeak-ng (its state is global:
 * voice, rate, callback). Callers queue a struct request and sleep on its condition variable; the
 * thread fills req->out from espeak-ng's synchronous callback and signals. The request lives on
 * the caller's stack; the caller does not return before `done` is set, so it outlives its use.
 */
#include "codecs/tts.h"

#include <espeak-ng/speak_lib.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

const char *const lc_tts_voices[] = {"vi", "vi-vn-x-central", "vi-vn-x-south", NULL};

struct request {
    struct request *next;
    const char *voice;
    int rate_wpm;
    const char *text;
    struct lc_pcm *out;
    int rc;
    struct lc_err *err;
    int done;
    int oom;  /* set by the callback if an append failed */
    size_t max_samples;     /* 0: no bound; past it the synthesis is aborted (too_long) */
    double max_s;
    int too_long;
    pthread_cond_t cv;
};

struct lc_tts {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t work;
    struct request *head, *tail;
    int stopping;
    int rate;         /* espeak-ng's output rate, set by the thread at start */
    int init_rc;      /* result of initialisation, read by lc_tts_open */
    int init_done;
    struct lc_err init_err;
};

int lc_tts_check_voice(const char *voice, struct lc_err *err)
{
    if (voice == NULL)
        return lc_err_set(err, -EINVAL, "no voice given");
    for (int i = 0; lc_tts_voices[i] != NULL; i++)
        if (strcmp(voice, lc_tts_voices[i]) == 0)
            return 0;
    return lc_err_set(err, -EINVAL,
                      "unknown voice '%s': use vi, vi-vn-x-central or vi-vn-x-south", voice);
}

/* espeak-ng's synchronous callback: runs on the synthesis thread, inside espeak_Synth(). */
static int on_samples(short *wav, int n, espeak_EVENT *events)
{
    struct request *req = events != NULL ? events->user_data : NULL;
    if (req == NULL || wav == NULL || n <= 0)
        return 0;
    if (lc_pcm_append_s16(req->out, wav, (size_t)n) < 0) {
        req->oom = 1;
        return 1; /* abort synthesis */
    }
    if (req->max_samples && req->out->n > req->max_samples) {
        req->too_long = 1;
        return 1; /* abort: memory never grows past the bound */
    }
    return 0;
}

static void speak(struct lc_tts *t, struct request *req)
{
    if (espeak_SetVoiceByName(req->voice) != EE_OK) {
        req->rc = lc_err_set(req->err, -EINVAL, "espeak-ng has no voice '%s'", req->voice);
        return;
    }
    espeak_SetParameter(espeakRATE, req->rate_wpm, 0);
    req->out->rate = t->rate;
    size_t len = strlen(req->text) + 1;
    espeak_ERROR e = espeak_Synth(req->text, len, 0, POS_CHARACTER, 0,
                                  espeakCHARS_UTF8 | espeakENDPAUSE, NULL, req);
    if (req->oom)
        req->rc = lc_err_set(req->err, -ENOMEM, "out of memory during synthesis");
    else if (req->too_long)
        req->rc = lc_err_set(req->err, -EFBIG, "the text would be spoken for more than %.0f s, "
                             "the longest a bulletin may last: shorten it", req->max_s);
    else if (e != EE_OK)
        req->rc = lc_err_set(req->err, -EIO, "espeak-ng failed to synthesise (error %d)", (int)e);
    else
        req->rc = 0;
}

static void *synth_main(void *arg)
{
    struct lc_tts *t = arg;
    int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 500, NULL, 0);
    pthread_mutex_lock(&t->mu);
    if (rate <= 0) {
        t->init_rc = lc_err_set(&t->init_err, -EIO,
                                "espeak-ng failed to initialise (is espeak-ng-data installed?)");
    } else {
        t->rate = rate;
        espeak_SetSynthCallback(on_samples);
    }
    t->init_done = 1;
    pthread_cond_broadcast(&t->work);
    if (t->init_rc < 0) {
        pthread_mutex_unlock(&t->mu);
        return NULL;
    }
    for (;;) {
        while (t->head == NULL && !t->stopping)
            pthread_cond_wait(&t->work, &t->mu);
        struct request *req = t->head;
        if (req == NULL)
            break; /* stopping, queue drained */
        t->head = req->next;
        if (t->head == NULL)
            t->tail = NULL;
        pthread_mutex_unlock(&t->mu);
        speak(t, req);
        pthread_mutex_lock(&t->mu);
        req->done = 1;
        pthread_cond_signal(&req->cv);
    }
    pthread_mutex_unlock(&t->mu);
    espeak_Terminate();
    return NULL;
}

int lc_tts_open(struct lc_tts **out, struct lc_err *err)
{
    struct lc_tts *t = calloc(1, sizeof *t);
    if (t == NULL)
        return lc_err_set(err, -ENOMEM, "out of memory");
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->work, NULL);
    if (pthread_create(&t->thread, NULL, synth_main, t) != 0) {
        pthread_cond_destroy(&t->work);
        pthread_mutex_destroy(&t->mu);
        free(t);
        return lc_err_set(err, -EAGAIN, "cannot start the synthesis thread");
    }
    pthread_mutex_lock(&t->mu);
    while (!t->init_done)
        pthread_cond_wait(&t->work, &t->mu);
    int rc = t->init_rc;
    pthread_mutex_unlock(&t->mu);
    if (rc < 0) {
        if (err)
            *err = t->init_err;
        pthread_join(t->thread, NULL);
        pthread_cond_destroy(&t->work);
        pthread_mutex_destroy(&t->mu);
        free(t);
        return rc;
    }
    *out = t;
    return 0;
}

void lc_tts_close(struct lc_tts *t)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->mu);
    t->stopping = 1;
    pthread_cond_broadcast(&t->work);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->work);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

/* Queues req (at the head when first) and waits for the synthesis thread to run it. */
static int queue_and_wait(struct lc_tts *t, struct request *req, bool first)
{
    pthread_cond_init(&req->cv, NULL);
    pthread_mutex_lock(&t->mu);
    if (first) {
        req->next = t->head;
        t->head = req;
        if (t->tail == NULL)
            t->tail = req;
    } else if (t->tail) {
        t->tail->next = req;
        t->tail = req;
    } else {
        t->head = t->tail = req;
    }
    pthread_cond_signal(&t->work);
    while (!req->done)
        pthread_cond_wait(&req->cv, &t->mu);
    pthread_mutex_unlock(&t->mu);
    pthread_cond_destroy(&req->cv);
    return req->rc;
}

static int speak_queued(struct lc_tts *t, const char *voice, int rate_wpm, const char *text,
                        double max_s, bool first, struct lc_pcm *out, struct lc_err *err)
{
    int rc = lc_tts_check_voice(voice, err);
    if (rc < 0)
        return rc;
    const char *p = text;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    if (*p == '\0')
        return lc_err_set(err, -EINVAL, "the text is empty");
    if (rate_wpm < 80 || rate_wpm > 450)
        return lc_err_set(err, -EINVAL, "speaking rate %d is outside 80..450 words per minute",
                          rate_wpm);

    /* The text goes to the synthesis thread a chunk of lines at a time (about CHUNK bytes), so
     * that an urgent request waits for one chunk of another's text at most, not for all of it. */
    enum { CHUNK = 2000 };
    size_t base = out->n;
    size_t limit = max_s > 0 ? base + (size_t)(max_s * t->rate) : 0;
    rc = 0;
    for (const char *c = text; rc == 0 && *c;) {
        size_t n = strlen(c);
        if (n > CHUNK) {
            const char *nl = strchr(c + CHUNK, '\n');
            n = nl ? (size_t)(nl - c) + 1 : n;
        }
        char *chunk = strndup(c, n);
        if (chunk == NULL)
            return lc_err_set(err, -ENOMEM, "out of memory");
        c += n;
        struct request req = {
            .voice = voice, .rate_wpm = rate_wpm, .text = chunk, .out = out, .err = err,
            .max_s = max_s, .max_samples = limit,
        };
        rc = queue_and_wait(t, &req, first);
        free(chunk);
    }
    if (rc == 0 && out->n == base)
        rc = lc_err_set(err, -ENODATA, "espeak-ng produced no audio for this text");
    return rc;
}

int lc_tts_speak(struct lc_tts *t, const char *voice, int rate_wpm, const char *text,
                 double max_s, struct lc_pcm *out, struct lc_err *err)
{
    return speak_queued(t, voice, rate_wpm, text, max_s, false, out, err);
}

int lc_tts_speak_first(struct lc_tts *t, const char *voice, int rate_wpm, const char *text,
                       double max_s, struct lc_pcm *out, struct lc_err *err)
{
    return speak_queued(t, voice, rate_wpm, text, max_s, true, out, err);
}
