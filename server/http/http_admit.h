/*
 * server/http/http_admit.h — who may hold a connection (private to server/http/).
 *
 * Every connection starts anonymous; it becomes staff or receiver for the rest of its life when
 * one of its requests carries a valid token (lc_req_vouch). Anonymous connections may use only
 * what the two reserves leave (max_connections - reserve_staff - reserve_receivers), and each
 * address only max_anonymous_per_address of them. A connection that arrives past either bound is
 * still accepted "on probation" (while the total allows), so that a staff member or a receiver
 * with a token always gets in: its first request must carry a token, within the probation time,
 * or it is answered and closed. Probation has no bound per address (many receivers may share
 * one carrier-grade NAT address and connect in the same second).
 * Receivers may hold everything but the staff's reserve. When every connection is taken, the
 * oldest connection that never showed a token (and is not being answered) is closed for the
 * newcomer (http.c keeps them in arrival order), so a staff member's new connection gets in
 * even when sockets without tokens fill the rest.
 *
 * Counts live in struct lc_admit; the per-address counts in a small chained hash table whose
 * entries exist only while an address holds anonymous or probation connections.
 */
#ifndef LC_SERVER_HTTP_ADMIT_H
#define LC_SERVER_HTTP_ADMIT_H

#include <stdbool.h>
#include <stddef.h>

#include "server/http/http.h"

#define LC_ADMIT_BUCKETS 4096

struct lc_admit_addr;

struct lc_admit {
    int max_total, max_anonymous, max_receivers, per_address;
    int anonymous, probation, staff, receivers;
    struct lc_admit_addr *buckets[LC_ADMIT_BUCKETS];
};

enum lc_admit_verdict { LC_ADMIT_OK, LC_ADMIT_PROBATION, LC_ADMIT_FULL, LC_ADMIT_REFUSE };

void lc_admit_init(struct lc_admit *a, const struct lc_http_limits *l);
/* New bounds (SIGHUP); the connections counted stay counted, and none is closed: a lower bound
 * holds for the connections that arrive from now on. */
void lc_admit_set_limits(struct lc_admit *a, const struct lc_http_limits *l);
void lc_admit_free(struct lc_admit *a);

/* A connection from addr arrives. On OK or PROBATION it is counted (as anonymous, or on
 * probation) and must be let go with lc_admit_leave(); on FULL (max_connections are counted)
 * and REFUSE (out of memory) nothing was counted. */
enum lc_admit_verdict lc_admit_arrive(struct lc_admit *a, const char *addr);

/* An anonymous (or probation) connection from addr presented a token of this kind. Returns 0
 * (counted as that kind from now on) or -EBUSY (receivers at their bound; nothing changed). */
int lc_admit_vouch(struct lc_admit *a, const char *addr, bool probation, enum lc_conn_kind kind);

/* The connection closed. */
void lc_admit_leave(struct lc_admit *a, const char *addr, bool probation, enum lc_conn_kind kind);

#endif
