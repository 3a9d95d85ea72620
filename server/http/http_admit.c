/* server/http/http_admit.c — connection admission by kind and address; see http_admit.h. */
#include "server/http/http_admit.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lc_admit_addr {
    struct lc_admit_addr *next;
    int anonymous, probation;
    char addr[64];
};

void lc_admit_init(struct lc_admit *a, const struct lc_http_limits *l)
{
    memset(a, 0, sizeof *a);
    lc_admit_set_limits(a, l);
}

void lc_admit_set_limits(struct lc_admit *a, const struct lc_http_limits *l)
{
    a->max_total = l->max_connections;
    a->max_receivers = l->max_connections - l->reserve_staff;
    a->max_anonymous = l->max_connections - l->reserve_staff - l->reserve_receivers;
    /* Reserves larger than the whole leave anonymous clients a minimum (the console's files). */
    int floor = l->max_connections < 16 ? l->max_connections : 16;
    if (a->max_receivers < floor)
        a->max_receivers = floor;
    if (a->max_anonymous < floor)
        a->max_anonymous = floor;
    a->per_address = l->max_anonymous_per_address;
}

void lc_admit_free(struct lc_admit *a)
{
    for (size_t i = 0; i < LC_ADMIT_BUCKETS; i++) {
        for (struct lc_admit_addr *e = a->buckets[i], *next; e != NULL; e = next) {
            next = e->next;
            free(e);
        }
        a->buckets[i] = NULL;
    }
}

/* FNV-1a: addresses are short and hostile input cannot make one bucket long enough to matter
 * (an address's entry exists only while it holds connections, at most per_address each). */
static struct lc_admit_addr **slot(struct lc_admit *a, const char *addr)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)addr; *p; p++)
        h = (h ^ *p) * 16777619u;
    struct lc_admit_addr **pp = &a->buckets[h % LC_ADMIT_BUCKETS];
    while (*pp != NULL && strcmp((*pp)->addr, addr) != 0)
        pp = &(*pp)->next;
    return pp;
}

static void drop_if_empty(struct lc_admit_addr **pp)
{
    struct lc_admit_addr *e = *pp;
    if (e != NULL && e->anonymous <= 0 && e->probation <= 0) {
        *pp = e->next;
        free(e);
    }
}

enum lc_admit_verdict lc_admit_arrive(struct lc_admit *a, const char *addr)
{
    if (a->anonymous + a->probation + a->staff + a->receivers >= a->max_total)
        return LC_ADMIT_FULL;
    if (a->per_address <= 0 && a->anonymous < a->max_anonymous) {
        a->anonymous++;
        return LC_ADMIT_OK;
    }
    struct lc_admit_addr **pp = slot(a, addr);
    if (*pp == NULL) {
        struct lc_admit_addr *e = calloc(1, sizeof *e);
        if (e == NULL)
            return LC_ADMIT_REFUSE;
        snprintf(e->addr, sizeof e->addr, "%s", addr);
        *pp = e;
    }
    struct lc_admit_addr *e = *pp;
    bool address_full = a->per_address > 0 && e->anonymous >= a->per_address;
    if (!address_full && a->anonymous < a->max_anonymous) {
        e->anonymous++;
        a->anonymous++;
        return LC_ADMIT_OK;
    }
    /* No bound per address on probation: a burst from one carrier NAT is let in, and a newcomer
     * may close the oldest tokenless connection when every one is taken (http.c). */
    e->probation++;
    a->probation++;
    return LC_ADMIT_PROBATION;
}

/* Takes one anonymous or probation connection of addr off the counts. */
static void forget_anonymous(struct lc_admit *a, const char *addr, bool probation)
{
    if (probation)
        a->probation--;
    else
        a->anonymous--;
    if (a->per_address <= 0 && !probation)
        return;
    struct lc_admit_addr **pp = slot(a, addr);
    if (*pp == NULL)
        return;
    if (probation)
        (*pp)->probation--;
    else
        (*pp)->anonymous--;
    drop_if_empty(pp);
}

int lc_admit_vouch(struct lc_admit *a, const char *addr, bool probation, enum lc_conn_kind kind)
{
    if (kind == LC_CONN_RECEIVER && a->receivers >= a->max_receivers)
        return -EBUSY;
    forget_anonymous(a, addr, probation);
    if (kind == LC_CONN_RECEIVER)
        a->receivers++;
    else
        a->staff++;
    return 0;
}

void lc_admit_leave(struct lc_admit *a, const char *addr, bool probation, enum lc_conn_kind kind)
{
    switch (kind) {
    case LC_CONN_ANON: forget_anonymous(a, addr, probation); break;
    case LC_CONN_STAFF: a->staff--; break;
    case LC_CONN_RECEIVER: a->receivers--; break;
    }
}
