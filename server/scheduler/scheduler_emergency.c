/*
 * server/scheduler/scheduler_emergency.c — emergencies in the scheduler (issue 5): lc_scheduler_emergency()
 * writes an emergency session (its own broadcasts row, `host` = the session it interrupts) and
 * queues it; lc_scheduler_publish_pending() publishes the queue once the request's transaction is
 * committed: INTERRUPT of the session on air (which then runs longer, its programme moved), or
 * PREPARE and OPEN of the emergency session alone. See scheduler.h and docs/schedules.md.
 *
 * Calls go one way: this file uses the actives (scheduler_active.c) and pokes the timer
 * (scheduler.c, lc_scheduler_poke); neither calls back here.
 */
#define LC_LOG_MODULE "scheduler"
#include "server/scheduler/scheduler.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "server/accounts/accounts.h"
#include "server/scheduler/scheduler_internal.h"
#include "server/scheduler/scheduler_state.h"
#include "server/store/store.h"

/* An emergency interrupted session `host` at `into` ms of its programme: the items still to
 * play (the interrupted one plays again from its start) move `by` ms later and the programme
 * grows by `grow` ms, in memory (a second emergency computes from there) and in the row, so
 * that a server restarted in the middle of the session resumes it where the stream really is
 * and closes it at its real end (docs/schedules.md). 0, -ENOMEM or -EIO. */
static int shift_programme(struct lc_store *store, struct active *host, int64_t into, int64_t by,
                           int64_t grow)
{
    static const char sql[] = "UPDATE broadcasts SET programme = ?2 WHERE id = ?1";
    json_t *prog = json_deep_copy(host->programme), *it;
    if (prog == NULL)
        return -ENOMEM;
    size_t i;
    json_array_foreach(json_object_get(prog, "items"), i, it) {
        int64_t off = json_integer_value(json_object_get(it, "offset_ms"));
        int64_t dur = json_integer_value(json_object_get(it, "duration_ms"));
        if (off + dur > into)
            json_object_set_new(it, "offset_ms", json_integer(off + by));
    }
    json_object_set_new(prog, "length_ms", json_integer(lc_sched_length_ms(prog) + grow));
    char *text = json_dumps(prog, JSON_COMPACT);
    if (text == NULL) {
        json_decref(prog);
        return -ENOMEM;
    }
    json_decref(host->programme);
    host->programme = prog;
    int rc = lc_sched_active_items(host);
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    int step = SQLITE_ERROR;
    if (st) {
        sqlite3_bind_int64(st, 1, host->id);
        sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT);
        step = sqlite3_step(st);
        sqlite3_reset(st);
    }
    free(text);
    return rc < 0 ? rc : step == SQLITE_DONE ? 0 : -EIO;
}

void lc_sched_on_spliced(void *ctx, int64_t session, int64_t at_ms, int64_t shift_ms)
{
    struct lc_scheduler *s = ctx;
    struct active *host = lc_sched_find_active(s, session);
    if (host == NULL || !host->on_air)
        return;
    if (shift_programme(s->store, host, at_ms, shift_ms, shift_ms) < 0) {
        lc_log(LC_LOG_ERR, "session %lld: the programme moved by the emergency is not"
               " saved; a restart would resume it early", (long long)host->id);
        return;
    }
    host->close_ms = host->prog_start_ms + lc_sched_length_ms(host->programme);
    if (host->close_ms > host->end_ms)
        host->close_ms = host->end_ms;
    lc_log(LC_LOG_INFO, "session %lld: an emergency spliced in at %lld ms moves the rest by %lld ms",
           (long long)host->id, (long long)at_ms, (long long)shift_ms);
    /* receivers that store learn the moved programme (their signed schedules are built again) */
    lc_sched_publish(s, LC_ONAIR_MOVED, host, host->items, host->nitems, 0);
    lc_scheduler_poke(s);
}

