/*
 * server/alerts/cap_area.c — which communes an alert's area covers; see cap.h.
 *
 * A commune has one stream that all its clusters play, so it is chosen when one of its located
 * clusters lies inside a polygon or circle of the area, or when its administrative code is the
 * value of a geocode "MADVHC" of the area. Polygons: the even-odd rule on (lon, lat) as plane
 * coordinates — CAP's polygons are a few tens of km across, where the plane is exact enough, and
 * Vietnam is far from the antimeridian — after a bounding-box test. Circles: great-circle
 * distance (haversine). Pure: runs on the module's worker with a map the loop read before.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "server/alerts/cap.h"

#define EARTH_KM 6371.0088
#define RAD(d) ((d) * 3.14159265358979323846 / 180.0)

void lc_area_map_free(struct lc_area_map *m)
{
    free(m->clusters);
    free(m->codes);
    memset(m, 0, sizeof *m);
}

double lc_area_distance_km(double lat1, double lon1, double lat2, double lon2)
{
    double dlat = RAD(lat2 - lat1), dlon = RAD(lon2 - lon1);
    double h = sin(dlat / 2) * sin(dlat / 2) +
               cos(RAD(lat1)) * cos(RAD(lat2)) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * EARTH_KM * asin(sqrt(h < 1 ? h : 1));
}

bool lc_area_in_polygon(const struct lc_cap_polygon *g, double lat, double lon)
{
    bool in = false;
    for (size_t i = 0, j = g->n - 1; i < g->n; j = i++) {
        const struct lc_cap_point *a = &g->p[i], *b = &g->p[j];
        if ((a->lat > lat) != (b->lat > lat) &&
            lon < (b->lon - a->lon) * (lat - a->lat) / (b->lat - a->lat) + a->lon)
            in = !in;
    }
    return in;
}

struct box {
    double lat0, lat1, lon0, lon1;
};

static struct box bounds(const struct lc_cap_polygon *g)
{
    struct box b = {g->p[0].lat, g->p[0].lat, g->p[0].lon, g->p[0].lon};
    for (size_t i = 1; i < g->n; i++) {
        b.lat0 = fmin(b.lat0, g->p[i].lat);
        b.lat1 = fmax(b.lat1, g->p[i].lat);
        b.lon0 = fmin(b.lon0, g->p[i].lon);
        b.lon1 = fmax(b.lon1, g->p[i].lon);
    }
    return b;
}

/* s without leading zeros ("00004" → "4", "0" → "0"); only digits count as a code. */
static const char *code_digits(const char *s, bool *digits)
{
    *digits = s[0] != '\0';
    for (const char *p = s; *p; p++)
        *digits = *digits && isdigit((unsigned char)*p);
    while (s[0] == '0' && s[1] != '\0')
        s++;
    return s;
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

int lc_area_select(const struct lc_cap *c, const struct lc_area_map *m, char (**out)[65],
                   size_t *n)
{
    *out = NULL;
    *n = 0;
    char (*ids)[65] = NULL;
    size_t cnt = 0, cap = 0;
    struct box *boxes = c->npolygons ? calloc(c->npolygons, sizeof *boxes) : NULL;
    if (c->npolygons && boxes == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < c->npolygons; i++)
        boxes[i] = bounds(&c->polygons[i]);
    for (size_t k = 0; k < m->nclusters + m->ncodes; k++) {
        const char *commune;
        bool hit = false;
        if (k < m->nclusters) {
            const struct lc_area_cluster *cl = &m->clusters[k];
            commune = cl->commune;
            for (size_t i = 0; i < c->npolygons && !hit; i++)
                hit = cl->lat >= boxes[i].lat0 && cl->lat <= boxes[i].lat1 &&
                      cl->lon >= boxes[i].lon0 && cl->lon <= boxes[i].lon1 &&
                      lc_area_in_polygon(&c->polygons[i], cl->lat, cl->lon);
            for (size_t i = 0; i < c->ncircles && !hit; i++)
                hit = lc_area_distance_km(cl->lat, cl->lon, c->circles[i].lat,
                                          c->circles[i].lon) <= c->circles[i].radius_km;
        } else {
            const struct lc_area_code *co = &m->codes[k - m->nclusters];
            bool d1, d2;
            const char *mine = code_digits(co->code, &d1);
            commune = co->commune;
            for (size_t i = 0; i < c->ngeocodes && !hit && d1; i++) {
                const struct lc_cap_geocode *g = &c->geocodes[i];
                if (g->name && g->value && strcasecmp(g->name, LC_CAP_GEOCODE_NAME) == 0)
                    hit = strcmp(code_digits(g->value, &d2), mine) == 0 && d2;
            }
        }
        if (!hit)
            continue;
        bool dup = false;
        for (size_t i = 0; i < cnt && !dup; i++)
            dup = strcmp(ids[i], commune) == 0;
        if (dup)
            continue;
        char (*grown)[65] = lc_grow(ids, cnt, &cap, sizeof *ids, 16);
        if (grown == NULL) {
            free(ids);
            free(boxes);
            return -ENOMEM;
        }
        ids = grown;
        snprintf(ids[cnt++], 65, "%s", commune);
    }
    free(boxes);
    if (cnt > 1)
        qsort(ids, cnt, sizeof *ids, cmp_id);
    *out = ids;
    *n = cnt;
    return 0;
}
