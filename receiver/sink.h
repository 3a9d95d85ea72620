/*
 * receiver/sink.h — where the sound goes: 48 kHz, 16-bit, interleaved PCM of `channels`
 * channels (the player writes mono), to one of
 *   alsa:DEVICE   snd_pcm, blocking writes; its latency is snd_pcm_delay()
 *   wav:PATH      a WAV file written as played, paced in real time like a device, plus the sidecar
 *                 PATH.times (below): what a test listens to
 *   null          discards, paced in real time like a device
 *
 * A sink behaves like a sound card whatever it is: rcv_sink_write() returns when the device has
 * taken the frames, and tells when (CLOCK_MONOTONIC) the first of them reaches the loudspeaker;
 * the frames it took are what the sink consumed (proof of play comes from here, not from the
 * decoder). wav and null model a device with a buffer of RCV_SINK_BUFFER_MS: a write blocks while
 * more than that is queued; a write to a device that ran dry (or never ran) plays at once.
 *
 * Volume (0..100, linear gain) and mute are applied here, in software, to what is written.
 *
 * The sidecar PATH.times has one line per buffer written:
 *     <first frame's offset in the WAV's data, in frames> <REAL wall time its sound began, Unix s
 *     with µs (CLOCK_REALTIME, never the test-only skew)> <frames>
 * so a test can tell when any sample of the WAV played. A WAV of ours that exists is continued
 * (a restarted receiver appends), its header kept valid after every write (a kill -9 leaves a
 * readable file).
 *
 * One thread uses a sink (the player); rcv_sink_set_volume() may come from any thread.
 */
#ifndef LC_RECEIVER_SINK_H
#define LC_RECEIVER_SINK_H

#include <stddef.h>
#include <stdint.h>

#define RCV_SINK_RATE 48000
/* A card's buffer: what a stall of the player's thread (a loaded box, a slow SD card) may last
 * before the device runs dry. 100 ms until 2026-12-07: a 143 ms stall on a loaded 2-core
 * machine (Chromium starting beside four receivers) made an underrun in a test run. */
#define RCV_SINK_BUFFER_MS 250

struct rcv_sink;

/* spec: "alsa:DEVICE", "wav:PATH" or "null". NULL with why on error. */
struct rcv_sink *rcv_sink_open(const char *spec, int channels, char *why, size_t whylen);
/* Lets what was written play out (ALSA: drain) and closes. NULL is fine. */
void rcv_sink_close(struct rcv_sink *s);

/* Writes frames (frames × channels samples; the buffer is not changed: volume is applied to a
 * copy). Blocks as a device does. *play_mono_us (may be NULL): when the first of these frames
 * reaches the loudspeaker, CLOCK_MONOTONIC µs. 0, or -1 with why (the device failed: the
 * caller stops playing and may reopen). */
int rcv_sink_write(struct rcv_sink *s, const int16_t *pcm, size_t frames, int64_t *play_mono_us,
                   char *why, size_t whylen);

/* How long a frame written now would wait before it plays, µs (0 when the device is idle). */
int64_t rcv_sink_delay_us(struct rcv_sink *s);

/* The device is going idle (the end of a session): lets what is queued play out. */
void rcv_sink_drain(struct rcv_sink *s);

/* Frames the sink has consumed in all, and how many times it ran dry while playing (an
 * underrun: a write came after the queued sound had ended, except the first after idle). */
uint64_t rcv_sink_frames(const struct rcv_sink *s);
uint64_t rcv_sink_underruns(const struct rcv_sink *s);

/* Desired volume, 0..100, and mute; applied to the next write. Thread-safe. */
void rcv_sink_set_volume(struct rcv_sink *s, int volume, int muted);

/* CLOCK_MONOTONIC in µs: the sinks' time base. */
int64_t rcv_mono_us(void);

#endif