int lc_scheduler_emergency(struct lc_scheduler *s, const char *commune, int64_t bulletin,
                           const char *actor, int64_t *session, bool *interrupted)
{
    static const char ins[] =
        "INSERT INTO broadcasts (commune, kind, start_at, end_at, status, programme, frozen_at,"
        " aired_at_ms, host, created_by, created_at, airings_counted, rule_broken)"
        " VALUES (?1, 'emergency', ?2, ?3, 'on_air', ?4, ?5, ?6, ?7, ?8, ?5, ?9, ?10)";
    char why[400];
    if (s->stopped)
        return -ESHUTDOWN;
    json_t *prog;
    char *text = NULL;
    struct pending *p = NULL;
    int rc = lc_programme_single(s->store, bulletin, &prog);
    if (rc < 0)
        return rc;
    rc = -EIO;
    int64_t now = lc_wall_ms(), len = lc_sched_length_ms(prog);
    struct active *host = lc_sched_on_air_in(s, commune);
    /* Emergencies may break the broadcast rules: marked on the row and audited (issue 18). An
     * interrupting one adds to its host session, not a session of the day. */
    int broke = lc_rules_check_session(s->store, commune, now / 1000, (now + len + 999) / 1000,
                                       host == NULL, why, sizeof why);
    if (broke < 0)
        goto out;
    if ((text = json_dumps(prog, JSON_COMPACT)) == NULL || (p = calloc(1, sizeof *p)) == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    sqlite3_stmt *st = lc_sched_stmt(s->store, ins, commune);
    if (st == NULL)
        goto out;
    sqlite3_bind_int64(st, 2, now / 1000);
    sqlite3_bind_int64(st, 3, (now + len + 999) / 1000);
    sqlite3_bind_text(st, 4, text, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, now / 1000);
    sqlite3_bind_int64(st, 6, now);
    if (host)
        sqlite3_bind_int64(st, 7, host->id);
    sqlite3_bind_text(st, 8, actor, -1, SQLITE_TRANSIENT);
    /* aired where a cluster got it, counted once its accounting is final (airings.c): with the
     * session it interrupts (whose deliveries carry it), or as a session of its own */
    sqlite3_bind_int(st, 9, host != NULL);
    if (broke)
        sqlite3_bind_text(st, 10, why, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        goto out;
    p->id = lc_store_last_id(s->store);
    if (broke) {
        char target[32];
        snprintf(target, sizeof target, "%lld", (long long)p->id);
        if (lc_audit(s->store, NULL, actor, "emergency_rule_break", target,
                     json_pack("{s:s,s:I,s:s}", "commune", commune, "bulletin",
                               (json_int_t)bulletin, "rule", why)) < 0)
            goto out;
    }
    p->host = host ? host->id : 0;
    p->now_ms = now;
    snprintf(p->commune, sizeof p->commune, "%s", commune);
    p->programme = prog;
    prog = NULL;
    p->next = s->pending;
    s->pending = p;
    *session = p->id;
    *interrupted = host != NULL;
    p = NULL;
    rc = 0;
out:
    free(text);
    free(p);
    json_decref(prog);
    return rc;
}

void lc_scheduler_drop_pending(struct lc_scheduler *s)
{
    lc_sched_pending_free(s);
}

void lc_scheduler_publish_pending(struct lc_scheduler *s)
{
    /* The list is newest first; publish in the order of the request. */
    struct pending *rev = NULL;
    while (s->pending) {
        struct pending *p = s->pending;
        s->pending = p->next;
        p->next = rev;
        rev = p;
    }
    for (struct pending *p = rev, *nx; p; p = nx) {
        nx = p->next;
        int64_t len = lc_sched_length_ms(p->programme);
        struct active *a =
            lc_sched_active_new(p->id, p->commune, p->now_ms, p->now_ms + len, p->programme);
        struct active *host = p->host ? lc_sched_find_active(s, p->host) : NULL;
        if (a != NULL) {
            a->emergency = true;
            a->on_air = true;
            a->prog_start_ms = p->now_ms;
            a->close_ms = p->now_ms + len;
            if (host && host->on_air) {
                /* The interrupted item restarts after the emergency and a gap: the session runs
                 * longer by those and what had gone out of that item. Where the emergency lands
                 * is the stream's to say (its pages go out ahead): the stored programme moves
                 * when it does (lc_sched_on_spliced). Meanwhile the session is kept on air for
                 * the longest it could take (a whole item replayed). */
                int64_t longest = 0;
                for (size_t i = 0; i < host->nitems; i++)
                    if (host->items[i].duration_ms > longest)
                        longest = host->items[i].duration_ms;
                host->close_ms += len + s->gap_ms + longest;
                if (host->close_ms > host->end_ms)
                    host->close_ms = host->end_ms;
                a->host = host->id;
                lc_log(LC_LOG_INFO, "emergency %lld interrupts session %lld (%s)",
                       (long long)a->id, (long long)host->id, host->commune);
                struct lc_onair_item *with_gap = calloc(a->nitems + 1, sizeof *with_gap);
                if (with_gap != NULL) {
                    memcpy(with_gap, a->items, a->nitems * sizeof *with_gap);
                    with_gap[a->nitems] = (struct lc_onair_item){0, "", NULL, len, s->gap_ms, NULL};
                    lc_sched_publish(s, LC_ONAIR_INTERRUPT, host, with_gap, a->nitems + 1, 1);
                    free(with_gap);
                } else {
                    lc_sched_publish(s, LC_ONAIR_INTERRUPT, host, a->items, a->nitems, 1);
                }
            } else {
                lc_sched_publish(s, LC_ONAIR_PREPARE, a, a->items, a->nitems, 1);
                lc_sched_publish(s, LC_ONAIR_OPEN, a, a->items, a->nitems, 1);
            }
            a->next = s->active;
            s->active = a;
        }
        json_decref(p->programme);
        free(p);
    }
    lc_scheduler_poke(s);
}
