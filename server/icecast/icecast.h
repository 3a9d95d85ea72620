/*
 * server/icecast/icecast.h — the door of server/icecast/ (issue 19, point 4): fan-out through
 * Icecast 2. Two halves:
 *
 *   source   every cast of the streaming engine (its pages, through the engine's tap,
 *            lc_streams_set_tap()) is pushed to an Icecast server as a source client (libshout)
 *            on the mount /{commune}.opus: connected when the cast's header page exists (PREPARE,
 *            the hold window included), disconnected after its EOS page (or when the cast ends
 *            without one). One thread per mount (libshout blocks); pages are copied into a
 *            bounded queue, so a slow or dead Icecast never delays the loop or the receivers.
 *   auth     POST /icecast/listener_add and /icecast/listener_remove, called by Icecast's URL
 *            authentication (master and relays alike): the listener's `token` query parameter
 *            must be the token of a cluster of the mount's commune; such listeners get delivery
 *            rows (via 'icecast') through server/accounting/ (delivery.h, lc_delivery_icecast).
 *            Only the configured Icecast may call them: HTTP Basic auth whose password is
 *            [icecast] auth_secret. A listener whose own password is that secret is a relay.
 *
 * Created by server/server.c with struct lc_icecast_deps; loop thread only (but for the mount
 * threads, which own their copies). Docs: docs/icecast.md.
 */
#ifndef LC_SERVER_ICECAST_H
#define LC_SERVER_ICECAST_H

#include <uv.h>

#include "server/stream/stream.h"

struct lc_icecast;
struct lc_store;
struct lc_router;
struct lc_err;

struct lc_icecast_deps {
    uv_loop_t *loop;
    struct lc_store *store;
    const char *url;            /* [icecast] url: http://USER:PASSWORD@HOST:PORT ("": no source) */
    const char *auth_secret;    /* [icecast] auth_secret ("": the auth routes answer 404) */
};

/* Parses the URL (a bad one: -EINVAL with why in err). 0, -EINVAL or -ENOMEM. */
int lc_icecast_open(struct lc_icecast **out, const struct lc_icecast_deps *d, struct lc_err *err);
/* The engine's tap (lc_streams_set_tap(engine, lc_icecast_tap, ic)). */
void lc_icecast_tap(void *ic, enum lc_stream_tap_ev ev, const struct lc_stream_tap *t);
/* POST /icecast/listener_add, POST /icecast/listener_remove (ic may be NULL: listed only). */
int lc_icecast_routes(struct lc_icecast *ic, struct lc_router *r);
/* Ends every mount: their threads close their connections; waits for them at most ~2 s. Safe
 * to call twice; NULL allowed. */
void lc_icecast_stop(struct lc_icecast *ic);
/* After the loop ran out. NULL allowed. */
void lc_icecast_free(struct lc_icecast *ic);

#endif
