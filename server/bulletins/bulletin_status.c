/*
 * server/bulletins/bulletin_status.c — the lifecycle of a bulletin: the table of allowed status
 * changes, who may cause each event, and the one function that changes a status
 * (lc_bulletin_transition). Every write of `bulletins.status` is here; the scheduler's two
 * doors (an airing counted, the clock passing `expires`) are here too. Loop thread only.
 *
 * The table is the contract (bulletins.h draws it; docs/server.md shows it and
 * tests/server/test_transitions.c compares the two). A change is one UPDATE guarded by the
 * status it leaves (… WHERE id = ? AND status = from), plus its audit entry, in the caller's
 * transaction.
 */
#define LC_LOG_MODULE "bulletins"
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "server/accounts/accounts.h"
#include "server/api/api.h"
#include "server/bulletins/bulletins_internal.h"
#include "server/http/http.h"
#include "server/store/store.h"

static const struct lc_bulletin_transition table[] = {
    {"rendering", LC_BEV_RENDER_OK, "pending", "bulletin_rendered"},
    {"rendering", LC_BEV_RENDER_FAILED, "failed", "bulletin_failed"},
    {"draft", LC_BEV_UPLOAD_OK, "pending", "bulletin_audio"},
    {"pending", LC_BEV_UPLOAD_OK, "pending", "bulletin_audio"},
    {"failed", LC_BEV_UPLOAD_OK, "pending", "bulletin_audio"},
    {"pending", LC_BEV_APPROVE, "approved", "bulletin_approve"},
    {"pending", LC_BEV_REJECT, "rejected", "bulletin_reject"},
    {"draft", LC_BEV_WITHDRAW, "withdrawn", "bulletin_withdraw"},
    {"rendering", LC_BEV_WITHDRAW, "withdrawn", "bulletin_withdraw"},
    {"pending", LC_BEV_WITHDRAW, "withdrawn", "bulletin_withdraw"},
    {"failed", LC_BEV_WITHDRAW, "withdrawn", "bulletin_withdraw"},
    {"approved", LC_BEV_WITHDRAW, "withdrawn", "bulletin_withdraw"},
    /* an approval that comes after `expires` (the approver's request, the server's decision) */
    {"pending", LC_BEV_EXPIRE, "expired", "bulletin_expire"},
    /* the clock passed `expires` of an approved bulletin (the scheduler's timer) */
    {"approved", LC_BEV_EXPIRE, "expired", "bulletin_expired"},
    {"approved", LC_BEV_AIRED_OUT, "done", "bulletin_done"},
};

/* Per event: its name in docs/server.md, who may cause it, and what the UPDATE writes besides
 * the status. Parameters: ?1 id, ?2 from, ?3 to, ?4 now, ?5 text, ?6 hash, ?7 bytes,
 * ?8 duration_s, ?9 the user, ?10 aired, ?11 media hash. */
static const struct event {
    const char *name;
    unsigned who;
    const char *sql;
} events[LC_BEV_COUNT] = {
    [LC_BEV_RENDER_OK] = {"render ok", LC_BWHO_SERVER,
        "UPDATE bulletins SET status = ?3, audio_hash = ?6, audio_bytes = ?7, duration_s = ?8,"
        " media_hash = ?11, audio_by = NULL, error = NULL, updated_at = ?4"
        " WHERE id = ?1 AND status = ?2"},
    [LC_BEV_RENDER_FAILED] = {"render fails", LC_BWHO_SERVER,
        "UPDATE bulletins SET status = ?3, error = ?5, updated_at = ?4"
        " WHERE id = ?1 AND status = ?2"},
    [LC_BEV_UPLOAD_OK] = {"upload ok", LC_BWHO_AUTHOR | LC_BWHO_ADMIN,
        "UPDATE bulletins SET status = ?3, kind = 'audio', text = NULL, audio_hash = ?6,"
        " audio_bytes = ?7, duration_s = ?8, media_hash = ?11, audio_by = ?9, error = NULL,"
        " updated_at = ?4 WHERE id = ?1 AND status = ?2"},
    [LC_BEV_APPROVE] = {"approve", LC_BWHO_APPROVER | LC_BWHO_ADMIN | LC_BWHO_NOT_AUTHOR,
        "UPDATE bulletins SET status = ?3, approved_by = ?9, approved_at = ?4, updated_at = ?4"
        " WHERE id = ?1 AND status = ?2"},
    [LC_BEV_REJECT] = {"reject", LC_BWHO_APPROVER | LC_BWHO_ADMIN | LC_BWHO_NOT_AUTHOR,
        "UPDATE bulletins SET status = ?3, decided_by = ?9, decided_at = ?4, updated_at = ?4,"
        " reason = coalesce(?5, reason) WHERE id = ?1 AND status = ?2"},
    [LC_BEV_WITHDRAW] = {"withdraw", LC_BWHO_AUTHOR | LC_BWHO_APPROVER | LC_BWHO_ADMIN,
        "UPDATE bulletins SET status = ?3, decided_by = ?9, decided_at = ?4, updated_at = ?4,"
        " reason = coalesce(?5, reason) WHERE id = ?1 AND status = ?2"},
    [LC_BEV_EXPIRE] = {"expire", LC_BWHO_SERVER,
        "UPDATE bulletins SET status = ?3, updated_at = ?4 WHERE id = ?1 AND status = ?2"},
    [LC_BEV_AIRED_OUT] = {"aired out", LC_BWHO_SERVER,
        "UPDATE bulletins SET status = ?3, aired = ?10, updated_at = ?4"
        " WHERE id = ?1 AND status = ?2"},
};

