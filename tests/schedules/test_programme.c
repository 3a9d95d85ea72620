/* tests/schedules/test_programme.c — the programme builder: ordering, gaps, fit and carry-over,
 * repeat counts, date windows, withdrawal, long programmes, empty slots, zones, midnight. */
#include <errno.h>
#include <string.h>

#include "schedules/programme.h"
#include "schedules/slots.h"
#include "tests/check.h"

#define MAXC 32
#define T0 1795474800LL   /* 2026-11-24 06:00 +07:00 */

static const char *const QP[] = {"quang-phu"};
static const char *const OTHER[] = {"tan-an", "binh-minh"};

static struct lc_candidate cand(int64_t id, int prio, int64_t seq, int64_t dur_s)
{
    return (struct lc_candidate){.id = id, .approved = true, .priority = prio,
                                 .approval_seq = seq, .duration_ms = dur_s * 1000, .repeat = 1,
                                 .communes = QP, .ncommunes = 1};
}

struct built {
    struct lc_prog_item items[MAXC];
    size_t nf[MAXC];
    struct lc_programme p;
};

static int build(struct built *b, int64_t start, int64_t minutes, int64_t gap_ms,
                 const struct lc_candidate *c, size_t n)
{
    struct lc_session_in s = {"quang-phu", start, start + minutes * 60, gap_ms};
    b->p = (struct lc_programme){.items = b->items, .not_fitting = b->nf};
    return lc_programme_build(&s, c, n, &b->p);
}

/* "1,2,3" of the items' bulletins, for compact checks. */
static const char *ids(const struct built *b)
{
    static char s[256];
    s[0] = '\0';
    for (size_t i = 0; i < b->p.nitems; i++)
        snprintf(s + strlen(s), sizeof s - strlen(s), "%s%lld", i ? "," : "",
                 (long long)b->p.items[i].bulletin);
    return s;
}

static const char *nf(const struct built *b, const struct lc_candidate *c)
{
    static char s[256];
    s[0] = '\0';
    for (size_t i = 0; i < b->p.nnot; i++)
        snprintf(s + strlen(s), sizeof s - strlen(s), "%s%lld", i ? "," : "",
                 (long long)c[b->p.not_fitting[i]].id);
    return s;
}

static void test_ordering(void)
{
    struct built b;
    struct lc_candidate c[] = {
        cand(1, LC_PRIO_NORMAL, 1, 10), cand(2, LC_PRIO_HIGH, 5, 10),
        cand(3, LC_PRIO_NORMAL, 0, 10), cand(4, LC_PRIO_EMERGENCY, 9, 10),
        cand(5, LC_PRIO_HIGH, 2, 10),   cand(6, LC_PRIO_NORMAL, 1, 10),  /* same seq as 1 */
    };
    CHECK(build(&b, T0, 60, 0, c, 6) == 0);
    CHECKF(strcmp(ids(&b), "4,5,2,3,1,6") == 0, "%s", ids(&b));
    CHECK(b.p.nnot == 0);
    CHECK(b.p.length_ms == 60000);
    CHECK(b.p.items[0].offset_ms == 0 && b.p.items[5].offset_ms == 50000);
    CHECK(b.p.items[2].cand == 1);
}

