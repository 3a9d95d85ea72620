/*
 * server/config.c — configuration keys, defaults and the INI reader (inih); see config.h.
 *
 * inih calls on_key() for each "key = value"; the first error is kept (with the line inih
 * reports back from ini_parse()) and the server refuses to start. Values are checked against
 * the ranges of the table, so a typo in a limit cannot produce a server without limits.
 */
#include "server/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ini.h>

#include "common/redact.h" /* issue 19: the Icecast URL printed without its password */

enum type { T_INT, T_SIZE, T_DOUBLE, T_STR, T_LISTEN, T_TZ, T_BOOL };

struct key {
    const char *section;
    const char *name;
    enum type type;
    size_t off;
    size_t size;        /* strings: buffer size */
    double min, max;
    const char *help;
};

/* The keys SIGHUP applies to the running server (server/reload.c); a change of any other waits
 * for the next start. */
static bool reloadable(const struct key *k)
{
    static const char *const keys_applied[] = {
        "server.access_log", "server.trusted_proxies", "audio.lexicon", "auth.token_ttl_s",
        "auth.login_max_failures", "auth.login_max_failures_address", "auth.login_window_s",
        "auth.password_min_length", NULL};
    char name[64];
    if (strcmp(k->section, "limits") == 0)
        return true;
    snprintf(name, sizeof name, "%s.%s", k->section, k->name);
    for (const char *const *p = keys_applied; *p; p++)
        if (strcmp(*p, name) == 0)
            return true;
    return false;
}

#define F(field) offsetof(struct lc_config, field), sizeof(((struct lc_config *)0)->field)

