/*
 * server/scheduler/routes.c — the scheduler's routes (the table in scheduler.h). The top of the
 * module: it calls the handlers' files, nothing calls it but the server's assembly.
 */
#include "server/scheduler/scheduler.h"

#include "server/scheduler/scheduler_internal.h"

int lc_scheduler_routes(struct lc_scheduler *s, struct lc_router *r)
{
    int rc = lc_slots_routes(s, r);
    if (rc == 0)
        rc = lc_sessions_routes(s, r);
    if (rc == 0)
        rc = lc_emergency_routes(s, r);
    if (rc == 0)
        rc = lc_emergency_report_routes(s, r);
    return rc;
}
