/* common/err.c — error codes and messages; see err.h. */
#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int lc_err_set(struct lc_err *err, int code, const char *fmt, ...)
{
    if (err == NULL)
        return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

const char *lc_err_msg(const struct lc_err *err)
{
    if (err == NULL)
        return "unknown error";
    if (err->msg[0] != '\0')
        return err->msg;
    return lc_strerror(err->code);
}

const char *lc_strerror(int code)
{
    if (code == 0)
        return "success";
    return strerror(code < 0 ? -code : code);
}
