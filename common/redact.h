/*
 * common/redact.h — URLs as they may be logged: secrets hidden.
 *
 * A login token, a receiver's token or a listening ticket in a URL would land in every log that
 * keeps the URL (loacast's access log, a proxy's, a journal kept for years). Everything loacast
 * logs that holds a URL goes through lc_url_redact() first.
 */
#ifndef LC_COMMON_REDACT_H
#define LC_COMMON_REDACT_H

#include <stddef.h>

/* Copies url into out (size n, always NUL-terminated, truncated if need be) with the value of
 * every query parameter that names a secret (token, access_token, ticket, listen, key, sig,
 * signature, password, pass, secret, auth; any case) replaced by "[hidden]", and the user
 * information of an absolute URL ("http://user:pass@host/") by "[hidden]@". Control characters
 * and spaces become '_' so that a line stays one line. Returns out. */
char *lc_url_redact(const char *url, char *out, size_t n);

#endif
