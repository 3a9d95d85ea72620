/*
 * server/scheduler/programme_data.c — slots, sessions and candidate bulletins from the database, and
 * programmes built from them with schedules/programme.h; see scheduler_internal.h.
 *
 * Ownership: lists (struct lc_bsessions, struct lc_cands) own their strings and JSON; the free
 * functions release them and leave the list empty. Loop thread only (the store's statements).
 */
#define LC_LOG_MODULE "schedules"
#include "server/scheduler/scheduler_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <http_parser.h>

#include "server/api/api.h"
#include "server/bulletins/bulletins.h"
#include "common/log.h"
#include "server/store/store.h"

int64_t lc_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct lc_tz lc_station_tz(void)
{
    return lc_tz_system();
}

sqlite3_stmt *lc_sched_stmt(struct lc_store *store, const char *sql, const char *commune)
{
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st != NULL)
        sqlite3_bind_text(st, 1, commune, -1, SQLITE_TRANSIENT);
    return st;
}

int lc_relay_url_check(const char *url, char *why, size_t whylen)
{
    struct http_parser_url u;
    size_t len = strlen(url);
    if (len == 0 || len >= LC_RELAY_URL_MAX) {
        snprintf(why, whylen, "relay must be the URL of an upstream stream (1..%d bytes)",
                 LC_RELAY_URL_MAX - 1);
        return -1;
    }
    if (strncmp(url, LC_CARRY_PREFIX, strlen(LC_CARRY_PREFIX)) == 0) {
        if (!lc_slug_ok(url + strlen(LC_CARRY_PREFIX))) {
            snprintf(why, whylen, "relay '%.80s': after loacast: comes the id of the commune whose "
                     "programme is carried", url);
            return -1;
        }
        return 0;   /* which commune, lc_carry_check() */
    }
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f) {
            snprintf(why, whylen, "relay: a URL has no spaces or control characters");
            return -1;
        }
    }
    http_parser_url_init(&u);
    if (http_parser_parse_url(url, len, 0, &u) != 0 || !(u.field_set & (1 << UF_SCHEMA)) ||
        !(u.field_set & (1 << UF_HOST)) ||
        !((u.field_data[UF_SCHEMA].len == 4 && strncasecmp(url, "http", 4) == 0) ||
          (u.field_data[UF_SCHEMA].len == 5 && strncasecmp(url, "https", 5) == 0))) {
        snprintf(why, whylen, "relay '%.80s' is not an http:// or https:// URL", url);
        return -1;
    }
    return 0;
}

int lc_carry_check(struct lc_store *store, const char *commune, const char *relay, char *why,
                   size_t whylen)
{
    /* the channel is in service and its node is the carrier's node or one above it */
    static const char sql[] =
        "SELECT EXISTS (SELECT 1 FROM communes WHERE id = ?2 AND retired_at IS NULL),"
        " ?2 IN (SELECT id FROM communes WHERE retired_at IS NULL AND node IN"
        "  (WITH RECURSIVE up(id) AS (SELECT node FROM communes WHERE id = ?1"
        "   UNION ALL SELECT n.parent FROM nodes n JOIN up ON n.id = up.id"
        "   WHERE n.parent IS NOT NULL) SELECT id FROM up))";
    size_t k = strlen(LC_CARRY_PREFIX);
    if (relay == NULL || relay[0] == '\0' || strncmp(relay, LC_CARRY_PREFIX, k) != 0)
        return 0;
    const char *channel = relay + k;
    if (strcmp(channel, commune) == 0) {
        snprintf(why, whylen, "relay %s: a commune cannot carry its own programme", relay);
        return -1;
    }
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_text(st, 1, commune, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, channel, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    bool exists = step == SQLITE_ROW && sqlite3_column_int(st, 0);
    bool above = step == SQLITE_ROW && sqlite3_column_int(st, 1);
    if (lc_store_done(st) < 0 || step != SQLITE_ROW)
        return -EIO;
    if (!exists || !above) {
        /* one the caller may not see is named as one that does not exist */
        snprintf(why, whylen, "relay %s: no commune '%.64s' at the commune's node or above it "
                 "(a commune carries the programme of a producer above it)", relay, channel);
        return -1;
    }
    return 0;
}

/* ---- slots ---------------------------------------------------------------------------------- */

int lc_slots_load(struct lc_store *store, const char *commune, struct lc_slot *out, size_t *n,
                  char (*relay)[LC_RELAY_URL_MAX])
{
    static const char sql[] = "SELECT start_s, minutes, days, coalesce(relay, '') FROM slots"
                              " WHERE commune = ? ORDER BY position";
    sqlite3_stmt *st = lc_sched_stmt(store, sql, commune);
    if (st == NULL)
        return -EIO;
    int step;
    *n = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW && *n < LC_SLOTS_MAX) {
        if (relay)
            snprintf(relay[*n], LC_RELAY_URL_MAX, "%s", lc_col_text(st, 3));
        out[(*n)++] = (struct lc_slot){sqlite3_column_int(st, 0), sqlite3_column_int(st, 1),
                                       (unsigned)sqlite3_column_int(st, 2)};
    }
    sqlite3_reset(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : -EIO;
}

/* ---- sessions ------------------------------------------------------------------------------- */

void lc_bsessions_free(struct lc_bsessions *l)
{
    for (size_t i = 0; i < l->n; i++)
        json_decref(l->v[i].programme);
    free(l->v);
    *l = (struct lc_bsessions){0};
}

static struct lc_bsession *push(struct lc_bsessions *l)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        struct lc_bsession *v = realloc(l->v, cap * sizeof *v);
        if (v == NULL)
            return NULL;
        l->v = v;
        l->cap = cap;
    }
    struct lc_bsession *s = &l->v[l->n++];
    memset(s, 0, sizeof *s);
    return s;
}

