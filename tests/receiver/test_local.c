/*
 * tests/receiver/test_local.c — the receiver's parts that need no server:
 *   - rtime: RFC 3339 with offsets and fractions to Unix ms and back; bad times refused;
 *   - clock: the offset of the lowest-delay sample of the last 8; the test-only skew;
 *   - journal: appends survive a reopen; a torn last line (kill -9 mid-append) is dropped and
 *     the file repaired so that the next append is read back; invalid plays refused;
 *   - cache: a verified file is found, a .part is counted as partly held, a file's hash and size
 *     are checked; eviction deletes only our files not named for evict_after_s, keeps named ones
 *     (and touches them), leaves other files alone;
 *   - status: the JSON body; the signal hook's first number, a hook that hangs is killed.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "receiver/cache.h"
#include "receiver/clock.h"
#include "receiver/fsutil.h"
#include "receiver/journal.h"
#include "receiver/rtime.h"
#include "receiver/status.h"
#include "tests/check.h"

static char dir[] = "/tmp/rcv-local-XXXXXX";

static void test_rtime(void)
{
    int64_t ms;
    char out[32];
    CHECK(rcv_time_parse_ms("2026-12-07T17:00:00+07:00", &ms) == 0 && ms == 1796637600000LL);
    CHECK(rcv_time_parse_ms("2026-12-07T10:00:00Z", &ms) == 0 && ms == 1796637600000LL);
    CHECK(rcv_time_parse_ms("2024-02-29T23:59:59.12Z", &ms) == 0 && ms == 1709251199120LL);
    CHECK(rcv_time_parse_ms("2024-02-29T23:59:59.1209999+00:00", &ms) == 0 && ms == 1709251199120LL);
    CHECK(rcv_time_parse_ms("2026-12-07T10:00:00-02:30", &ms) == 0 &&
          ms == 1796637600000LL + 9000000LL);
    const char *bad[] = {"", "2026-12-07", "2026-12-07T10:00:00", "2026-12-07T10:00:00+7:00",
                         "2023-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-12-07T24:00:00Z",
                         "2026-12-07T10:00:00.Z", "2026-12-07T10:00:00Zjunk", "2026-12-07 10:00:00Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECKF(rcv_time_parse_ms(bad[i], &ms) == -1, "'%s' accepted", bad[i]);
    rcv_time_format_ms(1796637600120LL, out);
    CHECK(strcmp(out, "2026-12-07T10:00:00.120Z") == 0);
    rcv_time_format_ms(-500, out);
    CHECK(strcmp(out, "1969-12-31T23:59:59.500Z") == 0);
    CHECK(rcv_time_parse_ms(out, &ms) == 0 && ms == -500);
}

static void test_clock(void)
{
    struct rcv_config c = {0};
    struct rcv_clock *k = rcv_clock_new(&c);
    int64_t off, delay;
    CHECK(!rcv_clock_estimate(k, &off, &delay) && off == 0 && delay == -1);
    /* server 5 s ahead; a 40 ms round trip split 10/30 */
    rcv_clock_add(k, 1000000, 6010000, 6011000, 1041000);
    CHECK(rcv_clock_estimate(k, &off, &delay));
    CHECKF(off == ((6010000 - 1000000) + (6011000 - 1041000)) / 2 && delay == 40000, "%lld %lld",
           (long long)off, (long long)delay);
    /* a better sample (2 ms round trip) wins; worse ones after it do not */
    rcv_clock_add(k, 2000000, 7000500, 7000600, 2002100);
    rcv_clock_add(k, 3000000, 8100000, 8100000, 3300000);
    CHECK(rcv_clock_estimate(k, &off, &delay) && delay == 2000 && off == 4999500);
    /* after 8 more samples the good one is forgotten */
    for (int i = 0; i < RCV_CLOCK_SAMPLES; i++)
        rcv_clock_add(k, 4000000, 9000000 + i, 9000000 + i, 4100000);
    CHECK(rcv_clock_estimate(k, &off, &delay) && delay == 100000);
    /* rcv_server_us: local + offset */
    int64_t local = rcv_local_us(&c), server = rcv_server_us(k);
    CHECK(server - local >= off && server - local < off + 1000000);
    rcv_clock_free(k);
    /* the test-only skew moves the box's clock */
    struct rcv_config skewed = {.clock_skew_ms = -3000};
    int64_t d = rcv_local_us(&c) - rcv_local_us(&skewed);
    CHECK(d >= 2999000 && d < 3100000);
}

static struct rcv_play play(int64_t start)
{
    struct rcv_play p = {.session = 41, .bulletin = 7, .start_ms = start,
                         .end_ms = start + 18780, .played_s = 18.7, .underruns = 1};
    memset(p.hash, 'a', 64);
    strcpy(p.source, "cache");
    return p;
}