const struct lc_bulletin_transition *lc_bulletin_transitions(size_t *n)
{
    *n = sizeof table / sizeof table[0];
    return table;
}

const char *lc_bulletin_event_name(enum lc_bulletin_event ev)
{
    return (unsigned)ev < LC_BEV_COUNT ? events[ev].name : NULL;
}

unsigned lc_bulletin_event_who(enum lc_bulletin_event ev)
{
    return (unsigned)ev < LC_BEV_COUNT ? events[ev].who : 0;
}

static const struct lc_bulletin_transition *find(const char *from, enum lc_bulletin_event ev)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].event == ev && strcmp(table[i].from, from) == 0)
            return &table[i];
    return NULL;
}

const char *lc_bulletin_next(const char *from, enum lc_bulletin_event ev)
{
    const struct lc_bulletin_transition *t = find(from, ev);
    return t ? t->to : NULL;
}

/* Whether the request's user (NULL: the server) may cause ev on a bulletin by author. */
static bool may(enum lc_bulletin_event ev, const struct lc_req *req, const char *author)
{
    unsigned who = events[ev].who;
    if (who & LC_BWHO_SERVER)
        return true; /* the server decides; a request may be what made it decide */
    if (req == NULL)
        return false;
    bool mine = strcmp(author, req->user) == 0;
    if (mine && (who & LC_BWHO_NOT_AUTHOR))
        return false;
    return (mine && (who & LC_BWHO_AUTHOR)) || ((req->role & LC_ROLE_APPROVER) && (who & LC_BWHO_APPROVER)) ||
           ((req->role & LC_ROLE_ADMIN) && (who & LC_BWHO_ADMIN));
}

int lc_bulletin_check(const struct lc_bulletin_head *h, enum lc_bulletin_event ev,
                      const struct lc_req *req)
{
    if (!may(ev, req, h->created_by))
        return -EACCES;
    /* two people: who uploaded the audio does not approve it either (an admin's upload into an
     * editor's bulletin) */
    if (ev == LC_BEV_APPROVE && req != NULL && h->audio_by[0] && strcmp(h->audio_by, req->user) == 0)
        return -EACCES;
    return find(h->status, ev) ? 0 : -EPERM;
}

/* Binds parameter i if the statement has it (each event's SQL uses some of them). */
static bool has_param(sqlite3_stmt *st, int i)
{
    return i <= sqlite3_bind_parameter_count(st);
}

