/*
 * server/config.h — `loacast serve` configuration: embedded defaults, overridden by an INI file.
 *
 * Keys are a table in config.c (section, key, type, range, where it goes); a later issue adds its
 * keys there. Unknown sections or keys and bad values are errors naming file, line and key.
 */
#ifndef LC_SERVER_CONFIG_H
#define LC_SERVER_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/err.h"

struct lc_config {
    /* [server] */
    char listen_host[128];
    int listen_port;
    char data_dir[PATH_MAX];
    char timezone[64];
    int max_connections;
    char web_dir[PATH_MAX];   /* "" = found next to the executable (server/http/static.h) */
    char station_name[128];   /* GET /api/v1/station (server/station/station.h) */
    char access_log[PATH_MAX];      /* "" none, "-" stderr (server/access_log.h) */
    char trusted_proxies[1024];     /* "" none (server/http/http.h, lc_http_trust_parse) */
    char source[PATH_MAX];          /* the file read (lc_config_load), "" for the defaults */
    /* [limits] */
    long long max_header_bytes;
    long long max_json_bytes;
    long long max_upload_bytes;
    long long max_bodies_bytes;
    int header_timeout_ms;
    int body_timeout_ms;
    int idle_timeout_ms;
    int min_body_rate;               /* bytes/s a body must average (its overall deadline) */
    int reserve_staff;               /* connections only staff may take */
    int reserve_receivers_percent;   /* of max_connections, not for anonymous clients */
    int max_anonymous_per_address;   /* connections without a token, per address (0: no bound) */
    int probation_ms;                /* a connection past those bounds shows a token within */
    /* [audio] */
    int bitrate_kbps;
    double loudness_lufs;
    char lexicon[PATH_MAX];   /* "" = built-in lexicon only */
    int render_workers;
    int max_bulletin_s;
    /* [stream] (issue 6, server/stream/stream.h) */
    int stream_burst_s;              /* audio sent at once to a receiver joining on air */
    int stream_backlog_s;            /* unsent audio past which a receiver is dropped */
    int stream_page_ms;              /* audio per Ogg page of a live stream */
    int stream_batch_ms;             /* delivery accounting written every ... (≤ 1000) */
    int stream_send_ms;              /* pages go out in groups covering this much audio */
    int stream_lead_ms;              /* pages go out this long before their audio plays (issue 15) */
    bool stream_hold_audio;          /* silence pages in the hold window */
    int stream_catchup_s;            /* an emergency from its start to receivers joining within */
    /* [auth] */
    int token_ttl_s;
    int login_max_failures;          /* per user name, within login_window_s */
    int login_max_failures_address;  /* per client address, within login_window_s */
    int login_window_s;
    int password_min_length;
    /* [coverage] (issue 7) */
    int offline_after_s;             /* a cluster not seen for longer is offline */
    int active_window_s;             /* seen within it, a cluster is working now (the console) */
    int unreached_sessions;          /* flagged when reached in none of the last N sessions */
    int retention_days;              /* delivery rows older than this are pruned */
    int audit_days;                  /* audit entries older than this are pruned */
    /* [schedules] (issue 5) */
    int hold_s;                      /* receivers are held this long before a session */
    int gap_ms;                      /* silence between the items of a programme */
    /* [media] (server/media/media.h) */
    bool media_public;               /* GET /media without a token, for a cache in front */
    /* [alerts] (server/alerts/alerts.h, issue 18) */
    char trusted_senders[2048];      /* CAP senders whose Extreme+Immediate alerts air at once */
    /* [relay] (relays of upstream streams, issue 18: server/stream/stream_relay.h) */
    char relay_filler[PATH_MAX];     /* an Ogg Opus jingle for a relay's gaps ("" = silence) */
    int relay_buffer_ms;             /* a relay's jitter cushion over stream send_ms */
    int relay_timeout_ms;            /* an upstream silent this long is connected again */
    /* [selftest] (server/selftest/selftest.h, issue 18) */
    int selftest_plays_wait_s;       /* a self-test is judged this long after its end (plays) */
    /* [map] (issue 19, point 3: the console's map, server/http/static.h) */
    char map_tiles[512];             /* tile URL template, {z}/{x}/{y} ({s}: a subdomain); "" none */
    char map_attribution[256];       /* shown in the map's corner (the tiles' licence) */
    /* [icecast] (issue 19, point 4: fan-out through Icecast, server/icecast/icecast.h) */
    char icecast_url[1024];          /* http://source:PASSWORD@HOST:PORT; "" none */
    char icecast_auth_secret[256];   /* Icecast's URL authentication calls with it; "" routes off */
};

/* Fills c with the embedded defaults (SPEC: 127.0.0.1:8480, ./var, Asia/Ho_Chi_Minh, ...). */
void lc_config_defaults(struct lc_config *c);

/* Reads path over the values already in c. Returns 0, or -EINVAL/-ENOENT with a message
 * "FILE:LINE: [section] key: what is wrong" in err. */
int lc_config_load(struct lc_config *c, const char *path, struct lc_err *err);

/* Writes every key with its current value, as INI (for `--print-config` and docs). */
void lc_config_print(const struct lc_config *c, FILE *f);

/* For each key whose value differs between old and now (as the INI writes it): cb(arg, section,
 * key, old value, new value, whether SIGHUP applies it). Returns how many differ. */
/* Copies the keys SIGHUP applies from next into cur (the others stay as the server started). */
void lc_config_take_reloadable(struct lc_config *cur, const struct lc_config *next);
typedef void (*lc_config_diff_cb)(void *arg, const char *section, const char *key,
                                  const char *was, const char *now, bool reloadable);
int lc_config_diff(const struct lc_config *old, const struct lc_config *now, lc_config_diff_cb cb,
                   void *arg);

#endif
