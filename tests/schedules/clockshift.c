/*
 * tests/schedules/clockshift.c — an LD_PRELOAD shim that steps the wall clock of a process, for
 * the clock-step test: CLOCK_REALTIME (clock_gettime, gettimeofday, time) is shifted by the
 * number of milliseconds written in the file named by $LC_CLOCK_OFFSET_FILE, read at each call
 * (plain read(2): no allocation, safe under ASan). CLOCK_MONOTONIC is left alone, as a real
 * clock step would leave it: that is what the scheduler must cope with.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static long long offset_ms(void)
{
    const char *path = getenv("LC_CLOCK_OFFSET_FILE");
    char buf[32];
    long long v = 0;
    int neg = 0, fd;
    ssize_t n;
    if (path == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return 0;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    for (ssize_t i = 0; i < n; i++) {
        if (i == 0 && buf[i] == '-')
            neg = 1;
        else if (buf[i] >= '0' && buf[i] <= '9')
            v = v * 10 + (buf[i] - '0');
        else
            break;
    }
    return neg ? -v : v;
}

static void shift(struct timespec *ts, long long ms)
{
    long long ns = (long long)ts->tv_nsec + (ms % 1000) * 1000000LL;
    ts->tv_sec += (time_t)(ms / 1000);
    if (ns < 0) {
        ns += 1000000000LL;
        ts->tv_sec--;
    } else if (ns >= 1000000000LL) {
        ns -= 1000000000LL;
        ts->tv_sec++;
    }
    ts->tv_nsec = (long)ns;
}

int clock_gettime(clockid_t id, struct timespec *ts);
int clock_gettime(clockid_t id, struct timespec *ts)
{
    static int (*real)(clockid_t, struct timespec *);
    if (real == NULL)
        *(void **)&real = dlsym(RTLD_NEXT, "clock_gettime"); /* POSIX's way: no cast to a
                                                               * function pointer in ISO C */
    int rc = real(id, ts);
    if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
        shift(ts, offset_ms());
    return rc;
}

int gettimeofday(struct timeval *tv, void *tz);
int gettimeofday(struct timeval *tv, void *tz)
{
    (void)tz;
    struct timespec ts;
    int rc = clock_gettime(CLOCK_REALTIME, &ts);
    if (rc == 0) {
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = ts.tv_nsec / 1000;
    }
    return rc;
}

time_t time(time_t *out);
time_t time(time_t *out)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (out)
        *out = ts.tv_sec;
    return ts.tv_sec;
}
