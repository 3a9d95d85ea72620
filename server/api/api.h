/*
 * server/api/api.h — what every JSON route shares: answers, errors, reading and checking bodies,
 * times, identifiers (internal header of server/).
 *
 * Error answers are {"error": code, "message": text}. The codes used:
 *   400 bad_json, bad_field (wrong type, missing), unknown_field, bad_query
 *   401 unauthorized    403 forbidden     404 not_found     405 method_not_allowed
 *   409 exists, conflict, bad_state       413 body_too_large 415 unsupported_media
 *   416 bad_range       422 invalid (a value out of range, unknown commune or voice)
 *   429 rate_limited    500 internal      503 busy, shutting_down
 * A function here that answers returns -1 after answering, so a handler writes
 * `if (lc_api_string(...) < 0) goto out;`.
 */
#ifndef LC_SERVER_API_H
#define LC_SERVER_API_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "server/app.h"
#include "server/http/http.h"

/* Answers body (the reference is stolen) as JSON. */
void lc_reply_json(struct lc_req *req, int status, json_t *body);
void lc_reply_error(struct lc_req *req, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* 500 with a generic message; the detail goes to stderr. */
void lc_reply_internal(struct lc_req *req, const char *what);
void lc_reply_no_content(struct lc_req *req);

/* Parses the body as a JSON object whose keys are all in allowed (NULL-terminated). On error
 * answers (400 bad_json / unknown_field, 415 if Content-Type is not JSON) and returns NULL. */
json_t *lc_api_body(struct lc_req *req, const char *const *allowed);

/* Field readers. `required` false: an absent field leaves *out as it was and returns 0; a JSON
 * null counts as absent. Wrong type is 400 bad_field; out of range is 422 invalid. */
int lc_api_string(struct lc_req *req, json_t *obj, const char *key, bool required,
                  size_t max_chars, const char **out);
int lc_api_int(struct lc_req *req, json_t *obj, const char *key, bool required, long long min,
               long long max, long long *out);
int lc_api_number(struct lc_req *req, json_t *obj, const char *key, bool required, double min,
                  double max, double *out, bool *present);

/* Unix seconds now. */
int64_t lc_now(void);
/* RFC 3339 in the configured zone (TZ is set at start), e.g. 2026-11-24T06:00:00+07:00. */
void lc_time_format(int64_t t, char out[40]);
json_t *lc_time_json(int64_t t);
/* Parses RFC 3339 (with Z or an offset; fraction ignored). 0 or -EINVAL. */
int lc_time_parse(const char *s, int64_t *out);

/* A slug: 1..64 of [a-z0-9], single '-' between. */
bool lc_slug_ok(const char *s);
/* Number of UTF-8 code points, or -1 if s is not valid UTF-8. */
long lc_utf8_chars(const char *s);

#endif
