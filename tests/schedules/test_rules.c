/* tests/schedules/test_rules.c — broadcast rules: windows (past midnight, by weekday), quiet
 * hours around midnight, the longest session, day totals, holidays, the cap on a session's end. */
#include <string.h>

#include "schedules/rules.h"
#include "schedules/slots.h"
#include "tests/check.h"

#define HM(h, m) ((h) * 3600 + (m) * 60)
#define MIN(m) ((int64_t)(m) * 60)

static void test_quiet(void)
{
    struct lc_rules r = {0};
    char why[256];
    r.quiet[0] = (struct lc_rule_span){0, HM(22, 0), HM(5, 0)};
    r.nquiet = 1;
    CHECK(lc_rules_check_span(&r, 0, HM(6, 0), MIN(60), why, sizeof why) == 0);
    CHECK(lc_rules_check_span(&r, 0, HM(21, 0), MIN(60), why, sizeof why) == 0);  /* touches */
    CHECK(lc_rules_check_span(&r, 0, HM(21, 30), MIN(31), why, sizeof why) == 1);
    CHECK(strstr(why, "quiet hours 22:00–05:00 (quiet)") != NULL);
    CHECK(lc_rules_check_span(&r, 3, HM(0, 30), MIN(10), why, sizeof why) == 1);  /* after midnight */
    CHECK(lc_rules_check_span(&r, 3, HM(4, 50), MIN(10), why, sizeof why) == 1);
    CHECK(lc_rules_check_span(&r, 3, HM(5, 0), MIN(10), why, sizeof why) == 0);
    CHECK(lc_rules_check_span(&r, 6, HM(23, 59), MIN(1), why, sizeof why) == 1);
}

static void test_windows(void)
{
    struct lc_rules r = {0};
    char why[256];
    r.windows[0] = (struct lc_rule_span){0x1f, HM(5, 30), HM(6, 30)};     /* Mon..Fri */
    r.windows[1] = (struct lc_rule_span){0x40, HM(23, 0), HM(1, 0)};      /* Sun night */
    r.nwindows = 2;
    CHECK(lc_rules_check_span(&r, 0, HM(5, 30), MIN(60), why, sizeof why) == 0);
    CHECK(lc_rules_check_span(&r, 4, HM(6, 0), MIN(30), why, sizeof why) == 0);
    CHECK(lc_rules_check_span(&r, 4, HM(6, 0), MIN(31), why, sizeof why) == 1);
    CHECK(strstr(why, "outside the allowed windows (windows)") != NULL);
    CHECK(strstr(why, "Mon, Tue, Wed, Thu, Fri: 05:30–06:30") != NULL);
    CHECK(lc_rules_check_span(&r, 5, HM(5, 30), MIN(10), why, sizeof why) == 1);  /* Saturday */
    CHECK(lc_rules_check_span(&r, 6, HM(23, 30), MIN(60), why, sizeof why) == 0); /* Sun 23:30 */
    CHECK(lc_rules_check_span(&r, 0, HM(0, 10), MIN(30), why, sizeof why) == 0);  /* Mon 00:10 */
    CHECK(lc_rules_check_span(&r, 0, HM(0, 50), MIN(30), why, sizeof why) == 1);  /* past 01:00 */
    CHECK(lc_rules_check_span(&r, 1, HM(0, 10), MIN(10), why, sizeof why) == 1);  /* Tue: none */
}

static void test_limits(void)
{
    struct lc_rules r = {0};
    char why[256];
    CHECK(lc_rules_check_span(&r, 0, HM(12, 0), MIN(240), why, sizeof why) == 0);
    CHECK(lc_rules_check_day(&r, 40, MIN(1440), why, sizeof why) == 0);
    r.max_session_minutes = 15;
    r.max_day_minutes = 45;
    r.max_sessions_per_day = 2;
    CHECK(lc_rules_check_span(&r, 0, HM(12, 0), MIN(15), why, sizeof why) == 0);
    CHECK(lc_rules_check_span(&r, 0, HM(12, 0), MIN(16), why, sizeof why) == 1);
    CHECK(strstr(why, "at most 15 minutes (max_session_minutes)") != NULL);
    CHECK(lc_rules_check_day(&r, 2, MIN(45), why, sizeof why) == 0);
    CHECK(lc_rules_check_day(&r, 3, MIN(30), why, sizeof why) == 1);
    CHECK(strstr(why, "max_sessions_per_day") != NULL);
    CHECK(lc_rules_check_day(&r, 2, MIN(46), why, sizeof why) == 1);
    CHECK(strstr(why, "max_day_minutes") != NULL);
    CHECK(lc_rules_cap_end(&r, 1000, 1000 + MIN(60)) == 1000 + MIN(15));
    CHECK(lc_rules_cap_end(&r, 1000, 1000 + MIN(10)) == 1000 + MIN(10));
    r.holidays[0] = (struct lc_date){2027, 2, 16};
    r.nholidays = 1;
    CHECK(lc_rules_holiday(&r, (struct lc_date){2027, 2, 16}));
    CHECK(!lc_rules_holiday(&r, (struct lc_date){2027, 2, 17}));
}

int main(void)
{
    test_quiet();
    test_windows();
    test_limits();
    return check_done();
}
