/* server/lexicon/lexicon_internal.h — what lexicon.c and lexicon_api.c share. */
#ifndef LC_SERVER_LEXICON_INTERNAL_H
#define LC_SERVER_LEXICON_INTERNAL_H

#include <limits.h>
#include <stdint.h>

#include "server/lexicon/lexicon.h"

/* The most station entries (each write rebuilds the whole set on the loop: bounded). */
#define LC_STLEX_MAX_ENTRIES 5000

struct stlex_entry {
    char *word, *reading;   /* NFC, owned */
};

struct lc_stlex {
    struct lc_stlex_deps d;
    char tsv_path[PATH_MAX];
    struct lc_lexicon *base;        /* built-in + file: what a rebuild starts from (owned) */
    size_t base_size;
    struct stlex_entry *v;          /* the station entries, as in the table */
    size_t n, cap;
    uint64_t reloads;               /* re-reads in flight or done */
};

/* The table's rows into m->v (at open). 0 or -EIO. */
int lc_stlex_load_rows(struct lc_stlex *m);
/* Sets (reading != NULL) or removes word in m->v. 0 or -ENOMEM. */
int lc_stlex_cache_set(struct lc_stlex *m, const char *word, const char *reading);
/* base + m->v → the shared handle. 0 or -ENOMEM (the handle keeps its entries). */
int lc_stlex_install(struct lc_stlex *m, struct lc_err *err);

#endif