static const struct key keys[] = {
    {"server", "listen", T_LISTEN, F(listen_host), 0, 0, "address:port to listen on"},
    {"server", "data_dir", T_STR, F(data_dir), 0, 0, "database and audio store"},
    {"server", "timezone", T_TZ, F(timezone), 0, 0, "IANA time zone of the station"},
    {"server", "max_connections", T_INT, F(max_connections), 0, 1000000, "open connections at most (0: as the file limit allows)"},
    {"server", "web_dir", T_STR, F(web_dir), 0, 0, "the web console's files (empty: found next to the program)"},
    {"server", "station_name", T_STR, F(station_name), 0, 0, "the station's name, as receivers are told it"},
    {"server", "access_log", T_STR, F(access_log), 0, 0, "one line per request: a file, - for stderr (the journal), empty for none"},
    {"server", "trusted_proxies", T_STR, F(trusted_proxies), 0, 0, "proxies whose Forwarded/X-Forwarded-For name the client (addresses, address/prefix)"},
    {"limits", "max_header_bytes", T_SIZE, F(max_header_bytes), 1024, 1 << 20, "request line + headers"},
    {"limits", "max_json_bytes", T_SIZE, F(max_json_bytes), 1024, 64 << 20, "JSON request body"},
    {"limits", "max_upload_bytes", T_SIZE, F(max_upload_bytes), 1024, 1LL << 31, "audio upload body"},
    {"limits", "max_bodies_bytes", T_SIZE, F(max_bodies_bytes), 1024, 1LL << 40, "request bodies being received, all together"},
    {"limits", "header_timeout_ms", T_INT, F(header_timeout_ms), 100, 600000, "headers complete within"},
    {"limits", "body_timeout_ms", T_INT, F(body_timeout_ms), 100, 600000, "body makes progress within"},
    {"limits", "idle_timeout_ms", T_INT, F(idle_timeout_ms), 100, 3600000, "idle keep-alive connection"},
    {"limits", "min_body_rate", T_INT, F(min_body_rate), 0, 1 << 30, "bytes/s a request body must average (0: no overall deadline)"},
    {"limits", "reserve_staff", T_INT, F(reserve_staff), 0, 100000, "connections only staff may take"},
    {"limits", "reserve_receivers_percent", T_INT, F(reserve_receivers_percent), 0, 90, "of max_connections, kept from clients without a token"},
    {"limits", "max_anonymous_per_address", T_INT, F(max_anonymous_per_address), 0, 1000000, "connections without a token per client address (0: no bound)"},
    {"limits", "probation_ms", T_INT, F(probation_ms), 100, 600000, "a connection past the anonymous bounds must show a token within"},
    {"audio", "bitrate_kbps", T_INT, F(bitrate_kbps), 12, 64, "Opus bitrate"},
    {"audio", "loudness_lufs", T_DOUBLE, F(loudness_lufs), -40, -5, "EBU R128 target"},
    {"audio", "lexicon", T_STR, F(lexicon), 0, 0, "the station's lexicon (TSV)"},
    {"audio", "render_workers", T_INT, F(render_workers), 1, 64, "bulletins rendered at once"},
    {"audio", "max_bulletin_s", T_INT, F(max_bulletin_s), 10, 4 * 3600, "the longest bulletin, in seconds"},
    {"stream", "burst_s", T_INT, F(stream_burst_s), 0, 30, "audio sent at once to a receiver joining on air"},
    {"stream", "backlog_s", T_INT, F(stream_backlog_s), 2, 600, "unsent audio past which a receiver is dropped"},
    {"stream", "page_ms", T_INT, F(stream_page_ms), 100, 2000, "audio per Ogg page (multiple of 20)"},
    {"stream", "batch_ms", T_INT, F(stream_batch_ms), 100, 1000, "delivery accounting batch period"},
    {"stream", "send_ms", T_INT, F(stream_send_ms), 100, 10000, "pages go out in groups covering this much audio: one write per receiver"},
    {"stream", "lead_ms", T_INT, F(stream_lead_ms), 0, 10000, "pages are sent this long before their audio plays"},
    {"stream", "hold_audio", T_BOOL, F(stream_hold_audio), 0, 1, "the hold window carries Ogg Opus silence (else only the headers)"},
    {"stream", "catchup_s", T_INT, F(stream_catchup_s), 0, 600, "an emergency is sent from its start to receivers connecting this long after it began"},
    {"auth", "token_ttl_s", T_INT, F(token_ttl_s), 60, 31 * 86400, "login token lifetime"},
    {"auth", "login_max_failures", T_INT, F(login_max_failures), 1, 1000, "per user, per window"},
    {"auth", "login_max_failures_address", T_INT, F(login_max_failures_address), 1, 100000,
     "per client address, per window"},
    {"auth", "login_window_s", T_INT, F(login_window_s), 1, 86400, "failed-login window"},
    {"auth", "password_min_length", T_INT, F(password_min_length), 1, 1024, "new passwords"},
    {"coverage", "offline_after_s", T_INT, F(offline_after_s), 1, 366 * 86400, "a cluster not seen for this long is offline"},
    {"coverage", "active_window_s", T_INT, F(active_window_s), 10, 86400, "a cluster seen within this is working now (the console's state; offline_after_s makes the offline list)"},
    {"coverage", "unreached_sessions", T_INT, F(unreached_sessions), 1, 1000, "flag clusters reached in none of the last N sessions"},
    {"coverage", "retention_days", T_INT, F(retention_days), 1, 3650, "delivery rows kept this long"},
    {"auth", "audit_days", T_INT, F(audit_days), 1, 3650, "audit entries kept this long"},
    {"schedules", "hold_s", T_INT, F(hold_s), 0, 600, "programme frozen, receivers held before a session"},
    {"schedules", "gap_ms", T_INT, F(gap_ms), 0, 60000, "silence between programme items"},
    {"media", "public", T_BOOL, F(media_public), 0, 1, "GET /media/{hash}.opus without a token (for a cache in front)"},
    {"alerts", "trusted_senders", T_STR, F(trusted_senders), 0, 0, "CAP senders (comma-separated) whose Extreme and Immediate alerts go on air without a confirm"},
    {"relay", "filler", T_STR, F(relay_filler), 0, 0, "Ogg Opus jingle played where a relay's upstream gives no audio (empty: silence)"},
    {"relay", "buffer_ms", T_INT, F(relay_buffer_ms), 200, 30000, "a relay's jitter cushion on top of [stream] send_ms (HLS: a segment's length)"},
    {"relay", "timeout_ms", T_INT, F(relay_timeout_ms), 1000, 60000, "an upstream that gives nothing this long is connected again"},
    {"selftest", "plays_wait_s", T_INT, F(selftest_plays_wait_s), 0, 86400, "a self-test is judged this long after it ended, so receivers can report their plays"},
    /* issue 19: the console's map (server/http/static.h) */
    {"map", "tiles", T_STR, F(map_tiles), 0, 0, "tile URL with {z}, {x}, {y} (and {s}) for the console's map (empty: no tiles, markers on a plain background)"},
    {"map", "attribution", T_STR, F(map_attribution), 0, 0, "the tiles' credit shown on the map (plain text)"},
    /* issue 19: fan-out through Icecast (server/icecast/icecast.h) */
    {"icecast", "url", T_STR, F(icecast_url), 0, 0, "push every on-air commune to this Icecast as a source: http://source:PASSWORD@HOST:PORT, mount /{commune}.opus (empty: none)"},
    {"icecast", "auth_secret", T_STR, F(icecast_auth_secret), 0, 0, "the password of Icecast's URL authentication calls (and of its relays); empty: /icecast/listener_add and _remove answer 404"},
};