#define ROW_COLUMNS \
    "id, kind, start_at, end_at, status, coalesce(aired_at_ms, 0), coalesce(ended_at_ms, 0)," \
    " coalesce(host, 0), programme, coalesce(relay, ''), coalesce(rule_broken, '')"

static void row_read(sqlite3_stmt *st, struct lc_bsession *s)
{
    s->id = sqlite3_column_int64(st, 0);
    snprintf(s->kind, sizeof s->kind, "%s", lc_col_text(st, 1));
    s->start = sqlite3_column_int64(st, 2);
    s->end = sqlite3_column_int64(st, 3);
    snprintf(s->status, sizeof s->status, "%s", lc_col_text(st, 4));
    s->aired_at_ms = sqlite3_column_int64(st, 5);
    s->ended_at_ms = sqlite3_column_int64(st, 6);
    s->host = sqlite3_column_int64(st, 7);
    s->programme = NULL;
    if (!lc_col_is_null(st, 8)) {
        const char *text = lc_col_text(st, 8);
        s->programme = json_loads(text, 0, NULL);
    }
    snprintf(s->relay, sizeof s->relay, "%s", lc_col_text(st, 9));
    snprintf(s->rule_broken, sizeof s->rule_broken, "%s", lc_col_text(st, 10));
}

int lc_bsession_load(struct lc_store *store, int64_t id, struct lc_bsession *out)
{
    static const char sql[] = "SELECT " ROW_COLUMNS " FROM broadcasts WHERE id = ?";
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        row_read(st, out);
    sqlite3_reset(st);
    return step == SQLITE_ROW ? 0 : step == SQLITE_DONE ? -ENOENT : -EIO;
}

