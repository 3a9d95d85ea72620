/* common/log.c — log lines with time, module and function; see log.h. */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

enum lc_log_level lc_log_threshold = LC_LOG_INFO;

void lc_log_write(enum lc_log_level level, const char *module, const char *func, const char *fmt,
                  ...)
{
    static const char *const names[] = {"error: ", "warning: ", "", ""};
    char msg[1024], when[40];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S%z", &tm);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s loacast[%s] %s: %s%s\n", when, module, func, names[level], msg);
}
