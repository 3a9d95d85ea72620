/*
 * server/bulletins/bulletins.h — bulletins: creation, rendering, review, preview.
 *
 *   POST /api/v1/bulletins {"title","text","voice","rate","communes","priority","repeat",
 *        "not_before","expires"} → 202 the bulletin, `rendering`; rendered on the render pool
 *        → `pending`, or `failed` with "error". Without "text" → 201 a `draft` that waits for
 *        its recording: PUT /api/v1/bulletins/{id}/audio (the file as body; answered when the
 *        recording has been decoded and re-encoded: 200 `pending`, or 415 if it is not audio).
 *   GET /api/v1/bulletins[?status=&commune=&created_by=&before=&limit=] → {"bulletins": [...]}
 *   GET /api/v1/bulletins/{id}, GET /api/v1/bulletins/{id}/audio (audio/ogg, Range)
 *   POST /api/v1/bulletins/{id}/approve | /reject {"reason"} | /withdraw
 *
 * Lifecycle (every change is audited, in the same transaction):
 *
 *   from \ event | render ok | render fails | upload ok | approve* | reject* | withdraw**
 *   -------------+-----------+--------------+-----------+----------+---------+-----------
 *   draft        |           |              | pending   |          |         | withdrawn
 *   rendering    | pending   | failed       |           |          |         | withdrawn
 *   pending      |           |              | pending   | approved | rejected| withdrawn
 *   failed       |           |              | pending   |          |         | withdrawn
 *   approved     |           |              |           |          |         | withdrawn
 *   (anything else is 409 bad_state; `done` and `expired` come with the schedules, issue 5)
 *   *  approver or admin, never the bulletin's author (403); a bulletin whose `expires` has
 *      passed becomes `expired` instead (409).
 *   ** the author, an approver or an admin.
 */
#ifndef LC_SERVER_BULLETINS_H
#define LC_SERVER_BULLETINS_H

struct lc_app;
struct lc_router;

int lc_bulletins_routes(struct lc_router *r);

/* At start: queues again the text bulletins left `rendering` by a previous run. */
void lc_bulletins_resume(struct lc_app *app);

#endif
