/*
 * server/stream/stream_map.h — a string-keyed hash map of pointers for the streaming engine (receivers by
 * cluster, delivery records by cluster, clusters seen since the last batch). Chained, power-of-two
 * buckets, grows at load 1. The map copies keys; values are not owned. Loop thread only.
 */
#ifndef LC_SERVER_STREAM_MAP_H
#define LC_SERVER_STREAM_MAP_H

#include <stddef.h>

struct lc_strmap_ent {
    struct lc_strmap_ent *next;
    void *val;
    char key[];
};

struct lc_strmap {
    struct lc_strmap_ent **b;
    size_t nb, n;
};

/* The value for key, or NULL. */
void *lc_strmap_get(const struct lc_strmap *m, const char *key);
/* Sets key → val (replacing). 0 or -ENOMEM. */
int lc_strmap_put(struct lc_strmap *m, const char *key, void *val);
/* Removes key if it maps to val (val NULL: whatever it maps to). */
void lc_strmap_del(struct lc_strmap *m, const char *key, const void *val);
/* Calls fn(key, val, arg) for each entry (the map must not change meanwhile). */
void lc_strmap_each(const struct lc_strmap *m, void (*fn)(const char *, void *, void *), void *arg);
void lc_strmap_clear(struct lc_strmap *m);

#endif
