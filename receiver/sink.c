/*
 * receiver/sink.c — the sinks of sink.h: ALSA, a WAV file paced like a device, null.
 *
 * Every sink keeps a virtual device clock: the CLOCK_MONOTONIC time at which the next frame
 * written will sound. A write to an idle (or dry) device starts at once; otherwise it is queued
 * behind what was written, and the write blocks (clock_nanosleep, absolute) while more than
 * RCV_SINK_BUFFER_MS would be queued. The frames count from a base (base_mono, base_frames) so
 * that rounding never drifts over a long session. The paced sinks (wav, null) are that clock.
 * ALSA paces itself (a blocking snd_pcm_writei) and tells when a frame sounds (snd_pcm_delay),
 * but some ALSA devices do neither (`null`, a file plugin, a broken driver): a device that took
 * more than its buffer ahead of the clock while its delay stayed short is marked `unpaced`, and
 * from then on the clock paces it and tells the times, as for null (a player ahead of the clock
 * would start the next items early and play them again). A real card never gets ahead of the
 * clock by more than its buffer, so it never is.
 */
#include "receiver/sink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <alsa/asoundlib.h>

enum sink_kind { SINK_NULL, SINK_WAV, SINK_ALSA };

struct rcv_sink {
    enum sink_kind kind;
    int channels;
    atomic_int volume;          /* 0..100 */
    atomic_int muted;
    uint64_t frames;            /* consumed in all */
    uint64_t underruns;
    int16_t *scratch;           /* the volume-scaled copy of a write */
    size_t scratch_frames;

    /* paced sinks: the virtual device clock */
    bool running;               /* false: idle, the next write plays at once */
    int64_t base_mono;          /* µs: when frame base_frames sounds */
    uint64_t base_frames, queued_end;   /* queued_end: frames written since the base's origin */

    /* wav */
    int wav_fd;
    uint64_t wav_frames;        /* frames in the WAV's data chunk */
    FILE *times;

    /* alsa */
    snd_pcm_t *pcm;
    bool unpaced;               /* the device takes frames faster than real time: the clock paces */
};

int64_t rcv_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t real_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Sleeps until CLOCK_MONOTONIC reaches t (µs), through signals. */
static void sleep_until_mono(int64_t t)
{
    struct timespec ts = {.tv_sec = t / 1000000, .tv_nsec = (t % 1000000) * 1000};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

static int64_t frames_us(uint64_t frames)
{
    return (int64_t)(frames * 1000000 / RCV_SINK_RATE);
}


/* ---- WAV: a canonical 44-byte header, sizes rewritten after every write -------------------- */

static void le16(unsigned char *p, unsigned v) { p[0] = v & 0xff; p[1] = (v >> 8) & 0xff; }
static void le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (v >> (8 * i)) & 0xff;
}

static int wav_write_header(struct rcv_sink *s)
{
    unsigned char h[44];
    uint32_t data = (uint32_t)(s->wav_frames * 2 * (uint64_t)s->channels);
    memcpy(h, "RIFF", 4);
    le32(h + 4, 36 + data);
    memcpy(h + 8, "WAVEfmt ", 8);
    le32(h + 16, 16);
    le16(h + 20, 1);                                    /* PCM */
    le16(h + 22, (unsigned)s->channels);
    le32(h + 24, RCV_SINK_RATE);
    le32(h + 28, RCV_SINK_RATE * 2 * (uint32_t)s->channels);
    le16(h + 32, 2 * (unsigned)s->channels);
    le16(h + 34, 16);
    memcpy(h + 36, "data", 4);
    le32(h + 40, data);
    return pwrite(s->wav_fd, h, sizeof h, 0) == (ssize_t)sizeof h ? 0 : -1;
}

/* Opens path: continues a WAV of ours (same format) that exists, else starts a new one. */
static int wav_open(struct rcv_sink *s, const char *path, char *why, size_t whylen)
{
    char tpath[4200];
    s->wav_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (s->wav_fd < 0) {
        snprintf(why, whylen, "wav sink %s: %s", path, strerror(errno));
        return -1;
    }
    unsigned char h[44];
    off_t size = lseek(s->wav_fd, 0, SEEK_END);
    if (size >= 44 && pread(s->wav_fd, h, 44, 0) == 44 && memcmp(h, "RIFF", 4) == 0 &&
        memcmp(h + 36, "data", 4) == 0 && h[22] == s->channels && h[34] == 16) {
        s->wav_frames = (uint64_t)(size - 44) / (2 * (uint64_t)s->channels);  /* what the disk has */
    } else if (ftruncate(s->wav_fd, 0) != 0) {
        snprintf(why, whylen, "wav sink %s: %s", path, strerror(errno));
        return -1;
    }
    if (wav_write_header(s) != 0) {
        snprintf(why, whylen, "wav sink %s: %s", path, strerror(errno));
        return -1;
    }
    snprintf(tpath, sizeof tpath, "%s.times", path);
    s->times = fopen(tpath, s->wav_frames ? "ae" : "we");
    if (!s->times) {
        snprintf(why, whylen, "wav sink %s: %s", tpath, strerror(errno));
        return -1;
    }
    return 0;
}

