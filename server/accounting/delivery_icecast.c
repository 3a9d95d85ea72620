/*
 * server/accounting/delivery_icecast.c — delivery rows of clusters that listen through Icecast
 * (issue 19, point 4; delivery.h, lc_delivery_icecast). Icecast's URL authentication tells
 * server/icecast/ when a listener comes and goes; what it heard is not known, so audio_s is the
 * programme audio that loacast handed to Icecast while the listener was there (docs/icecast.md,
 * "Accounting"). The rows are marked deliveries.via = 'icecast' (migration 46) and have no anchor,
 * so deliveries_current and coverage read them as they are.
 */
#include "server/accounting/delivery.h"

#include <errno.h>

#include <sqlite3.h>

#include "server/store/store.h"

static const char add_sql[] =
    "INSERT INTO deliveries (session, cluster, commune, session_start, session_end, connected_at,"
    "  programme_s, updated_at, via)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'icecast')"
    " ON CONFLICT (session, cluster) DO UPDATE SET"
    "  reconnections = reconnections + 1, disconnected_at = NULL,"
    "  programme_s = max(programme_s, excluded.programme_s), updated_at = excluded.updated_at"
    " WHERE via = 'icecast'";

/* ?6 connected_at (if the row is new), ?9 disconnected_at, ?10 audio_s, ?11 bytes */
static const char end_sql[] =
    "INSERT INTO deliveries (session, cluster, commune, session_start, session_end, connected_at,"
    "  disconnected_at, audio_s, programme_s, bytes, reached, updated_at, via)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?9, min(?10, ?7), ?7, ?11,"
    "  ?7 > 0 AND min(?10, ?7) >= 0.9 * ?7, ?8, 'icecast')"
    " ON CONFLICT (session, cluster) DO UPDATE SET"
    "  disconnected_at = excluded.disconnected_at,"
    "  audio_s = min(audio_s + ?10, max(programme_s, ?7)),"
    "  programme_s = max(programme_s, ?7),"
    "  bytes = bytes + ?11,"
    "  reached = max(programme_s, ?7) > 0 AND"
    "    min(audio_s + ?10, max(programme_s, ?7)) >= 0.9 * max(programme_s, ?7),"
    "  updated_at = excluded.updated_at"
    " WHERE via = 'icecast'";

int lc_delivery_icecast(struct lc_store *st, const struct lc_dlv_session *s, const char *cluster,
                        int64_t at_s, int64_t end_s, double audio_s, uint64_t bytes,
                        int64_t now_s)
{
    sqlite3_stmt *q = lc_store_stmt(st, end_s ? end_sql : add_sql);
    if (q == NULL)
        return -EIO;
    sqlite3_bind_int64(q, 1, s->id);
    sqlite3_bind_text(q, 2, cluster, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 3, s->commune, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 4, s->start_s);
    sqlite3_bind_int64(q, 5, s->end_s);
    sqlite3_bind_int64(q, 6, at_s);
    sqlite3_bind_double(q, 7, s->programme_s);
    sqlite3_bind_int64(q, 8, now_s);
    if (end_s) {
        sqlite3_bind_int64(q, 9, end_s);
        sqlite3_bind_double(q, 10, audio_s < 0 ? 0 : audio_s);
        sqlite3_bind_int64(q, 11, (sqlite3_int64)bytes);
    }
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : -EIO;
}
