/*
 * schedules/programme.h — the programme of one session of one commune: which bulletins air, in
 * which order, at which offsets. A pure function of its inputs (no clock, no I/O, no allocation),
 * so that what the API predicts is exactly what the scheduler freezes.
 *
 * The rules (SPEC "Programme rules"; decisions where it is silent in docs/schedules.md):
 *   1. Candidates: bulletins that are `approved`, target the commune (or all communes), have
 *      aired in fewer than `repeat` sessions, and are within their dates: not_before at or before
 *      the session's start, expires after it.
 *   2. Order: priority (emergency, high, normal), then approval order, then id.
 *   3. Fit: in that order, each candidate is placed after the previous item plus the gap (no gap
 *      before the first item) if it ends within the window and it starts before its `expires`;
 *      otherwise it does not fit, waits for the next session, and the next candidates are still
 *      tried (a short bulletin may use the time a long one could not).
 *   4. A bulletin appears at most once in a session. The programme never ends after the window.
 *
 *   example: window 06:00+10 min, gap 2 s; approved: A normal 300 s (approved 1st), B high 120 s
 *   (2nd), C normal 400 s (3rd), D normal 60 s (4th)
 *     → B @0 s, A @122 s, D @424 s (ends 484 s); C does not fit (424+400 > 600) and waits.
 */
#ifndef LC_SCHEDULES_PROGRAMME_H
#define LC_SCHEDULES_PROGRAMME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lc_priority { LC_PRIO_EMERGENCY = 0, LC_PRIO_HIGH = 1, LC_PRIO_NORMAL = 2 };

/* A bulletin as the builder sees it. */
struct lc_candidate {
    int64_t id;
    bool approved;          /* status `approved`; anything else is ignored */
    int priority;           /* enum lc_priority */
    int64_t approval_seq;   /* approval order: lower approved earlier */
    int64_t duration_ms;    /* > 0 */
    int repeat;             /* sessions to air in */
    int aired;              /* sessions already aired in */
    int64_t not_before;     /* Unix s, 0 = none */
    int64_t expires;        /* Unix s, 0 = none */
    bool all_communes;
    const char *const *communes;    /* targets when !all_communes */
    size_t ncommunes;
};

struct lc_session_in {
    const char *commune;
    int64_t start, end;     /* the window, Unix s */
    int64_t gap_ms;         /* between items, >= 0 */
};

struct lc_prog_item {
    size_t cand;            /* index into the candidates */
    int64_t bulletin;
    int64_t offset_ms;      /* from the session's start */
    int64_t duration_ms;
};

/* The result; the arrays are the caller's, each with room for n (the number of candidates). */
struct lc_programme {
    struct lc_prog_item *items;
    size_t nitems;
    size_t *not_fitting;    /* candidate indexes that qualified but did not fit, in order */
    size_t nnot;
    int64_t length_ms;      /* end of the last item (0 if empty) */
};

/* Builds the programme of session s from the n candidates c into p (p->items and
 * p->not_fitting point to arrays of n elements each; the counts are set here). Returns 0, or
 * -EINVAL for a window that ends before it starts or a negative gap. */
int lc_programme_build(const struct lc_session_in *s, const struct lc_candidate *c, size_t n,
                       struct lc_programme *p);

/* After a session aired p: each placed candidate counts one more airing (aired++), so that the
 * next session's programme can be predicted from the same array. */
void lc_programme_count(struct lc_candidate *c, const struct lc_programme *p);

/* True if candidate c targets commune. */
bool lc_candidate_targets(const struct lc_candidate *c, const char *commune);

/* "emergency", "high", "normal" ↔ enum lc_priority; parse gives -1 for anything else. */
const char *lc_priority_name(int p);
int lc_priority_parse(const char *s);

#endif
