/*
 * tests/relay/test_relay.c — codecs/relay.h without a network: local files made by ffmpeg (MP3,
 * AAC in ADTS, Ogg Vorbis, Ogg Opus) read by a relay become 20 ms Opus packets of the right
 * length and loudness; URLs of other protocols are refused; and the leveller
 * (codecs/relay_level.c) alone: a quiet and a loud input reach the target within 0.5 LU, a
 * programme with pauses keeps its gain through them (no pumping), silence is not boosted, and
 * the limiter holds the ceiling. Exits 77 (skipped) without ffmpeg.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <opus.h>

#include "codecs/loudness.h"
#include "codecs/pcm.h"
#include "codecs/relay.h"
#include "codecs/relay_internal.h"
#include "tests/check.h"

#define TARGET (-16.0)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the leveller ---------------------------------------------------------------------------- */

/* Runs the leveller over x (48 kHz) in chunks of 1000; gains[] gets the gain after each 100 ms. */
static void level(struct relay_level *l, float *x, size_t n, double *gains)
{
    for (size_t i = 0; i < n; i += 1000) {
        size_t k = n - i < 1000 ? n - i : 1000;
        size_t b0 = (size_t)(l->j) / LEVEL_BLOCK;
        relay_level_run(l, x + i, k);
        size_t b1 = (size_t)(l->j) / LEVEL_BLOCK;
        for (size_t b = b0; b < b1; b++)
            gains[b] = l->gain_db;
    }
}

static double loudness_of(const float *x, size_t n)
{
    struct lc_pcm p = {.s = (float *)x, .n = n, .cap = n, .rate = 48000};
    double lufs = -HUGE_VAL;
    lc_loudness_measure(&p, &lufs, NULL);
    return lufs;
}

/* A 1 kHz tone of loudness ≈ lufs (a full-scale sine is −3.01 LUFS), with 10% noise. */
static void tone(float *x, size_t n, double lufs, unsigned *seed)
{
    double a = pow(10.0, (lufs + 3.01) / 20.0);
    for (size_t i = 0; i < n; i++) {
        double r = (double)rand_r(seed) / RAND_MAX - 0.5;
        x[i] = (float)(a * (0.9 * sin(2 * M_PI * 1000.0 * (double)i / 48000.0) + 0.3 * r));
    }
}

static void test_steady(double in_lufs)
{
    size_t n = 48000 * 20;
    float *x = malloc(n * sizeof *x);
    double gains[300] = {0};
    unsigned seed = 1;
    tone(x, n, in_lufs, &seed);
    double measured_in = loudness_of(x, n);
    struct relay_level l;
    CHECK(relay_level_init(&l, TARGET, -1.0) == 0);
    level(&l, x, n, gains);
    /* the last 10 s: at the target, and the gain steady */
    double out = loudness_of(x + n - 48000 * 10, 48000 * 10);
    CHECKF(fabs(out - TARGET) < 0.5, "input %.1f LUFS: output %.2f LUFS", measured_in, out);
    double gmin = 1e9, gmax = -1e9;
    for (size_t b = 100; b < 200; b++) {
        gmin = fmin(gmin, gains[b]);
        gmax = fmax(gmax, gains[b]);
    }
    CHECKF(gmax - gmin < 0.2, "gain moved %.2f dB over the last 10 s", gmax - gmin);
    /* where it got after 5 s: settled already (the fast start) */
    CHECKF(fabs(gains[50] - gains[199]) < 1.0, "gain at 5 s %.2f, at 20 s %.2f", gains[50],
           gains[199]);
    fprintf(stderr, "steady: input %.2f LUFS → output %.2f LUFS, gain %.2f dB (at 5 s %.2f)\n",
            measured_in, out, gains[199], gains[50]);
    relay_level_free(&l);
    free(x);
}

