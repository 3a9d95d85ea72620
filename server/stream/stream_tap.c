/*
 * server/stream/stream_tap.c — every cast's pages to one tap (issue 19, point 4): the assembly
 * points it at the Icecast source client (server/icecast/), which copies what it needs and sends
 * it from threads of its own. The tap is called on the loop thread, in the cast's order, and must
 * not block (it only copies into a bounded queue).
 */
#include "server/stream/stream_internal.h"

void lc_streams_set_tap(struct lc_streams *e, lc_stream_tap_cb cb, void *ctx)
{
    e->tap = cb;
    e->tap_ctx = ctx;
}

static struct lc_stream_tap info(const struct lc_cast *c)
{
    return (struct lc_stream_tap){.commune = c->commune, .session = c->session,
                                  .start_ms = c->start_ms, .end_ms = c->end_ms,
                                  .programme_s = lc_cast_programme_s(c)};
}

void lc_stream_tap_begin(struct lc_cast *c)
{
    struct lc_streams *e = c->eng;
    if (e->tap == NULL || c->tapped || c->headers == NULL)
        return;
    c->tapped = true;
    struct lc_stream_tap t = info(c);
    t.data = c->headers->data;
    t.len = c->headers->len;
    e->tap(e->tap_ctx, LC_STREAM_TAP_BEGIN, &t);
}

void lc_stream_tap_pages(struct lc_cast *c, const struct lc_page *first)
{
    struct lc_streams *e = c->eng;
    if (e->tap == NULL || !c->tapped)
        return;
    for (const struct lc_page *p = first; p; p = p->next) {
        struct lc_stream_tap t = info(c);
        t.data = p->data;
        t.len = p->len;
        t.g0 = p->g0;
        t.g1 = p->g1;
        t.hold = p->hold;
        t.eos = p->eos;
        e->tap(e->tap_ctx, LC_STREAM_TAP_PAGE, &t);
    }
}

void lc_stream_tap_end(struct lc_cast *c)
{
    struct lc_streams *e = c->eng;
    if (e->tap == NULL || !c->tapped)
        return;
    c->tapped = false;
    struct lc_stream_tap t = info(c);
    e->tap(e->tap_ctx, LC_STREAM_TAP_END, &t);
}
