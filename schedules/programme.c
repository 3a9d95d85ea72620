/* schedules/programme.c — the programme builder; see programme.h for the rules. */
#include "schedules/programme.h"

#include <errno.h>
#include <string.h>

bool lc_candidate_targets(const struct lc_candidate *c, const char *commune)
{
    if (c->all_communes)
        return true;
    for (size_t i = 0; i < c->ncommunes; i++)
        if (strcmp(c->communes[i], commune) == 0)
            return true;
    return false;
}

static bool qualifies(const struct lc_candidate *c, const struct lc_session_in *s)
{
    return c->approved && c->duration_ms > 0 && c->aired < c->repeat &&
           (c->not_before == 0 || c->not_before <= s->start) &&
           (c->expires == 0 || c->expires > s->start) && lc_candidate_targets(c, s->commune);
}

/* Does a go before b? */
static bool before(const struct lc_candidate *a, const struct lc_candidate *b)
{
    if (a->priority != b->priority)
        return a->priority < b->priority;
    if (a->approval_seq != b->approval_seq)
        return a->approval_seq < b->approval_seq;
    return a->id < b->id;
}

int lc_programme_build(const struct lc_session_in *s, const struct lc_candidate *c, size_t n,
                       struct lc_programme *p)
{
    p->nitems = 0;
    p->nnot = 0;
    p->length_ms = 0;
    if (s->end < s->start || s->gap_ms < 0)
        return -EINVAL;
    const int64_t window_ms = (s->end - s->start) * 1000;
    /* The order, built in p->not_fitting as scratch (insertion sort, stable on the ties the
     * comparison leaves — none, since ids are unique). */
    size_t *order = p->not_fitting, m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!qualifies(&c[i], s))
            continue;
        size_t j = m++;
        while (j > 0 && before(&c[i], &c[order[j - 1]])) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    /* Placement. Items go to p->items; the ones that do not fit are compacted to the front of
     * order (= p->not_fitting), which never overtakes the read position. */
    int64_t cursor = 0;
    for (size_t k = 0; k < m; k++) {
        size_t i = order[k];
        bool dup = false;
        for (size_t t = 0; t < p->nitems; t++)
            if (p->items[t].bulletin == c[i].id)
                dup = true;
        if (dup)
            continue;
        int64_t at = p->nitems == 0 ? 0 : cursor + s->gap_ms;
        bool fits = at + c[i].duration_ms <= window_ms &&
                    (c[i].expires == 0 || s->start * 1000 + at < c[i].expires * 1000);
        if (!fits) {
            order[p->nnot++] = i;
            continue;
        }
        p->items[p->nitems++] = (struct lc_prog_item){i, c[i].id, at, c[i].duration_ms};
        cursor = at + c[i].duration_ms;
    }
    p->length_ms = cursor;
    return 0;
}

void lc_programme_count(struct lc_candidate *c, const struct lc_programme *p)
{
    for (size_t k = 0; k < p->nitems; k++)
        c[p->items[k].cand].aired++;
}

const char *lc_priority_name(int p)
{
    switch (p) {
    case LC_PRIO_EMERGENCY: return "emergency";
    case LC_PRIO_HIGH: return "high";
    case LC_PRIO_NORMAL: return "normal";
    default: return "?";
    }
}

int lc_priority_parse(const char *s)
{
    if (strcmp(s, "emergency") == 0)
        return LC_PRIO_EMERGENCY;
    if (strcmp(s, "high") == 0)
        return LC_PRIO_HIGH;
    if (strcmp(s, "normal") == 0)
        return LC_PRIO_NORMAL;
    return -1;
}