static int by_start(const void *a, const void *b)
{
    const struct lc_bsession *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

int lc_sessions_of_day(struct lc_store *store, const char *commune, struct lc_date d,
                       struct lc_bsessions *out)
{
    static const char sql[] = "SELECT " ROW_COLUMNS " FROM broadcasts"
                              " WHERE commune = ? AND start_at >= ? AND start_at < ?"
                              " ORDER BY start_at, id";
    struct lc_tz tz = lc_station_tz();
    int64_t day0 = lc_local_to_unix(&tz, d, 0), day1 = lc_local_to_unix(&tz, d, 86400);
    size_t first = out->n;
    sqlite3_stmt *st = lc_sched_stmt(store, sql, commune);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 2, day0);
    sqlite3_bind_int64(st, 3, day1);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct lc_bsession *s = push(out);
        if (s == NULL) {
            sqlite3_reset(st);
            return -ENOMEM;
        }
        row_read(st, s);
    }
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return -EIO;
    size_t nrows = out->n;
    struct lc_slot slots[LC_SLOTS_MAX];
    struct lc_window w[LC_SLOTS_MAX];
    char relay[LC_SLOTS_MAX][LC_RELAY_URL_MAX];
    struct lc_rules rules;
    size_t nslots;
    int rc = lc_slots_load(store, commune, slots, &nslots, relay);
    if (rc == 0)
        rc = lc_rules_load(store, commune, &rules, NULL);
    if (rc < 0)
        return rc;
    /* the builder never runs a session past the longest the rules allow (issue 18) */
    for (size_t i = first; i < nrows; i++) {
        struct lc_bsession *x = &out->v[i];
        if (x->programme == NULL && strcmp(x->kind, "emergency") != 0 &&
            strcmp(x->status, "scheduled") == 0)
            x->end = lc_rules_cap_end(&rules, x->start, x->end);
    }
    size_t nw = lc_rules_holiday(&rules, d) ? 0 : lc_slots_expand(slots, nslots, d, &tz, w);
    for (size_t i = 0; i < nw; i++) {
        bool skip = false;
        for (size_t j = first; j < nrows && !skip; j++) {
            const struct lc_bsession *r = &out->v[j];
            if (strcmp(r->kind, "slot") == 0 && r->start == w[i].start)
                skip = true;
            else if (strcmp(r->kind, "adhoc") == 0 &&
                     lc_windows_overlap(r->start, r->end, w[i].start, w[i].end))
                skip = true;
        }
        if (skip)
            continue;
        struct lc_bsession *s = push(out);
        if (s == NULL)
            return -ENOMEM;
        snprintf(s->kind, sizeof s->kind, "slot");
        snprintf(s->status, sizeof s->status, "scheduled");
        s->start = w[i].start;
        s->end = lc_rules_cap_end(&rules, w[i].start, w[i].end);
        snprintf(s->relay, sizeof s->relay, "%s", relay[w[i].slot]);
    }
    if (out->n > first)
        qsort(out->v + first, out->n - first, sizeof *out->v, by_start);
    return 0;
}

/* ---- candidates and programmes -------------------------------------------------------------- */

void lc_cands_free(struct lc_cands *cs)
{
    for (size_t i = 0; i < cs->n; i++) {
        free(cs->title[i]);
        free(cs->audio[i]);
    }
    free(cs->c);
    free(cs->title);
    free(cs->audio);
    *cs = (struct lc_cands){0};
}

int lc_cands_load(struct lc_store *store, const char *commune, struct lc_cands *out)
{
    static const char sql[] =
        "SELECT b.id, b.title, b.priority,"
        " coalesce((SELECT seq FROM approval_order o WHERE o.bulletin = b.id), 1000000000 + b.id),"
        " coalesce(b.duration_s, 0), b.repeat, coalesce(a.aired, 0), coalesce(b.not_before, 0),"
        " coalesce(b.expires, 0), b.audio_hash"
        " FROM bulletins b LEFT JOIN bulletin_airings a ON a.bulletin = b.id AND a.commune = ?1"
        /* `all` reaches the communes below the bulletin's node: its node is one of the
         * commune's node's ancestors (or that node itself) */
        " WHERE b.status = 'approved' AND b.audio_hash IS NOT NULL AND ((b.all_communes = 1"
        "  AND b.node IN (WITH RECURSIVE up(id) AS (SELECT node FROM communes WHERE id = ?1"
        "   UNION ALL SELECT n.parent FROM nodes n JOIN up ON n.id = up.id"
        "   WHERE n.parent IS NOT NULL) SELECT id FROM up)) OR"
        "  EXISTS (SELECT 1 FROM bulletin_communes bc WHERE bc.bulletin = b.id"
        "          AND bc.commune = ?1))"
        " ORDER BY b.id";
    *out = (struct lc_cands){0};
    size_t cap = 0;
    sqlite3_stmt *st = lc_sched_stmt(store, sql, commune);
    if (st == NULL)
        return -EIO;
    int step, rc = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->n == cap) {
            cap = cap ? cap * 2 : 16;
            struct lc_candidate *c = realloc(out->c, cap * sizeof *c);
            if (c)
                out->c = c;
            char **t = realloc(out->title, cap * sizeof *t);
            if (t)
                out->title = t;
            char **a = realloc(out->audio, cap * sizeof *a);
            if (a)
                out->audio = a;
            if (c == NULL || t == NULL || a == NULL) {
                rc = -ENOMEM;
                break;
            }
        }
        size_t i = out->n;
        int prio = lc_priority_parse(lc_col_text(st, 2));
        out->c[i] = (struct lc_candidate){
            .id = sqlite3_column_int64(st, 0), .approved = true,
            .priority = prio < 0 ? LC_PRIO_NORMAL : prio,
            .approval_seq = sqlite3_column_int64(st, 3),
            .duration_ms = (int64_t)(sqlite3_column_double(st, 4) * 1000.0 + 0.5),
            .repeat = sqlite3_column_int(st, 5), .aired = sqlite3_column_int(st, 6),
            .not_before = sqlite3_column_int64(st, 7), .expires = sqlite3_column_int64(st, 8),
            .all_communes = true,   /* the query kept only the commune's bulletins */
        };
        out->title[i] = strdup(lc_col_text(st, 1));
        size_t hl = strlen(lc_col_text(st, 9));
        out->audio[i] = malloc(hl + sizeof ".opus");
        if (out->audio[i]) {
            memcpy(out->audio[i], lc_col_text(st, 9), hl);
            memcpy(out->audio[i] + hl, ".opus", sizeof ".opus");
        }
        out->n++;
        if (out->title[i] == NULL || out->audio[i] == NULL) {
            rc = -ENOMEM;
            break;
        }
    }
    sqlite3_reset(st);
    if (rc == 0 && step != SQLITE_DONE)
        rc = -EIO;
    if (rc < 0)
        lc_cands_free(out);
    return rc;
}

