/* server/store/store.c — SQLite open, pragmas, migrations and the statement cache; see store.h. */
#define LC_LOG_MODULE "store"
#include "common/log.h"
#include "server/store/store.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CACHE_MAX 256

struct cached {
    const char *sql;
    sqlite3_stmt *st;
};

struct lc_store {
    sqlite3 *db;
    struct cached cache[CACHE_MAX];
    int ncache;
};

static int pragma_int(sqlite3 *db, const char *sql, int *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        *out = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_OK) {
        rc = SQLITE_ERROR;
    }
    sqlite3_finalize(st);
    return rc;
}

static int migrate(sqlite3 *db, struct lc_err *err)
{
    int version = 0;
    if (pragma_int(db, "PRAGMA user_version", &version) != SQLITE_OK)
        return lc_err_set(err, -EIO, "database: cannot read schema version: %s", sqlite3_errmsg(db));
    int newest = lc_migrations[lc_migrations_count - 1].version;
    if (version > newest)
        return lc_err_set(err, -EPROTO,
                          "database schema version %d is newer than this loacast knows (%d)",
                          version, newest);
    for (int i = 0; i < lc_migrations_count; i++) {
        const struct lc_migration *m = &lc_migrations[i];
        if (m->version <= version)
            continue;
        char *msg = NULL;
        char setv[64];
        snprintf(setv, sizeof setv, "PRAGMA user_version = %d", m->version);
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, m->sql, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, setv, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
            lc_err_set(err, -EIO, "database: migration %d (%s) failed: %s", m->version, m->name,
                       msg ? msg : sqlite3_errmsg(db));
            sqlite3_free(msg);
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return -EIO;
        }
    }
    return 0;
}

/* PRAGMA quick_check: "ok", or the first problem it names. 0, or -EIO with the message in err. */
static int check_pages(sqlite3 *db, const char *path, struct lc_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        lc_err_set(err, -EIO, "%s: the database cannot be checked: %s; restore it from a backup",
                   path, sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return -EIO;
    }
    const char *res = (const char *)sqlite3_column_text(st, 0);
    if (res == NULL || strcmp(res, "ok") != 0) {
        lc_err_set(err, -EIO, "%s: the database is damaged (%.200s); restore it from a backup",
                   path, res ? res : "?");
        sqlite3_finalize(st);
        return -EIO;
    }
    sqlite3_finalize(st);
    return 0;
}

static atomic_bool corrupt_seen;

/* SQLite's error log (SQLITE_CONFIG_LOG): every failure of any connection passes here, so that a
 * corrupt page is noticed wherever a statement met it. */
static void on_sqlite_log(void *arg, int code, const char *msg)
{
    (void)arg;
    int primary = code & 0xff;
    if (primary != SQLITE_CORRUPT && primary != SQLITE_NOTADB)
        return;
    if (!atomic_exchange(&corrupt_seen, true))
        lc_log(LC_LOG_ERR, "THE DATABASE IS CORRUPT (%s): requests that read the damaged pages "
               "fail; stop loacast and restore loacast.db from a backup (docs/server.md)", msg);
}

bool lc_store_corrupt(void)
{
    return atomic_load(&corrupt_seen);
}

int lc_store_done(sqlite3_stmt *st)
{
    int rc = sqlite3_reset(st);
    if (rc == SQLITE_OK)
        return 0;
    lc_log(LC_LOG_ERR, "a read failed: %s (%s)", sqlite3_errstr(rc), sqlite3_sql(st));
    return -EIO;
}

void lc_store_bind_scope(sqlite3_stmt *st, int64_t node)
{
    /* ?99: LC_SCOPE of server/org/org.h (the store knows the number, not the tree) */
    if (sqlite3_bind_parameter_count(st) >= 99)
        sqlite3_bind_int64(st, 99, node);
}

static void config_log_once(void)
{
    /* Before any connection exists (sqlite3_config must precede sqlite3_initialize). */
    sqlite3_config(SQLITE_CONFIG_LOG, on_sqlite_log, NULL);
}

