/*
 * receiver/schedule_poll.c — one long-poll of the schedule; see schedule.h.
 *
 * The request's deadline is the wait plus a margin (the server answers 304 at its deadline);
 * an answer is verified at the server's time when it came (a long-poll may take a minute), and
 * kept on disk before the caller sees it, so what the player plays is what a restart finds
 * (unless the disk refuses it: then it is played all the same, and why says so).
 */
#include "receiver/schedule.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "receiver/clock.h"
#include "receiver/net.h"

int rcv_schedule_poll(const struct rcv_config *c, struct rcv_net *n, struct rcv_clock *k,
                      int64_t have_version, struct rcv_schedule *out, int *retry_after_s,
                      char *why, size_t whylen)
{
    char path[256], reason[256];
    struct rcv_answer a;
    int wait = have_version > 0 ? c->poll_wait_s : 0;
    if (retry_after_s != NULL)
        *retry_after_s = -1;
    if (have_version > 0)
        snprintf(path, sizeof path, "/api/v1/receivers/%s/schedule?since=%" PRId64 "&wait=%d",
                 c->cluster, have_version, wait);
    else
        snprintf(path, sizeof path, "/api/v1/receivers/%s/schedule", c->cluster);
    if (rcv_net_get(n, path, wait + 30, &a, reason, sizeof reason) < 0) {
        snprintf(why, whylen, "GET schedule: %s", reason);
        return -1;
    }
    if (retry_after_s != NULL)
        *retry_after_s = a.retry_after;
    int rc = -1;
    if (a.status == 304) {
        rc = 0;
    } else if (a.status != 200) {
        snprintf(why, whylen, "GET schedule: HTTP %ld", a.status);
    } else if (rcv_schedule_verify(c, a.body ? a.body : "", a.len, have_version,
                                   rcv_server_us(k) / 1000, out, reason, sizeof reason) < 0) {
        snprintf(why, whylen, "schedule refused: %s", reason);
    } else {
        /* a schedule that cannot be kept (disk full) is still the newest signed one: it is
         * played (an emergency must not wait for disk space), and why says it was not kept */
        rc = 1;
        why[0] = '\0';
        if (rcv_schedule_save(c, a.body, a.len, reason, sizeof reason) < 0)
            snprintf(why, whylen, "schedule not kept: %s", reason);
    }
    free(a.body);
    return rc;
}
