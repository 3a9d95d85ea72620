/*
 * tests/receiver/test_config.c — rcv_config_load (receiver/config.c): a good file with its
 * defaults and every key; each bad file refused with "FILE:LINE: [section] key: what" (unknown
 * key, unknown section, a key that is not base64 of 32 bytes, a bad sink, numbers out of range,
 * a URL with a path), a missing required key named, a missing file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "receiver/receiver.h"
#include "tests/check.h"

/* 32 bytes 0x01..0x20, base64 */
#define KEY "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="

static char path[64];

static int load(const char *text, struct rcv_config *c, char *err, size_t n)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    err[0] = '\0';
    return rcv_config_load(path, c, err, n);
}

#define BASE "[receiver]\nserver = http://127.0.0.1:8480\ncluster = quang-phu-1\ntoken = tok123\n" \
             "station_key = " KEY "\ncache_dir = /var/cache/loacast\n"

/* text refused with an error that ends with want after "PATH:" (want: "LINE: [s] k: ...") */
static void bad(const char *text, const char *want)
{
    struct rcv_config c;
    char err[600], full[700];
    int rc = load(text, &c, err, sizeof err);
    snprintf(full, sizeof full, "%s:%s", path, want);
    CHECKF(rc == -1 && strncmp(err, full, strlen(full)) == 0, "want '%s', got rc %d '%s'", full,
           rc, err);
}

int main(void)
{
    struct rcv_config c;
    char err[600];
    snprintf(path, sizeof path, "/tmp/rcv-config-%d.ini", (int)getpid());

    int rc = load(BASE "sink = null\n", &c, err, sizeof err);
    CHECKF(rc == 0, "good config refused: %s", err);
    CHECK(strcmp(c.server, "http://127.0.0.1:8480") == 0);
    CHECK(strcmp(c.cluster, "quang-phu-1") == 0 && strcmp(c.token, "tok123") == 0);
    CHECK(c.station_pk[0] == 1 && c.station_pk[31] == 32);
    CHECK(strcmp(c.cache_dir, "/var/cache/loacast") == 0 && strcmp(c.sink, "null") == 0);
    CHECK(c.evict_after_s == 86400 && c.poll_wait_s == 50 && c.status_every_s == 60);
    CHECK(c.clock_skew_ms == 0 && c.signal_hook[0] == '\0');

    rc = load("; a comment\n[receiver]\nserver = https://radio.example.vn/\ncluster = k1\n"
              "token = t\nstation_key = " KEY "\ncache_dir = ./c\nsink = wav:/tmp/out.wav\n"
              "signal_hook = echo -71\nevict_after_s = 3600\npoll_wait_s = 60\n"
              "status_every_s = 5\n[test]\nclock_skew_ms = -2500\n", &c, err, sizeof err);
    CHECKF(rc == 0, "full config refused: %s", err);
    CHECK(strcmp(c.server, "https://radio.example.vn") == 0); /* trailing slash dropped */
    CHECK(strcmp(c.sink, "wav:/tmp/out.wav") == 0 && strcmp(c.signal_hook, "echo -71") == 0);
    CHECK(c.evict_after_s == 3600 && c.poll_wait_s == 60 && c.status_every_s == 5);
    CHECK(c.clock_skew_ms == -2500);
    CHECK(load(BASE "sink = alsa:hw:0,0\n", &c, err, sizeof err) == 0 && strcmp(c.sink, "alsa:hw:0,0") == 0);

    bad(BASE "sink = null\nvolume = 3\n", "8: [receiver] volume: unknown key");
    bad(BASE "sink = null\n[player]\nx = 1\n", "9: [player] x: unknown section");
    bad(BASE "sink = null\n[test]\nskew = 1\n", "9: [test] skew: unknown key");
    bad(BASE "sink = null\n[test]\nclock_skew_ms = soon\n", "9: [test] clock_skew_ms: must be");
    bad(BASE "sink = speaker\n", "7: [receiver] sink: must be alsa:DEVICE, wav:PATH or null");
    bad(BASE "sink = alsa:\n", "7: [receiver] sink:");
    bad(BASE "sink = null\npoll_wait_s = 61\n", "8: [receiver] poll_wait_s: must be");
    bad(BASE "sink = null\npoll_wait_s = 5s\n", "8: [receiver] poll_wait_s: must be");
    bad(BASE "sink = null\nevict_after_s = -1\n", "8: [receiver] evict_after_s: must be");
    bad(BASE "sink = null\nstatus_every_s = 0\n", "8: [receiver] status_every_s: must be");
    bad("[receiver]\nstation_key = AQID\n", "2: [receiver] station_key: must be the station's public key");
    bad("[receiver]\nstation_key = " KEY "AAAA\n", "2: [receiver] station_key:");
    bad("[receiver]\nstation_key = not base64!\n", "2: [receiver] station_key:");
    bad("[receiver]\nserver = ftp://x\n", "2: [receiver] server: must be an http:// or https:// URL");
    bad("[receiver]\nserver = http://x/api\n", "2: [receiver] server: must be a base URL");
    bad("[receiver]\nserver = http://\n", "2: [receiver] server: has no host");
    bad("[receiver]\ncluster = Quang Phu\n", "2: [receiver] cluster: must be");
    bad("[receiver]\ntoken =\n", "2: [receiver] token: must be");
    bad("[receiver]\ncache_dir =\n", "2: [receiver] cache_dir: must be");
    bad("[receiver]\nthis is not ini\n", "2: syntax error");
    /* the first error is the one told */
    bad(BASE "sink = nowhere\nbogus = 1\n", "7: [receiver] sink:");

    /* required keys, each missing in turn */
    static const char *const req[] = {"server", "cluster", "token", "station_key", "cache_dir"};
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
        char text[1024] = "", line[256], want[128];
        const char *p = BASE "sink = null\n";
        while (*p) { /* BASE without req[i]'s line */
            const char *nl = strchr(p, '\n');
            snprintf(line, sizeof line, "%.*s", (int)(nl - p + 1), p);
            if (strncmp(line, req[i], strlen(req[i])) != 0 || line[strlen(req[i])] != ' ')
                strcat(text, line);
            p = nl + 1;
        }
        rc = load(text, &c, err, sizeof err);
        snprintf(want, sizeof want, ": [receiver] %s: missing", req[i]);
        CHECKF(rc == -1 && strstr(err, want) != NULL, "want '%s', got '%s'", want, err);
    }
    rc = load(BASE, &c, err, sizeof err);
    CHECKF(rc == -1 && strstr(err, "[receiver] sink: missing") != NULL, "%s", err);

    unlink(path);
    rc = rcv_config_load(path, &c, err, sizeof err);
    CHECKF(rc == -1 && strstr(err, path) == err && strstr(err, "No such file"), "%s", err);
    return check_done();
}