int lc_store_open(struct lc_store **out, const char *path, struct lc_err *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, config_log_once);
    /* An empty file is not a database: SQLite would make a fresh one of it, and a station whose
     * disk lost the file's content would start as a new install with no error. The operator who
     * wants a fresh install removes the file. */
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size == 0)
        return lc_err_set(err, -EIO, "%s: the database file is empty; not starting a fresh install"
                          " over it (remove the file to start anew)", path);
    struct lc_store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return lc_err_set(err, -ENOMEM, "out of memory");
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                             SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        lc_err_set(err, -EIO, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "cannot open");
        goto fail;
    }
    sqlite3_busy_timeout(s->db, 5000);
    char *msg = NULL;
    if (sqlite3_exec(s->db,
                     "PRAGMA journal_mode = WAL;"
                     "PRAGMA synchronous = FULL;"
                     "PRAGMA foreign_keys = ON;"
                     "PRAGMA temp_store = MEMORY;",
                     NULL, NULL, &msg) != SQLITE_OK) {
        lc_err_set(err, -EIO, "%s: %s", path, msg ? msg : "cannot set pragmas");
        sqlite3_free(msg);
        goto fail;
    }
    if (check_pages(s->db, path, err) < 0 || migrate(s->db, err) < 0)
        goto fail;
    *out = s;
    return 0;
fail:
    sqlite3_close(s->db);
    free(s);
    return err && err->code ? err->code : -EIO;
}

int lc_store_open_reader(struct lc_store *main, struct lc_store **out)
{
    const char *path = sqlite3_db_filename(main->db, "main");
    struct lc_store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    /* WAL: this reader sees the last commit when each read begins, and never blocks the writer */
    int rc = sqlite3_open_v2(path ? path : "", &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        lc_log(LC_LOG_ERR, "%s: a reader: %s", path ? path : "?",
               s->db ? sqlite3_errmsg(s->db) : "cannot open");
        sqlite3_close(s->db);
        free(s);
        return -EIO;
    }
    sqlite3_busy_timeout(s->db, 5000);
    sqlite3_exec(s->db, "PRAGMA temp_store = MEMORY;", NULL, NULL, NULL);
    *out = s;
    return 0;
}

void lc_store_close(struct lc_store *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < s->ncache; i++)
        sqlite3_finalize(s->cache[i].st);
    sqlite3_close(s->db);
    free(s);
}

sqlite3 *lc_store_db(struct lc_store *s)
{
    return s->db;
}

int lc_store_version(struct lc_store *s)
{
    int v = 0;
    pragma_int(s->db, "PRAGMA user_version", &v);
    return v;
}

sqlite3_stmt *lc_store_stmt(struct lc_store *s, const char *sql)
{
    for (int i = 0; i < s->ncache; i++) {
        if (s->cache[i].sql == sql) {
            sqlite3_reset(s->cache[i].st);
            sqlite3_clear_bindings(s->cache[i].st);
            return s->cache[i].st;
        }
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        lc_log(LC_LOG_ERR, "cannot prepare \"%s\": %s", sql, sqlite3_errmsg(s->db));
        return NULL;
    }
    if (s->ncache < CACHE_MAX)
        s->cache[s->ncache++] = (struct cached){sql, st};
    else
        lc_log(LC_LOG_WARN, "statement cache full");
    return st;
}

int lc_store_exec(struct lc_store *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        lc_log(LC_LOG_ERR, "%s: %s", sql, msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return -EIO;
    }
    return 0;
}

int lc_store_begin(struct lc_store *s)
{
    return lc_store_exec(s, "BEGIN IMMEDIATE");
}

int lc_store_commit(struct lc_store *s)
{
    return lc_store_exec(s, "COMMIT");
}

void lc_store_rollback(struct lc_store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int lc_store_tx(struct lc_store *s, lc_store_tx_fn fn, void *arg)
{
    if (lc_store_begin(s) < 0)
        return -EIO;
    int rc = fn(s, arg);
    if (rc >= 0 && lc_store_commit(s) < 0)
        rc = -EIO;
    if (rc < 0)
        lc_store_rollback(s);
    return rc;
}

int lc_store_prune(struct lc_store *s, const char *sql, int64_t cutoff, int batch)
{
    sqlite3_stmt *st = lc_store_stmt(s, sql);
    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, cutoff);
    sqlite3_bind_int(st, 2, batch);
    int rc = sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(s->db) : -EIO;
    sqlite3_reset(st);
    return rc;
}

int lc_store_changes(struct lc_store *s)
{
    return sqlite3_changes(s->db);
}

int64_t lc_store_last_id(struct lc_store *s)
{
    return sqlite3_last_insert_rowid(s->db);
}

const char *lc_col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

int lc_col_is_null(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL;
}
