/*
 * server/feed/feed_payload.c — a cluster's schedule: its sessions ahead, each item's media, the
 * version, the signature; see feed.h.
 */
#define LC_LOG_MODULE "feed"
#include "server/feed/feed_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/log.h"
#include "server/api/api.h"
#include "server/scheduler/scheduler.h"
#include "server/store/store.h"

void lc_feed_built_free(struct lc_feed_built *b)
{
    free(b->body);
    b->body = NULL;
}

void lc_feed_round_end(struct lc_feed_round *r)
{
    for (struct lc_feed_commune *c = r->communes, *next; c != NULL; c = next) {
        next = c->next;
        free(c->sessions);
        free(c);
    }
    r->communes = NULL;
}

static void hex_digest(const void *data, size_t len, char hex[65])
{
    unsigned char d[crypto_generichash_BYTES];
    crypto_generichash(d, sizeof d, data, len, NULL, 0);
    sodium_bin2hex(hex, 65, d, sizeof d);
}

int64_t lc_feed_max_version(struct lc_store *store)
{
    sqlite3_stmt *st = lc_store_stmt(store, "SELECT coalesce(max(version), 0) FROM receiver_schedules");
    int64_t v = 0;
    if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    if (st != NULL)
        lc_store_done(st);
    return v;
}

static json_t *payload_sessions(struct lc_store *store, json_t *ahead);

/* The payload's sessions of the commune in this round, as JSON text with its digest (read and
 * made once per round: a commune's clusters share them). */
static const struct lc_feed_commune *sessions_of(struct lc_feed *f, struct lc_feed_round *r,
                                                 const char *commune)
{
    for (struct lc_feed_commune *c = r->communes; c != NULL; c = c->next)
        if (strcmp(c->id, commune) == 0)
            return c;
    json_t *ahead = lc_scheduler_ahead(f->d.scheduler, commune, r->now_ms,
                                       r->now_ms / 1000 + LC_FEED_AHEAD_S);
    json_t *list = ahead ? payload_sessions(f->d.store, ahead) : NULL;
    json_decref(ahead);
    char *text = list ? json_dumps(list, JSON_COMPACT) : NULL;
    json_decref(list);
    struct lc_feed_commune *c = text ? calloc(1, sizeof *c) : NULL;
    if (c == NULL) {
        free(text);
        return NULL;
    }
    snprintf(c->id, sizeof c->id, "%s", commune);
    c->sessions = text;
    hex_digest(text, strlen(text), c->digest);
    c->next = r->communes;
    r->communes = c;
    return c;
}

/* An item of the SPEC's form for a programme item ({"relay","offset_s","duration_s"} for a
 * relay); NULL when its bulletin has no media hash yet (hashed at start for audio made before
 * media existed: then it is left out this time). */
static json_t *item_of(struct lc_store *store, json_t *it, int *rc)
{
    static const char sql[] =
        "SELECT media_hash, audio_bytes, audio_hash FROM bulletins WHERE id = ?1"
        " AND media_hash IS NOT NULL";
    int64_t bulletin = json_integer_value(json_object_get(it, "bulletin"));
    json_t *relay = json_object_get(it, "relay");
    if (json_is_string(relay))  /* a relay: receivers play it live (SPEC) */
        return json_pack("{s:O,s:f,s:f}", "relay", relay, "offset_s",
                         json_integer_value(json_object_get(it, "offset_ms")) / 1000.0,
                         "duration_s",
                         json_integer_value(json_object_get(it, "duration_ms")) / 1000.0);
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL) {
        *rc = -EIO;
        return NULL;
    }
    sqlite3_bind_int64(st, 1, bulletin);
    json_t *o = NULL;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const char *media = lc_col_text(st, 0);
        const char *audio = json_string_value(json_object_get(it, "audio"));
        /* the frozen item names the file by SHA-256: it must still be the bulletin's audio */
        if (audio != NULL && strncmp(audio, lc_col_text(st, 2), 64) == 0) {
            char path[96];
            snprintf(path, sizeof path, "/media/%s.opus", media);
            o = json_pack("{s:I,s:O,s:s,s:s,s:I,s:f,s:f}", "bulletin", (json_int_t)bulletin,
                          "title", json_object_get(it, "title"), "media", path, "hash", media,
                          "bytes", (json_int_t)sqlite3_column_int64(st, 1), "duration_s",
                          json_integer_value(json_object_get(it, "duration_ms")) / 1000.0,
                          "offset_s", json_integer_value(json_object_get(it, "offset_ms")) / 1000.0);
        }
    }
    if (lc_store_done(st) < 0 || (step != SQLITE_ROW && step != SQLITE_DONE))
        *rc = -EIO;
    return o;
}

