/*
 * server/scheduler/scheduler_active.c — the sessions the scheduler follows (struct active, see
 * scheduler_state.h) and their publication on the on-air hub. The lowest piece of the timer:
 * scheduler.c and scheduler_emergency.c both call it; it calls neither. Loop thread only.
 */
#define LC_LOG_MODULE "scheduler"
#include "server/scheduler/scheduler_state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

static void active_free(struct active *a)
{
    if (a == NULL)
        return;
    json_decref(a->programme);
    free(a->items);
    free(a);
}

int lc_sched_active_items(struct active *a)
{
    json_t *items = json_object_get(a->programme, "items"), *it;
    size_t n = json_array_size(items), i;
    struct lc_onair_item *v = calloc(n + 1, sizeof *v);
    if (v == NULL)
        return -ENOMEM;
    json_array_foreach(items, i, it) {
        v[i] = (struct lc_onair_item){
            json_integer_value(json_object_get(it, "bulletin")),
            json_string_value(json_object_get(it, "title")),
            json_string_value(json_object_get(it, "audio")),
            json_integer_value(json_object_get(it, "offset_ms")),
            json_integer_value(json_object_get(it, "duration_ms")),
            json_string_value(json_object_get(it, "relay"))};
    }
    free(a->items);
    a->items = v;
    a->nitems = n;
    return 0;
}

struct active *lc_sched_active_new(int64_t id, const char *commune, int64_t start_ms,
                                   int64_t end_ms, json_t *programme)
{
    struct active *a = calloc(1, sizeof *a);
    if (a == NULL)
        return NULL;
    a->id = id;
    snprintf(a->commune, sizeof a->commune, "%s", commune);
    a->start_ms = start_ms;
    a->end_ms = end_ms;
    a->programme = json_incref(programme);
    if (lc_sched_active_items(a) < 0) {
        active_free(a);
        return NULL;
    }
    return a;
}

void lc_sched_active_drop(struct lc_scheduler *s, struct active *a)
{
    for (struct active **p = &s->active; *p; p = &(*p)->next)
        if (*p == a) {
            *p = a->next;
            break;
        }
    active_free(a);
}

struct active *lc_sched_find_active(struct lc_scheduler *s, int64_t id)
{
    for (struct active *a = s->active; a; a = a->next)
        if (a->id == id)
            return a;
    return NULL;
}

struct active *lc_sched_on_air_in(struct lc_scheduler *s, const char *commune)
{
    for (struct active *a = s->active; a; a = a->next)
        if (a->on_air && a->host == 0 && strcmp(a->commune, commune) == 0)
            return a;
    return NULL;
}

void lc_sched_publish(struct lc_scheduler *s, enum lc_onair_event ev, const struct active *a,
                      const struct lc_onair_item *items, size_t nitems, int emergency)
{
    struct lc_onair_session os = {a->id, a->commune, a->on_air ? a->prog_start_ms : a->start_ms,
                                  a->end_ms, emergency, items, nitems};
    lc_log(LC_LOG_INFO, "%s session %lld (%s), %zu item(s)", lc_onair_event_name(ev),
           (long long)a->id, a->commune, nitems);
    lc_onair_publish(s->onair, ev, &os);
}

int64_t lc_sched_length_ms(json_t *programme)
{
    return json_integer_value(json_object_get(programme, "length_ms"));
}

void lc_sched_pending_free(struct lc_scheduler *s)
{
    while (s->pending) {
        struct pending *p = s->pending;
        s->pending = p->next;
        json_decref(p->programme);
        free(p);
    }
}

void lc_sched_actives_free(struct lc_scheduler *s)
{
    while (s->active) {
        struct active *a = s->active;
        s->active = a->next;
        active_free(a);
    }
    lc_sched_pending_free(s);
}
