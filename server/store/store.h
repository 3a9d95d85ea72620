/*
 * server/store/store.h — the SQLite database: opening, schema migrations, cached statements.
 *
 * One connection, used only on the loop thread (workers never touch the database; they hand
 * results back to the loop). Opened in WAL mode with synchronous=FULL, so a transaction that
 * committed before a 2xx answer survives kill -9 and power loss; foreign keys are on.
 *
 * The schema is versioned: migrations.c holds an ordered list; at open, every migration newer
 * than the database's user_version runs in its own transaction, which also sets user_version.
 * Later issues append migrations; a migration that has shipped is never edited.
 */
#ifndef LC_SERVER_STORE_H
#define LC_SERVER_STORE_H

#include <stdint.h>

#include <stdbool.h>

#include <sqlite3.h>

#include "common/err.h"

struct lc_migration {
    int version;            /* 1, 2, 3, ... in order */
    const char *name;
    const char *sql;        /* one or more statements */
};

extern const struct lc_migration lc_migrations[];
extern const int lc_migrations_count;

struct lc_store;

/* Opens (creating) the database at path, checks it (PRAGMA quick_check: a damaged database stops
 * the start with a message) and migrates it. A zero-length file is refused, not made a fresh
 * database. */
int lc_store_open(struct lc_store **out, const char *path, struct lc_err *err);
void lc_store_close(struct lc_store *s);
/* A second connection to main's database file, read-only, with its own statement cache: for
 * long reads on a worker thread (the reports), which then never hold the loop. Used by one thread
 * at a time; closed with lc_store_close(). 0, -ENOMEM or -EIO (logged). */
int lc_store_open_reader(struct lc_store *main, struct lc_store **out);
sqlite3 *lc_store_db(struct lc_store *s);
int lc_store_version(struct lc_store *s);

/* A prepared statement for sql, which must be a string with static storage (the cache is keyed by
 * its address). The statement is reset and its bindings cleared; it belongs to the store — do not
 * finalize it. NULL on a preparation error (logged). */
sqlite3_stmt *lc_store_stmt(struct lc_store *s, const char *sql);

/* Binds parameter ?99 of st (LC_SCOPE in server/org/org.h, which builds the SQL that reads it),
 * if it has one, to node: the caller's organisation node; 0 means no scope, everything. A
 * statement with it left unbound matches nothing: scoping fails closed. */
void lc_store_bind_scope(sqlite3_stmt *st, int64_t node);

/* Runs sql (no results). 0 or -EIO (logged). */
int lc_store_exec(struct lc_store *s, const char *sql);
int lc_store_begin(struct lc_store *s);
int lc_store_commit(struct lc_store *s);
void lc_store_rollback(struct lc_store *s);

/* One transaction: BEGIN IMMEDIATE, fn(s, arg), then COMMIT when fn returned >= 0, ROLLBACK when
 * it returned < 0 or the commit failed. Returns fn's value, or -EIO when BEGIN or COMMIT failed
 * (the database is then as it was). Not nestable. */
typedef int (*lc_store_tx_fn)(struct lc_store *s, void *arg);
int lc_store_tx(struct lc_store *s, lc_store_tx_fn fn, void *arg);

/* Number of rows the last statement changed; rowid of the last insert. */
int lc_store_changes(struct lc_store *s);

/* Retention: runs sql, a DELETE of at most ?2 rows older than ?1, with cutoff and batch bound.
 * Returns the rows deleted, or -EIO. */
int lc_store_prune(struct lc_store *s, const char *sql, int64_t cutoff, int batch);
int64_t lc_store_last_id(struct lc_store *s);

/* The end of a read: resets st and tells whether its steps ended well (every row read, or the
 * ones wanted) or failed (I/O, corruption: never to be taken for "no more rows"). 0, or -EIO.
 * Use it instead of sqlite3_reset() after stepping a SELECT. */
int lc_store_done(sqlite3_stmt *st);

/* True once SQLite reported the database corrupt (SQLITE_CORRUPT, SQLITE_NOTADB) in this
 * process: logged once, loudly; /healthz then answers 503 and /metrics says
 * loacast_store_corrupt 1. The server goes on (what is on air keeps playing from its files);
 * requests that touch the damaged pages answer 500. */
bool lc_store_corrupt(void);

/* Text of column i (never NULL: "" for NULL) and NULL-aware helpers. */
const char *lc_col_text(sqlite3_stmt *st, int i);
int lc_col_is_null(sqlite3_stmt *st, int i);

/* The audio files stored by content hash: this header is the door of server/store/. */
#include "server/store/audiostore.h"

#endif
