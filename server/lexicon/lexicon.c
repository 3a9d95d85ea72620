/*
 * server/lexicon/lexicon.c — the station lexicon's state: the base (built-in + TSV file), the
 * station entries kept beside their table, and the install of base + entries into the server's
 * shared lexicon handle. See lexicon.h.
 *
 * A rebuild is a copy of the base's tables plus the station entries: memory only, bounded by
 * LC_STLEX_MAX_ENTRIES, done on the loop so that writes are applied in their order. Only the
 * TSV file's re-read (SIGHUP) is a file read: it runs on the render pool.
 */
#define LC_LOG_MODULE "lexicon"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codecs/normalize.h"
#include "common/log.h"
#include "common/workers.h"
#include "server/lexicon/lexicon_internal.h"
#include "server/store/store.h"

int lc_stlex_load_rows(struct lc_stlex *m)
{
    static const char sql[] = "SELECT word, reading FROM lexicon_entries ORDER BY word";
    sqlite3_stmt *st = lc_store_stmt(m->d.store, sql);
    if (st == NULL)
        return -EIO;
    int rc = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW)
        rc = lc_stlex_cache_set(m, lc_col_text(st, 0), lc_col_text(st, 1));
    if (lc_store_done(st) < 0 && rc == 0)
        rc = -EIO;
    return rc;
}

int lc_stlex_cache_set(struct lc_stlex *m, const char *word, const char *reading)
{
    for (size_t i = 0; i < m->n; i++) {
        if (strcmp(m->v[i].word, word) != 0)
            continue;
        if (reading == NULL) {
            free(m->v[i].word);
            free(m->v[i].reading);
            m->v[i] = m->v[--m->n];
            return 0;
        }
        char *r = strdup(reading);
        if (r == NULL)
            return -ENOMEM;
        free(m->v[i].reading);
        m->v[i].reading = r;
        return 0;
    }
    if (reading == NULL)
        return 0;
    if (m->n == m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 32;
        struct stlex_entry *v = realloc(m->v, ncap * sizeof *v);
        if (v == NULL)
            return -ENOMEM;
        m->v = v;
        m->cap = ncap;
    }
    struct stlex_entry e = {strdup(word), strdup(reading)};
    if (e.word == NULL || e.reading == NULL) {
        free(e.word);
        free(e.reading);
        return -ENOMEM;
    }
    m->v[m->n++] = e;
    return 0;
}

/* A copy of base with the station entries; NULL and err on failure. */
static struct lc_lexicon *build(const struct lc_lexicon *base, const struct stlex_entry *v,
                                size_t n, struct lc_err *err)
{
    struct lc_lexicon *fresh = NULL;
    if (lc_lexicon_clone(&fresh, base, err) < 0)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        /* a row that no longer passes the checks (they may tighten) is skipped, not fatal */
        struct lc_err e2 = {0};
        if (lc_lexicon_add(fresh, v[i].word, v[i].reading, &e2) == -ENOMEM) {
            lc_lexicon_free(fresh);
            lc_err_set(err, -ENOMEM, "out of memory");
            return NULL;
        }
        if (e2.code < 0)
            lc_log(LC_LOG_WARN, "station entry '%s' skipped: %s", v[i].word, lc_err_msg(&e2));
    }
    return fresh;
}

int lc_stlex_install(struct lc_stlex *m, struct lc_err *err)
{
    struct lc_lexicon *fresh = build(m->base, m->v, m->n, err);
    if (fresh == NULL)
        return err->code ? err->code : -ENOMEM;
    lc_lexicon_swap(m->d.lexicon, fresh);
    return 0;
}

