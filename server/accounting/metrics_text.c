/* server/accounting/metrics_text.c — writing lines of /metrics (metrics.c, metrics_fleet.c). */
#include "server/accounting/accounting_internal.h"

#include <stdarg.h>
#include <stdio.h>

#include "common/buf.h"

void lc_metrics_put(struct lc_buf *b, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0)
        lc_buf_append(b, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}