void lc_config_defaults(struct lc_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->listen_host, sizeof c->listen_host, "127.0.0.1");
    c->listen_port = 8480;
    snprintf(c->data_dir, sizeof c->data_dir, "./var");
    snprintf(c->timezone, sizeof c->timezone, "Asia/Ho_Chi_Minh");
    snprintf(c->station_name, sizeof c->station_name, "loacast");
    c->max_connections = 0;
    c->max_header_bytes = 32 * 1024;
    c->max_json_bytes = 1 << 20;
    c->max_upload_bytes = 64 << 20;
    c->max_bodies_bytes = 256 << 20;
    c->header_timeout_ms = 10000;
    c->body_timeout_ms = 30000;
    c->idle_timeout_ms = 60000;
    c->min_body_rate = 4096;
    c->reserve_staff = 32;
    c->reserve_receivers_percent = 50;
    c->max_anonymous_per_address = 64;
    c->probation_ms = 3000;
    c->bitrate_kbps = 24;
    c->loudness_lufs = -16;
    c->render_workers = 2;
    c->max_bulletin_s = 1800;
    c->stream_burst_s = 3;
    c->stream_backlog_s = 10;
    c->stream_page_ms = 1000;
    c->stream_batch_ms = 1000;
    c->stream_lead_ms = 2000;
    c->stream_send_ms = 2000;
    c->stream_hold_audio = true;
    c->stream_catchup_s = 45;
    c->token_ttl_s = 12 * 3600;
    c->login_max_failures = 5;
    c->login_max_failures_address = 20;
    c->login_window_s = 900;
    c->password_min_length = 8;
    c->hold_s = 60;
    c->offline_after_s = 86400;
    c->active_window_s = 300;   /* receivers report every minute, poll every ≤ 30 s */
    c->unreached_sessions = 3;
    c->retention_days = 400;
    c->audit_days = 730;
    c->gap_ms = 2000;
    c->selftest_plays_wait_s = 300;
    c->relay_buffer_ms = 1000;   /* [relay] */
    c->relay_timeout_ms = 5000;
}

/* [alerts] trusted_senders: "a@x.gov.vn, b@y": entries without spaces, '<' or '&' (CAP 1.2's
 * <sender>). */
static bool senders_ok(const char *v)
{
    for (const char *p = v; *p; p++) {
        if (*p == '<' || *p == '&')
            return false;
        if ((*p == ' ' || *p == '\t') && p > v && p[-1] != ',' && p[-1] != ' ' && p[-1] != '\t') {
            const char *q = p;
            while (*q == ' ' || *q == '\t')
                q++;
            if (*q != ',' && *q != '\0')
                return false;
        }
    }
    return true;
}

/* [map] (issue 19): tiles is "" or an http(s) URL template with {z}, {x}, {y} whose characters
 * are safe in a header (its origin goes into the console's Content-Security-Policy) and in a
 * page; attribution is plain text (the console sets it as text, never as HTML). */
static bool map_value_ok(const char *name, const char *v)
{
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '<' || *p == '>')
            return false;
    if (strcmp(name, "tiles") != 0 || v[0] == '\0')
        return true;
    const char *host = strncmp(v, "https://", 8) == 0 ? v + 8
                       : strncmp(v, "http://", 7) == 0 ? v + 7 : NULL;
    if (host == NULL || *host == '\0' || *host == '/' || strpbrk(v, " \"';\\") != NULL)
        return false;
    return strstr(v, "{z}") && strstr(v, "{x}") && strstr(v, "{y}");
}

struct parse_state {
    struct lc_config *c;
    char msg[200];      /* first error, without the line */
    bool failed;
};

