/*
 * server/accounting/delivery.c — delivery records and their rows in `deliveries`; see delivery.h.
 */
#define LC_LOG_MODULE "delivery"
#include "server/accounting/delivery.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/buf.h"

#include "common/log.h"
#include "server/registry/registry.h"
#include "server/store/store.h"

struct lc_dlv *lc_dlv_new(const char *cluster, struct lc_dlv **list)
{
    size_t n = strlen(cluster);
    struct lc_dlv *d = calloc(1, sizeof *d + n + 1);
    if (d == NULL)
        return NULL;
    memcpy(d->cluster, cluster, n + 1);
    d->next = *list;
    *list = d;
    return d;
}

void lc_dlv_free_all(struct lc_dlv **list)
{
    for (struct lc_dlv *d = *list, *nx; d; d = nx) {
        nx = d->next;
        free(d->rng);
        free(d->base_whole);
        free(d->whole);
        free(d);
    }
    *list = NULL;
}

void lc_dlv_connect(struct lc_dlv *d, int64_t now_s)
{
    if (d->connected_at == 0)
        d->connected_at = now_s;
    d->connections++;
    d->live = 1;
    d->disconnected_at = 0;
    d->dirty = true;
}

void lc_dlv_disconnect(struct lc_dlv *d, int64_t now_s)
{
    d->live = 0;
    d->disconnected_at = now_s;
    d->dirty = true;
}

int lc_dlv_delivered(struct lc_dlv *d, uint32_t bytes, uint64_t g0, uint64_t g1)
{
    d->bytes += bytes;
    d->dirty = true;
    return g1 > g0 ? lc_dlv_add(d, g0, g1) : 0;
}

bool lc_dlv_pending(const struct lc_dlv *d)
{
    return d->dirty || d->anchored;
}

static int cmp_range(const void *a, const void *b)
{
    const struct lc_dlv_range *x = a, *y = b;
    return x->g0 < y->g0 ? -1 : x->g0 > y->g0;
}

int lc_dlv_add(struct lc_dlv *d, uint64_t g0, uint64_t g1)
{
    if (g1 <= g0)
        return 0;
    d->dirty = true;
    if (d->nrng > 0) { /* the usual case: the next page of the same receiver */
        struct lc_dlv_range *r = &d->rng[d->nrng - 1];
        if (r->g0 <= g0 && r->g1 >= g0) {
            if (g1 > r->g1)
                r->g1 = g1;
            return 0;
        }
    }
    struct lc_dlv_range *n = lc_grow(d->rng, d->nrng, &d->caprng, sizeof *n, 2);
    if (n == NULL)
        return -ENOMEM;
    d->rng = n;
    d->rng[d->nrng++] = (struct lc_dlv_range){g0, g1};
    /* a new connection's burst may overlap what an earlier one got: sort and merge */
    qsort(d->rng, d->nrng, sizeof *d->rng, cmp_range);
    uint32_t w = 0;
    for (uint32_t i = 1; i < d->nrng; i++) {
        if (d->rng[i].g0 <= d->rng[w].g1) {
            if (d->rng[i].g1 > d->rng[w].g1)
                d->rng[w].g1 = d->rng[i].g1;
        } else {
            d->rng[++w] = d->rng[i];
        }
    }
    d->nrng = w + 1;
    /* keep the range the next page extends at the end */
    for (uint32_t i = 0; i < d->nrng; i++)
        if (d->rng[i].g0 <= g0 && d->rng[i].g1 >= g1 && i != d->nrng - 1) {
            struct lc_dlv_range t = d->rng[i];
            memmove(&d->rng[i], &d->rng[i + 1], (d->nrng - i - 1) * sizeof t);
            d->rng[d->nrng - 1] = t;
            break;
        }
    return 0;
}

double lc_dlv_audio_s(const struct lc_dlv *d)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < d->nrng; i++)
        n += d->rng[i].g1 - d->rng[i].g0;
    return (double)n / 48000.0;
}

bool lc_dlv_covers(const struct lc_dlv *d, uint64_t g0, uint64_t g1)
{
    for (uint32_t i = 0; i < d->nrng; i++)
        if (d->rng[i].g0 <= g0 && d->rng[i].g1 >= g1)
            return true;
    return false;
}

