/*
 * receiver/schedule.c — a schedule answer verified and parsed (receiver.h), kept on disk and
 * read back (schedule.h).
 *
 * Trust: nothing of the payload is looked at before its signature verifies with the pinned
 * station key; the payload's exact bytes are what was signed (base64 only carries them).
 * Then the payload must name this cluster, a version above the one held, and an expiry after
 * now. A relay item {"relay","offset_s","duration_s"} (issue 18) has no media: it is kept with
 * relay set and an empty hash, and the player takes the live stream for it.
 */
#include "receiver/schedule.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "receiver/fsutil.h"
#include "receiver/rtime.h"

/* A kept answer larger than this is not one (a schedule is tens of kB). */
#define MAX_ANSWER (8u << 20)

void rcv_schedule_free(struct rcv_schedule *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nsessions; i++)
        free(s->sessions[i].items);
    free(s->sessions);
    s->sessions = NULL;
    s->nsessions = 0;
}

/* Copies src into dst[n], cut at a UTF-8 character boundary if it is too long. */
static void copy_utf8(char *dst, size_t n, const char *src)
{
    size_t len = strlen(src);
    if (len >= n) {
        len = n - 1;
        while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80)
            len--; /* src[len] would start the cut: back to a character's first byte */
    }
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static bool hex64(const char *s)
{
    if (strlen(s) != 64)
        return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    return true;
}

static int get_time(json_t *o, const char *key, int64_t *ms)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s != NULL && rcv_time_parse_ms(s, ms) == 0 ? 0 : -1;
}

/* A number of seconds (integer or real, ≥ 0, below a year) as ms. */
static int get_seconds_ms(json_t *o, const char *key, int64_t *ms)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v))
        return -1;
    double s = json_number_value(v);
    if (!(s >= 0 && s < 366.0 * 86400))
        return -1;
    *ms = (int64_t)llround(s * 1000.0);
    return 0;
}

/* One relay item (the upstream's URL is the server's business: only its times matter here);
 * -1 with why. */
static int parse_relay(json_t *o, struct rcv_item *it, char *why, size_t whylen)
{
    const char *title = json_string_value(json_object_get(o, "title"));
    if (!json_is_string(json_object_get(o, "relay")) ||
        get_seconds_ms(o, "offset_s", &it->offset_ms) < 0 ||
        get_seconds_ms(o, "duration_s", &it->duration_ms) < 0 || it->duration_ms <= 0) {
        snprintf(why, whylen, "malformed relay item");
        return -1;
    }
    memset(it->hash, 0, sizeof it->hash);
    it->media[0] = '\0';
    it->bulletin = 0;
    it->bytes = 0;
    copy_utf8(it->title, sizeof it->title, title ? title : "");
    it->relay = true;
    return 0;
}

/* One media item; -1 with why. */
static int parse_item(json_t *o, struct rcv_item *it, char *why, size_t whylen)
{
    json_t *b = json_object_get(o, "bulletin"), *bytes = json_object_get(o, "bytes");
    const char *title = json_string_value(json_object_get(o, "title"));
    const char *hash = json_string_value(json_object_get(o, "hash"));
    const char *media = json_string_value(json_object_get(o, "media"));
    char want[96];
    if (!json_is_integer(b) || json_integer_value(b) < 1 || !json_is_integer(bytes) ||
        json_integer_value(bytes) < 1 || hash == NULL || !hex64(hash) || media == NULL ||
        get_seconds_ms(o, "offset_s", &it->offset_ms) < 0 ||
        get_seconds_ms(o, "duration_s", &it->duration_ms) < 0) {
        snprintf(why, whylen, "malformed item");
        return -1;
    }
    /* the path fetched is the one the hash names, nothing else */
    snprintf(want, sizeof want, "/media/%s.opus", hash);
    if (strcmp(media, want) != 0) {
        snprintf(why, whylen, "item media '%.80s' is not /media/<hash>.opus", media);
        return -1;
    }
    it->bulletin = json_integer_value(b);
    it->bytes = json_integer_value(bytes);
    copy_utf8(it->title, sizeof it->title, title ? title : "");
    memcpy(it->hash, hash, 65);
    memcpy(it->media, want, strlen(want) + 1);
    return 0;
}

