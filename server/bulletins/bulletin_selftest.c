/*
 * server/bulletins/bulletin_selftest.c — the bulletin of a self-test's text (issue 18, point 3;
 * the caller is server/selftest/, which renders the text with lc_bulletins_render() first).
 *
 * A self-test bulletin is approved by the system at creation: the station's own test text,
 * set by an admin or operator in the self-test schedule, is its authorisation (audited as
 * such). It targets no commune, so no programme ever takes it (the scheduler's candidates are
 * the bulletins that target a commune); it airs only in the self-test sessions whose frozen
 * programme names it. Its `repeat` is as high as a count goes, so that the scheduler's check at
 * OPEN (approved and aired fewer than `repeat` times in the commune) always lets it through
 * and it never becomes `done`. Loop thread only; calls nothing else of the module.
 */
#define LC_LOG_MODULE "bulletins"
#include <errno.h>
#include <stdio.h>

#include "server/accounts/accounts.h"
#include "server/api/api.h"
#include "server/bulletins/bulletins.h"
#include "server/bulletins/bulletins_internal.h"
#include "server/store/store.h"

#define SELFTEST_REPEAT 1000000000

int lc_bulletin_create_selftest(struct lc_store *s, const struct lc_bulletin_selftest *e,
                                int64_t *id)
{
    const struct lc_bulletin_approved b = {e->title, e->text, e->voice, "normal", SELFTEST_REPEAT,
                                           false, e->hash, e->media_hash, e->bytes,
                                           e->duration_s, e->user, "system", 0};
    if (lc_bulletin_insert_approved(s, &b, id) < 0)
        return -EIO;
    char target[32];
    lc_bulletin_target(*id, target);
    return lc_audit(s, NULL, e->user, "bulletin_create", target,
                    json_pack("{s:s,s:s,s:s,s:f}", "title", e->title, "kind", "selftest",
                              "approved_by", "system", "duration_s", e->duration_s));
}