/* Speech-like: 2 s of programme, 1 s pause (silence with a little hiss), for 30 s. */
static void test_pauses(void)
{
    size_t n = 48000 * 30;
    float *x = malloc(n * sizeof *x);
    double gains[300] = {0};
    unsigned seed = 2;
    tone(x, n, -26.0, &seed);
    for (size_t i = 0; i < n; i++)
        if ((i / 48000) % 3 == 2)
            x[i] = x[i] * 0.001f; /* −60 dB: under the gate */
    struct relay_level l;
    CHECK(relay_level_init(&l, TARGET, -1.0) == 0);
    level(&l, x, n, gains);
    /* in each pause after settling (s 11, 14, ...), the gain stays put */
    double worst_pause = 0, worst_burst = 0, lo = 1e9, hi = -1e9;
    for (int s = 11; s < 30; s += 3) {
        double g0 = gains[s * 10 + 4], g1 = gains[s * 10 + 9];
        worst_pause = fmax(worst_pause, fabs(g1 - g0));
        /* the bursts' loudness (the out is delayed by 7.5 ms: ignored) */
        double lb = loudness_of(x + (size_t)(s - 2) * 48000 + 4800, 48000 * 2 - 9600);
        lo = fmin(lo, lb);
        hi = fmax(hi, lb);
    }
    worst_burst = hi - lo;
    CHECKF(worst_pause < 0.05, "gain moved %.3f dB within a pause", worst_pause);
    CHECKF(worst_burst < 0.5, "bursts differ by %.2f LU", worst_burst);
    CHECKF(fabs(hi - TARGET) < 1.0, "bursts at %.2f LUFS", hi);
    fprintf(stderr, "pauses: gain moves ≤ %.3f dB in a pause; bursts %.2f..%.2f LUFS\n",
            worst_pause, lo, hi);
    relay_level_free(&l);
    free(x);
}

static void test_silence_and_peaks(void)
{
    size_t n = 48000 * 10;
    float *x = calloc(n, sizeof *x);
    double gains[300] = {0};
    struct relay_level l;
    /* silence, then a faint hiss at ≈ −60 LUFS: never boosted */
    unsigned seed = 3;
    for (size_t i = n / 2; i < n; i++)
        x[i] = (float)(0.002 * ((double)rand_r(&seed) / RAND_MAX - 0.5));
    CHECK(relay_level_init(&l, TARGET, -1.0) == 0);
    level(&l, x, n, gains);
    CHECKF(l.gain_db == 0.0, "silence: gain %.2f dB", l.gain_db);
    relay_level_free(&l);
    /* quiet programme with sharp peaks (a crest of ~20 dB): boosted, peaks limited */
    tone(x, n, -28.0, &seed);
    for (size_t i = 0; i < n; i += 4801)
        x[i] = 0.6f;
    CHECK(relay_level_init(&l, TARGET, -1.0) == 0);
    level(&l, x, n, gains);
    float peak = 0;
    for (size_t i = 48000; i < n; i++)
        peak = fmaxf(peak, fabsf(x[i]));
    double ceiling = pow(10.0, (-1.0 - LC_LIMITER_MARGIN_DB) / 20.0);
    CHECKF(l.gain_db > 10.0 && l.gain_db <= 12.0, "quiet: gain %.2f dB", l.gain_db);
    CHECKF(peak <= ceiling * 1.0001, "peak %.4f over the ceiling %.4f", peak, ceiling);
    fprintf(stderr, "peaks: gain %.2f dB (bounded to +12), peak %.4f ≤ %.4f\n", l.gain_db, peak,
            ceiling);
    relay_level_free(&l);
    free(x);
}

/* ---- relays of local files ------------------------------------------------------------------ */

struct got {
    size_t npkts, bad;
    double lufs;
    double seconds;
};

static struct got relay_file(const char *path)
{
    struct got g = {0};
    struct lc_relay_opts o = {.url = path, .bitrate_kbps = 24, .complexity = 5,
                              .target_lufs = TARGET, .ceiling_dbtp = -1.0, .queue_ms = 60000,
                              .timeout_ms = 3000, .backoff_min_ms = 100, .backoff_max_ms = 100,
                              .max_attempts = 1, .allow_file = true};
    struct lc_relay *r = NULL;
    struct lc_err err = {0};
    CHECKF(lc_relay_open(&r, &o, &err) == 0, "%s: %s", path, lc_err_msg(&err));
    if (r == NULL)
        return g;
    struct lc_relay_stats st = {0};
    double until = now_s() + 20;
    do {
        usleep(20000);
        lc_relay_stats(r, &st);
    } while (!st.ended && now_s() < until);
    CHECKF(st.ended && st.attempts == 1 && st.connects == 1, "%s: ended %d, %llu attempts",
           path, st.ended, (unsigned long long)st.attempts);
    CHECK(st.dropped == 0);
    int oe = 0;
    OpusDecoder *d = opus_decoder_create(48000, 1, &oe);
    struct lc_pcm pcm = {0};
    float frame[5760];
    unsigned char pkt[LC_RELAY_MAX_PACKET];
    size_t len;
    while ((len = lc_relay_take(r, pkt)) > 0) {
        g.npkts++;
        if (opus_packet_get_nb_samples(pkt, (opus_int32)len, 48000) != 960)
            g.bad++;
        int k = opus_decode_float(d, pkt, (opus_int32)len, frame, 5760, 0);
        if (k != 960)
            g.bad++;
        else
            lc_pcm_append(&pcm, frame, 960);
    }
    CHECK(st.packets == g.npkts);
    pcm.rate = 48000;
    g.seconds = g.npkts * 0.02;
    /* the last 3 s: levelled (the first seconds settle) */
    if (pcm.n > 48000 * 4)
        g.lufs = loudness_of(pcm.s + pcm.n - 48000 * 3, 48000 * 3);
    lc_pcm_free(&pcm);
    opus_decoder_destroy(d);
    lc_relay_close(r);
    return g;
}