int lc_delivery_load(struct lc_store *st, const struct lc_dlv_session *s, struct lc_dlv *d)
{
    static const char sql[] =
        "SELECT audio_s, bytes, reconnections, bulletins_whole, connected_at FROM deliveries "
        "WHERE session = ?1 AND cluster = ?2";
    d->loaded = true;
    sqlite3_stmt *q = lc_store_stmt(st, sql);
    if (q == NULL)
        return -EIO;
    sqlite3_bind_int64(q, 1, s->id);
    sqlite3_bind_text(q, 2, d->cluster, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        d->row = true;
        d->base_audio_s = sqlite3_column_double(q, 0);
        d->base_bytes = (uint64_t)sqlite3_column_int64(q, 1);
        d->base_reconnections = sqlite3_column_int(q, 2) + 1; /* this run's first is a reconnection */
        d->base_whole = strdup(lc_col_text(q, 3));
        if (!lc_col_is_null(q, 4))
            d->connected_at = sqlite3_column_int64(q, 4);
    }
    sqlite3_reset(q);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

/* The JSON array of bulletins delivered whole: the base ones (a restart), then this run's, no
 * repeats. Built without jansson in the usual case: it runs for every row of every batch. */
static char *whole_json(const struct lc_dlv_session *s, const struct lc_dlv *d)
{
    struct lc_buf b = {0};
    json_t *base = d->base_whole ? json_loads(d->base_whole, 0, NULL) : NULL;
    size_t nbase = json_is_array(base) ? json_array_size(base) : 0;
    char num[24];
    lc_buf_append(&b, "[", 1);
    for (size_t i = 0; i < nbase; i++) {
        snprintf(num, sizeof num, "%s%lld", i ? "," : "",
                 (long long)json_integer_value(json_array_get(base, i)));
        lc_buf_append_str(&b, num);
    }
    bool first = nbase == 0;
    for (size_t i = 0; i < s->nair; i++) {
        const struct lc_airing *x = &s->air[i];
        if (x->bulletin <= 0 || !lc_dlv_covers(d, x->g0, x->g1))
            continue;
        bool seen = false;
        for (size_t j = 0; j < nbase && !seen; j++)
            seen = json_integer_value(json_array_get(base, j)) == x->bulletin;
        for (size_t j = 0; j < i && !seen; j++) /* an earlier airing of the same bulletin */
            seen = s->air[j].bulletin == x->bulletin && lc_dlv_covers(d, s->air[j].g0, s->air[j].g1);
        if (seen)
            continue;
        snprintf(num, sizeof num, "%s%lld", first ? "" : ",", (long long)x->bulletin);
        lc_buf_append_str(&b, num);
        first = false;
    }
    json_decref(base);
    if (lc_buf_append(&b, "]", 2) < 0) { /* with the NUL */
        lc_buf_free(&b);
        return NULL;
    }
    return (char *)lc_buf_steal(&b, NULL);
}

/* The cached list is stale when airings or ranges were added, or when a range's end passed the
 * end of an airing since it was built. */
static bool whole_stale(const struct lc_dlv_session *s, const struct lc_dlv *d, uint64_t end)
{
    if (d->whole == NULL || d->whole_nair != s->nair || d->whole_nrng != d->nrng)
        return true;
    for (size_t i = 0; i < s->nair; i++)
        if (s->air[i].g1 > d->whole_end && s->air[i].g1 <= end)
            return true;
    return false;
}

/* Brings the cached bulletins_whole text up to date; whole_saved turns false when it changed. */
static int refresh_whole(const struct lc_dlv_session *s, struct lc_dlv *d)
{
    uint64_t end = 0;
    for (uint32_t i = 0; i < d->nrng; i++)
        if (d->rng[i].g1 > end)
            end = d->rng[i].g1;
    if (!whole_stale(s, d, end))
        return 0;
    char *w = whole_json(s, d);
    if (w == NULL)
        return -ENOMEM;
    if (d->whole == NULL || strcmp(d->whole, w) != 0)
        d->whole_saved = false;
    free(d->whole);
    d->whole = w;
    d->whole_nair = s->nair;
    d->whole_nrng = d->nrng;
    d->whole_end = end;
    return 0;
}

/* True when the record's row needs no write in this batch: it is anchored and since then got
 * exactly the stream's pages up to at (no gap, no other connection), and its bulletins_whole
 * text is unchanged (refreshed here). */
static bool in_step(const struct lc_dlv_session *s, struct lc_dlv *d, const struct lc_dlv_mark *at)
{
    if (!d->anchored || !d->row || !d->live || d->nrng == 0)
        return false;
    const struct lc_dlv_range *last = &d->rng[d->nrng - 1];
    if (last->g1 != at->g || last->g0 > d->anchor_g || d->nrng != d->anchor_nrng ||
        d->connections != d->anchor_connections ||
        d->bytes - d->anchor_bytes != at->bytes - d->anchor_stream_bytes)
        return false;
    return refresh_whole(s, d) == 0 && d->whole_saved;
}

/* Writes the record's row (insert or update), anchored at *at when at is not NULL (the record
 * is in step: its ranges end at at->g). Inside a transaction. 0, -ENOMEM or -EIO. */
static int save_row(struct lc_store *st, const struct lc_dlv_session *s, struct lc_dlv *d,
                    const struct lc_dlv_mark *at, int64_t now_s)
{
    static const char sql[] =
        "INSERT INTO deliveries (session, cluster, commune, session_start, session_end, "
        "  connected_at, disconnected_at, audio_s, programme_s, bytes, reconnections, reached, "
        "  bulletins_whole, updated_at, anchor_g, anchor_bytes) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) "
        "ON CONFLICT (session, cluster) DO UPDATE SET connected_at = excluded.connected_at, "
        "  disconnected_at = excluded.disconnected_at, audio_s = excluded.audio_s, "
        "  programme_s = excluded.programme_s, bytes = excluded.bytes, "
        "  reconnections = excluded.reconnections, reached = excluded.reached, "
        "  bulletins_whole = excluded.bulletins_whole, updated_at = excluded.updated_at, "
        "  anchor_g = excluded.anchor_g, anchor_bytes = excluded.anchor_bytes";
    /* the same parameter numbers; ?3-?5 are bound but unused (the row has them) */
    static const char upd[] =
        "UPDATE deliveries SET connected_at = ?6, disconnected_at = ?7, audio_s = ?8, "
        "  programme_s = ?9, bytes = ?10, reconnections = ?11, reached = ?12, "
        "  bulletins_whole = ?13, updated_at = ?14, anchor_g = ?15, anchor_bytes = ?16 "
        "WHERE session = ?1 AND cluster = ?2";
    /* bulletins_whole unchanged (not even set: its triggers stay quiet) */
    static const char upd_progress[] =
        "UPDATE deliveries SET connected_at = ?6, disconnected_at = ?7, audio_s = ?8, "
        "  programme_s = ?9, bytes = ?10, reconnections = ?11, reached = ?12, "
        "  updated_at = ?14, anchor_g = ?15, anchor_bytes = ?16 "
        "WHERE session = ?1 AND cluster = ?2";
    if (refresh_whole(s, d) < 0)
        return -ENOMEM;
    sqlite3_stmt *q = lc_store_stmt(st, !d->row ? sql : d->whole_saved ? upd_progress : upd);
    if (q == NULL)
        return -EIO;
    double audio = d->base_audio_s + lc_dlv_audio_s(d);
    if (s->programme_s > 0 && audio > s->programme_s)
        audio = s->programme_s;
    int recon = d->base_reconnections + (d->connections > 0 ? d->connections - 1 : 0);
    sqlite3_bind_int64(q, 1, s->id);
    sqlite3_bind_text(q, 2, d->cluster, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, s->commune, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, s->start_s);
    sqlite3_bind_int64(q, 5, s->end_s);
    if (d->connected_at)
        sqlite3_bind_int64(q, 6, d->connected_at);
    if (d->disconnected_at && !d->live)
        sqlite3_bind_int64(q, 7, d->disconnected_at);
    sqlite3_bind_double(q, 8, audio);
    sqlite3_bind_double(q, 9, s->programme_s);
    sqlite3_bind_int64(q, 10, (sqlite3_int64)(d->base_bytes + d->bytes));
    sqlite3_bind_int(q, 11, recon);
    sqlite3_bind_int(q, 12, s->programme_s > 0 && audio >= 0.9 * s->programme_s);
    sqlite3_bind_text(q, 13, d->whole, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 14, now_s);
    if (at != NULL) {
        sqlite3_bind_int64(q, 15, (sqlite3_int64)at->g);
        sqlite3_bind_int64(q, 16, (sqlite3_int64)at->bytes);
    }
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q); /* the NULLs of ?6, ?7, ?15, ?16 next time */
    if (rc != SQLITE_DONE) {
        lc_log(LC_LOG_ERR, "session %lld, cluster %s: %s", (long long)s->id, d->cluster,
               sqlite3_errstr(rc));
        return -EIO;
    }
    d->dirty = false;
    d->row = true;
    d->whole_saved = true;
    d->anchored = at != NULL;
    if (at != NULL) {
        d->anchor_g = at->g;
        d->anchor_stream_bytes = at->bytes;
        d->anchor_bytes = d->bytes;
        d->anchor_connections = d->connections;
        d->anchor_nrng = d->nrng;
    }
    return 0;
}

