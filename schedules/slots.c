/* schedules/slots.c — slot parsing, overlap on the circular week, expansion; see slots.h. */
#include "schedules/slots.h"

#include <errno.h>
#include <stdio.h>
#include <strings.h>

#define WEEK_S (7 * 86400)

static const char *const day_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static int two(const char *s, int *out)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return -1;
    *out = (s[0] - '0') * 10 + (s[1] - '0');
    return 0;
}

int lc_slot_parse_start(const char *s, int32_t *out)
{
    int h, m, sec = 0;
    if (two(s, &h) || s[2] != ':' || two(s + 3, &m))
        return -EINVAL;
    if (s[5] == ':') {
        if (two(s + 6, &sec) || s[8] != '\0')
            return -EINVAL;
    } else if (s[5] != '\0') {
        return -EINVAL;
    }
    if (h > 23 || m > 59 || sec > 59)
        return -EINVAL;
    *out = h * 3600 + m * 60 + sec;
    return 0;
}

void lc_slot_format_start(int32_t t, char out[9])
{
    unsigned u = (unsigned)t % 86400u, h = u / 3600, m = u / 60 % 60, s = u % 60;
    if (s)
        snprintf(out, 9, "%02u:%02u:%02u", h, m, s);
    else
        snprintf(out, 9, "%02u:%02u", h, m);
}

int lc_day_parse(const char *s, unsigned *bit)
{
    for (int i = 0; i < 7; i++)
        if (strcasecmp(s, day_names[i]) == 0) {
            *bit = 1u << i;
            return 0;
        }
    return -EINVAL;
}

const char *lc_day_name(int i)
{
    return i >= 0 && i < 7 ? day_names[i] : "?";
}

int lc_slot_check(const struct lc_slot *s)
{
    if (s->start_s < 0 || s->start_s >= 86400 || s->minutes < LC_SLOT_MIN_MINUTES ||
        s->minutes > LC_SLOT_MAX_MINUTES || (s->days & ~LC_DAYS_ALL) != 0)
        return -EINVAL;
    return 0;
}

static unsigned days_of(const struct lc_slot *s)
{
    return s->days ? s->days : LC_DAYS_ALL;
}

/* Do occurrences [a, a+la) and [b, b+lb) of the week intersect, the week wrapping around? Both
 * lengths are under a week, so comparing b against a shifted by -1, 0, +1 weeks is enough. */
static int week_overlap(int64_t a, int64_t la, int64_t b, int64_t lb)
{
    for (int k = -1; k <= 1; k++)
        if (lc_windows_overlap(a + k * WEEK_S, a + k * WEEK_S + la, b, b + lb))
            return 1;
    return 0;
}

static int slots_overlap(const struct lc_slot *x, const struct lc_slot *y)
{
    unsigned dx = days_of(x), dy = days_of(y);
    for (int i = 0; i < 7; i++) {
        if (!(dx & (1u << i)))
            continue;
        for (int j = 0; j < 7; j++) {
            if (!(dy & (1u << j)))
                continue;
            if (week_overlap((int64_t)i * 86400 + x->start_s, (int64_t)x->minutes * 60,
                             (int64_t)j * 86400 + y->start_s, (int64_t)y->minutes * 60))
                return 1;
        }
    }
    return 0;
}

int lc_slots_check(const struct lc_slot *slots, size_t n, size_t *a, size_t *b)
{
    if (n > LC_SLOTS_MAX)
        return -E2BIG;
    for (size_t i = 0; i < n; i++)
        if (lc_slot_check(&slots[i]) < 0) {
            *a = i;
            return -EINVAL;
        }
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (slots_overlap(&slots[i], &slots[j])) {
                *a = i;
                *b = j;
                return -EEXIST;
            }
    return 0;
}

size_t lc_slots_expand(const struct lc_slot *slots, size_t n, struct lc_date date,
                       const struct lc_tz *tz, struct lc_window *out)
{
    unsigned bit = 1u << lc_weekday(date);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(days_of(&slots[i]) & bit))
            continue;
        int64_t start = lc_local_to_unix(tz, date, slots[i].start_s);
        struct lc_window w = {start, start + (int64_t)slots[i].minutes * 60, (int)i};
        size_t j = k++;
        while (j > 0 && out[j - 1].start > w.start) {   /* insertion sort: n is small */
            out[j] = out[j - 1];
            j--;
        }
        out[j] = w;
    }
    return k;
}
