/* server/stream/stream_map.c — see stream_map.h. */
#include "server/stream/stream_map.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (size_t)(h ^ (h >> 29));
}

void *lc_strmap_get(const struct lc_strmap *m, const char *key)
{
    if (m->nb == 0)
        return NULL;
    for (struct lc_strmap_ent *e = m->b[hash(key) & (m->nb - 1)]; e; e = e->next)
        if (strcmp(e->key, key) == 0)
            return e->val;
    return NULL;
}

static int grow(struct lc_strmap *m)
{
    size_t nb = m->nb ? m->nb * 2 : 64;
    struct lc_strmap_ent **b = calloc(nb, sizeof *b);
    if (b == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < m->nb; i++)
        for (struct lc_strmap_ent *e = m->b[i], *nx; e; e = nx) {
            nx = e->next;
            size_t k = hash(e->key) & (nb - 1);
            e->next = b[k];
            b[k] = e;
        }
    free(m->b);
    m->b = b;
    m->nb = nb;
    return 0;
}

int lc_strmap_put(struct lc_strmap *m, const char *key, void *val)
{
    if (m->nb > 0)
        for (struct lc_strmap_ent *e = m->b[hash(key) & (m->nb - 1)]; e; e = e->next)
            if (strcmp(e->key, key) == 0) {
                e->val = val;
                return 0;
            }
    if (m->n >= m->nb && grow(m) < 0)
        return -ENOMEM;
    size_t kl = strlen(key);
    struct lc_strmap_ent *e = malloc(sizeof *e + kl + 1);
    if (e == NULL)
        return -ENOMEM;
    memcpy(e->key, key, kl + 1);
    e->val = val;
    size_t k = hash(key) & (m->nb - 1);
    e->next = m->b[k];
    m->b[k] = e;
    m->n++;
    return 0;
}

void lc_strmap_del(struct lc_strmap *m, const char *key, const void *val)
{
    if (m->nb == 0)
        return;
    for (struct lc_strmap_ent **pp = &m->b[hash(key) & (m->nb - 1)]; *pp; pp = &(*pp)->next) {
        struct lc_strmap_ent *e = *pp;
        if (strcmp(e->key, key) == 0) {
            if (val != NULL && e->val != val)
                return;
            *pp = e->next;
            free(e);
            m->n--;
            return;
        }
    }
}

void lc_strmap_each(const struct lc_strmap *m, void (*fn)(const char *, void *, void *), void *arg)
{
    for (size_t i = 0; i < m->nb; i++)
        for (struct lc_strmap_ent *e = m->b[i]; e; e = e->next)
            fn(e->key, e->val, arg);
}

void lc_strmap_clear(struct lc_strmap *m)
{
    for (size_t i = 0; i < m->nb; i++)
        for (struct lc_strmap_ent *e = m->b[i], *nx; e; e = nx) {
            nx = e->next;
            free(e);
        }
    free(m->b);
    m->b = NULL;
    m->nb = m->n = 0;
}