json_t *lc_programme_make(struct lc_cands *cs, int gap_ms, const char *commune, int64_t start,
                          int64_t end, bool count)
{
    struct lc_prog_item *items = calloc(cs->n + 1, sizeof *items);
    size_t *nf = calloc(cs->n + 1, sizeof *nf);
    json_t *out = NULL;
    if (items == NULL || nf == NULL)
        goto out;
    struct lc_session_in in = {commune, start, end, gap_ms};
    struct lc_programme p = {.items = items, .not_fitting = nf};
    if (lc_programme_build(&in, cs->c, cs->n, &p) < 0)
        goto out;
    json_t *ji = json_array(), *jn = json_array();
    for (size_t k = 0; k < p.nitems; k++) {
        size_t i = items[k].cand;
        json_array_append_new(ji, json_pack("{s:I,s:s,s:s,s:I,s:I}", "bulletin",
                                            (json_int_t)items[k].bulletin, "title", cs->title[i],
                                            "audio", cs->audio[i], "offset_ms",
                                            (json_int_t)items[k].offset_ms, "duration_ms",
                                            (json_int_t)items[k].duration_ms));
    }
    for (size_t k = 0; k < p.nnot; k++) {
        size_t i = nf[k];
        json_array_append_new(jn, json_pack("{s:I,s:s,s:I}", "bulletin", (json_int_t)cs->c[i].id,
                                            "title", cs->title[i], "duration_ms",
                                            (json_int_t)cs->c[i].duration_ms));
    }
    out = json_pack("{s:o,s:o,s:I}", "items", ji, "not_fitting", jn, "length_ms",
                    (json_int_t)p.length_ms);
    if (count)
        lc_programme_count(cs->c, &p);
out:
    free(items);
    free(nf);
    return out;
}

json_t *lc_programme_build_for(struct lc_store *store, int gap_ms, const char *commune,
                               const struct lc_bsession *x)
{
    struct lc_cands cs;
    if (lc_cands_load(store, commune, &cs) < 0)
        return NULL;
    json_t *p = lc_sched_programme(&cs, gap_ms, commune, x, false);
    lc_cands_free(&cs);
    return p;
}

json_t *lc_sched_programme(struct lc_cands *cs, int gap_ms, const char *commune,
                           const struct lc_bsession *x, bool count)
{
    if (x->relay[0] == '\0')
        return lc_programme_make(cs, gap_ms, commune, x->start, x->end, count);
    json_int_t len = (json_int_t)(x->end - x->start) * 1000;
    json_t *item = json_pack("{s:i,s:s,s:s,s:i,s:I}", "bulletin", 0, "title", "Tiếp sóng",
                             "relay", x->relay, "offset_ms", 0, "duration_ms", len);
    return json_pack("{s:[o],s:[],s:I}", "items", item, "not_fitting", "length_ms", len);
}