int lc_stlex_open(struct lc_stlex **out, const struct lc_stlex_deps *deps, struct lc_err *err)
{
    struct lc_stlex *m = calloc(1, sizeof *m);
    int rc;
    *out = NULL;
    if (m == NULL)
        return lc_err_set(err, -ENOMEM, "out of memory");
    m->d = *deps;
    if (deps->tsv_path && snprintf(m->tsv_path, sizeof m->tsv_path, "%s", deps->tsv_path) >=
                              (int)sizeof m->tsv_path) {
        rc = lc_err_set(err, -ENAMETOOLONG, "lexicon path too long");
        goto fail;
    }
    m->d.tsv_path = m->tsv_path;
    /* before the loop runs: reading the file here is allowed (docs/architecture.md) */
    if ((rc = lc_lexicon_load(&m->base, m->tsv_path[0] ? m->tsv_path : NULL, err)) < 0)
        goto fail;
    m->base_size = lc_lexicon_size(m->base);
    if ((rc = lc_stlex_load_rows(m)) < 0) {
        lc_err_set(err, rc, "cannot read the station lexicon (lexicon_entries)");
        goto fail;
    }
    if ((rc = lc_stlex_install(m, err)) < 0)
        goto fail;
    lc_log(LC_LOG_INFO, "lexicon: %zu built-in%s%s entries, %zu station entries", m->base_size,
           m->tsv_path[0] ? " and " : "", m->tsv_path, m->n);
    *out = m;
    return 0;
fail:
    lc_stlex_free(m);
    return rc;
}

void lc_stlex_free(struct lc_stlex *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->v[i].word);
        free(m->v[i].reading);
    }
    free(m->v);
    lc_lexicon_free(m->base);
    free(m);
}

/* ---- SIGHUP: the file again ---- */
struct reload_job {
    struct lc_job job;      /* first */
    struct lc_stlex *m;
    char path[PATH_MAX];
    struct lc_lexicon *base;
    int rc;
    struct lc_err err;
};

static void reload_work(struct lc_job *job)
{
    struct reload_job *j = (struct reload_job *)(void *)job;
    j->rc = lc_lexicon_load(&j->base, j->path[0] ? j->path : NULL, &j->err);
}

static void reload_done(struct lc_job *job, int cancelled)
{
    struct reload_job *j = (struct reload_job *)(void *)job;
    struct lc_stlex *m = j->m;
    if (cancelled) {
        /* shutting down: nothing to install */
    } else if (j->rc < 0) {
        lc_log(LC_LOG_ERR, "lexicon: reload failed, the lexicon in use is kept: %s",
               lc_err_msg(&j->err));
    } else {
        struct lc_lexicon *old = m->base;
        struct lc_err err = {0};
        m->base = j->base;
        j->base = NULL;
        char was[PATH_MAX];
        snprintf(was, sizeof was, "%s", m->tsv_path);
        snprintf(m->tsv_path, sizeof m->tsv_path, "%s", j->path);
        if (lc_stlex_install(m, &err) < 0) {
            lc_log(LC_LOG_ERR, "lexicon: reload failed, the lexicon in use is kept: %s",
                   lc_err_msg(&err));
            j->base = m->base;
            m->base = old;
            snprintf(m->tsv_path, sizeof m->tsv_path, "%s", was);
        } else {
            lc_lexicon_free(old);
            m->base_size = lc_lexicon_size(m->base);
            lc_log(LC_LOG_INFO, "lexicon: reloaded: %zu built-in%s%s entries, %zu station entries",
                   m->base_size, m->tsv_path[0] ? " and " : "", m->tsv_path, m->n);
        }
    }
    lc_lexicon_free(j->base);
    free(j);
}

int lc_stlex_reload(struct lc_stlex *m, const char *tsv_path)
{
    if (m == NULL)
        return -EINVAL;
    const char *path = tsv_path ? tsv_path : m->tsv_path;
    if (strlen(path) >= PATH_MAX)
        return -ENAMETOOLONG;
    struct reload_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return -ENOMEM;
    j->m = m;
    snprintf(j->path, sizeof j->path, "%s", path);
    j->job.work = reload_work;
    j->job.done = reload_done;
    int rc = lc_workers_submit(m->d.render_pool, &j->job);
    if (rc < 0)
        free(j);
    return rc;
}
