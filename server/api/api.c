/* server/api/api.c — JSON answers, body and field checks, times; see api.h. */
#define LC_LOG_MODULE "api"
#include "server/api/api.h"
#include "common/log.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <http_parser.h>

void lc_reply_json(struct lc_req *req, int status, json_t *body)
{
    char *s = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(body);
    if (s == NULL) {
        static const char oom[] = "{\"error\":\"internal\",\"message\":\"out of memory\"}";
        lc_http_respond(req, 500, "application/json", NULL, oom, sizeof oom - 1);
        return;
    }
    lc_http_respond(req, status, "application/json", "Cache-Control: no-store\r\n", s, strlen(s));
    free(s);
}

/* Length of the valid UTF-8 sequence at s (strict: no overlongs, surrogates or code points past
 * U+10FFFF), or 0 if it is not one (a bad byte, or a sequence cut short). */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n <= 1)
        return n;
    unsigned cp = c & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0; /* also the NUL of a sequence cut by the buffer's end */
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    static const unsigned least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* Messages quote what clients sent (a query value, an id), cut to a length that may fall inside
 * a character: a byte that does not begin a valid character becomes '?', so that the answer is
 * always valid UTF-8 JSON (found by tests/fuzz/fuzz_api: such a message made a 500). */
static void utf8_clean(char *msg)
{
    unsigned char *s = (unsigned char *)msg;
    while (*s) {
        size_t n = utf8_seq(s);
        if (n == 0) {
            *s++ = '?';
            continue;
        }
        s += n;
    }
}

void lc_reply_error(struct lc_req *req, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    utf8_clean(msg);
    lc_reply_json(req, status, json_pack("{s:s,s:s}", "error", code, "message", msg));
}

void lc_reply_internal(struct lc_req *req, const char *what)
{
    lc_log(LC_LOG_ERR, "%s %s: %s", http_method_str(req->method), req->path, what);
    lc_reply_error(req, 500, "internal", "internal error");
}

void lc_reply_no_content(struct lc_req *req)
{
    lc_http_respond(req, 204, NULL, NULL, NULL, 0);
}

void lc_reply_error_headers(struct lc_req *req, int status, const char *headers, const char *code,
                            const char *message)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s", message);
    utf8_clean(msg);
    json_t *o = json_pack("{s:s,s:s}", "error", code, "message", msg);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    lc_http_respond(req, status, "application/json", headers, s, s ? strlen(s) : 0);
    free(s);
}

json_t *lc_api_body(struct lc_req *req, const char *const *allowed)
{
    const char *ct = lc_req_header(req, "content-type");
    /* Lenient on purpose: curl -d labels JSON as a form; what matters is that it parses. */
    if (ct != NULL && strncasecmp(ct, "multipart/", 10) == 0) {
        lc_reply_error(req, 415, "unsupported_media", "the body must be JSON, not a form upload");
        return NULL;
    }
    json_error_t e;
    json_t *o = json_loadb((const char *)req->body.data, req->body.len, JSON_REJECT_DUPLICATES, &e);
    if (o == NULL) {
        lc_reply_error(req, 400, "bad_json", "the body is not valid JSON: %s (line %d, column %d)",
                       e.text, e.line, e.column);
        return NULL;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        lc_reply_error(req, 400, "bad_json", "the body must be a JSON object");
        return NULL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        bool ok = false;
        for (size_t i = 0; allowed[i] != NULL; i++)
            if (strcmp(allowed[i], key) == 0)
                ok = true;
        if (!ok) {
            lc_reply_error(req, 400, "unknown_field", "unknown field '%.64s'", key);
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

long lc_utf8_chars(const char *s)
{
    long n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int len = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3 : (*p >> 3) == 30 ? 4 : 0;
        if (len == 0)
            return -1;
        for (int i = 1; i < len; i++)
            if ((p[i] & 0xc0) != 0x80)
                return -1;
        p += len;
        n++;
    }
    return n;
}

/* The field key of obj, of type want (JSON_REAL: any number): 1 and *v when it is there; 0 when
 * it is absent (or null) and not required; -1 after answering 400 (missing, wrong type). */
static int field(struct lc_req *req, json_t *obj, const char *key, bool required, json_type want,
                 json_t **v)
{
    *v = json_object_get(obj, key);
    if (*v == NULL || json_is_null(*v)) {
        if (!required)
            return 0;
        lc_reply_error(req, 400, "bad_field", "'%s' is required", key);
        return -1;
    }
    bool ok = want == JSON_REAL ? json_is_number(*v)
              : want == JSON_TRUE ? json_is_boolean(*v) : json_typeof(*v) == want;
    if (!ok) {
        lc_reply_error(req, 400, "bad_field", "'%s' must be %s", key,
                       want == JSON_STRING ? "a string" : want == JSON_INTEGER ? "an integer"
                       : want == JSON_TRUE ? "true or false" : "a number");
        return -1;
    }
    return 1;
}

int lc_api_string(struct lc_req *req, json_t *obj, const char *key, bool required,
                  size_t max_chars, const char **out)
{
    json_t *v;
    int rc = field(req, obj, key, required, JSON_STRING, &v);
    if (rc <= 0)
        return rc;
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v)) {
        lc_reply_error(req, 422, "invalid", "'%s' must not contain NUL characters", key);
        return -1;
    }
    long n = lc_utf8_chars(s);
    if (n < 0) {
        lc_reply_error(req, 400, "bad_field", "'%s' is not valid UTF-8", key);
        return -1;
    }
    if ((size_t)n > max_chars) {
        lc_reply_error(req, 422, "invalid", "'%s' is longer than %zu characters", key, max_chars);
        return -1;
    }
    *out = s;
    return 0;
}

