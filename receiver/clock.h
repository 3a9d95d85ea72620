/*
 * receiver/clock.h — the server's clock as the receiver estimates it (receiver.h names
 * rcv_local_us and rcv_server_us): NTP-style exchanges with GET /api/v1/time.
 *
 * One exchange: t0 = local time before the request, t1 = received_us, t2 = sent_us (server),
 * t3 = local time after the answer; offset = ((t1 - t0) + (t2 - t3)) / 2, delay = (t3 - t0) -
 * (t2 - t1). The last RCV_CLOCK_SAMPLES exchanges are kept and the offset of the one with the
 * lowest delay is used (its estimate has the smallest error bound, delay / 2).
 * All functions are thread-safe (a mutex inside); rcv_clock_exchange does its HTTP with the
 * caller's handle, outside the mutex.
 */
#ifndef LC_RECEIVER_CLOCK_H
#define LC_RECEIVER_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "receiver/net.h"
#include "receiver/receiver.h"

#define RCV_CLOCK_SAMPLES 8

/* NULL when out of memory. The config must outlive it. Until the first exchange the offset is 0
 * (the box's own clock is believed). */
struct rcv_clock *rcv_clock_new(const struct rcv_config *c);
void rcv_clock_free(struct rcv_clock *k);

/* One exchange over n (timeout_s for the request). 0 with the sample kept, or -1 with why
 * (no answer, not 200, malformed: nothing kept). */
int rcv_clock_exchange(struct rcv_clock *k, struct rcv_net *n, int timeout_s, char *why,
                       size_t whylen);

/* Adds one sample (what rcv_clock_exchange does with its four times; tests use it directly). */
void rcv_clock_add(struct rcv_clock *k, int64_t t0, int64_t t1, int64_t t2, int64_t t3);

/* The estimate in use: server - local in µs, and the round trip (delay) of its sample in µs.
 * false when there is no sample yet (then *offset_us = 0, *delay_us = -1). */
bool rcv_clock_estimate(struct rcv_clock *k, int64_t *offset_us, int64_t *delay_us);

#endif
