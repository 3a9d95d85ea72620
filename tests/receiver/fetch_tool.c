/*
 * tests/receiver/fetch_tool.c — the receiver's fetch side run once against a real server, for
 * fetch_test.py: fetch_tool CONFIG [--offline]
 *
 *   1. three clock exchanges (GET /api/v1/time);
 *   2. rcv_schedule_poll: GET the schedule, verify it (pinned key, cluster, version, expiry at
 *      the server's time as estimated), keep it on disk; read it back (re-verified); then a
 *      long-poll with since = its version and wait = poll_wait_s (the server answers 304);
 *   3. prefetch every item (3 tries each);
 *   4. journal a play per item of the first session that has an id, send the journal;
 *   5. collect and POST the status.
 * With --offline: only the kept schedule, read back and verified (no network).
 * Prints one JSON object on stdout (what the test checks); exits 1 with the reason on stderr
 * when a step fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "receiver/cache.h"
#include "receiver/clock.h"
#include "receiver/journal.h"
#include "receiver/net.h"
#include "receiver/prefetch.h"
#include "receiver/schedule.h"
#include "receiver/status.h"

static json_t *errors;

static void on_error(void *arg, const struct rcv_item *it, const char *why)
{
    (void)arg;
    fprintf(stderr, "prefetch %s: %s\n", it->hash, why);
    json_array_append_new(errors, json_string(why));
}

static void on_progress(void *arg, const struct rcv_session *next, double pct)
{
    double *last = arg;
    (void)next;
    *last = pct;
}

static json_t *schedule_json(const struct rcv_config *c, const struct rcv_schedule *s)
{
    json_t *sessions = json_array();
    for (size_t i = 0; i < s->nsessions; i++) {
        json_t *items = json_array();
        for (size_t j = 0; j < s->sessions[i].nitems; j++) {
            const struct rcv_item *it = &s->sessions[i].items[j];
            char path[4300];
            int held = rcv_cache_path(c, it->hash, path, sizeof path);
            json_array_append_new(items, json_pack("{s:I,s:s,s:I,s:I,s:I,s:s?}", "bulletin",
                                                   (json_int_t)it->bulletin, "hash", it->hash,
                                                   "bytes", (json_int_t)it->bytes, "offset_ms",
                                                   (json_int_t)it->offset_ms, "duration_ms",
                                                   (json_int_t)it->duration_ms, "path",
                                                   held == 0 ? path : NULL));
        }
        json_array_append_new(sessions, json_pack("{s:I,s:I,s:I,s:s,s:o}", "id",
                                                  (json_int_t)s->sessions[i].id, "start_ms",
                                                  (json_int_t)s->sessions[i].start_ms, "end_ms",
                                                  (json_int_t)s->sessions[i].end_ms, "kind",
                                                  s->sessions[i].kind, "items", items));
    }
    return json_pack("{s:I,s:i,s:b,s:I,s:o}", "version", (json_int_t)s->version, "volume",
                     s->volume, "muted", s->muted, "expires_ms", (json_int_t)s->expires_ms,
                     "sessions", sessions);
}

static int fail(const char *step, const char *why)
{
    fprintf(stderr, "fetch_tool: %s: %s\n", step, why);
    return 1;
}

int main(int argc, char **argv)
{
    struct rcv_config c;
    struct rcv_schedule s = {0}, kept = {0};
    char why[512];
    int rc = 1;
    if (argc < 2 || rcv_config_load(argv[1], &c, why, sizeof why) < 0)
        return fail("config", argc < 2 ? "usage: fetch_tool CONFIG [--offline]" : why);
    if (argc > 2 && strcmp(argv[2], "--offline") == 0) {
        struct rcv_clock *k = rcv_clock_new(&c);
        int lrc = rcv_schedule_load(&c, rcv_server_us(k) / 1000, &kept, why, sizeof why);
        rcv_clock_free(k);
        if (lrc != 0)
            return fail("kept schedule", lrc > 0 ? "none" : why);
        json_t *o = json_pack("{s:o}", "kept", schedule_json(&c, &kept));
        json_dumpf(o, stdout, JSON_COMPACT);
        json_decref(o);
        rcv_schedule_free(&kept);
        return 0;
    }
    errors = json_array();
    struct rcv_net *n = rcv_net_new(&c);
    struct rcv_clock *k = rcv_clock_new(&c);
    struct rcv_journal *j = NULL;
    json_t *out = json_object();
    for (int i = 0; i < 3; i++)
        if (rcv_clock_exchange(k, n, 10, why, sizeof why) < 0) {
            rc = fail("clock", why);
            goto out;
        }
    int64_t off, delay;
    rcv_clock_estimate(k, &off, &delay);
    json_object_set_new(out, "clock_offset_ms", json_real((double)off / 1000.0));
    json_object_set_new(out, "rtt_ms", json_real((double)delay / 1000.0));

    if (rcv_schedule_poll(&c, n, k, 0, &s, NULL, why, sizeof why) != 1 || why[0] != '\0') {
        rc = fail("schedule", why);
        goto out;
    }
    if (rcv_schedule_load(&c, rcv_server_us(k) / 1000, &kept, why, sizeof why) != 0) {
        rc = fail("kept schedule", why);
        goto out;
    }
    json_object_set_new(out, "kept_version", json_integer(kept.version));
    /* nothing new: 304 after poll_wait_s (the test's config: 1 s) */
    struct rcv_schedule none = {0};
    int prc = rcv_schedule_poll(&c, n, k, s.version, &none, NULL, why, sizeof why);
    if (prc < 0) {
        rc = fail("long-poll", why);
        goto out;
    }
    if (prc == 1)
        rcv_schedule_free(&none);
    json_object_set_new(out, "poll_status", json_integer(prc == 0 ? 304 : 200));

    if (rcv_cache_init(&c, why, sizeof why) < 0) {
        rc = fail("cache", why);
        goto out;
    }
    double pct = -1;
    struct rcv_prefetch_hooks hooks = {.progress = on_progress, .error = on_error, .arg = &pct};
    struct rcv_prefetch_opts opts = {.tries = 3, .stall_s = 10, .backoff_max_s = 1};
    int missing = rcv_prefetch_schedule(&c, n, &s, rcv_server_us(k) / 1000, &opts, &hooks);
    json_object_set_new(out, "missing", json_integer(missing));
    json_object_set_new(out, "fetched_percent", json_real(pct));
    json_object_set_new(out, "errors", json_incref(errors));

    /* plays: one per item of the first session with an id */
    size_t dropped;
    if ((j = rcv_journal_open(&c, &dropped, why, sizeof why)) == NULL) {
        rc = fail("journal", why);
        goto out;
    }
    json_t *ids = json_array();
    json_object_set_new(out, "plays", ids);
    for (size_t i = 0; i < s.nsessions && json_array_size(ids) == 0; i++) {
        const struct rcv_session *se = &s.sessions[i];
        for (size_t m = 0; se->id > 0 && m < se->nitems; m++) {
            struct rcv_play p = {.session = se->id, .bulletin = se->items[m].bulletin,
                                 .start_ms = se->start_ms + se->items[m].offset_ms,
                                 .end_ms = se->start_ms + se->items[m].offset_ms + se->items[m].duration_ms,
                                 .played_s = (double)se->items[m].duration_ms / 1000.0};
            memcpy(p.hash, se->items[m].hash, sizeof p.hash);
            strcpy(p.source, "cache");
            if (rcv_journal_append(j, &p, why, sizeof why) < 0) {
                rc = fail("journal append", why);
                goto out;
            }
            json_array_append_new(ids, json_string(p.id));
        }
    }
    size_t acked = 0;
    if (rcv_journal_send(j, n, 30, &acked, why, sizeof why) < 0) {
        rc = fail("plays", why);
        goto out;
    }
    json_object_set_new(out, "acked", json_integer((json_int_t)acked));
    json_object_set_new(out, "pending", json_integer((json_int_t)rcv_journal_pending(j)));

    struct rcv_status st;
    rcv_status_collect(&c, k, &s, rcv_server_us(k) / 1000, rcv_mono_s(), NULL, &st);
    if (rcv_status_post(&c, n, &st, 30, why, sizeof why) < 0) {
        rc = fail("status", why);
        goto out;
    }
    json_object_set_new(out, "cache_bytes", json_integer(st.cache_bytes));
    json_object_set_new(out, "schedule", schedule_json(&c, &s));
    json_dumpf(out, stdout, JSON_COMPACT);
    rc = 0;
out:
    json_decref(out);
    json_decref(errors);
    rcv_journal_close(j);
    rcv_schedule_free(&s);
    rcv_schedule_free(&kept);
    rcv_clock_free(k);
    rcv_net_free(n);
    return rc;
}