static void test_journal(void)
{
    struct rcv_config c = {0};
    char why[256], path[512];
    size_t dropped = 99;
    snprintf(c.cache_dir, sizeof c.cache_dir, "%s/j", dir);
    snprintf(path, sizeof path, "%s/j/%s", dir, RCV_JOURNAL_FILE);
    struct rcv_journal *j = rcv_journal_open(&c, &dropped, why, sizeof why);
    CHECKF(j != NULL, "%s", why);
    if (j == NULL)
        return;
    CHECK(dropped == 0 && rcv_journal_pending(j) == 0);
    struct rcv_play a = play(1796637600120LL), b = play(1796637620000LL), bad = play(1);
    strcpy(b.id, "mine-2");
    CHECK(rcv_journal_append(j, &a, why, sizeof why) == 0 && strncmp(a.id, "p-", 2) == 0);
    CHECK(rcv_journal_append(j, &b, why, sizeof why) == 0 && strcmp(b.id, "mine-2") == 0);
    strcpy(bad.source, "radio");
    CHECK(rcv_journal_append(j, &bad, why, sizeof why) == -1 && strstr(why, "source"));
    bad = play(1);
    bad.played_s = 30;
    CHECK(rcv_journal_append(j, &bad, why, sizeof why) == -1 && strstr(why, "played_s"));
    bad = play(1);
    bad.hash[3] = 'G';
    CHECK(rcv_journal_append(j, &bad, why, sizeof why) == -1);
    CHECK(rcv_journal_pending(j) == 2);
    rcv_journal_close(j);

    /* what is on disk: the server's own format */
    char *text;
    size_t len;
    CHECK(rcv_read_file(path, 1 << 20, &text, &len) == 0);
    CHECKF(strstr(text, "\"start\":\"2026-12-07T10:00:00.120Z\"") != NULL, "%s", text);
    CHECK(strstr(text, "\"played_s\":18.7,") != NULL && strstr(text, "\"source\":\"cache\"") != NULL);
    free(text);

    /* kill -9 mid-append: a torn line at the end */
    int fd = open(path, O_WRONLY | O_APPEND);
    CHECK(write(fd, "{\"id\":\"p-torn\",\"sess", 20) == 20);
    close(fd);
    j = rcv_journal_open(&c, &dropped, why, sizeof why);
    CHECK(j != NULL && dropped == 1 && rcv_journal_pending(j) == 2);
    struct rcv_play d = play(1796637640000LL);
    CHECK(rcv_journal_append(j, &d, why, sizeof why) == 0);
    rcv_journal_close(j);
    j = rcv_journal_open(&c, &dropped, why, sizeof why);
    CHECK(j != NULL && dropped == 0 && rcv_journal_pending(j) == 3);
    rcv_journal_close(j);
    unlink(path);
    snprintf(path, sizeof path, "%s/j", dir);
    rmdir(path);
}

static void write_file(const char *path, const void *data, size_t n, time_t mtime)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0 && write(fd, data, n) == (ssize_t)n);
    close(fd);
    if (mtime) {
        struct timespec ts[2] = {{mtime, 0}, {mtime, 0}};
        utimensat(AT_FDCWD, path, ts, 0);
    }
}