/* The stream's progress for its anchored rows (a row per session). Inside a transaction. */
static int save_progress(struct lc_store *st, const struct lc_dlv_session *s,
                         const struct lc_dlv_mark *at, int64_t now_s)
{
    static const char sql[] =
        "INSERT OR REPLACE INTO delivery_progress (session, granule, bytes, programme_s, "
        "  updated_at) VALUES (?1, ?2, ?3, ?4, ?5)";
    sqlite3_stmt *q = lc_store_stmt(st, sql);
    if (q == NULL)
        return -EIO;
    sqlite3_bind_int64(q, 1, s->id);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)at->g);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)at->bytes);
    sqlite3_bind_double(q, 4, s->programme_s);
    sqlite3_bind_int64(q, 5, now_s);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : -EIO;
}

/* The session's stream ended: its rows were written whole; its progress row goes. */
static int end_progress(struct lc_store *st, int64_t session)
{
    sqlite3_stmt *q = lc_store_stmt(st, "DELETE FROM delivery_progress WHERE session = ?1");
    if (q == NULL)
        return -EIO;
    sqlite3_bind_int64(q, 1, session);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : -EIO;
}

void lc_delivery_batch(struct lc_store *st, const struct lc_dlv_session *s, struct lc_dlv *list,
                       const struct lc_dlv_mark *at, bool final, int64_t now_s)
{
    bool anchors = !final && at != NULL && at->g > 0, progress = false;
    for (struct lc_dlv *d = list; d; d = d->next) {
        if (anchors && in_step(s, d, at)) {
            d->dirty = false;
            progress = true;
            continue;
        }
        if (!d->dirty && !d->anchored && !final)
            continue;
        bool step = anchors && d->live && d->nrng > 0 && d->rng[d->nrng - 1].g1 == at->g;
        if (save_row(st, s, d, step ? at : NULL, now_s) == 0 && step)
            progress = true;
    }
    if (progress)
        save_progress(st, s, at, now_s);
    else if (final)
        end_progress(st, s->id);
}