/* The sessions of the payload from the scheduler's list. */
static json_t *payload_sessions(struct lc_store *store, json_t *ahead)
{
    json_t *out = json_array(), *x;
    size_t i;
    int rc = 0;
    json_array_foreach(ahead, i, x) {
        json_t *items = json_array(), *it;
        size_t j;
        json_array_foreach(json_object_get(x, "items"), j, it) {
            json_t *o = item_of(store, it, &rc);
            if (o != NULL)
                json_array_append_new(items, o);
        }
        json_array_append_new(
            out, json_pack("{s:O,s:o,s:o,s:O,s:o}", "id", json_object_get(x, "id"), "start",
                           lc_time_json(json_integer_value(json_object_get(x, "start"))), "end",
                           lc_time_json(json_integer_value(json_object_get(x, "end"))), "kind",
                           json_object_get(x, "kind"), "items", items));
    }
    if (rc < 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* The version for content's digest: the stored one if the content is the same, else a new
 * one, stored. */
static int version_for(struct lc_feed *f, const char *cluster, const char *digest, int64_t now_ms,
                       int64_t *version)
{
    static const char get[] = "SELECT version, digest FROM receiver_schedules WHERE cluster = ?1";
    static const char put[] =
        "INSERT INTO receiver_schedules (cluster, version, digest) VALUES (?1, ?2, ?3)"
        " ON CONFLICT (cluster) DO UPDATE SET version = excluded.version, digest = excluded.digest";
    sqlite3_stmt *st = lc_store_stmt(f->d.store, get);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, cluster, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    bool same = step == SQLITE_ROW && strcmp(lc_col_text(st, 1), digest) == 0;
    if (same)
        *version = sqlite3_column_int64(st, 0);
    if (lc_store_done(st) < 0 || (step != SQLITE_ROW && step != SQLITE_DONE))
        return -EIO;
    if (same)
        return 0;
    /* never below the clock: a database restored from a backup does not send versions back */
    int64_t v = f->last_version + 1 > now_ms ? f->last_version + 1 : now_ms;
    if ((st = lc_store_stmt(f->d.store, put)) == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, cluster, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, v);
    sqlite3_bind_text(st, 3, digest, -1, SQLITE_TRANSIENT);
    step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return -EIO;
    f->last_version = v;
    *version = v;
    return 0;
}

int lc_feed_build(struct lc_feed *f, struct lc_feed_round *r, const char *cluster, int64_t known,
                  struct lc_feed_built *out)
{
    static const char sql[] =
        "SELECT commune, volume, muted FROM clusters WHERE id = ?1 AND retired_at IS NULL";
    char commune[65];
    int volume = 0, muted = 0;
    out->body = NULL;
    sqlite3_stmt *st = lc_store_stmt(f->d.store, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, cluster, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        snprintf(commune, sizeof commune, "%s", lc_col_text(st, 0));
        volume = sqlite3_column_int(st, 1);
        muted = sqlite3_column_int(st, 2);
    }
    if (lc_store_done(st) < 0 || (step != SQLITE_ROW && step != SQLITE_DONE))
        return -EIO;
    if (step == SQLITE_DONE)
        return -ENOENT;
    const struct lc_feed_commune *c = sessions_of(f, r, commune);
    if (c == NULL)
        return -EIO;
    /* What the payload says besides its version and times: the commune's sessions (by their
     * digest) and the cluster's own fields. Its digest names the version. */
    char key[256], digest[65];
    int klen = snprintf(key, sizeof key, "%s\n%s\n%d\n%d", c->digest, cluster, volume, muted);
    hex_digest(key, (size_t)klen, digest);
    int64_t version;
    int rc = version_for(f, cluster, digest, r->now_ms, &version);
    if (rc < 0)
        return rc;
    out->version = version;
    if (version == known)
        return 1;
    if (r->issued[0] == '\0') {
        char a[40], b[40];
        lc_time_format(r->now_ms / 1000, a);
        lc_time_format(r->now_ms / 1000 + LC_FEED_AHEAD_S, b);
        snprintf(r->issued, sizeof r->issued, "\"%s\"", a);
        snprintf(r->expires, sizeof r->expires, "\"%s\"", b);
    }
    /* The payload, written out (cluster ids are slugs; the sessions are JSON already). */
    json_t *jc = json_string(cluster);
    char *qc = jc ? json_dumps(jc, JSON_ENCODE_ANY) : NULL;
    json_decref(jc);
    size_t slen = strlen(c->sessions), pcap = slen + 512;
    char *ptext = qc ? malloc(pcap) : NULL;
    if (ptext == NULL) {
        free(qc);
        return -ENOMEM;
    }
    int plen = snprintf(ptext, pcap,
                        "{\"cluster\":%s,\"version\":%lld,\"issued_at\":%s,\"expires_at\":%s,"
                        "\"volume\":%d,\"muted\":%s,\"sessions\":%s}",
                        qc, (long long)version, r->issued, r->expires, volume,
                        muted ? "true" : "false", c->sessions);
    free(qc);
    /* {"payload":"<base64>","signature":"<base64>"} */
    size_t b64len = sodium_base64_ENCODED_LEN((size_t)plen, sodium_base64_VARIANT_ORIGINAL);
    char sig[LC_STATION_SIGNATURE_B64];
    lc_station_sign(f->d.station, ptext, (size_t)plen, sig);
    size_t cap = b64len + sizeof sig + 64;
    out->body = malloc(cap);
    if (out->body == NULL) {
        free(ptext);
        return -ENOMEM;
    }
    int n = snprintf(out->body, cap, "{\"payload\":\"");
    sodium_bin2base64(out->body + n, b64len, (const unsigned char *)ptext, (size_t)plen,
                      sodium_base64_VARIANT_ORIGINAL);
    n += (int)strlen(out->body + n);
    n += snprintf(out->body + n, cap - (size_t)n, "\",\"signature\":\"%s\"}", sig);
    out->len = (size_t)n;
    free(ptext);
    return 0;
}
