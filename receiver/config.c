/*
 * receiver/config.c — the receiver's INI file (inih); see receiver.h.
 *
 * inih calls on_key() for each "key = value"; the first error is kept (inih tells its line
 * through ini_parse_file()'s result) and the receiver refuses to start. Unknown sections and
 * keys are errors, like the server's: a typo must not leave a default in place silently.
 */
#include "receiver/receiver.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>
#include <sodium.h>

struct parse_state {
    struct rcv_config *c;
    bool failed;
    char msg[512];
    unsigned seen;      /* bit per required key (REQ_*) */
};

enum { REQ_SERVER = 1, REQ_CLUSTER = 2, REQ_TOKEN = 4, REQ_KEY = 8, REQ_CACHE = 16, REQ_SINK = 32 };

static const struct { unsigned bit; const char *name; } required[] = {
    {REQ_SERVER, "server"}, {REQ_CLUSTER, "cluster"}, {REQ_TOKEN, "token"},
    {REQ_KEY, "station_key"}, {REQ_CACHE, "cache_dir"}, {REQ_SINK, "sink"},
};

static int fail(struct parse_state *ps, const char *section, const char *key, const char *what)
{
    if (!ps->failed) {
        ps->failed = true;
        snprintf(ps->msg, sizeof ps->msg, "[%s] %s: %s", section, key, what);
    }
    return 0; /* inih: an error on this line */
}

/* A whole decimal integer in [min, max]; 0 or -1. */
static int parse_int(const char *v, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || x < min || x > max)
        return -1;
    *out = x;
    return 0;
}

/* Copies v into dst[n]; -1 if it does not fit. */
static int copy(char *dst, size_t n, const char *v)
{
    size_t len = strlen(v);
    if (len >= n)
        return -1;
    memcpy(dst, v, len + 1);
    return 0;
}

static bool slug_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
            return false;
    return true;
}

static int on_server(struct parse_state *ps, const char *v)
{
    struct rcv_config *c = ps->c;
    if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
        return fail(ps, "receiver", "server", "must be an http:// or https:// URL");
    if (copy(c->server, sizeof c->server, v) < 0)
        return fail(ps, "receiver", "server", "too long");
    /* no trailing slash: paths are appended to it as they are ("/api/v1/time") */
    size_t n = strlen(c->server);
    while (n > 0 && c->server[n - 1] == '/')
        c->server[--n] = '\0';
    size_t scheme = c->server[4] == 's' ? 8 : 7;
    if (n <= scheme)
        return fail(ps, "receiver", "server", "has no host");
    if (strchr(c->server + scheme, '/') != NULL || strpbrk(c->server, "?# \t") != NULL)
        return fail(ps, "receiver", "server", "must be a base URL (scheme://host[:port]), no path");
    return 1;
}

