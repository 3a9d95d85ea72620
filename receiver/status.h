/*
 * receiver/status.h — the health report: POST /api/v1/receivers/{cluster}/status with the
 * fields of SPEC "Receivers that store" (docs/receivers.md, "Plays and status").
 */
#ifndef LC_RECEIVER_STATUS_H
#define LC_RECEIVER_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "receiver/clock.h"
#include "receiver/net.h"
#include "receiver/receiver.h"

struct rcv_status {
    int64_t uptime_s;
    bool has_clock;                 /* clock_offset_ms and rtt_ms are known */
    double clock_offset_ms, rtt_ms;
    int64_t cache_bytes, disk_free_bytes;   /* < 0: unknown, left out */
    bool has_next;                  /* next_session is known */
    int64_t next_id;                /* 0: the session has no id yet (id left out) */
    int64_t next_start_ms;
    double fetched_percent;
    int volume;                     /* < 0: unknown, left out */
    bool muted;
    bool has_signal;
    double signal;
    char last_error[400];           /* "" : none (sent as null) */
};

/* Fills st from what the receiver knows: the uptime since started_mono_s (CLOCK_MONOTONIC
 * seconds at start), the clock's estimate (k may be NULL), the cache and the free space of
 * cache_dir, the next session of s at now_ms and how much of it is held (s may be NULL), the
 * volume and mute of s (what the receiver applies), the signal from c->signal_hook (when set;
 * at most 5 s) and last_error (may be NULL). */
void rcv_status_collect(const struct rcv_config *c, struct rcv_clock *k,
                        const struct rcv_schedule *s, int64_t now_ms, int64_t started_mono_s,
                        const char *last_error, struct rcv_status *st);

/* The report's JSON body, malloc'd (free() it); NULL when out of memory. */
char *rcv_status_json(const struct rcv_status *st);

/* POSTs st. 0 when the server took it (2xx), -1 with why. */
int rcv_status_post(const struct rcv_config *c, struct rcv_net *n, const struct rcv_status *st,
                    int timeout_s, char *why, size_t whylen);

/* Runs hook (sh -c) and reads the first number of its stdout; waits at most timeout_ms, then
 * kills it. 0 with *signal, or -1 (no number, failure, timeout). */
int rcv_signal_read(const char *hook, int timeout_ms, double *signal);

/* CLOCK_MONOTONIC, in seconds (for started_mono_s). */
int64_t rcv_mono_s(void);

#endif