static void test_cache(void)
{
    struct rcv_config c = {.evict_after_s = 3600};
    char why[256], path[600], mdir[512];
    snprintf(c.cache_dir, sizeof c.cache_dir, "%s/c", dir);
    CHECK(rcv_cache_init(&c, why, sizeof why) == 0);
    snprintf(mdir, sizeof mdir, "%s/c/media", dir);

    /* a file and its hash */
    static const char body[] = "OggS pretend opus bytes";
    unsigned char d[32];
    char hash[65], other[65];
    crypto_generichash(d, sizeof d, (const unsigned char *)body, sizeof body - 1, NULL, 0);
    sodium_bin2hex(hash, sizeof hash, d, sizeof d);
    memset(other, 'b', 64);
    other[64] = '\0';
    struct rcv_item it = {.bulletin = 1, .bytes = sizeof body - 1};
    strcpy(it.hash, hash);
    snprintf(it.media, sizeof it.media, "/media/%s.opus", hash);

    CHECK(rcv_cache_path(&c, hash, path, sizeof path) == -1);
    CHECK(rcv_cache_held(&c, &it) == 0);
    snprintf(path, sizeof path, "%s/%s.part", mdir, hash);
    write_file(path, body, 10, 0);
    CHECK(rcv_cache_held(&c, &it) == 10);
    struct rcv_session se = {.id = 3, .items = &it, .nitems = 1};
    double pct = rcv_cache_fetched_percent(&c, &se);
    CHECK(pct > 43.4 && pct < 43.5);
    unlink(path);
    snprintf(path, sizeof path, "%s/%s.opus", mdir, hash);
    write_file(path, body, sizeof body - 1, 0);
    char found[600];
    CHECK(rcv_cache_path(&c, hash, found, sizeof found) == 0 && strcmp(found, path) == 0);
    CHECK(rcv_cache_held(&c, &it) == it.bytes && rcv_cache_fetched_percent(&c, &se) == 100.0);
    CHECK(rcv_cache_check_file(path, hash, it.bytes, why, sizeof why) == 0);
    CHECK(rcv_cache_check_file(path, hash, it.bytes + 1, why, sizeof why) == -1 && strstr(why, "bytes"));
    CHECK(rcv_cache_check_file(path, other, -1, why, sizeof why) == -1 && strstr(why, "BLAKE2b"));
    CHECK(rcv_cache_bytes(&c) == (int64_t)it.bytes);

    /* eviction: hash is named, other (.opus) and a third (.part) are not; all two hours old */
    time_t old = time(NULL) - 7200;
    char third[65];
    memset(third, 'c', 64);
    third[64] = '\0';
    write_file(path, body, sizeof body - 1, old);
    char p2[600], p3[600], p4[600], p5[600];
    snprintf(p2, sizeof p2, "%s/%s.opus", mdir, other);
    snprintf(p3, sizeof p3, "%s/%s.part", mdir, third);
    snprintf(p4, sizeof p4, "%s/notes.txt", mdir);
    snprintf(p5, sizeof p5, "%s/%s.opus", mdir, third); /* not named, but recent */
    write_file(p2, "x", 1, old);
    write_file(p3, "y", 1, old);
    write_file(p4, "z", 1, old);
    write_file(p5, "w", 1, 0);
    struct rcv_schedule s = {.sessions = &se, .nsessions = 1};
    int removed = -1;
    CHECK(rcv_cache_evict(&c, &s, &removed, why, sizeof why) == 0);
    CHECKF(removed == 2, "removed %d", removed);
    CHECK(access(path, F_OK) == 0 && access(p2, F_OK) != 0 && access(p3, F_OK) != 0);
    CHECK(access(p4, F_OK) == 0 && access(p5, F_OK) == 0);
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_mtime > old + 3600); /* touched: named now */
    /* nothing named any more, and an hour passes (mtimes moved back) */
    write_file(path, body, sizeof body - 1, old);
    CHECK(rcv_cache_evict(&c, NULL, &removed, why, sizeof why) == 0 && removed == 1);
    CHECK(access(path, F_OK) != 0);
    unlink(p4);
    unlink(p5);
    rmdir(mdir);
    snprintf(path, sizeof path, "%s/c", dir);
    rmdir(path);
}

static void test_status(void)
{
    double sig = 0;
    CHECK(rcv_signal_read("echo 'RSSI: -71 dBm'", 2000, &sig) == 0 && sig == -71);
    CHECK(rcv_signal_read("echo 'quality 23.5/31'", 2000, &sig) == 0 && sig == 23.5);
    CHECK(rcv_signal_read("echo no number", 2000, &sig) == -1);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(rcv_signal_read("sleep 10; echo 5", 300, &sig) == -1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(t1.tv_sec - t0.tv_sec < 3); /* killed, not waited for */

    struct rcv_status st = {.uptime_s = 12, .has_clock = true, .clock_offset_ms = -1.5,
                            .rtt_ms = 40, .cache_bytes = 100, .disk_free_bytes = -1,
                            .has_next = true, .next_id = 0, .next_start_ms = 1796637600000LL,
                            .fetched_percent = 50, .volume = 80, .muted = false,
                            .has_signal = true, .signal = -71};
    strcpy(st.last_error, "GET /media/x: HTTP 404");
    char *s = rcv_status_json(&st);
    json_t *o = s ? json_loads(s, 0, NULL) : NULL;
    CHECKF(o != NULL, "%s", s ? s : "(null)");
    json_t *ns = json_object_get(o, "next_session");
    CHECK(json_integer_value(json_object_get(o, "uptime_s")) == 12);
    CHECK(json_number_value(json_object_get(o, "clock_offset_ms")) == -1.5);
    CHECK(json_object_get(o, "disk_free_bytes") == NULL);
    CHECK(json_object_get(ns, "id") == NULL); /* a session without id yet: left out */
    CHECK(json_number_value(json_object_get(ns, "fetched_percent")) == 50);
    CHECK(strcmp(json_string_value(json_object_get(ns, "start")), "2026-12-07T10:00:00.000Z") == 0);
    CHECK(json_integer_value(json_object_get(o, "volume")) == 80 && json_is_false(json_object_get(o, "muted")));
    CHECK(strcmp(json_string_value(json_object_get(o, "last_error")), st.last_error) == 0);
    CHECK(json_is_string(json_object_get(o, "version")));
    json_decref(o);
    free(s);
}

int main(void)
{
    if (sodium_init() < 0 || mkdtemp(dir) == NULL)
        return 1;
    test_rtime();
    test_clock();
    test_journal();
    test_cache();
    test_status();
    rmdir(dir);
    return check_done();
}
