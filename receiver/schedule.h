/*
 * receiver/schedule.h — what the receiver does with schedules besides verifying them
 * (receiver.h): keeping the last accepted answer on disk, so that a restart without the network
 * plays what it had (re-verified with the pinned key: a file changed on disk is refused, and so
 * is one that expired), and finding the next session.
 */
#ifndef LC_RECEIVER_SCHEDULE_H
#define LC_RECEIVER_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "receiver/receiver.h"

/* Where the last accepted answer is kept: <cache_dir>/schedule.json (its raw bytes, as the
 * server signed them). */
#define RCV_SCHEDULE_FILE "schedule.json"

/* Replaces the kept answer with body (an answer rcv_schedule_verify accepted), atomically:
 * after a crash the file is the old answer or this one, whole. 0, or -1 with why. */
int rcv_schedule_save(const struct rcv_config *c, const char *body, size_t len, char *why,
                      size_t whylen);

/* Reads the kept answer and verifies it as rcv_schedule_verify does (have_version 0, now_ms).
 * 0 with *out filled; 1 when there is none; -1 with why when it is refused (expired, not
 * signed by the pinned key, another cluster, malformed) or unreadable. */
int rcv_schedule_load(const struct rcv_config *c, int64_t now_ms, struct rcv_schedule *out,
                      char *why, size_t whylen);

struct rcv_net;
struct rcv_clock;

/* One long-poll step of the schedule poller: GET /api/v1/receivers/{cluster}/schedule with
 * since=have_version&wait=c->poll_wait_s (neither when have_version is 0), verified at the
 * server's time after the answer (k), and kept on disk before it is returned. 1: a new schedule
 * in *out (free with rcv_schedule_free; why is "" or, if it could not be kept on disk, says so:
 * it is to be played all the same); 0: nothing new (304); -1 with why (no answer, an HTTP
 * error, a refused schedule). *retry_after_s (may be NULL): the answer's Retry-After or -1 —
 * after -1 the caller waits (that, or a backoff) before asking again. */
int rcv_schedule_poll(const struct rcv_config *c, struct rcv_net *n, struct rcv_clock *k,
                      int64_t have_version, struct rcv_schedule *out, int *retry_after_s,
                      char *why, size_t whylen);

/* The session on air at now_ms, else the next to start; NULL when none is ahead. */
const struct rcv_session *rcv_schedule_next(const struct rcv_schedule *s, int64_t now_ms);

#endif
