/*
 * tests/receiver/test_schedule.c — rcv_schedule_verify and the kept schedule (receiver/
 * schedule.c), with payloads signed here by a key made with crypto_sign_keypair:
 *   - a good one is accepted and parsed (times with offsets to Unix ms, items, relay items
 *     kept to play live, a session without id);
 *   - refused with a reason, *out untouched: another key's signature, one byte of the payload
 *     changed, a signature cut, another cluster, a version not above the one held (replay),
 *     expired, malformed payloads (no sessions, a bad hash, a media path not the hash's, a bad
 *     time, end before start, a bad kind), an answer that is not JSON;
 *   - saved and loaded back (re-verified): a changed file, an expired one are refused; none: 1;
 *   - rcv_schedule_next picks the session on air, else the earliest ahead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "receiver/receiver.h"
#include "receiver/schedule.h"
#include "tests/check.h"

static unsigned char pk[32], sk[64], other_sk[64];

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "abcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdef0123"

/* 2026-12-07T17:00:00+07:00 */
#define T_1700 1796637600000LL

/* {"payload","signature"} of text signed with key; tamper: flip a byte of the payload after
 * signing (index into the payload). Returns malloc'd text. */
static char *answer(const char *text, const unsigned char *key, long tamper)
{
    size_t n = strlen(text);
    unsigned char sig[crypto_sign_BYTES];
    unsigned char *p = malloc(n + 1);
    memcpy(p, text, n + 1);
    crypto_sign_detached(sig, NULL, p, n, key);
    if (tamper >= 0)
        p[tamper] ^= 0x01;
    size_t b64 = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    char *pb = malloc(b64), sb[sodium_base64_ENCODED_LEN(crypto_sign_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(pb, b64, p, n, sodium_base64_VARIANT_ORIGINAL);
    sodium_bin2base64(sb, sizeof sb, sig, sizeof sig, sodium_base64_VARIANT_ORIGINAL);
    char *out = malloc(b64 + sizeof sb + 64);
    sprintf(out, "{\"payload\":\"%s\",\"signature\":\"%s\"}", pb, sb);
    free(p);
    free(pb);
    return out;
}

/* A payload for cluster k1 with the given version, expiry and sessions JSON. */
static char *payload(const char *cluster, long long version, const char *expires, const char *sessions)
{
    char *s = malloc(8192);
    snprintf(s, 8192,
             "{\"cluster\":\"%s\",\"version\":%lld,\"issued_at\":\"2026-12-07T13:30:00+07:00\","
             "\"expires_at\":\"%s\",\"volume\":40,\"muted\":true,\"sessions\":%s}",
             cluster, version, expires, sessions);
    return s;
}

static const char *good_sessions =
    "[{\"id\":41,\"start\":\"2026-12-07T17:00:00+07:00\",\"end\":\"2026-12-07T18:00:00+07:00\","
    "\"kind\":\"slot\",\"items\":["
    "{\"bulletin\":7,\"title\":\"L\\u1ecbch ti\\u00eam ph\\u00f2ng\",\"media\":\"/media/" H1 ".opus\","
    "\"hash\":\"" H1 "\",\"bytes\":58231,\"duration_s\":18.7,\"offset_s\":0.0},"
    "{\"relay\":\"vov1\",\"offset_s\":20,\"duration_s\":60},"
    "{\"bulletin\":8,\"title\":\"B\",\"media\":\"/media/" H2 ".opus\",\"hash\":\"" H2 "\","
    "\"bytes\":1000,\"duration_s\":2,\"offset_s\":19.701}]},"
    "{\"id\":null,\"start\":\"2026-12-07T10:00:00Z\",\"end\":\"2026-12-07T10:30:00Z\","
    "\"kind\":\"adhoc\",\"items\":[]}]";

static struct rcv_config cfg(const char *dir)
{
    struct rcv_config c;
    memset(&c, 0, sizeof c);
    snprintf(c.cluster, sizeof c.cluster, "k1");
    memcpy(c.station_pk, pk, sizeof pk);
    snprintf(c.cache_dir, sizeof c.cache_dir, "%s", dir ? dir : "/nonexistent");
    return c;
}

/* Verifies text signed by key (tampered at tamper) at now; the return code and why. */
static int try_verify(const struct rcv_config *c, const char *text, const unsigned char *key,
                      long tamper, long long have, long long now, char *why)
{
    char *body = answer(text, key, tamper);
    struct rcv_schedule s;
    memset(&s, 0x5a, sizeof s);
    why[0] = '\0';
    int rc = rcv_schedule_verify(c, body, strlen(body), have, now, &s, why, 256);
    if (rc == 0) {
        rcv_schedule_free(&s);
    } else {
        /* *out untouched on failure */
        unsigned char *b = (unsigned char *)&s;
        bool same = true;
        for (size_t i = 0; i < sizeof s; i++)
            same = same && b[i] == 0x5a;
        CHECKF(same, "out was written on a refusal (%s)", why);
    }
    free(body);
    return rc;
}

static void refused(const struct rcv_config *c, const char *text, const unsigned char *key,
                    long tamper, long long have, long long now, const char *reason)
{
    char why[256];
    int rc = try_verify(c, text, key, tamper, have, now, why);
    CHECKF(rc == -1 && strstr(why, reason) != NULL, "want refused with '%s', got rc %d why '%s'",
           reason, rc, why);
}

static void test_good(void)
{
    struct rcv_config c = cfg(NULL);
    char *p = payload("k1", 1796612345678LL, "2026-12-09T01:30:00+07:00", good_sessions);
    char *body = answer(p, sk, -1);
    struct rcv_schedule s;
    char why[256] = "";
    int rc = rcv_schedule_verify(&c, body, strlen(body), 0, T_1700, &s, why, sizeof why);
    CHECKF(rc == 0, "good schedule refused: %s", why);
    if (rc == 0) {
        CHECK(strcmp(s.cluster, "k1") == 0);
        CHECK(s.version == 1796612345678LL);
        CHECK(s.volume == 40 && s.muted);
        CHECK(s.issued_ms == T_1700 - 3 * 3600000LL - 1800000LL);
        CHECK(s.expires_ms == T_1700 + 32 * 3600000LL + 1800000LL);
        CHECK(s.nsessions == 2);
        struct rcv_session *a = &s.sessions[0], *b = &s.sessions[1];
        CHECK(a->id == 41 && a->start_ms == T_1700 && a->end_ms == T_1700 + 3600000LL);
        CHECK(strcmp(a->kind, "slot") == 0);
        CHECKF(a->nitems == 3, "relay kept: %zu items", a->nitems);
        CHECK(a->items[0].bulletin == 7 && a->items[0].bytes == 58231);
        CHECK(strcmp(a->items[0].title, "L\xe1\xbb\x8b" "ch ti\xc3\xaam ph\xc3\xb2ng") == 0);
        CHECK(strcmp(a->items[0].hash, H1) == 0);
        CHECK(strcmp(a->items[0].media, "/media/" H1 ".opus") == 0);
        CHECK(a->items[0].duration_ms == 18700 && a->items[0].offset_ms == 0);
        /* the relay: live, no media (issue 18) */
        CHECK(a->items[1].relay && a->items[1].hash[0] == 0 && a->items[1].bulletin == 0);
        CHECK(a->items[1].offset_ms == 20000 && a->items[1].duration_ms == 60000);
        CHECK(!a->items[0].relay && !a->items[2].relay);
        CHECK(a->items[2].bulletin == 8 && a->items[2].offset_ms == 19701);
        CHECK(b->id == 0 && strcmp(b->kind, "adhoc") == 0 && b->nitems == 0);
        CHECK(b->start_ms == T_1700 && b->end_ms == T_1700 + 1800000LL);
        /* next: on air at 17:10 → the 17:00 slot (it started first among those not over) */
        const struct rcv_session *nx = rcv_schedule_next(&s, T_1700 + 600000);
        CHECK(nx == a || nx == b);
        CHECK(rcv_schedule_next(&s, T_1700 + 1800000LL) == a); /* b is over */
        CHECK(rcv_schedule_next(&s, T_1700 + 3600000LL) == NULL);
        rcv_schedule_free(&s);
    }
    /* a newer version than the one held is fine */
    CHECK(try_verify(&c, p, sk, -1, 1796612345677LL, T_1700, why) == 0);
    free(body);
    free(p);
}

static void test_refused(void)
{
    struct rcv_config c = cfg(NULL);
    char *p = payload("k1", 1000, "2026-12-09T01:30:00+07:00", good_sessions);
    char why[256];
    refused(&c, p, other_sk, -1, 0, T_1700, "signature does not verify");
    refused(&c, p, sk, 20, 0, T_1700, "signature does not verify");          /* one bit of one byte */
    refused(&c, p, sk, (long)strlen(p) - 2, 0, T_1700, "signature does not verify");
    refused(&c, p, sk, -1, 1000, T_1700, "not newer");                       /* replayed: same */
    refused(&c, p, sk, -1, 5000, T_1700, "not newer");                       /* replayed: older */
    refused(&c, p, sk, -1, 0, 1796754600000LL, "expired");                   /* at expires_at */
    refused(&c, p, sk, -1, 0, 1796754600001LL, "expired");
    CHECK(try_verify(&c, p, sk, -1, 0, 1796754599999LL, why) == 0);          /* 1 ms before */
    free(p);

    p = payload("k2", 1000, "2026-12-09T01:30:00+07:00", good_sessions);
    refused(&c, p, sk, -1, 0, T_1700, "another cluster");
    free(p);

    /* a key pinned on the other receiver: our station's good answer is refused there */
    struct rcv_config c2 = c;
    unsigned char opk[32], osk[64];
    crypto_sign_keypair(opk, osk);
    memcpy(c2.station_pk, opk, 32);
    p = payload("k1", 1000, "2026-12-09T01:30:00+07:00", good_sessions);
    refused(&c2, p, sk, -1, 0, T_1700, "signature does not verify");
    free(p);

    static const struct { const char *sessions, *why; } bad[] = {
        {"{}", "malformed payload"},
        {"[{\"id\":1,\"start\":\"2026-12-07T17:00:00+07:00\",\"end\":\"2026-12-07T16:00:00+07:00\",\"kind\":\"slot\",\"items\":[]}]", "malformed session"},
        {"[{\"id\":1,\"start\":\"2026-12-07 17:00\",\"end\":\"2026-12-07T18:00:00+07:00\",\"kind\":\"slot\",\"items\":[]}]", "malformed session"},
        {"[{\"id\":1,\"start\":\"2026-12-07T17:00:00+07:00\",\"end\":\"2026-12-07T18:00:00+07:00\",\"kind\":\"party\",\"items\":[]}]", "malformed session"},
        {"[{\"id\":-3,\"start\":\"2026-12-07T17:00:00+07:00\",\"end\":\"2026-12-07T18:00:00+07:00\",\"kind\":\"slot\",\"items\":[]}]", "malformed session"},
        {"[{\"id\":1,\"start\":\"2026-12-07T17:00:00+07:00\",\"end\":\"2026-12-07T18:00:00+07:00\",\"kind\":\"slot\",\"items\":[{\"bulletin\":1,\"title\":\"x\",\"media\":\"/media/" H1 ".opus\",\"hash\":\"" H1 "X\",\"bytes\":1,\"duration_s\":1,\"offset_s\":0}]}]", "malformed item"},
        {"[{\"id\":1,\"start\":\"2026-12-07T17:00:00+07:00\",\"end\":\"2026-12-07T18:00:00+07:00\",\"kind\":\"slot\",\"items\":[{\"bulletin\":1,\"title\":\"x\",\"media\":\"/etc/passwd\",\"hash\":\"" H1 "\",\"bytes\":1,\"duration_s\":1,\"offset_s\":0}]}]", "is not /media/<hash>.opus"},
        {"[{\"id\":1,\"start\":\"2026-12-07T17:00:00+07:00\",\"end\":\"2026-12-07T18:00:00+07:00\",\"kind\":\"slot\",\"items\":[{\"bulletin\":1,\"title\":\"x\",\"media\":\"/media/" H1 ".opus\",\"hash\":\"" H1 "\",\"bytes\":0,\"duration_s\":1,\"offset_s\":0}]}]", "malformed item"},
        {"[{\"id\":1,\"start\":\"2026-12-07T17:00:00+07:00\",\"end\":\"2026-12-07T18:00:00+07:00\",\"kind\":\"slot\",\"items\":[{\"bulletin\":1,\"title\":\"x\",\"media\":\"/media/" H1 ".opus\",\"hash\":\"" H1 "\",\"bytes\":10,\"duration_s\":-1,\"offset_s\":0}]}]", "malformed item"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = payload("k1", 1000, "2026-12-09T01:30:00+07:00", bad[i].sessions);
        refused(&c, p, sk, -1, 0, T_1700, bad[i].why);
        free(p);
    }
    refused(&c, "not json at all", sk, -1, 0, T_1700, "not JSON");
    refused(&c, "{\"cluster\":\"k1\",\"version\":\"7\"}", sk, -1, 0, T_1700, "malformed payload");

    /* answers that are not {"payload","signature"} */
    struct rcv_schedule s;
    const char *junk[] = {"", "[]", "{\"payload\":\"e30=\"}", "{\"payload\":\"e30=\",\"signature\":\"AAAA\"}",
                          "{\"payload\":\"!!\",\"signature\":\"AAAA\"}"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        CHECKF(rcv_schedule_verify(&c, junk[i], strlen(junk[i]), 0, T_1700, &s, why, sizeof why) == -1,
               "junk %zu accepted", i);
}

static void test_kept(void)
{
    char dir[] = "/tmp/rcv-schedule-XXXXXX", path[400], why[256];
    CHECK(mkdtemp(dir) != NULL);
    char sub[300];
    snprintf(sub, sizeof sub, "%s/cache", dir); /* made by save */
    struct rcv_config c = cfg(sub);
    struct rcv_schedule s;
    CHECK(rcv_schedule_load(&c, T_1700, &s, why, sizeof why) == 1); /* none yet */

    char *p = payload("k1", 1000, "2026-12-09T01:30:00+07:00", good_sessions);
    char *body = answer(p, sk, -1);
    CHECKF(rcv_schedule_save(&c, body, strlen(body), why, sizeof why) == 0, "save: %s", why);
    snprintf(path, sizeof path, "%s/%s", sub, RCV_SCHEDULE_FILE);
    CHECK(access(path, F_OK) == 0);
    snprintf(path, sizeof path, "%s/%s.tmp", sub, RCV_SCHEDULE_FILE);
    CHECK(access(path, F_OK) != 0); /* no temporary left */
    int rc = rcv_schedule_load(&c, T_1700, &s, why, sizeof why);
    CHECKF(rc == 0, "load: %s", why);
    if (rc == 0) {
        CHECK(s.version == 1000 && s.nsessions == 2);
        rcv_schedule_free(&s);
    }
    /* expired while the receiver was off: refused */
    CHECK(rcv_schedule_load(&c, 1796754600000LL, &s, why, sizeof why) == -1 && strstr(why, "expired"));

    /* a newer one replaces it whole */
    char *p2 = payload("k1", 2000, "2026-12-09T01:30:00+07:00", "[]");
    char *body2 = answer(p2, sk, -1);
    CHECK(rcv_schedule_save(&c, body2, strlen(body2), why, sizeof why) == 0);
    rc = rcv_schedule_load(&c, T_1700, &s, why, sizeof why);
    CHECK(rc == 0 && s.version == 2000 && s.nsessions == 0);
    if (rc == 0)
        rcv_schedule_free(&s);

    /* a file changed on disk (here: signed by another key) is refused */
    char *forged = answer(p, other_sk, -1);
    snprintf(path, sizeof path, "%s/%s", sub, RCV_SCHEDULE_FILE);
    FILE *f = fopen(path, "w");
    fputs(forged, f);
    fclose(f);
    CHECK(rcv_schedule_load(&c, T_1700, &s, why, sizeof why) == -1 && strstr(why, "signature"));
    unlink(path);
    rmdir(sub);
    rmdir(dir);
    free(p);
    free(body);
    free(p2);
    free(body2);
    free(forged);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    unsigned char opk[32];
    crypto_sign_keypair(pk, sk);
    crypto_sign_keypair(opk, other_sk);
    test_good();
    test_refused();
    test_kept();
    return check_done();
}