static int on_station_key(struct parse_state *ps, const char *v)
{
    unsigned char bin[64];
    size_t len = 0;
    if (sodium_base642bin(bin, sizeof bin, v, strlen(v), " \t", &len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 || len != sizeof ps->c->station_pk)
        return fail(ps, "receiver", "station_key",
                    "must be the station's public key: base64 of 32 bytes (GET /api/v1/station)");
    memcpy(ps->c->station_pk, bin, sizeof ps->c->station_pk);
    return 1;
}

static int on_sink(struct parse_state *ps, const char *v)
{
    bool ok = strcmp(v, "null") == 0 || (strncmp(v, "alsa:", 5) == 0 && v[5] != '\0') ||
              (strncmp(v, "wav:", 4) == 0 && v[4] != '\0');
    if (!ok)
        return fail(ps, "receiver", "sink", "must be alsa:DEVICE, wav:PATH or null");
    if (copy(ps->c->sink, sizeof ps->c->sink, v) < 0)
        return fail(ps, "receiver", "sink", "too long");
    return 1;
}

static int on_receiver(struct parse_state *ps, const char *name, const char *v)
{
    struct rcv_config *c = ps->c;
    long long x;
    if (strcmp(name, "server") == 0) {
        ps->seen |= REQ_SERVER;
        return on_server(ps, v);
    }
    if (strcmp(name, "cluster") == 0) {
        ps->seen |= REQ_CLUSTER;
        if (!slug_ok(v) || copy(c->cluster, sizeof c->cluster, v) < 0)
            return fail(ps, "receiver", name, "must be the cluster's id (lowercase letters, digits, '-')");
        return 1;
    }
    if (strcmp(name, "token") == 0) {
        ps->seen |= REQ_TOKEN;
        if (v[0] == '\0' || strlen(v) > 100 || strpbrk(v, " \t\r\n") != NULL ||
            copy(c->token, sizeof c->token, v) < 0)
            return fail(ps, "receiver", name, "must be the cluster's receiver token (1..100 characters, no spaces)");
        return 1;
    }
    if (strcmp(name, "station_key") == 0) {
        ps->seen |= REQ_KEY;
        return on_station_key(ps, v);
    }
    if (strcmp(name, "cache_dir") == 0) {
        ps->seen |= REQ_CACHE;
        if (v[0] == '\0' || copy(c->cache_dir, sizeof c->cache_dir - 256, v) < 0)
            return fail(ps, "receiver", name, "must be a directory path (not too long)");
        return 1;
    }
    if (strcmp(name, "sink") == 0) {
        ps->seen |= REQ_SINK;
        return on_sink(ps, v);
    }
    if (strcmp(name, "signal_hook") == 0) {
        if (copy(c->signal_hook, sizeof c->signal_hook, v) < 0)
            return fail(ps, "receiver", name, "too long");
        return 1;
    }
    if (strcmp(name, "evict_after_s") == 0) {
        if (parse_int(v, 60, 366LL * 86400, &x) < 0)
            return fail(ps, "receiver", name, "must be a whole number of seconds, 60..31622400");
        c->evict_after_s = (int)x;
        return 1;
    }
    if (strcmp(name, "poll_wait_s") == 0) {
        if (parse_int(v, 1, 60, &x) < 0)
            return fail(ps, "receiver", name, "must be a whole number of seconds, 1..60");
        c->poll_wait_s = (int)x;
        return 1;
    }
    if (strcmp(name, "status_every_s") == 0) {
        if (parse_int(v, 1, 86400, &x) < 0)
            return fail(ps, "receiver", name, "must be a whole number of seconds, 1..86400");
        c->status_every_s = (int)x;
        return 1;
    }
    return fail(ps, "receiver", name, "unknown key");
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
    struct parse_state *ps = user;
    if (ps->failed)
        return 1; /* the first error is the one told; inih goes on to the end */
    if (strcmp(section, "receiver") == 0)
        return on_receiver(ps, name, value);
    if (strcmp(section, "test") == 0) {
        long long x;
        if (strcmp(name, "clock_skew_ms") != 0)
            return fail(ps, section, name, "unknown key");
        if (parse_int(value, -10LL * 365 * 86400 * 1000, 10LL * 365 * 86400 * 1000, &x) < 0)
            return fail(ps, section, name, "must be a whole number of milliseconds");
        ps->c->clock_skew_ms = x;
        return 1;
    }
    return fail(ps, section, name, "unknown section");
}

static void defaults(struct rcv_config *c)
{
    memset(c, 0, sizeof *c);
    c->evict_after_s = 86400;
    c->poll_wait_s = 50;
    c->status_every_s = 60;
}

int rcv_config_load(const char *path, struct rcv_config *c, char *err, size_t errlen)
{
    defaults(c);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct parse_state ps = {.c = c};
    int line = ini_parse_file(f, on_key, &ps);
    fclose(f);
    if (line < 0) {
        snprintf(err, errlen, "%s: cannot be read", path);
        return -1;
    }
    if (ps.failed) {
        snprintf(err, errlen, "%s:%d: %s", path, line, ps.msg);
        return -1;
    }
    if (line > 0) {
        snprintf(err, errlen, "%s:%d: syntax error (expected [section] or key = value)", path, line);
        return -1;
    }
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!(ps.seen & required[i].bit)) {
            snprintf(err, errlen, "%s: [receiver] %s: missing (required)", path, required[i].name);
            return -1;
        }
    return 0;
}
