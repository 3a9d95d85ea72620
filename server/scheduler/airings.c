/*
 * server/scheduler/airings.c — a session's bulletins count as aired from what receivers got.
 *
 * A bulletin airs `repeat` times per commune, then it is `done` (bulletin_status.c). A session
 * counts for a bulletin of its programme only if at least one cluster of the commune was sent
 * that bulletin whole (the accounting's delivery_bulletins, from completed writes): a session
 * that opened while no receiver was connected airs nothing, and the bulletin stays approved for
 * the next session. The count is made once per session, when its accounting is final: the
 * session ended (done, interrupted or missed) at least SETTLE_MS ago and no delivery_progress
 * row is left for it (the stream wrote its last batch); broadcasts.airings_counted records it,
 * so a restart neither loses nor repeats a count. An emergency session of its own is counted
 * the same way once its catch-up is over too (late pollers may still get it: the stream's
 * [stream] catchup_s); one that interrupted a session is counted with that session, whose
 * deliveries carry it.
 */
#define LC_LOG_MODULE "scheduler"
#include "server/scheduler/scheduler_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/buf.h"
#include "common/log.h"
#include "server/api/api.h"
#include "server/bulletins/bulletins.h"
#include "server/store/store.h"

#define SETTLE_MS 5000
#define BATCH 32 /* sessions counted per call; the SQL says it again */

struct count_tx {
    int64_t session;
    const char *commune;
};

static int count_tx(struct lc_store *store, void *arg)
{
    static const char whole[] =
        "SELECT DISTINCT d.bulletin FROM delivery_bulletins d JOIN bulletins b ON b.id = d.bulletin"
        " WHERE d.session = ?1";
    static const char up[] =
        "INSERT INTO bulletin_airings (commune, bulletin, aired) VALUES (?1, ?2, 1)"
        " ON CONFLICT (bulletin, commune) DO UPDATE SET aired = aired + 1";
    static const char done[] = "UPDATE broadcasts SET airings_counted = 1 WHERE id = ?1";
    struct count_tx *t = arg;
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    int rc = -EIO, step;
    sqlite3_stmt *st = lc_store_stmt(store, whole);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, t->session);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t *g = lc_grow(ids, n + 1, &cap, sizeof *ids, 8);
        if (g == NULL) {
            step = SQLITE_NOMEM;
            break;
        }
        ids = g;
        ids[n++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if ((st = lc_sched_stmt(store, up, t->commune)) == NULL)
            goto out;
        sqlite3_bind_int64(st, 2, ids[i]);
        step = sqlite3_step(st);
        sqlite3_reset(st);
        if (step != SQLITE_DONE || lc_bulletin_aired(store, ids[i], lc_now()) < 0)
            goto out;
    }
    if ((st = lc_store_stmt(store, done)) == NULL)
        goto out;
    sqlite3_bind_int64(st, 1, t->session);
    step = sqlite3_step(st);
    sqlite3_reset(st);
    rc = step == SQLITE_DONE ? 0 : -EIO;
out:
    free(ids);
    return rc;
}

int lc_airings_settle(struct lc_store *store, int64_t now_ms, int64_t catchup_ms)
{
    static const char sql[] =
        "SELECT b.id, b.commune, coalesce(b.ended_at_ms, b.end_at * 1000)"
        "   + CASE WHEN b.kind = 'emergency' THEN ?2 ELSE 0 END <= ?1"
        "   AND NOT EXISTS (SELECT 1 FROM delivery_progress p WHERE p.session = b.id)"
        " FROM broadcasts b WHERE b.airings_counted = 0"
        "   AND b.status IN ('done', 'interrupted', 'missed') ORDER BY b.id LIMIT 32";
    struct {
        int64_t id;
        char commune[65];
    } due[BATCH];
    int n = 0, waiting = 0, step;
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, now_ms - SETTLE_MS);
    sqlite3_bind_int64(st, 2, catchup_ms);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (!sqlite3_column_int(st, 2)) {
            waiting++;
            continue;
        }
        due[n].id = sqlite3_column_int64(st, 0);
        snprintf(due[n].commune, sizeof due[n].commune, "%s", lc_col_text(st, 1));
        n++;
    }
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return -EIO;
    for (int i = 0; i < n; i++) {
        struct count_tx t = {due[i].id, due[i].commune};
        if (lc_store_tx(store, count_tx, &t) < 0) {
            lc_log(LC_LOG_ERR, "session %lld: cannot count its airings", (long long)t.session);
            return -EIO;
        }
    }
    return waiting + (n == BATCH);
}
