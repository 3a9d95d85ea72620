/*
 * server/scheduler/routes.c — the scheduler's routes (the table in scheduler.h), and its hook for
 * the stream's splices (onair.h; scheduler.c unhooks it at stop). The top of the module: it calls
 * the handlers' files, nothing calls it but the server's assembly.
 */
#include "server/scheduler/scheduler.h"

#include "server/scheduler/scheduler_internal.h"
#include "server/scheduler/scheduler_state.h"

int lc_scheduler_routes(struct lc_scheduler *s, struct lc_router *r)
{
    int rc = lc_slots_routes(s, r);
    if (rc == 0)
        rc = lc_sessions_routes(s, r);
    if (rc == 0)
        rc = lc_rules_routes(s, r);
    if (rc == 0)
        rc = lc_emergency_routes(s, r);
    if (rc == 0)
        rc = lc_emergency_report_routes(s, r);
    if (rc == 0)
        rc = lc_onair_routes(s, r);             /* issue 20: the console's "on air now" */
    if (rc == 0)
        rc = lc_emergency_preview_routes(s, r); /* issue 20: hear an emergency first */
    /* here, not in scheduler.c: scheduler_emergency.c calls that file. s is NULL when the
     * routes are only listed (`loacast routes`) */
    if (rc == 0 && s != NULL)
        lc_onair_set_spliced(s->onair, lc_sched_on_spliced, s);
    return rc;
}