static void test_gaps(void)
{
    struct built b;
    struct lc_candidate c[] = {cand(1, LC_PRIO_NORMAL, 1, 30), cand(2, LC_PRIO_NORMAL, 2, 45),
                               cand(3, LC_PRIO_NORMAL, 3, 5)};
    CHECK(build(&b, T0, 60, 2500, c, 3) == 0);
    CHECK(b.p.nitems == 3);
    CHECK(b.p.items[0].offset_ms == 0);
    CHECK(b.p.items[1].offset_ms == 32500);
    CHECK(b.p.items[2].offset_ms == 80000);
    CHECK(b.p.length_ms == 85000);   /* no gap after the last item */
    CHECK(build(&b, T0, 60, -1, c, 3) == -EINVAL);
    /* The example of programme.h. */
    struct lc_candidate ex[] = {cand(1, LC_PRIO_NORMAL, 1, 300), cand(2, LC_PRIO_HIGH, 2, 120),
                                cand(3, LC_PRIO_NORMAL, 3, 400), cand(4, LC_PRIO_NORMAL, 4, 60)};
    CHECK(build(&b, T0, 10, 2000, ex, 4) == 0);
    CHECKF(strcmp(ids(&b), "2,1,4") == 0, "%s", ids(&b));
    CHECK(b.p.items[1].offset_ms == 122000 && b.p.items[2].offset_ms == 424000);
    CHECK(b.p.length_ms == 484000);
    CHECK(strcmp(nf(&b, ex), "3") == 0);
}

static void test_fit_and_carry_over(void)
{
    struct built b;
    /* 3 minutes of window, four 60 s items, gap 1 s: 60+1+60+1 = 122, third would end at 182. */
    struct lc_candidate c[] = {cand(1, LC_PRIO_NORMAL, 1, 60), cand(2, LC_PRIO_NORMAL, 2, 60),
                               cand(3, LC_PRIO_NORMAL, 3, 60), cand(4, LC_PRIO_NORMAL, 4, 50)};
    CHECK(build(&b, T0, 3, 1000, c, 4) == 0);
    CHECKF(strcmp(ids(&b), "1,2,4") == 0, "%s", ids(&b));
    CHECK(strcmp(nf(&b, c), "3") == 0);
    CHECK(b.p.length_ms <= 180000);
    /* Exactly fitting: gap 0, three 60 s items in 3 minutes. */
    CHECK(build(&b, T0, 3, 0, c, 3) == 0);
    CHECK(b.p.nitems == 3 && b.p.length_ms == 180000 && b.p.nnot == 0);
    /* The next session: what aired counts, what waited comes first. */
    CHECK(build(&b, T0, 3, 1000, c, 4) == 0);
    lc_programme_count(c, &b.p);
    CHECK(c[0].aired == 1 && c[1].aired == 1 && c[2].aired == 0 && c[3].aired == 1);
    CHECK(build(&b, T0 + 11 * 3600, 3, 1000, c, 4) == 0);
    CHECKF(strcmp(ids(&b), "3") == 0, "%s", ids(&b));
    CHECK(b.p.nnot == 0);
    /* A high bulletin approved later still goes before the carried-over normal one. */
    c[0].aired = 0;
    c[0].priority = LC_PRIO_HIGH;
    c[0].approval_seq = 10;
    CHECK(build(&b, T0, 1, 0, c, 4) == 0);
    CHECKF(strcmp(ids(&b), "1") == 0, "%s", ids(&b));
    CHECK(strcmp(nf(&b, c), "3") == 0);
}

static void test_repeat(void)
{
    struct built b;
    struct lc_candidate c[] = {cand(1, LC_PRIO_NORMAL, 1, 10), cand(2, LC_PRIO_NORMAL, 2, 10)};
    c[0].repeat = 3;
    int seen1 = 0, seen2 = 0;
    for (int s = 0; s < 5; s++) {
        CHECK(build(&b, T0 + s * 86400, 60, 0, c, 2) == 0);
        for (size_t i = 0; i < b.p.nitems; i++) {
            seen1 += b.p.items[i].bulletin == 1;
            seen2 += b.p.items[i].bulletin == 2;
        }
        lc_programme_count(c, &b.p);
    }
    CHECK(seen1 == 3 && seen2 == 1);
    CHECK(c[0].aired == 3 && c[1].aired == 1);
    /* Never twice in one session, even if the same bulletin is given twice. */
    struct lc_candidate d[] = {cand(7, LC_PRIO_NORMAL, 1, 10), cand(7, LC_PRIO_NORMAL, 1, 10)};
    d[0].repeat = d[1].repeat = 5;
    CHECK(build(&b, T0, 60, 0, d, 2) == 0);
    CHECK(b.p.nitems == 1);
    /* A session that did not air (not counted) leaves the count as it was: the next programme
     * is the same. */
    struct lc_candidate e[] = {cand(1, LC_PRIO_NORMAL, 1, 10)};
    CHECK(build(&b, T0, 60, 0, e, 1) == 0 && b.p.nitems == 1);
    CHECK(build(&b, T0 + 3600, 60, 0, e, 1) == 0 && b.p.nitems == 1);
}