void lc_delivery_batch_lost(struct lc_dlv *list)
{
    for (struct lc_dlv *d = list; d; d = d->next) {
        d->dirty = true;
        d->anchored = false;
        d->row = false;
        d->whole_saved = false;
    }
}

static int recover_tx(struct lc_store *st, void *arg)
{
    /* Every anchored row takes its values from the view (migration 31: the row plus the progress)
     * and loses its anchor. The IN term makes the planner start from the few sessions that were
     * on air (by the primary key's session prefix), not scan a year of rows. */
    static const char fold[] =
        "UPDATE deliveries SET audio_s = v.audio_s, programme_s = v.programme_s,"
        "  bytes = v.bytes, reached = v.reached, updated_at = v.updated_at,"
        "  anchor_g = NULL, anchor_bytes = NULL"
        " FROM deliveries_current v"
        " WHERE deliveries.session IN (SELECT session FROM delivery_progress)"
        "   AND deliveries.anchor_g IS NOT NULL"
        "   AND v.session = deliveries.session AND v.cluster = deliveries.cluster";
    (void)arg;
    if (lc_store_exec(st, fold) < 0 || lc_store_exec(st, "DELETE FROM delivery_progress") < 0)
        return -EIO;
    return 0;
}

int lc_delivery_recover(struct lc_store *st)
{
    return lc_store_tx(st, recover_tx, NULL) < 0 ? -EIO : 0;
}

int lc_delivery_seen(struct lc_store *st, const char *cluster, int64_t now_s)
{
    return lc_cluster_seen(st, cluster, now_s); /* the registry owns `clusters` */
}