static int fail(struct parse_state *ps, const char *section, const char *name, const char *what)
{
    if (!ps->failed) {
        snprintf(ps->msg, sizeof ps->msg, "[%s] %s: %s", section, name, what);
        ps->failed = true;
    }
    return 0;
}

/* "host:port", "[v6]:port" or ":port". */
static int parse_listen(struct lc_config *c, const char *v)
{
    const char *colon = strrchr(v, ':');
    if (colon == NULL)
        return -1;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || colon[1] == '\0' || port < 1 || port > 65535)
        return -1;
    size_t hl = (size_t)(colon - v);
    const char *h = v;
    if (hl >= 2 && v[0] == '[' && v[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl == 0) {
        h = "0.0.0.0";
        hl = strlen(h);
    }
    if (hl >= sizeof c->listen_host)
        return -1;
    memcpy(c->listen_host, h, hl);
    c->listen_host[hl] = '\0';
    c->listen_port = (int)port;
    return 0;
}

/* A POSIX TZ of a fixed offset with a quoted name: "<NAME>[+-]h[h][:mm[:ss]]", e.g.
 * "<+0659>-6:59:50" (the sign is POSIX's: west positive). Besides IANA names, the schedules
 * tests use one to put local midnight a few seconds away. */
static bool posix_fixed_tz(const char *v)
{
    const char *p = v + 1;
    if (v[0] != '<')
        return false;
    while (*p && *p != '>' && (isalnum((unsigned char)*p) || *p == '+' || *p == '-'))
        p++;
    if (*p != '>' || p - v < 4)
        return false;
    p++;
    if (*p == '+' || *p == '-')
        p++;
    for (int field = 0; field < 3; field++) {
        int digits = 0, n = 0;
        while (isdigit((unsigned char)*p) && digits < 2) {
            n = n * 10 + (*p++ - '0');
            digits++;
        }
        if (digits == 0 || (field == 0 ? n > 24 : n > 59))
            return false;
        if (*p == '\0')
            return true;
        if (*p++ != ':')
            return false;
    }
    return false;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
    struct parse_state *ps = user;
    const struct key *k = NULL;
    bool section_known = false;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (strcmp(keys[i].section, section) != 0)
            continue;
        section_known = true;
        if (strcmp(keys[i].name, name) == 0)
            k = &keys[i];
    }
    if (!section_known)
        return fail(ps, section, name, "unknown section");
    if (k == NULL)
        return fail(ps, section, name, "unknown key");
    char *field = (char *)ps->c + k->off;
    char *end = NULL;
    errno = 0;
    switch (k->type) {
    case T_INT:
    case T_SIZE: {
        long long v = strtoll(value, &end, 10);
        if (end == value || *end != '\0' || errno != 0)
            return fail(ps, section, name, "not an integer");
        if (v < k->min || v > k->max) {
            char m[96];
            snprintf(m, sizeof m, "%lld is out of range %.0f..%.0f", v, k->min, k->max);
            return fail(ps, section, name, m);
        }
        if (k->type == T_INT)
            *(int *)field = (int)v;
        else
            *(long long *)field = v;
        break;
    }
    case T_DOUBLE: {
        double v = strtod(value, &end);
        if (end == value || *end != '\0' || errno != 0)
            return fail(ps, section, name, "not a number");
        if (v < k->min || v > k->max) {
            char m[96];
            snprintf(m, sizeof m, "%g is out of range %g..%g", v, k->min, k->max);
            return fail(ps, section, name, m);
        }
        *(double *)field = v;
        break;
    }
    case T_STR:
        if (strlen(value) >= k->size)
            return fail(ps, section, name, "too long");
        if (value[0] == '\0' && strcmp(name, "lexicon") != 0 && strcmp(name, "web_dir") != 0 &&
            strcmp(name, "trusted_senders") != 0 && strcmp(name, "access_log") != 0 &&
            strcmp(name, "trusted_proxies") != 0 && strcmp(section, "map") != 0)
            return fail(ps, section, name, "must not be empty");
        if (strcmp(section, "map") == 0 && !map_value_ok(name, value))      /* issue 19 */
            return fail(ps, section, name, strcmp(name, "tiles") == 0
                        ? "an http:// or https:// URL with {z}, {x} and {y}, without blanks, quotes or ';'"
                        : "plain text without control characters, '<' or '>'");
        if (strcmp(name, "trusted_senders") == 0 && !senders_ok(value))   /* [alerts] */
            return fail(ps, section, name, "a comma-separated list of CAP senders (no space "
                        "inside one, no '<' or '&')");
        snprintf(field, k->size, "%s", value);
        break;
    case T_BOOL:
        if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "1") == 0)
            *(bool *)field = true;
        else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 || strcmp(value, "0") == 0)
            *(bool *)field = false;
        else
            return fail(ps, section, name, "expected true or false");
        break;
    case T_LISTEN:
        if (parse_listen(ps->c, value) < 0)
            return fail(ps, section, name, "expected address:port, e.g. 127.0.0.1:8480");
        break;
    case T_TZ: {
        char path[PATH_MAX];
        struct stat st;
        if (strlen(value) >= k->size || strstr(value, "..") || value[0] == '/' || value[0] == '\0')
            return fail(ps, section, name, "not a time zone name");
        if (posix_fixed_tz(value)) {    /* "<+0659>-6:59:50": a fixed offset (tests, odd zones) */
            snprintf(field, k->size, "%s", value);
            break;
        }
        snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", value);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            return fail(ps, section, name, "unknown time zone (expected e.g. Asia/Ho_Chi_Minh)");
        snprintf(field, k->size, "%s", value);
        break;
    }
    }
    return 1;
}

