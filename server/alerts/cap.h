/*
 * server/alerts/cap.h — internal header of server/alerts/: a CAP 1.2 document read into C
 * (cap_parse.c) and the communes its area covers (cap_area.c). Pure: no loop, no database;
 * safe on any thread (one parse per thread at a time; the schema is shared, read-only).
 *
 * What is checked, and how a failure is told (lc_err, one line naming the element):
 *   -EBADMSG  not well-formed XML (400)
 *   -EPROTO   well-formed, but not a CAP 1.2 alert: another root or namespace (a CAP 1.1
 *             document says so), a DOCTYPE, or the schema (data/cap-1.2.xsd): required elements,
 *             their order, the enumerated values, dateTime with an offset (422)
 *   -EINVAL   what the schema cannot say: a polygon of fewer than 4 "lat,lon" pairs, not closed
 *             or out of range, a circle that is not "lat,lon radius_km", references that are not
 *             "sender,identifier,sent", scope Restricted without restriction, Private without
 *             addresses, an Update or Cancel without references (422)
 *   -ENOMEM
 */
#ifndef LC_SERVER_ALERTS_CAP_H
#define LC_SERVER_ALERTS_CAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define LC_CAP_NS "urn:oasis:names:tc:emergency:cap:1.2"
/* Bounds that keep one document's cost small: coordinate pairs over all polygons, circles,
 * geocodes, references. Past them: -EINVAL. */
#define LC_CAP_MAX_POINTS 100000
#define LC_CAP_MAX_SHAPES 1000
#define LC_CAP_MAX_REFS 100

struct lc_cap_point {
    double lat, lon;
};
struct lc_cap_polygon {
    struct lc_cap_point *p;     /* owned; closed: p[n-1] == p[0] */
    size_t n;                   /* >= 4 */
};
struct lc_cap_circle {
    double lat, lon, radius_km;
};
struct lc_cap_geocode {
    char *name, *value;         /* owned */
};
struct lc_cap_ref {
    char *sender, *identifier, *sent;   /* owned */
    int64_t sent_at;                    /* Unix s */
};

/* One document. Strings are owned, NUL-terminated UTF-8, trimmed; NULL when absent. */
struct lc_cap {
    char *identifier, *sender, *sent, *status, *msg_type, *scope, *note;
    int64_t sent_at;                    /* Unix s */
    struct lc_cap_ref *refs;            /* <references> */
    size_t nrefs;
    size_t ninfo;                       /* <info> blocks, of any language */
    /* The first <info> whose <language> is vi or vi-VN (any case); has_vi false: none, and the
     * fields below are NULL/0. */
    bool has_vi;
    char *language, *category, *event, *urgency, *severity, *certainty;
    char *headline, *description, *instruction, *sender_name;
    int64_t expires_at;                 /* 0: no <expires> */
    char *area_desc;                    /* the areaDescs of its areas, joined with "; " */
    size_t nareas;
    struct lc_cap_polygon *polygons;    /* of all its areas */
    size_t npolygons;
    struct lc_cap_circle *circles;
    size_t ncircles;
    struct lc_cap_geocode *geocodes;
    size_t ngeocodes;
    /* What is spoken: headline, description and instruction, those present, one a line (a
     * pause between them); NULL when none is. */
    char *text;
};

/* The CAP 1.2 schema, compiled from data/cap-1.2.xsd (embedded in the program). */
struct lc_cap_schema;
/* Loads it (*out, freed with lc_cap_schema_free). Call lc_cap_init() first. 0, -EINVAL (the
 * embedded schema does not compile: a build error, err says why) or -ENOMEM. */
int lc_cap_schema_load(struct lc_cap_schema **out, struct lc_err *err);
void lc_cap_schema_free(struct lc_cap_schema *s);
/* libxml2's global set-up, once, on the main thread before any other thread parses. */
void lc_cap_init(void);

/* Parses xml[0..len) into *out (zeroed first; free it with lc_cap_free, also after a failure).
 * 0 or the codes above, with err. */
int lc_cap_parse(const struct lc_cap_schema *schema, const char *xml, size_t len,
                 struct lc_cap *out, struct lc_err *err);
void lc_cap_free(struct lc_cap *c);

/* ---- the area (cap_area.c) ----------------------------------------------------------------- */

/* What the area is matched against: the located clusters of communes in service, and the
 * communes' administrative codes. Filled on the loop thread from the database, read on the
 * worker. */
struct lc_area_cluster {
    char commune[65];
    double lat, lon;
};
struct lc_area_code {
    char commune[65];
    char code[17];
};
struct lc_area_map {
    struct lc_area_cluster *clusters;   /* owned */
    size_t nclusters;
    struct lc_area_code *codes;         /* owned */
    size_t ncodes;
};
void lc_area_map_free(struct lc_area_map *m);

/* Great-circle distance in km (haversine, mean Earth radius 6371.0088 km). */
double lc_area_distance_km(double lat1, double lon1, double lat2, double lon2);
/* Whether (lat, lon) lies inside polygon g (even-odd rule in the lat/lon plane; a point on an
 * edge may fall either way). */
bool lc_area_in_polygon(const struct lc_cap_polygon *g, double lat, double lon);

/* A geocode names a commune by its administrative code (mã đơn vị hành chính) under this
 * valueName (any case); other geocodes select nothing. Codes compare as digits without their
 * leading zeros ("00004" = "4"). */
#define LC_CAP_GEOCODE_NAME "MADVHC"

/* The communes c's Vietnamese info covers: a commune whose located cluster lies inside one of its
 * polygons or circles, or whose code is the value of one of its MADVHC geocodes. *out gets a sorted
 * list of distinct ids (malloc'd, owned by the caller; NULL when none) and *n their number.
 * 0 or -ENOMEM. */
int lc_area_select(const struct lc_cap *c, const struct lc_area_map *m, char (**out)[65],
                   size_t *n);

#endif
