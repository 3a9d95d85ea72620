/*
 * schedules/slots.h — a commune's recurring broadcast slots and their dated sessions.
 *
 * A slot is a local start time (seconds after local midnight, "HH:MM[:SS]"), a length in
 * minutes (1..240) and the days of the week it runs on (none given: every day). A slot may run
 * past midnight (23:30 for 60 minutes ends at 00:30 the next day). The session of a slot belongs
 * to the local date on which it starts.
 *
 * Overlap is decided on the circular week: every occurrence of every slot is an interval of the
 * week (Monday 00:00 .. Sunday 24:00, wrapping), so 23:30+60 on Sunday overlaps 00:15 on Monday
 * and two slots on disjoint days never overlap. Touching intervals (one ends when the next
 * starts) do not overlap.
 *
 * Pure: no clock, no I/O, no allocation.
 */
#ifndef LC_SCHEDULES_SLOTS_H
#define LC_SCHEDULES_SLOTS_H

#include <stddef.h>
#include <stdint.h>

#include "schedules/localtime.h"

#define LC_SLOT_MIN_MINUTES 1
#define LC_SLOT_MAX_MINUTES 240
#define LC_SLOTS_MAX 48             /* slots per commune */
#define LC_DAYS_ALL 0x7fu           /* bit 0 Monday .. bit 6 Sunday */

struct lc_slot {
    int32_t start_s;        /* 0..86399, seconds after local midnight */
    int32_t minutes;        /* 1..240 */
    unsigned days;          /* LC_DAYS_* bits; 0 means every day */
};

/* A dated session window: [start, end) in Unix seconds. */
struct lc_window {
    int64_t start, end;
    int slot;               /* index of the slot it comes from, or -1 */
};

/* Parses "HH:MM" or "HH:MM:SS" (two digits each; 00..23, 00..59, 00..59) into seconds after
 * midnight. 0 or -EINVAL ("25:00", "6:00", "06:60" are refused). */
int lc_slot_parse_start(const char *s, int32_t *out);
/* Writes "HH:MM", or "HH:MM:SS" when the seconds are not zero. */
void lc_slot_format_start(int32_t start_s, char out[9]);

/* Parses a day name ("mon".."sun", case-insensitive) into its bit. 0 or -EINVAL. */
int lc_day_parse(const char *s, unsigned *bit);
/* The three-letter name of day i (0 Monday .. 6 Sunday). */
const char *lc_day_name(int i);

/* Checks one slot's fields. 0 or -EINVAL. */
int lc_slot_check(const struct lc_slot *s);

/* Checks a set of slots: each valid and no two overlapping. Returns 0; -EINVAL with *a the
 * first invalid slot; -EEXIST with *a < *b the first overlapping pair. n may be 0;
 * n > LC_SLOTS_MAX is -E2BIG. */
int lc_slots_check(const struct lc_slot *slots, size_t n, size_t *a, size_t *b);

/* The sessions of the slots that start on local date `date` in tz, sorted by start, into out
 * (room for n). Returns how many. A slot whose days exclude that weekday gives none. */
size_t lc_slots_expand(const struct lc_slot *slots, size_t n, struct lc_date date,
                       const struct lc_tz *tz, struct lc_window *out);

/* True if [a0, a1) and [b0, b1) intersect. */
static inline int lc_windows_overlap(int64_t a0, int64_t a1, int64_t b0, int64_t b1)
{
    return a0 < b1 && b0 < a1;
}

#endif