int lc_bulletin_transition(struct lc_store *s, int64_t id, struct lc_bulletin_change *c)
{
    struct lc_bulletin_head h;
    json_t *detail = c->detail;
    c->detail = NULL;
    int rc = lc_bulletin_head(s, id, &h);
    if (rc == 0)
        rc = lc_bulletin_check(&h, c->event, c->req);
    if (rc < 0)
        goto out;
    const struct lc_bulletin_transition *t = find(h.status, c->event);
    rc = -EIO;
    sqlite3_stmt *st = lc_store_stmt(s, events[c->event].sql);
    if (st == NULL)
        goto out;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, t->from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, t->to, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, c->now);
    if (has_param(st, 5) && c->text)
        sqlite3_bind_text(st, 5, c->text, -1, SQLITE_TRANSIENT);
    if (has_param(st, 6) && c->hash) {
        sqlite3_bind_text(st, 6, c->hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 7, c->bytes);
        sqlite3_bind_double(st, 8, c->duration_s);
    }
    if (has_param(st, 9) && c->req)
        sqlite3_bind_text(st, 9, c->req->user, -1, SQLITE_TRANSIENT);
    if (has_param(st, 10))
        sqlite3_bind_int(st, 10, c->aired);
    if (has_param(st, 11) && c->media_hash)
        sqlite3_bind_text(st, 11, c->media_hash, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        goto out;
    char target[32];
    lc_bulletin_target(id, target);
    const char *actor = (events[c->event].who & LC_BWHO_SERVER) ? "system" : NULL;
    rc = lc_audit(s, c->req, actor, t->audit, target, detail);
    detail = NULL;
out:
    json_decref(detail);
    return rc;
}

/* ---- the scheduler's doors ------------------------------------------------------------------- */

int lc_bulletin_aired(struct lc_store *s, int64_t id, int64_t now)
{
    static const char sql[] =
        "SELECT b.repeat, b.status, (SELECT min(coalesce(a.aired, 0)) FROM"
        "  (SELECT commune AS c FROM bulletin_communes WHERE bulletin = b.id AND b.all_communes = 0"
        "   UNION SELECT id FROM communes WHERE b.all_communes = 1 AND node IN"
        "    (WITH RECURSIVE sub(id) AS (SELECT b.node UNION ALL SELECT n.id FROM nodes n"
        "     JOIN sub ON n.parent = sub.id) SELECT id FROM sub)) t"
        "  JOIN communes k ON k.id = t.c AND k.retired_at IS NULL"
        "  LEFT JOIN bulletin_airings a ON a.bulletin = b.id AND a.commune = t.c)"
        " FROM bulletins b WHERE b.id = ?";
    static const char upd_aired[] = "UPDATE bulletins SET aired = ?2 WHERE id = ?1";
    sqlite3_stmt *st = lc_store_stmt(s, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    int step = sqlite3_step(st);
    if (step != SQLITE_ROW) {
        return lc_store_done(st) < 0 || step != SQLITE_DONE ? -EIO : 0;
    }
    int repeat = sqlite3_column_int(st, 0);
    bool approved = strcmp(lc_col_text(st, 1), "approved") == 0;
    int min_aired = sqlite3_column_int(st, 2);
    sqlite3_reset(st);
    if (approved && min_aired >= repeat) {
        struct lc_bulletin_change c = {.event = LC_BEV_AIRED_OUT, .aired = min_aired, .now = now,
                                       .detail = json_pack("{s:i}", "aired", min_aired)};
        return lc_bulletin_transition(s, id, &c) < 0 ? -EIO : 0;
    }
    /* not a status change: only the count the API shows */
    if ((st = lc_store_stmt(s, upd_aired)) == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, min_aired);
    step = sqlite3_step(st);
    sqlite3_reset(st);
    return step == SQLITE_DONE ? 0 : -EIO;
}

struct expiry {
    int64_t id;
    struct lc_bulletin_change c;
};

static int expire_one(struct lc_store *s, void *arg)
{
    struct expiry *e = arg;
    return lc_bulletin_transition(s, e->id, &e->c);
}

void lc_bulletins_expire_due(struct lc_store *s, int64_t now)
{
    static const char sel[] = "SELECT id FROM bulletins WHERE status = 'approved'"
                              " AND expires IS NOT NULL AND expires <= ? LIMIT 100";
    int64_t ids[100];
    int n = 0;
    sqlite3_stmt *st = lc_store_stmt(s, sel);
    if (st == NULL)
        return;
    sqlite3_bind_int64(st, 1, now);
    while (n < 100 && sqlite3_step(st) == SQLITE_ROW)
        ids[n++] = sqlite3_column_int64(st, 0);
    lc_store_done(st); /* a failed read is logged; tried again at the next tick */
    for (int i = 0; i < n; i++) {
        struct expiry e = {ids[i], {.event = LC_BEV_EXPIRE, .now = now}};
        if (lc_store_tx(s, expire_one, &e) < 0)
            return;
    }
}
