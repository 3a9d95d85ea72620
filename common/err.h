/*
 * common/err.h — how loacast reports errors.
 *
 * Every fallible function returns 0 on success or a negative errno-style code (-EINVAL for bad
 * input, -ENOMEM, -EIO, ...). Functions whose failures a user must read (an unknown voice, a file
 * that does not decode) also fill a struct lc_err with a one-line, human message; callers print
 * it or put it in the API's JSON error. A NULL struct lc_err * is allowed everywhere and means
 * "the caller only wants the code".
 */
#ifndef LC_COMMON_ERR_H
#define LC_COMMON_ERR_H

#include <errno.h>
#include <stddef.h>

struct lc_err {
    int code;       /* the negative code last set, 0 if none */
    char msg[256];  /* NUL-terminated human message, "" if none */
};

/* Sets err (if not NULL) to code and a printf-formatted message; returns code, so that a
 * failing path can say `return lc_err_set(err, -EINVAL, "unknown voice '%s'", v);`. */
int lc_err_set(struct lc_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The message of err if one was set, else the text of its code (never NULL). */
const char *lc_err_msg(const struct lc_err *err);

/* Text for a negative code (strerror of -code). */
const char *lc_strerror(int code);

#endif