/* One session; -1 with why. The items array is the session's (freed with it). */
static int parse_session(json_t *o, struct rcv_session *se, char *why, size_t whylen)
{
    json_t *id = json_object_get(o, "id"), *items = json_object_get(o, "items"), *x;
    const char *kind = json_string_value(json_object_get(o, "kind"));
    size_t i;
    if (!json_is_object(o) || !(json_is_null(id) || (json_is_integer(id) && json_integer_value(id) > 0)) ||
        get_time(o, "start", &se->start_ms) < 0 || get_time(o, "end", &se->end_ms) < 0 ||
        se->end_ms <= se->start_ms || kind == NULL || !json_is_array(items) ||
        (strcmp(kind, "slot") != 0 && strcmp(kind, "adhoc") != 0 && strcmp(kind, "emergency") != 0)) {
        snprintf(why, whylen, "malformed session");
        return -1;
    }
    se->id = json_is_integer(id) ? json_integer_value(id) : 0;
    snprintf(se->kind, sizeof se->kind, "%s", kind);
    se->items = json_array_size(items) ? calloc(json_array_size(items), sizeof *se->items) : NULL;
    if (json_array_size(items) && se->items == NULL) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    json_array_foreach(items, i, x) {
        if (!json_is_object(x)) {
            snprintf(why, whylen, "malformed item");
            return -1;
        }
        int rc = json_object_get(x, "relay") != NULL
                     ? parse_relay(x, &se->items[se->nitems], why, whylen)
                     : parse_item(x, &se->items[se->nitems], why, whylen);
        if (rc < 0)
            return -1;
        se->nitems++;
    }
    return 0;
}

/* The payload's JSON into s (which the caller frees on failure); -1 with why. */
static int parse_payload(const struct rcv_config *c, json_t *p, int64_t have_version,
                         int64_t now_ms, struct rcv_schedule *s, char *why, size_t whylen)
{
    const char *cluster = json_string_value(json_object_get(p, "cluster"));
    json_t *version = json_object_get(p, "version"), *volume = json_object_get(p, "volume");
    json_t *muted = json_object_get(p, "muted"), *sessions = json_object_get(p, "sessions"), *x;
    size_t i;
    if (!json_is_object(p) || cluster == NULL || !json_is_integer(version) ||
        get_time(p, "issued_at", &s->issued_ms) < 0 || get_time(p, "expires_at", &s->expires_ms) < 0 ||
        !json_is_integer(volume) || json_integer_value(volume) < 0 ||
        json_integer_value(volume) > 100 || !json_is_boolean(muted) || !json_is_array(sessions)) {
        snprintf(why, whylen, "malformed payload");
        return -1;
    }
    if (strcmp(cluster, c->cluster) != 0) {
        snprintf(why, whylen, "the schedule is for another cluster ('%.64s')", cluster);
        return -1;
    }
    s->version = json_integer_value(version);
    if (s->version <= have_version) {
        snprintf(why, whylen, "version %" PRId64 " is not newer than the one held (%" PRId64 ")",
                 s->version, have_version);
        return -1;
    }
    if (s->expires_ms <= now_ms) {
        char t[32];
        rcv_time_format_ms(s->expires_ms, t);
        snprintf(why, whylen, "the schedule expired at %s", t);
        return -1;
    }
    snprintf(s->cluster, sizeof s->cluster, "%s", cluster);
    s->volume = (int)json_integer_value(volume);
    s->muted = json_is_true(muted);
    size_t n = json_array_size(sessions);
    s->sessions = n ? calloc(n, sizeof *s->sessions) : NULL;
    if (n && s->sessions == NULL) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    json_array_foreach(sessions, i, x) {
        s->nsessions++; /* counted first: rcv_schedule_free frees what this one got */
        if (parse_session(x, &s->sessions[i], why, whylen) < 0)
            return -1;
    }
    return 0;
}

/* base64 (original variant) of a JSON string member into a malloc'd buffer; NULL if absent or
 * not base64. */