static void test_files(const char *dir)
{
    static const struct {
        const char *name, *args;
    } f[] = {
        {"tone.mp3", "-ac 2 -ar 44100 -c:a libmp3lame -b:a 128k -f mp3"},
        {"tone.aac", "-ac 2 -ar 44100 -c:a aac -b:a 96k -f adts"},
        {"tone.ogg", "-ac 2 -ar 44100 -c:a libvorbis -f ogg"},
        {"tone.opus", "-ac 1 -ar 48000 -c:a libopus -b:a 32k -f ogg"},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        char cmd[600], path[300];
        snprintf(path, sizeof path, "%s/%s", dir, f[i].name);
        /* 8 s of a quiet tone (ffmpeg's sine is at −18 dBFS: ≈ −25 LUFS), the relay brings it to −16 */
        snprintf(cmd, sizeof cmd,
                 "ffmpeg -v error -y -f lavfi -i 'sine=frequency=700:duration=8,volume=-3dB' "
                 "%s '%s'", f[i].args, path);
        CHECKF(system(cmd) == 0, "%s", cmd);
        double t0 = now_s();
        struct got g = relay_file(path);
        fprintf(stderr, "%s: %zu packets (%.2f s) in %.2f s, last 3 s at %.2f LUFS\n", f[i].name,
                g.npkts, g.seconds, now_s() - t0, g.lufs);
        CHECK(g.bad == 0);
        /* 8 s, give or take the codecs' delays and paddings */
        CHECKF(g.seconds > 7.8 && g.seconds < 8.3, "%s: %.2f s", f[i].name, g.seconds);
        CHECKF(fabs(g.lufs - TARGET) < 1.0, "%s: %.2f LUFS", f[i].name, g.lufs);
    }
}

static void test_refused(void)
{
    struct lc_relay_opts o = {.url = "file:///etc/passwd", .bitrate_kbps = 24, .complexity = 5,
                              .target_lufs = TARGET, .ceiling_dbtp = -1.0, .queue_ms = 5000,
                              .timeout_ms = 3000, .backoff_min_ms = 100, .backoff_max_ms = 100};
    struct lc_relay *r = NULL;
    struct lc_err err = {0};
    CHECK(lc_relay_open(&r, &o, &err) == -EINVAL && r == NULL);
    o.url = "/etc/passwd";
    CHECK(lc_relay_open(&r, &o, &err) == -EINVAL && r == NULL);
    o.url = "ftp://example.org/a.mp3";
    CHECK(lc_relay_open(&r, &o, &err) == -EINVAL && r == NULL);
    o.url = "http://127.0.0.1:9/x";
    o.queue_ms = 10;
    CHECK(lc_relay_open(&r, &o, &err) == -EINVAL && r == NULL);
    /* an upstream that is not there: attempts with backoff, and a close that ends the thread at
     * once even in the middle of a wait */
    o.queue_ms = 5000;
    o.backoff_min_ms = 100;
    o.backoff_max_ms = 400;
    CHECK(lc_relay_open(&r, &o, &err) == 0);
    struct lc_relay_stats st = {0};
    double until = now_s() + 10;
    do {
        usleep(20000);
        lc_relay_stats(r, &st);
    } while (st.attempts < 4 && now_s() < until);
    CHECKF(st.attempts >= 4 && st.connects == 0, "%llu attempts", (unsigned long long)st.attempts);
    double t0 = now_s();
    lc_relay_close(r);
    CHECK(lc_relay_wait_all(2000) == 0);
    CHECKF(now_s() - t0 < 0.5, "closed in %.3f s", now_s() - t0);
}

int main(void)
{
    if (system("ffmpeg -version > /dev/null 2>&1") != 0) {
        fprintf(stderr, "ffmpeg missing: skipped\n");
        return 77;
    }
    char dir[] = "/tmp/lc-relay-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    test_steady(-27.0);
    test_steady(-6.0);
    test_pauses();
    test_silence_and_peaks();
    test_refused();
    test_files(dir);
    CHECK(lc_relay_wait_all(3000) == 0);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    return check_done();
}