static int wav_put(struct rcv_sink *s, const int16_t *pcm, size_t frames, int64_t play_mono)
{
    size_t bytes = frames * 2 * (size_t)s->channels;
    off_t at = 44 + (off_t)(s->wav_frames * 2 * (uint64_t)s->channels);
    if (pwrite(s->wav_fd, pcm, bytes, at) != (ssize_t)bytes)   /* little-endian host assumed */
        return -1;
    int64_t real = real_us() + (play_mono - rcv_mono_us());
    fprintf(s->times, "%llu %lld.%06lld %zu\n", (unsigned long long)s->wav_frames,
            (long long)(real / 1000000), (long long)(real % 1000000), frames);
    fflush(s->times);
    s->wav_frames += frames;
    return wav_write_header(s);
}

/* ---- ALSA ----------------------------------------------------------------------------------- */

static int alsa_open(struct rcv_sink *s, const char *dev, char *why, size_t whylen)
{
    int err = snd_pcm_open(&s->pcm, dev, SND_PCM_STREAM_PLAYBACK, 0);
    if (err < 0)
        goto fail;
    /* 100 ms of buffer; ALSA resamples if the device cannot do 48 kHz */
    err = snd_pcm_set_params(s->pcm, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED,
                             (unsigned)s->channels, RCV_SINK_RATE, 1, 100000);
    if (err < 0)
        goto fail;
    /* start on the first frame written (set_params waits for a full buffer): the first frame
     * then plays when it is written plus what snd_pcm_delay() says, which the player relies on */
    snd_pcm_sw_params_t *sw;
    snd_pcm_sw_params_alloca(&sw);
    if ((err = snd_pcm_sw_params_current(s->pcm, sw)) < 0 ||
        (err = snd_pcm_sw_params_set_start_threshold(s->pcm, sw, 1)) < 0 ||
        (err = snd_pcm_sw_params(s->pcm, sw)) < 0)
        goto fail;
    return 0;
fail:
    snprintf(why, whylen, "alsa sink %s: %s", dev, snd_strerror(err));
    return -1;
}

static int alsa_write(struct rcv_sink *s, const int16_t *pcm, size_t frames, int64_t *play_mono,
                      char *why, size_t whylen)
{
    snd_pcm_sframes_t delay = 0;
    snd_pcm_state_t st = snd_pcm_state(s->pcm);
    if (st == SND_PCM_STATE_XRUN) {
        s->underruns++;
        snd_pcm_prepare(s->pcm);
    } else if (st == SND_PCM_STATE_SETUP) {
        snd_pcm_prepare(s->pcm);
    }
    if (snd_pcm_state(s->pcm) == SND_PCM_STATE_RUNNING && snd_pcm_delay(s->pcm, &delay) < 0)
        delay = 0;
    *play_mono = rcv_mono_us() + (delay > 0 ? frames_us((uint64_t)delay) : 0);
    while (frames > 0) {
        snd_pcm_sframes_t n = snd_pcm_writei(s->pcm, pcm, frames);
        if (n == -EPIPE) {
            s->underruns++;
            n = snd_pcm_prepare(s->pcm);
        } else if (n < 0) {
            n = snd_pcm_recover(s->pcm, (int)n, 1);
        } else {
            pcm += (size_t)n * (size_t)s->channels;
            frames -= (size_t)n;
            s->frames += (uint64_t)n;
            continue;
        }
        if (n < 0) {
            snprintf(why, whylen, "alsa: %s", snd_strerror((int)n));
            return -1;
        }
    }
    return 0;
}

/* ---- the interface --------------------------------------------------------------------------- */

struct rcv_sink *rcv_sink_open(const char *spec, int channels, char *why, size_t whylen)
{
    struct rcv_sink *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    s->channels = channels;
    s->wav_fd = -1;
    atomic_init(&s->volume, 100);
    atomic_init(&s->muted, 0);
    if (channels < 1 || channels > 8) {
        snprintf(why, whylen, "sink: %d channels", channels);
        goto fail;
    }
    if (strcmp(spec, "null") == 0) {
        s->kind = SINK_NULL;
    } else if (strncmp(spec, "wav:", 4) == 0 && spec[4]) {
        s->kind = SINK_WAV;
        if (wav_open(s, spec + 4, why, whylen) != 0)
            goto fail;
    } else if (strncmp(spec, "alsa:", 5) == 0 && spec[5]) {
        s->kind = SINK_ALSA;
        if (alsa_open(s, spec + 5, why, whylen) != 0)
            goto fail;
    } else {
        snprintf(why, whylen, "sink \"%s\": expected alsa:DEVICE, wav:PATH or null", spec);
        goto fail;
    }
    return s;
fail:
    rcv_sink_close(s);
    return NULL;
}