static void test_dates(void)
{
    struct built b;
    struct lc_candidate c[] = {cand(1, LC_PRIO_NORMAL, 1, 10), cand(2, LC_PRIO_NORMAL, 2, 10),
                               cand(3, LC_PRIO_NORMAL, 3, 10), cand(4, LC_PRIO_NORMAL, 4, 10),
                               cand(5, LC_PRIO_NORMAL, 5, 10)};
    c[0].not_before = T0 + 1;          /* from one second after the start: next session */
    c[1].not_before = T0;              /* exactly at the start: in */
    c[2].expires = T0;                 /* expired at the start: out */
    c[3].expires = T0 + 15;            /* starts at offset 10 s, before its expiry: in */
    c[4].expires = T0 + 5;             /* would start at 20 s, after its expiry: does not fit */
    CHECK(build(&b, T0, 60, 0, c, 5) == 0);
    CHECKF(strcmp(ids(&b), "2,4") == 0, "%s", ids(&b));
    CHECKF(strcmp(nf(&b, c), "5") == 0, "%s", nf(&b, c));
    CHECK(build(&b, T0 + 3600, 60, 0, c, 5) == 0);
    CHECKF(strcmp(ids(&b), "1,2") == 0, "%s", ids(&b));
}

static void test_targets_and_status(void)
{
    struct built b;
    struct lc_candidate c[] = {cand(1, LC_PRIO_NORMAL, 1, 10), cand(2, LC_PRIO_NORMAL, 2, 10),
                               cand(3, LC_PRIO_NORMAL, 3, 10), cand(4, LC_PRIO_NORMAL, 4, 10),
                               cand(5, LC_PRIO_NORMAL, 5, 0)};
    c[1].communes = OTHER;
    c[1].ncommunes = 2;
    c[2].all_communes = true;
    c[2].ncommunes = 0;
    CHECK(build(&b, T0, 60, 0, c, 5) == 0);
    CHECKF(strcmp(ids(&b), "1,3,4") == 0, "%s", ids(&b));   /* 5 has no audio length */
    /* Withdrawn before its session (no longer approved): the others move up. */
    c[0].approved = false;
    CHECK(build(&b, T0, 60, 0, c, 5) == 0);
    CHECKF(strcmp(ids(&b), "3,4") == 0, "%s", ids(&b));
    CHECK(b.p.items[0].offset_ms == 0);
    CHECK(lc_candidate_targets(&c[1], "binh-minh") && !lc_candidate_targets(&c[1], "quang-phu"));
}

