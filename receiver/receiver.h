/*
 * receiver/receiver.h — the door of loacast-receiver (issue 17): the reference receiver for the
 * Linux boxes at the loudspeakers. It long-polls its signed schedule, prefetches every item into
 * its cache, plays each session at its scheduled wall-clock time from the cache (the live stream
 * for what it does not hold), and reports what its sink really played. SPEC.md, "Receivers that
 * store"; docs/receivers.md. It links neither espeak-ng nor SQLite: libcurl (HTTP, TLS, Range),
 * libopusfile (decoding), libasound (ALSA), libsodium (Ed25519, BLAKE2b), jansson, inih.
 *
 * Parts (each a .c with its own header where it has more than this door says):
 *   main.c          --config FILE, --help; the threads below; SIGTERM/SIGINT end it
 *   config.c        the INI file (struct rcv_config)
 *   net.c           libcurl: GET/POST with the cluster token, long-poll, resumable downloads
 *   schedule.c      verify (pinned key, cluster, version, expiry) and parse a schedule; keep the
 *                   last accepted one on disk (atomic), so a restart plays without the network
 *   cache.c         media by BLAKE2b hash: Range-resumed download to <hash>.part, hash check,
 *                   fsync + rename (a partial file is never played), eviction
 *   clock.c         the server's time: NTP-style exchanges with GET /api/v1/time
 *   journal.c       plays journaled on disk until the server acknowledges them
 *   sink.c          where the sound goes: alsa:DEVICE, wav:PATH (+ sidecar of buffer times), null
 *   player.c        a session at its time: items from the cache, the live stream otherwise
 *
 * Threads: the schedule poller, the prefetcher, the player, the reporter (plays, status). They
 * share the current schedule (a refcounted snapshot under a mutex, struct rcv_shared in main.c).
 * All times below are Unix milliseconds of the SERVER's clock unless named _local.
 */
#ifndef LC_RECEIVER_H
#define LC_RECEIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- configuration (config.c) -------------------------------------------------------------- */

struct rcv_config {
    char server[512];           /* base URL, no trailing slash: http://host:port */
    char cluster[65];
    char token[256];
    unsigned char station_pk[32];   /* [receiver] station_key, base64 of the Ed25519 public key */
    char cache_dir[4096];
    char sink[4096];            /* "alsa:DEVICE", "wav:PATH" or "null" */
    char signal_hook[1024];     /* optional command whose stdout's first number is the signal */
    int evict_after_s;          /* media no schedule names are deleted after this (default 86400) */
    int poll_wait_s;            /* long-poll wait (default 50, at most 60) */
    int status_every_s;         /* health report period (default 60) */
    int64_t clock_skew_ms;      /* TEST ONLY ([test] clock_skew_ms): the box's clock is off by this */
};

/* Reads path; on error returns -1 with a message naming the file, line and key in err. */
int rcv_config_load(const char *path, struct rcv_config *c, char *err, size_t errlen);

/* ---- the schedule (schedule.c) ------------------------------------------------------------- */

struct rcv_item {
    int64_t bulletin;
    char title[256];
    char hash[65];              /* BLAKE2b-256 hex of the media file */
    char media[256];            /* "/media/<hash>.opus" */
    int64_t bytes;
    int64_t offset_ms;          /* from the session's start */
    int64_t duration_ms;
    bool relay;                 /* a relay of an upstream stream (issue 18): no media (hash ""),
                                 * played from the live stream, never fetched */
};

struct rcv_session {
    int64_t id;                 /* 0 for a slot session not materialised yet */
    int64_t start_ms, end_ms;   /* server clock */
    char kind[16];              /* slot, adhoc, emergency */
    struct rcv_item *items;
    size_t nitems;
};

struct rcv_schedule {
    char cluster[65];
    int64_t version;
    int64_t issued_ms, expires_ms;
    int volume;                 /* 0..100 */
    bool muted;
    struct rcv_session *sessions;
    size_t nsessions;
};

/* Verifies and parses a schedule answer (the JSON {"payload","signature"} body): signed by the
 * pinned key, for c->cluster, version > have_version (0: none held), not expired at now_ms.
 * 0 with *out filled (free with rcv_schedule_free), or -1 with why (a short reason the receiver
 * logs and reports as last_error); nothing else changes. */
int rcv_schedule_verify(const struct rcv_config *c, const char *body, size_t len,
                        int64_t have_version, int64_t now_ms, struct rcv_schedule *out,
                        char *why, size_t whylen);
void rcv_schedule_free(struct rcv_schedule *s);

/* ---- the clock (clock.c) ------------------------------------------------------------------- */

/* The box's own wall clock (CLOCK_REALTIME plus the test-only skew), in µs. */
int64_t rcv_local_us(const struct rcv_config *c);

/* The server's time estimate: local + offset, offset from the lowest-delay of the recent
 * exchanges with GET /api/v1/time (as NTP and Snapcast do). Thread-safe. */
struct rcv_clock;
int64_t rcv_server_us(struct rcv_clock *k);

#endif
