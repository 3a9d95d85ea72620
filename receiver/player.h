/*
 * receiver/player.h — plays the schedule's sessions at their time, on one sink, on the thread that
 * calls rcv_player_run().
 *
 * Timing: item k of a session should sound at start_ms + offset_ms of the SERVER's clock
 * (rcv_server_us: the clock's offset makes boxes whose own clocks are seconds off start
 * together). Before an item the player computes when the next frame it writes will sound
 * (server time now + the sink's delay) and writes exactly the silence that is missing (an idle
 * sink is first approached with a precise sleep), so the item's first sample reaches the
 * loudspeaker at its time, within about a ms; between items it writes silence (the session's
 * timeline is kept). A player started in the middle of a session joins where the timeline is
 * (op_pcm_seek). An item not in the cache at its time is taken from the live stream, played as
 * it arrives (source "live"). An emergency that appears while another session plays interrupts
 * it at once and plays from its own start; the interrupted session then resumes where its
 * timeline is. Each item played ends in one play record (on_play), whatever cut it.
 *
 * The player owns nothing of the environment: main.c gives it the schedule, the cache, the clock
 * and the sink through rcv_player_env.
 */
#ifndef LC_RECEIVER_PLAYER_H
#define LC_RECEIVER_PLAYER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "receiver/receiver.h"
#include "receiver/journal.h"
#include "receiver/sink.h"

/* The live stream's lead (the server's [stream] lead_ms default): a page arrives this long
 * before its audio is meant to sound. */
#define RCV_LIVE_LEAD_MS 2000

/* Play records are journal.h's struct rcv_play: id "<session>-<bulletin>-<start ms>" (unique per
 * playing: a resumed item is a second play), start/end the server-clock times its first sound
 * began and its last ended at the sink, played_s the frames the sink consumed of it / 48000. */

struct rcv_player_env {
    const struct rcv_config *cfg;
    struct rcv_clock *clock;
    struct rcv_sink *sink;
    struct rcv_net *net;        /* the player's own handle, for the live stream */
    const atomic_bool *stop;    /* set (with wake()) to end rcv_player_run */
    void *arg;                  /* given back to every callback */

    /* The current schedule, a reference the player gives back with put(); NULL when none.
     * *gen: the schedule's generation (grows with every schedule published). */
    const struct rcv_schedule *(*get)(void *arg, uint64_t *gen);
    void (*put)(void *arg, const struct rcv_schedule *s);
    /* The generation now: cheap, called once per buffer. */
    uint64_t (*generation)(void *arg);
    /* Sleeps up to ms, returning early when the generation moves past gen or stop is set. */
    void (*wait)(void *arg, uint64_t gen, int64_t ms);
    /* The path of hash's verified media file in the cache: 0, or -1 when it is not there
     * (yet). */
    int (*media_path)(void *arg, const char *hash, char *path, size_t len);
    /* A play record, for the journal. Called on the player's thread; must not block long. */
    void (*on_play)(void *arg, const struct rcv_play *p);
    /* Optional (may be NULL): the item playing now as far as it played, every
     * RCV_PROGRESS_EVERY_S, with the id its play record will have; on_play follows at its end.
     * Kept on disk, it reports what sounded before a crash (journal.h). */
    void (*on_progress)(void *arg, const struct rcv_play *p);
    /* Optional (may be NULL): the player's state for status reports. */
    void (*on_error)(void *arg, const char *what);
};

/* Plays until *env->stop. */
void rcv_player_run(const struct rcv_player_env *env);

#define RCV_PROGRESS_EVERY_S 2

#endif
