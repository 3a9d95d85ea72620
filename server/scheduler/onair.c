/* server/scheduler/onair.c — publish/subscribe of on-air events; see onair.h. Loop thread only. */
#include "server/scheduler/onair.h"

#include <errno.h>
#include <stdlib.h>

struct subscriber {
    lc_onair_cb cb;
    void *ctx;
};

struct lc_onair {
    struct subscriber *subs;
    size_t nsubs;
    lc_onair_next_cb next_cb;
    void *next_ctx;
    lc_onair_spliced_cb spliced_cb;
    void *spliced_ctx;
    lc_onair_counts_cb counts_cb;
    void *counts_ctx;
};

int lc_onair_new(struct lc_onair **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : -ENOMEM;
}

void lc_onair_free(struct lc_onair *o)
{
    if (o == NULL)
        return;
    free(o->subs);
    free(o);
}

int lc_onair_subscribe(struct lc_onair *o, lc_onair_cb cb, void *ctx)
{
    struct subscriber *s = realloc(o->subs, (o->nsubs + 1) * sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    s[o->nsubs++] = (struct subscriber){cb, ctx};
    o->subs = s;
    return 0;
}

void lc_onair_publish(struct lc_onair *o, enum lc_onair_event ev,
                      const struct lc_onair_session *s)
{
    for (size_t i = 0; i < o->nsubs; i++)
        o->subs[i].cb(o->subs[i].ctx, ev, s);
}

void lc_onair_set_spliced(struct lc_onair *o, lc_onair_spliced_cb cb, void *ctx)
{
    o->spliced_cb = cb;
    o->spliced_ctx = ctx;
}

void lc_onair_spliced(struct lc_onair *o, int64_t session, int64_t at_ms, int64_t shift_ms)
{
    if (o->spliced_cb != NULL)
        o->spliced_cb(o->spliced_ctx, session, at_ms, shift_ms);
}

void lc_onair_set_next(struct lc_onair *o, lc_onair_next_cb cb, void *ctx)
{
    o->next_cb = cb;
    o->next_ctx = ctx;
}

int lc_onair_next(struct lc_onair *o, const char *commune, int64_t now_ms, int64_t *start_ms)
{
    if (o->next_cb == NULL)
        return -ENOENT;
    return o->next_cb(o->next_ctx, commune, now_ms, start_ms);
}

void lc_onair_set_counts(struct lc_onair *o, lc_onair_counts_cb cb, void *ctx)
{
    o->counts_cb = cb;
    o->counts_ctx = ctx;
}

void lc_onair_counts(struct lc_onair *o, lc_onair_count_fn fn, void *arg)
{
    if (o->counts_cb != NULL)
        o->counts_cb(o->counts_ctx, fn, arg);
}

const char *lc_onair_event_name(enum lc_onair_event ev)
{
    switch (ev) {
    case LC_ONAIR_PREPARE: return "prepare";
    case LC_ONAIR_OPEN: return "open";
    case LC_ONAIR_INTERRUPT: return "interrupt";
    case LC_ONAIR_CLOSE: return "close";
    case LC_ONAIR_MOVED: return "moved";
    }
    return "?";
}
