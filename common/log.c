/* common/log.c — log lines with time, module and function; see log.h. */
#include "common/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

enum lc_log_level lc_log_threshold = LC_LOG_INFO;

/* Set once, before any thread logs (lc_log_init). */
static bool to_journal;

/* systemd tells a service whose stderr is the journal by JOURNAL_STREAM="device:inode" of that
 * stream (systemd.exec(5)); the variable alone is not enough: a child whose stderr was
 * redirected inherits it. */
void lc_log_init(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    to_journal = js != NULL && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
                 fstat(2, &st) == 0 && (unsigned long long)st.st_dev == dev &&
                 (unsigned long long)st.st_ino == ino;
}

bool lc_log_journal(void)
{
    return to_journal;
}

void lc_log_write(enum lc_log_level level, const char *module, const char *func, const char *fmt,
                  ...)
{
    static const char *const names[] = {"error: ", "warning: ", "", ""};
    /* syslog priorities (sd-daemon(3)'s "<N>" prefixes): err, warning, info, debug */
    static const int prio[] = {3, 4, 6, 7};
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (to_journal) {   /* the journal keeps the time itself */
        fprintf(stderr, "<%d>loacast[%s] %s: %s%s\n", prio[level], module, func, names[level], msg);
        return;
    }
    char when[40];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S%z", &tm);
    fprintf(stderr, "%s loacast[%s] %s: %s%s\n", when, module, func, names[level], msg);
}