int lc_config_load(struct lc_config *c, const char *path, struct lc_err *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return lc_err_set(err, -errno, "%s: %s", path, strerror(errno));
    struct parse_state ps = {.c = c};
    int line = ini_parse_file(f, on_key, &ps);
    fclose(f);
    if (line < 0)
        return lc_err_set(err, -EIO, "%s: cannot be read", path);
    if (line > 0 && !ps.failed)
        return lc_err_set(err, -EINVAL, "%s:%d: syntax error (expected [section] or key = value)",
                          path, line);
    if (ps.failed)
        return lc_err_set(err, -EINVAL, "%s:%d: %s", path, line, ps.msg);
    snprintf(c->source, sizeof c->source, "%s", path);
    return 0;
}

/* A key's value as the INI would write it. */
static void format_value(const struct key *k, const struct lc_config *c, char *buf, size_t n)
{
    const char *field = (const char *)c + k->off;
    switch (k->type) {
    case T_INT: snprintf(buf, n, "%d", *(const int *)field); break;
    case T_SIZE: snprintf(buf, n, "%lld", *(const long long *)field); break;
    case T_DOUBLE: snprintf(buf, n, "%g", *(const double *)field); break;
    case T_STR:
    case T_TZ: snprintf(buf, n, "%s", field); break;
    case T_BOOL: snprintf(buf, n, "%s", *(const bool *)field ? "true" : "false"); break;
    case T_LISTEN:
        snprintf(buf, n, strchr(c->listen_host, ':') ? "[%s]:%d" : "%s:%d", c->listen_host,
                 c->listen_port);
        break;
    }
    /* issue 19: the Icecast passwords are never printed (--print-config, SIGHUP's log) */
    if (field == c->icecast_url)
        lc_url_redact(c->icecast_url, buf, n);
    else if (field == c->icecast_auth_secret && buf[0] != '\0')
        snprintf(buf, n, "[hidden]");
}

void lc_config_print(const struct lc_config *c, FILE *f)
{
    const char *section = "";
    char value[PATH_MAX + 16];
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const struct key *k = &keys[i];
        if (strcmp(section, k->section) != 0) {
            fprintf(f, "%s[%s]\n", i ? "\n" : "", k->section);
            section = k->section;
        }
        format_value(k, c, value, sizeof value);
        fprintf(f, "%s = %s    ; %s\n", k->name, value, k->help);
    }
}

void lc_config_take_reloadable(struct lc_config *cur, const struct lc_config *next)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (reloadable(&keys[i]))
            memcpy((char *)cur + keys[i].off, (const char *)next + keys[i].off, keys[i].size);
}

int lc_config_diff(const struct lc_config *old, const struct lc_config *now, lc_config_diff_cb cb,
                   void *arg)
{
    char a[PATH_MAX + 16], b[PATH_MAX + 16];
    int n = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const struct key *k = &keys[i];
        format_value(k, old, a, sizeof a);
        format_value(k, now, b, sizeof b);
        if (strcmp(a, b) == 0)
            continue;
        cb(arg, k->section, k->name, a, b, reloadable(k));
        n++;
    }
    return n;
}