int lc_programme_single(struct lc_store *store, int64_t bulletin, json_t **prog)
{
    static const char sql[] = "SELECT title, coalesce(duration_s, 0), audio_hash FROM bulletins"
                              " WHERE id = ? AND audio_hash IS NOT NULL";
    *prog = NULL;
    sqlite3_stmt *st = lc_store_stmt(store, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, bulletin);
    json_t *out = NULL;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        char audio[LC_AUDIO_HASH_LEN + 8];
        snprintf(audio, sizeof audio, "%s.opus", lc_col_text(st, 2));
        json_int_t dur = (json_int_t)(sqlite3_column_double(st, 1) * 1000.0 + 0.5);
        json_t *item = json_pack("{s:I,s:s,s:s,s:I,s:I}", "bulletin", (json_int_t)bulletin,
                                 "title", lc_col_text(st, 0), "audio", audio, "offset_ms",
                                 (json_int_t)0, "duration_ms", dur);
        out = json_pack("{s:[o],s:[],s:I}", "items", item, "not_fitting", "length_ms", dur);
    }
    if (lc_store_done(st) < 0 || (step != SQLITE_ROW && step != SQLITE_DONE)) {
        json_decref(out);
        return -EIO;
    }
    if (step == SQLITE_DONE)
        return -ENOENT;
    *prog = out;
    return out != NULL ? 0 : -ENOMEM;
}

/* ---- API form ------------------------------------------------------------------------------- */

json_t *lc_bsession_json(const struct lc_bsession *s, json_t *programme)
{
    json_t *items = json_array(), *nf = json_array(), *it;
    size_t i;
    json_array_foreach(json_object_get(programme, "items"), i, it) {
        json_t *o = json_pack("{s:O,s:O,s:f,s:f}", "bulletin", json_object_get(it, "bulletin"),
                              "title", json_object_get(it, "title"), "offset_s",
                              json_integer_value(json_object_get(it, "offset_ms")) / 1000.0,
                              "duration_s",
                              json_integer_value(json_object_get(it, "duration_ms")) / 1000.0);
        if (o && json_object_get(it, "relay"))
            json_object_set(o, "relay", json_object_get(it, "relay"));
        json_array_append_new(items, o);
    }
    json_array_foreach(json_object_get(programme, "not_fitting"), i, it) {
        json_array_append_new(
            nf, json_pack("{s:O,s:O,s:f}", "bulletin", json_object_get(it, "bulletin"), "title",
                          json_object_get(it, "title"), "duration_s",
                          json_integer_value(json_object_get(it, "duration_ms")) / 1000.0));
    }
    json_t *o = json_pack(
        "{s:o,s:s,s:o,s:o,s:f,s:s,s:b,s:f,s:o,s:o,s:I}", "id",
        s->id ? json_integer(s->id) : json_null(), "kind", s->kind, "start",
        lc_time_json(s->start), "end", lc_time_json(s->end), "minutes", (s->end - s->start) / 60.0,
        "status", s->status, "frozen", s->programme != NULL, "length_s",
        json_integer_value(json_object_get(programme, "length_ms")) / 1000.0, "items", items,
        "not_fitting", nf, "start_ms", (json_int_t)s->start * 1000);
    if (o == NULL)
        return NULL;
    if (s->aired_at_ms) {
        json_object_set_new(o, "aired_at", lc_time_ms_json(s->aired_at_ms));
        json_object_set_new(o, "aired_at_ms", json_integer(s->aired_at_ms));
        json_object_set_new(o, "late_ms", json_integer(s->aired_at_ms - s->start * 1000));
    } else {
        json_object_set_new(o, "aired_at", json_null());
        json_object_set_new(o, "aired_at_ms", json_null());
        json_object_set_new(o, "late_ms", json_null());
    }
    json_object_set_new(o, "ended_at_ms", s->ended_at_ms ? json_integer(s->ended_at_ms) : json_null());
    if (s->host)
        json_object_set_new(o, "interrupting", json_integer(s->host));
    if (s->relay[0])
        json_object_set_new(o, "relay", json_string(s->relay));
    if (s->rule_broken[0])
        json_object_set_new(o, "rule_broken", json_string(s->rule_broken));
    return o;
}
