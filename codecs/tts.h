/*
 * codecs/tts.h — speech synthesis with espeak-ng's C library.
 *
 * espeak-ng keeps global state (one voice, one set of parameters, one callback), so one object,
 * lc_tts, owns it: a dedicated thread initialises espeak-ng and runs every synthesis in turn.
 * lc_tts_speak() may be called from any thread; it queues the request and waits for its result.
 */
#ifndef LC_CODECS_TTS_H
#define LC_CODECS_TTS_H

#include "common/err.h"
#include "codecs/pcm.h"

struct lc_tts;

/* Known voices, NULL-terminated: "vi", "vi-vn-x-central", "vi-vn-x-south". */
extern const char *const lc_tts_voices[];

/* 0 if voice is one of lc_tts_voices, else -EINVAL with a message listing them. */
int lc_tts_check_voice(const char *voice, struct lc_err *err);

/* Starts the synthesis thread and initialises espeak-ng in it. */
int lc_tts_open(struct lc_tts **out, struct lc_err *err);
/* Stops the thread after the requests in progress. NULL is a no-op. */
void lc_tts_close(struct lc_tts *t);

/* Speaks UTF-8 text with voice at rate_wpm into out (appended; out->rate is set to the
 * synthesiser's rate, 22050 Hz). Lines of text are spoken with espeak-ng's punctuation pauses.
 * Empty text or an unknown voice is -EINVAL with a message. Speech longer than max_s seconds
 * (0: no bound) is -EFBIG with a message: the synthesis is stopped as it passes the bound. */
int lc_tts_speak(struct lc_tts *t, const char *voice, int rate_wpm, const char *text,
                 double max_s, struct lc_pcm *out, struct lc_err *err);
/* The same, ahead of every request waiting (an emergency). */
int lc_tts_speak_first(struct lc_tts *t, const char *voice, int rate_wpm, const char *text,
                       double max_s, struct lc_pcm *out, struct lc_err *err);

#endif
