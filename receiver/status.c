/*
 * receiver/status.c — the health report; see status.h.
 */
#include "receiver/status.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "receiver/cache.h"
#include "receiver/rtime.h"
#include "receiver/schedule.h"

#ifndef LOACAST_VERSION
#define LOACAST_VERSION "0"
#endif

int64_t rcv_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

static int64_t now_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int rcv_signal_read(const char *hook, int timeout_ms, double *signal)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        /* the child: stdout to the pipe, stdin from /dev/null, then the shell */
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0)
            dup2(null, 0);
        dup2(p[1], 1);
        setpgid(0, 0); /* its own group: a timeout kills what it started too */
        execl("/bin/sh", "sh", "-c", hook, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char buf[256];
    size_t n = 0;
    int64_t deadline = now_mono_ms() + timeout_ms;
    bool timed_out = false;
    for (;;) {
        int64_t left = deadline - now_mono_ms();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd pfd = {.fd = p[0], .events = POLLIN};
        int r = poll(&pfd, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            timed_out = r == 0;
            break;
        }
        ssize_t got = read(p[0], buf + n, sizeof buf - 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        n += (size_t)got;
        if (n == sizeof buf - 1)
            break; /* the first number is in the first bytes */
    }
    close(p[0]);
    if (timed_out)
        kill(-pid, SIGKILL);
    int wst;
    while (waitpid(pid, &wst, 0) < 0 && errno == EINTR) {
    }
    if (timed_out)
        return -1;
    buf[n] = '\0';
    /* the first number: optional sign, digits, optional fraction */
    for (char *s = buf; *s; s++) {
        bool start = (*s >= '0' && *s <= '9') || ((*s == '-' || *s == '+') && s[1] >= '0' && s[1] <= '9');
        if (!start)
            continue;
        char *end;
        double v = strtod(s, &end);
        if (end == s || !isfinite(v))
            return -1;
        *signal = v;
        return 0;
    }
    return -1;
}

void rcv_status_collect(const struct rcv_config *c, struct rcv_clock *k,
                        const struct rcv_schedule *s, int64_t now_ms, int64_t started_mono_s,
                        const char *last_error, struct rcv_status *st)
{
    memset(st, 0, sizeof *st);
    st->uptime_s = rcv_mono_s() - started_mono_s;
    if (st->uptime_s < 0)
        st->uptime_s = 0;
    int64_t off, delay;
    if (k != NULL && rcv_clock_estimate(k, &off, &delay)) {
        st->has_clock = true;
        st->clock_offset_ms = (double)off / 1000.0;
        st->rtt_ms = (double)delay / 1000.0;
    }
    st->cache_bytes = rcv_cache_bytes(c);
    struct statvfs vfs;
    st->disk_free_bytes = statvfs(c->cache_dir, &vfs) == 0 ? (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize : -1;
    st->volume = -1;
    if (s != NULL) {
        const struct rcv_session *next = rcv_schedule_next(s, now_ms);
        if (next != NULL) {
            st->has_next = true;
            st->next_id = next->id;
            st->next_start_ms = next->start_ms;
            st->fetched_percent = rcv_cache_fetched_percent(c, next);
        }
        st->volume = s->volume;
        st->muted = s->muted;
    }
    if (c->signal_hook[0] != '\0' && rcv_signal_read(c->signal_hook, 5000, &st->signal) == 0 &&
        st->signal >= -200 && st->signal <= 100)
        st->has_signal = true;
    if (last_error != NULL) {
        /* cut at a character boundary: the server takes at most 500 characters */
        size_t len = strlen(last_error);
        if (len >= sizeof st->last_error) {
            len = sizeof st->last_error - 1;
            while (len > 0 && ((unsigned char)last_error[len] & 0xC0) == 0x80)
                len--;
        }
        memcpy(st->last_error, last_error, len);
        st->last_error[len] = '\0';
    }
}

char *rcv_status_json(const struct rcv_status *st)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "version", json_string(LOACAST_VERSION));
    json_object_set_new(o, "uptime_s", json_integer(st->uptime_s));
    if (st->has_clock) {
        json_object_set_new(o, "clock_offset_ms", json_real(st->clock_offset_ms));
        json_object_set_new(o, "rtt_ms", json_real(st->rtt_ms));
    }
    if (st->cache_bytes >= 0)
        json_object_set_new(o, "cache_bytes", json_integer(st->cache_bytes));
    if (st->disk_free_bytes >= 0)
        json_object_set_new(o, "disk_free_bytes", json_integer(st->disk_free_bytes));
    if (st->has_next) {
        char start[32];
        json_t *ns = json_object();
        rcv_time_format_ms(st->next_start_ms, start);
        if (st->next_id > 0)
            json_object_set_new(ns, "id", json_integer(st->next_id));
        json_object_set_new(ns, "fetched_percent", json_real(st->fetched_percent));
        json_object_set_new(ns, "start", json_string(start));
        json_object_set_new(o, "next_session", ns);
    }
    if (st->volume >= 0) {
        json_object_set_new(o, "volume", json_integer(st->volume));
        json_object_set_new(o, "muted", json_boolean(st->muted));
    }
    if (st->has_signal)
        json_object_set_new(o, "signal", json_real(st->signal));
    json_object_set_new(o, "last_error",
                        st->last_error[0] ? json_string(st->last_error) : json_null());
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(o);
    return s;
}

int rcv_status_post(const struct rcv_config *c, struct rcv_net *n, const struct rcv_status *st,
                    int timeout_s, char *why, size_t whylen)
{
    char path[160], reason[256];
    struct rcv_answer a;
    char *body = rcv_status_json(st);
    if (body == NULL) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    snprintf(path, sizeof path, "/api/v1/receivers/%s/status", c->cluster);
    int rc = rcv_net_post_json(n, path, body, timeout_s, &a, reason, sizeof reason);
    free(body);
    if (rc < 0) {
        snprintf(why, whylen, "POST status: %s", reason);
        return -1;
    }
    if (a.status < 200 || a.status >= 300) {
        snprintf(why, whylen, "POST status: HTTP %ld: %.200s", a.status, a.body ? a.body : "");
        rc = -1;
    }
    free(a.body);
    return rc;
}