static void test_long_and_empty(void)
{
    struct built b;
    /* A programme longer than the slot: 90 minutes of bulletins for a 60-minute slot. */
    struct lc_candidate c[MAXC];
    for (int i = 0; i < 9; i++)
        c[i] = cand(i + 1, LC_PRIO_NORMAL, i + 1, 600);
    CHECK(build(&b, T0, 60, 3000, c, 9) == 0);
    CHECK(b.p.nitems == 5);   /* 5*600 + 4*3 = 3012 s; a sixth would end at 3615 s */
    CHECK(b.p.length_ms <= 3600 * 1000);
    CHECK(b.p.nnot == 4);
    /* One bulletin longer than the whole slot never fits; smaller ones still do. */
    struct lc_candidate d[] = {cand(1, LC_PRIO_HIGH, 1, 3601), cand(2, LC_PRIO_NORMAL, 2, 3600)};
    CHECK(build(&b, T0, 60, 0, d, 2) == 0);
    CHECKF(strcmp(ids(&b), "2") == 0, "%s", ids(&b));
    CHECK(strcmp(nf(&b, d), "1") == 0);
    /* An empty slot: no candidates, or none qualifying. */
    CHECK(build(&b, T0, 60, 0, c, 0) == 0 && b.p.nitems == 0 && b.p.nnot == 0 &&
          b.p.length_ms == 0);
    c[0].approved = false;
    CHECK(build(&b, T0, 60, 0, c, 1) == 0 && b.p.nitems == 0 && b.p.nnot == 0);
    /* A zero-length window holds nothing; a window ending before it starts is an error. */
    struct lc_session_in s = {"quang-phu", T0, T0, 0};
    b.p = (struct lc_programme){.items = b.items, .not_fitting = b.nf};
    CHECK(lc_programme_build(&s, d, 2, &b.p) == 0 && b.p.nitems == 0 && b.p.nnot == 2);
    s.end = T0 - 1;
    CHECK(lc_programme_build(&s, d, 2, &b.p) == -EINVAL);
}

/* The same slots and bulletins in three zones: the programme depends on the session windows
 * only, and the windows follow each zone's local time. */
static void test_zones_and_midnight(void)
{
    struct lc_slot slots[] = {{23 * 3600 + 59 * 60 + 50, 2, 0}};   /* 23:59:50 for 2 minutes */
    const int32_t offs[] = {7 * 3600, 5 * 3600 + 45 * 60, -(3 * 3600 + 30 * 60), 0};
    for (size_t z = 0; z < sizeof offs / sizeof offs[0]; z++) {
        struct lc_tz tz = lc_tz_fixed(offs[z]);
        struct lc_window w[1];
        struct lc_date d = {2026, 12, 31};
        CHECK(lc_slots_expand(slots, 1, d, &tz, w) == 1);
        CHECK(w[0].end - w[0].start == 120);
        CHECK(lc_local_date(&tz, w[0].start).day == 31);
        struct lc_date e = lc_local_date(&tz, w[0].end);
        CHECK(e.year == 2027 && e.month == 1 && e.day == 1);
        /* A bulletin that begins on the new local day does not air in it; one that expires at
         * local midnight airs only if it starts before. */
        struct lc_candidate c[] = {cand(1, LC_PRIO_NORMAL, 1, 5), cand(2, LC_PRIO_NORMAL, 2, 5),
                                   cand(3, LC_PRIO_NORMAL, 3, 5), cand(4, LC_PRIO_NORMAL, 4, 5),
                                   cand(5, LC_PRIO_NORMAL, 5, 5)};
        int64_t midnight = lc_local_to_unix(&tz, (struct lc_date){2027, 1, 1}, 0);
        c[0].not_before = midnight;     /* begins on the new day: not in a session started before */
        c[1].expires = midnight;        /* @0 s = 23:59:50: in */
        c[2].expires = midnight;        /* @6 s = 23:59:56: in */
        c[3].expires = midnight;        /* @12 s = 00:00:02: after its expiry, does not fit */
        struct built b;
        struct lc_session_in s = {"quang-phu", w[0].start, w[0].end, 1000};
        b.p = (struct lc_programme){.items = b.items, .not_fitting = b.nf};
        CHECK(lc_programme_build(&s, c, 5, &b.p) == 0);
        CHECKF(strcmp(ids(&b), "2,3,5") == 0, "%s", ids(&b));
        CHECKF(strcmp(nf(&b, c), "4") == 0, "%s", nf(&b, c));
        CHECK(b.p.items[2].offset_ms == 12000);
    }
}

int main(void)
{
    test_ordering();
    test_gaps();
    test_fit_and_carry_over();
    test_repeat();
    test_dates();
    test_targets_and_status();
    test_long_and_empty();
    test_zones_and_midnight();
    return check_done();
}
