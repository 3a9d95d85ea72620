/* espeak-ng behind its owner thread: voices, errors, and speech requested from many threads. */
#include <pthread.h>
#include <string.h>

#include "codecs/tts.h"
#include "tests/check.h"

static struct lc_tts *tts;

struct req {
    const char *voice;
    struct lc_pcm pcm;
    int rc;
};

static void *speak_thread(void *arg)
{
    struct req *r = arg;
    r->rc = lc_tts_speak(tts, r->voice, 150, "Xin chào bà con. Hôm nay trời nắng.", 0, &r->pcm, NULL);
    return NULL;
}

int main(void)
{
    struct lc_err err = {0};
    CHECK(lc_tts_open(&tts, &err) == 0);

    struct lc_pcm p = {0};
    CHECK(lc_tts_speak(tts, "vi", 150, "Đài truyền thanh xã kính chào bà con.", 0, &p, &err) == 0);
    CHECK(p.rate == 22050);
    CHECKF(lc_pcm_seconds(&p) > 1.0 && lc_pcm_seconds(&p) < 6.0, "%.2f s", lc_pcm_seconds(&p));

    /* Faster speech is shorter. */
    struct lc_pcm fast = {0};
    CHECK(lc_tts_speak(tts, "vi", 300, "Đài truyền thanh xã kính chào bà con.", 0, &fast, &err) == 0);
    CHECK(fast.n < p.n * 3 / 4);

    /* Errors. */
    struct lc_pcm q = {0};
    CHECK(lc_tts_speak(tts, "en", 150, "hello", 0, &q, &err) == -EINVAL);
    CHECK(strstr(err.msg, "unknown voice 'en'") != NULL);
    CHECK(lc_tts_speak(tts, "vi", 150, "  \n\t ", 0, &q, &err) == -EINVAL);
    CHECK(strstr(err.msg, "empty") != NULL);
    CHECK(lc_tts_speak(tts, "vi", 20, "Xin chào", 0, &q, &err) == -EINVAL);
    CHECK(q.n == 0);

    /* Six threads, three voices, at once: each gets its own whole utterance. */
    struct req rs[6];
    pthread_t th[6];
    for (int i = 0; i < 6; i++) {
        rs[i] = (struct req){.voice = lc_tts_voices[i % 3]};
        pthread_create(&th[i], NULL, speak_thread, &rs[i]);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
        CHECK(rs[i].rc == 0);
        CHECK(rs[i].pcm.n > 22050);
    }
    /* Same voice, same text: the same length give or take espeak-ng's few samples of jitter. */
    CHECK(rs[0].pcm.n + 441 > rs[3].pcm.n && rs[3].pcm.n + 441 > rs[0].pcm.n);
    for (int i = 0; i < 6; i++)
        lc_pcm_free(&rs[i].pcm);

    lc_pcm_free(&p);
    lc_pcm_free(&fast);
    lc_tts_close(tts);
    return check_done();
}