void rcv_sink_close(struct rcv_sink *s)
{
    if (!s)
        return;
    if (s->pcm) {
        snd_pcm_drain(s->pcm);
        snd_pcm_close(s->pcm);
    }
    if (s->wav_fd >= 0)
        close(s->wav_fd);
    if (s->times)
        fclose(s->times);
    free(s->scratch);
    free(s);
}

void rcv_sink_set_volume(struct rcv_sink *s, int volume, int muted)
{
    atomic_store(&s->volume, volume < 0 ? 0 : volume > 100 ? 100 : volume);
    atomic_store(&s->muted, muted ? 1 : 0);
}

/* The samples to send: pcm itself at full volume, else a scaled copy in s->scratch. */
static const int16_t *apply_volume(struct rcv_sink *s, const int16_t *pcm, size_t frames)
{
    int vol = atomic_load(&s->volume), muted = atomic_load(&s->muted);
    if (vol == 100 && !muted)
        return pcm;
    if (frames > s->scratch_frames) {
        int16_t *p = realloc(s->scratch, frames * sizeof *p * (size_t)s->channels);
        if (!p)
            return NULL;
        s->scratch = p;
        s->scratch_frames = frames;
    }
    size_t n = frames * (size_t)s->channels;
    for (size_t i = 0; i < n; i++)
        s->scratch[i] = muted ? 0 : (int16_t)((int32_t)pcm[i] * vol / 100);
    return s->scratch;
}

int rcv_sink_write(struct rcv_sink *s, const int16_t *pcm, size_t frames, int64_t *play_mono_us,
                   char *why, size_t whylen)
{
    int64_t when = 0;
    const int16_t *out = apply_volume(s, pcm, frames);
    if (!out) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    /* the virtual device clock */
    int64_t now = rcv_mono_us();
    if (!s->running || now > s->base_mono + frames_us(s->queued_end - s->base_frames)) {
        if (s->running && s->kind != SINK_ALSA)
            s->underruns++;         /* the device ran dry while playing (ALSA counts its own) */
        s->running = true;
        s->base_mono = now;
        s->base_frames = s->queued_end;
    }
    int64_t clock_when = s->base_mono + frames_us(s->queued_end - s->base_frames);
    if (s->kind == SINK_ALSA) {
        if (alsa_write(s, out, frames, &when, why, whylen) != 0)
            return -1;
        if (!s->unpaced) {
            /* what the clock says is queued now, and what the device says: a card holds what it
             * took until it sounded; a device that holds (almost) nothing does not pace */
            int64_t queued = clock_when + frames_us(frames) - rcv_mono_us();
            snd_pcm_sframes_t d = 0;
            if (snd_pcm_delay(s->pcm, &d) < 0 || d < 0)
                d = 0;
            if (queued > 40000 && frames_us((uint64_t)d) < queued / 4)
                s->unpaced = true;
        }
        if (s->unpaced)
            when = clock_when;
    } else {
        when = clock_when;
        if (s->kind == SINK_WAV && wav_put(s, out, frames, when) != 0) {
            snprintf(why, whylen, "wav sink: %s", strerror(errno));
            return -1;
        }
        s->frames += frames;
    }
    s->queued_end += frames;
    /* block like a device whose buffer holds RCV_SINK_BUFFER_MS (ALSA: only if it does not
     * block itself) */
    if (s->kind != SINK_ALSA || s->unpaced)
        sleep_until_mono(s->base_mono + frames_us(s->queued_end - s->base_frames) -
                         RCV_SINK_BUFFER_MS * 1000);
    if (play_mono_us)
        *play_mono_us = when;
    return 0;
}

int64_t rcv_sink_delay_us(struct rcv_sink *s)
{
    int64_t v = 0;
    if (s->running) {
        v = s->base_mono + frames_us(s->queued_end - s->base_frames) - rcv_mono_us();
        v = v > 0 ? v : 0;
    }
    if (s->kind == SINK_ALSA && !s->unpaced) {
        snd_pcm_sframes_t d = 0;
        if (snd_pcm_state(s->pcm) != SND_PCM_STATE_RUNNING || snd_pcm_delay(s->pcm, &d) < 0 || d < 0)
            return 0;
        return frames_us((uint64_t)d);
    }
    return v;
}

void rcv_sink_drain(struct rcv_sink *s)
{
    if (s->kind == SINK_ALSA) {
        snd_pcm_drain(s->pcm);
        snd_pcm_prepare(s->pcm);
        if (!s->unpaced) {
            s->running = false;
            return;
        }
    }
    if (s->running)
        sleep_until_mono(s->base_mono + frames_us(s->queued_end - s->base_frames));
    s->running = false;
}

uint64_t rcv_sink_frames(const struct rcv_sink *s) { return s->frames; }
uint64_t rcv_sink_underruns(const struct rcv_sink *s) { return s->underruns; }