static unsigned char *b64_member(json_t *o, const char *key, size_t *len)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (s == NULL)
        return NULL;
    size_t n = strlen(s), cap = n / 4 * 3 + 3;
    unsigned char *out = malloc(cap + 1);
    if (out == NULL)
        return NULL;
    if (sodium_base642bin(out, cap, s, n, NULL, len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(out);
        return NULL;
    }
    out[*len] = '\0';
    return out;
}

int rcv_schedule_verify(const struct rcv_config *c, const char *body, size_t len,
                        int64_t have_version, int64_t now_ms, struct rcv_schedule *out,
                        char *why, size_t whylen)
{
    struct rcv_schedule s = {0};
    unsigned char *payload = NULL, *sig = NULL;
    size_t plen = 0, slen = 0;
    json_t *p = NULL;
    int rc = -1;
    if (sodium_init() < 0) {
        snprintf(why, whylen, "libsodium cannot start");
        return -1;
    }
    json_t *b = json_loadb(body, len, 0, NULL);
    if (!json_is_object(b)) {
        snprintf(why, whylen, "the answer is not a JSON object");
        goto out;
    }
    payload = b64_member(b, "payload", &plen);
    sig = b64_member(b, "signature", &slen);
    if (payload == NULL || sig == NULL || slen != crypto_sign_BYTES) {
        snprintf(why, whylen, "the answer has no base64 payload and signature");
        goto out;
    }
    if (crypto_sign_verify_detached(sig, payload, plen, c->station_pk) != 0) {
        snprintf(why, whylen, "the signature does not verify with the station key");
        goto out;
    }
    json_error_t jerr;
    p = json_loadb((const char *)payload, plen, JSON_REJECT_DUPLICATES, &jerr);
    if (p == NULL) {
        snprintf(why, whylen, "the payload is not JSON: %s", jerr.text);
        goto out;
    }
    if (parse_payload(c, p, have_version, now_ms, &s, why, whylen) < 0)
        goto out;
    *out = s;
    s.sessions = NULL; /* now out's */
    s.nsessions = 0;
    rc = 0;
out:
    rcv_schedule_free(&s);
    json_decref(p);
    json_decref(b);
    free(payload);
    free(sig);
    return rc;
}

/* ---- kept on disk ----------------------------------------------------------------------------- */

static int kept_path(const struct rcv_config *c, char *path, size_t n)
{
    return snprintf(path, n, "%s/%s", c->cache_dir, RCV_SCHEDULE_FILE) >= (int)n ? -1 : 0;
}

int rcv_schedule_save(const struct rcv_config *c, const char *body, size_t len, char *why,
                      size_t whylen)
{
    char path[PATH_MAX];
    if (kept_path(c, path, sizeof path) < 0) {
        snprintf(why, whylen, "cache_dir too long");
        return -1;
    }
    int rc = rcv_mkdirs(c->cache_dir, 0700);
    if (rc == 0)
        rc = rcv_write_atomic(path, body, len);
    if (rc < 0) {
        snprintf(why, whylen, "%s: %s", path, strerror(-rc));
        return -1;
    }
    return 0;
}

int rcv_schedule_load(const struct rcv_config *c, int64_t now_ms, struct rcv_schedule *out,
                      char *why, size_t whylen)
{
    char path[PATH_MAX], reason[256];
    char *body = NULL;
    size_t len = 0;
    if (kept_path(c, path, sizeof path) < 0) {
        snprintf(why, whylen, "cache_dir too long");
        return -1;
    }
    int rc = rcv_read_file(path, MAX_ANSWER, &body, &len);
    if (rc == -ENOENT)
        return 1;
    if (rc < 0) {
        snprintf(why, whylen, "%s: %s", path, strerror(-rc));
        return -1;
    }
    rc = rcv_schedule_verify(c, body, len, 0, now_ms, out, reason, sizeof reason);
    free(body);
    if (rc < 0) {
        snprintf(why, whylen, "%s: %s", path, reason);
        return -1;
    }
    return 0;
}

const struct rcv_session *rcv_schedule_next(const struct rcv_schedule *s, int64_t now_ms)
{
    const struct rcv_session *best = NULL;
    for (size_t i = 0; i < s->nsessions; i++) {
        const struct rcv_session *x = &s->sessions[i];
        if (x->end_ms > now_ms && (best == NULL || x->start_ms < best->start_ms))
            best = x;
    }
    return best;
}