int lc_api_int(struct lc_req *req, json_t *obj, const char *key, bool required, long long min,
               long long max, long long *out)
{
    json_t *v;
    int rc = field(req, obj, key, required, JSON_INTEGER, &v);
    if (rc <= 0)
        return rc;
    long long x = json_integer_value(v);
    if (x < min || x > max) {
        lc_reply_error(req, 422, "invalid", "'%s' must be between %lld and %lld", key, min, max);
        return -1;
    }
    *out = x;
    return 0;
}

int lc_api_number(struct lc_req *req, json_t *obj, const char *key, bool required, double min,
                  double max, double *out, bool *present)
{
    json_t *v;
    if (present)
        *present = false;
    int rc = field(req, obj, key, required, JSON_REAL, &v);
    if (rc <= 0)
        return rc;
    double x = json_number_value(v);
    if (!(x >= min && x <= max)) {
        lc_reply_error(req, 422, "invalid", "'%s' must be between %g and %g", key, min, max);
        return -1;
    }
    *out = x;
    if (present)
        *present = true;
    return 0;
}

int lc_api_bool(struct lc_req *req, json_t *obj, const char *key, bool required, bool *out,
                bool *present)
{
    json_t *v;
    if (present)
        *present = false;
    int rc = field(req, obj, key, required, JSON_TRUE, &v);
    if (rc <= 0)
        return rc;
    *out = json_is_true(v);
    if (present)
        *present = true;
    return 0;
}

int64_t lc_now(void)
{
    return (int64_t)time(NULL);
}

void lc_time_format(int64_t t, char out[40])
{
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    long off = tm.tm_gmtoff;
    char sign = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    int oh = (int)(off / 3600 % 100), om = (int)(off / 60 % 60);
    snprintf(out, 40, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", (tm.tm_year + 1900) % 10000,
             (tm.tm_mon + 1) % 100, tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
             tm.tm_sec % 100, sign, oh, om);
}

json_t *lc_time_json(int64_t t)
{
    char b[40];
    lc_time_format(t, b);
    return json_string(b);
}

json_t *lc_time_ms_json(int64_t ms)
{
    char b[40], out[48];
    lc_time_format(ms / 1000, b);
    /* ".mmm" goes before the offset: "...T06:00:00" + ".003" + "+07:00" */
    snprintf(out, sizeof out, "%.19s.%03d%s", b, (int)(ms % 1000), b + 19);
    return json_string(out);
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int lc_time_parse(const char *s, int64_t *out)
{
    int Y, M, D, h, m, sec;
    if (strlen(s) < 20 || digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) ||
        s[7] != '-' || digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &m) || s[16] != ':' ||
        digits(s + 17, 2, &sec))
        return -EINVAL;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -EINVAL;
        while (isdigit((unsigned char)*p))
            p++;
    }
    int off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return -EINVAL;
        off = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -EINVAL;
    }
    if (*p != '\0' || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
        return -EINVAL;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (D > mdays[M - 1] || (M == 2 && D == 29 && !((Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0)))
        return -EINVAL;
    struct tm tm = {.tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D, .tm_hour = h,
                    .tm_min = m, .tm_sec = sec};
    *out = (int64_t)timegm(&tm) - off;
    return 0;
}

bool lc_slug_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
        if (c == '-' && s[i + 1] == '-')
            return false;
    }
    return true;
}
