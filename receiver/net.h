/*
 * receiver/net.h — the receiver's HTTP, over libcurl's easy interface: one handle per thread
 * (a handle is not shared between threads), every request with the cluster's token
 * (Authorization: Bearer), connection reuse within a handle, TLS when the server URL is https.
 * Paths are server-relative ("/api/v1/time"); the base URL comes from the config.
 */
#ifndef LC_RECEIVER_NET_H
#define LC_RECEIVER_NET_H

#include <stddef.h>
#include <stdint.h>

#include "receiver/receiver.h"

struct rcv_net;

/* NULL when out of memory. The config must outlive the handle. */
struct rcv_net *rcv_net_new(const struct rcv_config *c);
void rcv_net_free(struct rcv_net *n);

/* A request's outcome. status: the HTTP status (0 when there was no answer); body: the answer,
 * malloc'd and NUL-terminated (free() it; NULL when none), len its bytes; retry_after: the
 * Retry-After header's seconds, or -1. */
struct rcv_answer {
    long status;
    char *body;
    size_t len;
    int retry_after;
};

/* GET path; the whole request within timeout_s. 0, or -1 on a transport error (why says it). */
int rcv_net_get(struct rcv_net *n, const char *path, int timeout_s, struct rcv_answer *a,
                char *why, size_t whylen);
/* POST path with a JSON body. As rcv_net_get. */
int rcv_net_post_json(struct rcv_net *n, const char *path, const char *json, int timeout_s,
                      struct rcv_answer *a, char *why, size_t whylen);

/* Downloads path to fd from byte `from` on (Range: bytes=from-; a 200 instead of a 206 makes the
 * caller start over: *restarted is set and fd is truncated and written from 0). *got: bytes
 * written to fd by this call. Stalls (no byte for stall_s) and cuts end it with -1 and why; what
 * was written stays (the next call resumes). 0 when the transfer completed with 200/206. */
int rcv_net_fetch(struct rcv_net *n, const char *path, int fd, int64_t from, int stall_s,
                  int64_t *got, int *restarted, long *status, char *why, size_t whylen);

/* The Retry-After of the last answer this handle had (any of the calls above; seconds, an
 * HTTP-date made relative), or -1 when it had none. */
int rcv_net_retry_after(const struct rcv_net *n);

/* Reads path as a stream: on_data(arg, bytes, n) for each chunk as it arrives, until it returns
 * non-zero (the caller stops it: 0 is returned), the server ends the response (0), or a
 * transport error or a stall of stall_s (-1, why). *status: the HTTP status. Only a 200/206
 * answer's body reaches on_data: a 503 (off air) returns 0 with *status 503 and no data, its
 * Retry-After in rcv_net_retry_after(). */
int rcv_net_stream(struct rcv_net *n, const char *path, int stall_s,
                   int (*on_data)(void *arg, const unsigned char *bytes, size_t n), void *arg,
                   long *status, char *why, size_t whylen);

#endif
