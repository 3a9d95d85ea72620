/*
 * tests/fuzz/fuzz_cap.c — libFuzzer target: the CAP 1.2 parser of POST /api/v1/alerts
 * (server/alerts/cap.h: libxml2, the compiled-in schema, the checks of cap_parse.c) and the area
 * selection on what it returns.
 *
 * Checks the contracts of cap.h on every input:
 *   - lc_cap_parse: 0, or one of -EBADMSG, -EPROTO, -EINVAL (-ENOMEM never, here) with a message;
 *   - on success: identifier, sender, sent, status, msg_type, scope present; every polygon has
 *     at least 4 points, closed and in range; circles in range; a Vietnamese info has its
 *     urgency, severity, certainty and event;
 *   - lc_area_select returns sorted, distinct ids of the map's communes.
 *
 *   ninja -C build-fuzz tests/fuzz/fuzz_cap
 *   build-fuzz/tests/fuzz/fuzz_cap -max_len=8192 CORPUS_DIR tests/fuzz/corpus/fuzz_cap
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/alerts/cap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct lc_cap_schema *schema;

static void fail(const char *what, const struct lc_err *err)
{
    fprintf(stderr, "fuzz_cap: %s (\"%s\")\n", what, err ? lc_err_msg(err) : "");
    abort();
}

/* Three communes around Quảng Trạch, one of them by code only. */
static struct lc_area_cluster clusters[] = {
    {"quang-phu", 17.55, 106.60}, {"quang-phu", 17.52, 106.58}, {"quang-thanh", 17.50, 106.55},
    {"hai-ninh", 17.20, 106.80}};
static struct lc_area_code codes[] = {{"hai-ninh", "19600"}, {"son-thuy", "19639"}};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lc_err err = {0};
    struct lc_cap c;
    if (schema == NULL) {
        lc_cap_init();
        if (lc_cap_schema_load(&schema, &err) < 0)
            fail("the schema does not load", &err);
    }
    int rc = lc_cap_parse(schema, (const char *)data, size, &c, &err);
    if (rc < 0) {
        if (rc != -EBADMSG && rc != -EPROTO && rc != -EINVAL)
            fail("an unexpected code", &err);
        if (err.msg[0] == '\0')
            fail("an error without a message", &err);
        lc_cap_free(&c);
        return 0;
    }
    if (!c.identifier || !c.sender || !c.sent || !c.status || !c.msg_type || !c.scope)
        fail("a required element is missing after success", NULL);
    for (size_t i = 0; i < c.npolygons; i++) {
        const struct lc_cap_polygon *g = &c.polygons[i];
        if (g->n < 4 || g->p[0].lat != g->p[g->n - 1].lat || g->p[0].lon != g->p[g->n - 1].lon)
            fail("a polygon that is not closed or too short", NULL);
        for (size_t k = 0; k < g->n; k++)
            if (!(fabs(g->p[k].lat) <= 90 && fabs(g->p[k].lon) <= 180))
                fail("a point out of range", NULL);
    }
    for (size_t i = 0; i < c.ncircles; i++)
        if (!(c.circles[i].radius_km >= 0) || !(fabs(c.circles[i].lat) <= 90))
            fail("a circle out of range", NULL);
    if (c.has_vi && (!c.urgency || !c.severity || !c.certainty || !c.event))
        fail("a Vietnamese info without its required elements", NULL);
    struct lc_area_map m = {clusters, sizeof clusters / sizeof clusters[0], codes,
                            sizeof codes / sizeof codes[0]};
    char (*ids)[65] = NULL;
    size_t n = 0;
    if (lc_area_select(&c, &m, &ids, &n) < 0)
        fail("area: out of memory", NULL);
    for (size_t i = 1; i < n; i++)
        if (strcmp(ids[i - 1], ids[i]) >= 0)
            fail("area: ids not sorted and distinct", NULL);
    free(ids);
    lc_cap_free(&c);
    return 0;
}
