/*
 * server/alerts/cap_parse.c — a CAP 1.2 document read with libxml2 and checked; see cap.h.
 *
 * Three steps, each with its own answer: libxml2 parses (not well-formed: -EBADMSG); the root
 * must be <alert> in the CAP 1.2 namespace and the document must have no DOCTYPE (no entities,
 * no external anything: the parser never touches the network, XML_PARSE_NONET), then libxml2's
 * XML Schema validator checks it against data/cap-1.2.xsd (-EPROTO, with the validator's first
 * message, the namespace cut out so that it reads "Element 'status': [facet 'enumeration'] ...");
 * last, the C code reads the elements it uses and checks what the schema cannot (-EINVAL).
 *
 * Threads: any; the schema is read-only once loaded and shared. Every libxml2 object made here is
 * freed here; the struct lc_cap owns malloc'd copies only.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>

#include "common/buf.h"
#include "server/alerts/cap.h"
#include "server/api/api.h"

/* data/cap-1.2.xsd, embedded by tools/gen_embed.py (server/alerts/meson.build). */
extern const char lc_cap_xsd[];
extern const size_t lc_cap_xsd_len;

struct lc_cap_schema {
    xmlSchemaPtr schema;
};

/* libxml2's first error of a step: its line and message. */
struct first_error {
    bool set;
    int line;
    char msg[200];
};

/* Copies s into out without the CAP namespace's "{urn:...}" prefixes and the final newline. */
static void clean_message(const char *s, char *out, size_t n)
{
    static const char ns[] = "{" LC_CAP_NS "}";
    size_t o = 0;
    while (*s && o + 1 < n) {
        if (strncmp(s, ns, sizeof ns - 1) == 0) {
            s += sizeof ns - 1;
            continue;
        }
        out[o++] = *s == '\n' ? ' ' : *s;
        s++;
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
}

static void on_error(void *ctx, xmlErrorPtr e)
{
    struct first_error *f = ctx;
    if (f->set || e == NULL)
        return;
    f->set = true;
    f->line = e->line;
    clean_message(e->message ? e->message : "?", f->msg, sizeof f->msg);
}

void lc_cap_init(void)
{
    xmlInitParser();
}

int lc_cap_schema_load(struct lc_cap_schema **out, struct lc_err *err)
{
    struct first_error f = {0};
    *out = NULL;
    struct lc_cap_schema *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    xmlSchemaParserCtxtPtr pc = xmlSchemaNewMemParserCtxt(lc_cap_xsd, (int)lc_cap_xsd_len);
    if (pc == NULL) {
        free(s);
        return -ENOMEM;
    }
    xmlSchemaSetParserStructuredErrors(pc, on_error, &f);
    s->schema = xmlSchemaParse(pc);
    xmlSchemaFreeParserCtxt(pc);
    if (s->schema == NULL) {
        free(s);
        return lc_err_set(err, -EINVAL, "the CAP 1.2 schema does not load (line %d: %s)", f.line,
                          f.set ? f.msg : "?");
    }
    *out = s;
    return 0;
}

void lc_cap_schema_free(struct lc_cap_schema *s)
{
    if (s == NULL)
        return;
    xmlSchemaFree(s->schema);
    free(s);
}

void lc_cap_free(struct lc_cap *c)
{
    char **strs[] = {&c->identifier, &c->sender, &c->sent, &c->status, &c->msg_type, &c->scope,
                     &c->note, &c->language, &c->category, &c->event, &c->urgency, &c->severity,
                     &c->certainty, &c->headline, &c->description, &c->instruction,
                     &c->sender_name, &c->area_desc, &c->text};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        free(*strs[i]);
    for (size_t i = 0; i < c->nrefs; i++) {
        free(c->refs[i].sender);
        free(c->refs[i].identifier);
        free(c->refs[i].sent);
    }
    free(c->refs);
    for (size_t i = 0; i < c->npolygons; i++)
        free(c->polygons[i].p);
    free(c->polygons);
    free(c->circles);
    for (size_t i = 0; i < c->ngeocodes; i++) {
        free(c->geocodes[i].name);
        free(c->geocodes[i].value);
    }
    free(c->geocodes);
    memset(c, 0, sizeof *c);
}

/* ---- reading elements ---------------------------------------------------------------------- */

static bool is_cap(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && n->ns != NULL &&
           strcmp((const char *)n->ns->href, LC_CAP_NS) == 0 &&
           strcmp((const char *)n->name, name) == 0;
}

static xmlNode *child(const xmlNode *p, const char *name)
{
    for (xmlNode *n = p->children; n; n = n->next)
        if (is_cap(n, name))
            return n;
    return NULL;
}

static bool space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* The text of n, trimmed, as a malloc'd copy in *out (NULL when n is NULL). 0 or -ENOMEM. */
static int text_of(const xmlNode *n, char **out)
{
    *out = NULL;
    if (n == NULL)
        return 0;
    xmlChar *x = xmlNodeGetContent(n);
    if (x == NULL)
        return -ENOMEM;
    const char *s = (const char *)x;
    while (space(*s))
        s++;
    size_t len = strlen(s);
    while (len > 0 && space(s[len - 1]))
        len--;
    *out = strndup(s, len);
    xmlFree(x);
    return *out ? 0 : -ENOMEM;
}

/* The text of p's first child element name (NULL when there is none). 0 or -ENOMEM. */
static int field(const xmlNode *p, const char *name, char **out)
{
    return text_of(child(p, name), out);
}

/* Appends s to *dst, with sep before it when *dst is not empty. 0 or -ENOMEM. */
static int join(char **dst, const char *sep, const char *s)
{
    if (s == NULL || s[0] == '\0')
        return 0;
    size_t a = *dst ? strlen(*dst) : 0;
    char *n = realloc(*dst, a + strlen(sep) + strlen(s) + 1);
    if (n == NULL)
        return -ENOMEM;
    if (a == 0)
        strcpy(n, s);
    else
        sprintf(n + a, "%s%s", sep, s);
    *dst = n;
    return 0;
}

/* ---- values the schema cannot check -------------------------------------------------------- */

/* "lat,lon" → 0, or -EINVAL. */
static int read_point(const char *s, size_t len, struct lc_cap_point *p)
{
    char buf[64], *end;
    if (len == 0 || len >= sizeof buf)
        return -EINVAL;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *comma = strchr(buf, ',');
    if (comma == NULL || comma == buf || comma[1] == '\0')
        return -EINVAL;
    *comma = '\0';
    p->lat = strtod(buf, &end);
    if (*end != '\0')
        return -EINVAL;
    p->lon = strtod(comma + 1, &end);
    if (*end != '\0' || !isfinite(p->lat) || !isfinite(p->lon) || fabs(p->lat) > 90 ||
        fabs(p->lon) > 180)
        return -EINVAL;
    return 0;
}

/* The next whitespace-separated token of *s: its start, and *len; NULL at the end. */
static const char *token(const char **s, size_t *len)
{
    const char *p = *s;
    while (space(*p))
        p++;
    if (*p == '\0')
        return NULL;
    const char *t = p;
    while (*p && !space(*p))
        p++;
    *len = (size_t)(p - t);
    *s = p;
    return t;
}

static int read_polygon(struct lc_cap *c, const char *area, const char *s, size_t *points,
                        struct lc_err *err)
{
    struct lc_cap_polygon g = {0};
    size_t cap = 0, len;
    const char *t;
    size_t nth = c->npolygons + 1;
    while ((t = token(&s, &len)) != NULL) {
        if (++*points > LC_CAP_MAX_POINTS) {
            free(g.p);
            return lc_err_set(err, -EINVAL, "the areas have more than %d coordinate pairs",
                              LC_CAP_MAX_POINTS);
        }
        struct lc_cap_point *np = lc_grow(g.p, g.n, &cap, sizeof *g.p, 16);
        if (np == NULL) {
            free(g.p);
            return -ENOMEM;
        }
        g.p = np;
        if (read_point(t, len, &g.p[g.n]) < 0) {
            free(g.p);
            return lc_err_set(err, -EINVAL,
                              "area '%.60s': polygon %zu: '%.*s' is not a \"lat,lon\" pair in range",
                              area, nth, (int)(len > 40 ? 40 : len), t);
        }
        g.n++;
    }
    if (g.n < 4) {
        free(g.p);
        return lc_err_set(err, -EINVAL,
                          "area '%.60s': polygon %zu has %zu points; CAP needs at least 4 \"lat,lon\" "
                          "pairs, the first and last the same", area, nth, g.n);
    }
    if (g.p[0].lat != g.p[g.n - 1].lat || g.p[0].lon != g.p[g.n - 1].lon) {
        free(g.p);
        return lc_err_set(err, -EINVAL,
                          "area '%.60s': polygon %zu is not closed (its last point must be its first)",
                          area, nth);
    }
    struct lc_cap_polygon *np = realloc(c->polygons, (c->npolygons + 1) * sizeof *np);
    if (np == NULL) {
        free(g.p);
        return -ENOMEM;
    }
    c->polygons = np;
    c->polygons[c->npolygons++] = g;
    return 0;
}

static int read_circle(struct lc_cap *c, const char *area, const char *s, struct lc_err *err)
{
    struct lc_cap_circle k;
    struct lc_cap_point p;
    size_t l1 = 0, l2 = 0, l3;
    const char *t1 = token(&s, &l1), *t2 = t1 ? token(&s, &l2) : NULL;
    char buf[32], *end = NULL;
    bool ok = t1 && t2 && token(&s, &l3) == NULL && read_point(t1, l1, &p) == 0 &&
              l2 < sizeof buf;
    if (ok) {
        memcpy(buf, t2, l2);
        buf[l2] = '\0';
        k.radius_km = strtod(buf, &end);
        ok = *end == '\0' && isfinite(k.radius_km) && k.radius_km >= 0 && k.radius_km <= 20040;
    }
    if (!ok)
        return lc_err_set(err, -EINVAL,
                          "area '%.60s': circle %zu is not \"lat,lon radius_km\" in range", area,
                          c->ncircles + 1);
    k.lat = p.lat;
    k.lon = p.lon;
    struct lc_cap_circle *nk = realloc(c->circles, (c->ncircles + 1) * sizeof *nk);
    if (nk == NULL)
        return -ENOMEM;
    c->circles = nk;
    c->circles[c->ncircles++] = k;
    return 0;
}

static int read_geocode(struct lc_cap *c, const xmlNode *g)
{
    struct lc_cap_geocode k = {0};
    if (field(g, "valueName", &k.name) < 0 || field(g, "value", &k.value) < 0) {
        free(k.name);
        free(k.value);
        return -ENOMEM;
    }
    struct lc_cap_geocode *nk = realloc(c->geocodes, (c->ngeocodes + 1) * sizeof *nk);
    if (nk == NULL) {
        free(k.name);
        free(k.value);
        return -ENOMEM;
    }
    c->geocodes = nk;
    c->geocodes[c->ngeocodes++] = k;
    return 0;
}

static int read_area(struct lc_cap *c, const xmlNode *a, size_t *points, struct lc_err *err)
{
    char *desc = NULL, *v = NULL;
    int rc = field(a, "areaDesc", &desc);
    if (rc == 0)
        rc = join(&c->area_desc, "; ", desc);
    c->nareas++;
    for (const xmlNode *n = a->children; n && rc == 0; n = n->next) {
        bool poly = is_cap(n, "polygon"), circle = is_cap(n, "circle");
        if (!poly && !circle && !is_cap(n, "geocode"))
            continue;
        if (c->npolygons + c->ncircles + c->ngeocodes >= LC_CAP_MAX_SHAPES) {
            rc = lc_err_set(err, -EINVAL, "the areas have more than %d polygons, circles and "
                            "geocodes", LC_CAP_MAX_SHAPES);
            break;
        }
        if (!poly && !circle) {
            rc = read_geocode(c, n);
            continue;
        }
        if ((rc = text_of(n, &v)) < 0)
            break;
        rc = poly ? read_polygon(c, desc ? desc : "", v, points, err)
                  : read_circle(c, desc ? desc : "", v, err);
        free(v);
        v = NULL;
    }
    free(desc);
    return rc;
}

/* <references>: "sender,identifier,sent" entries separated by whitespace. */
static int read_refs(struct lc_cap *c, const char *s, struct lc_err *err)
{
    size_t len;
    const char *t;
    while ((t = token(&s, &len)) != NULL) {
        if (c->nrefs == LC_CAP_MAX_REFS)
            return lc_err_set(err, -EINVAL, "more than %d references", LC_CAP_MAX_REFS);
        const char *c1 = memchr(t, ',', len);
        const char *c2 = c1 ? memchr(c1 + 1, ',', len - (size_t)(c1 + 1 - t)) : NULL;
        struct lc_cap_ref r = {0};
        if (c2 == NULL || c1 == t || c2 == c1 + 1 || c2 + 1 == t + len ||
            memchr(c2 + 1, ',', len - (size_t)(c2 + 1 - t)) != NULL)
            return lc_err_set(err, -EINVAL,
                              "references: '%.*s' is not \"sender,identifier,sent\"",
                              (int)(len > 80 ? 80 : len), t);
        r.sender = strndup(t, (size_t)(c1 - t));
        r.identifier = strndup(c1 + 1, (size_t)(c2 - c1 - 1));
        r.sent = strndup(c2 + 1, (size_t)(t + len - c2 - 1));
        struct lc_cap_ref *nr = realloc(c->refs, (c->nrefs + 1) * sizeof *nr);
        if (!r.sender || !r.identifier || !r.sent || nr == NULL) {
            free(r.sender);
            free(r.identifier);
            free(r.sent);
            if (nr)
                c->refs = nr;
            return -ENOMEM;
        }
        c->refs = nr;
        c->refs[c->nrefs++] = r;
        if (lc_time_parse(r.sent, &c->refs[c->nrefs - 1].sent_at) < 0)
            return lc_err_set(err, -EINVAL, "references: '%.40s' is not a CAP time", r.sent);
    }
    return 0;
}

static bool vietnamese(const char *lang)
{
    return lang && (strcasecmp(lang, "vi") == 0 || strcasecmp(lang, "vi-VN") == 0);
}

/* The Vietnamese info's fields and areas. */
static int read_info(struct lc_cap *c, const xmlNode *info, struct lc_err *err)
{
    int rc = 0;
    size_t points = 0;
    char *expires = NULL, *cat = NULL;
    c->has_vi = true;
    if (field(info, "language", &c->language) < 0 || field(info, "event", &c->event) < 0 ||
        field(info, "urgency", &c->urgency) < 0 || field(info, "severity", &c->severity) < 0 ||
        field(info, "certainty", &c->certainty) < 0 || field(info, "headline", &c->headline) < 0 ||
        field(info, "description", &c->description) < 0 ||
        field(info, "instruction", &c->instruction) < 0 ||
        field(info, "senderName", &c->sender_name) < 0 || field(info, "expires", &expires) < 0)
        return -ENOMEM;
    if (expires && lc_time_parse(expires, &c->expires_at) < 0)
        rc = lc_err_set(err, -EINVAL, "expires: '%.40s' is not a CAP time", expires);
    free(expires);
    for (const xmlNode *n = info->children; n && rc == 0; n = n->next) {
        if (is_cap(n, "category")) {
            if ((rc = text_of(n, &cat)) == 0)
                rc = join(&c->category, ",", cat);
            free(cat);
            cat = NULL;
        } else if (is_cap(n, "area")) {
            rc = read_area(c, n, &points, err);
        }
    }
    if (rc < 0)
        return rc;
    if ((rc = join(&c->text, "\n", c->headline)) < 0 ||
        (rc = join(&c->text, "\n", c->description)) < 0 ||
        (rc = join(&c->text, "\n", c->instruction)) < 0)
        return rc;
    return 0;
}

/* The elements of a valid document, and the rules of CAP 1.2 the schema does not express. */
static int read_alert(struct lc_cap *c, const xmlNode *root, struct lc_err *err)
{
    char *refs = NULL, *restriction = NULL, *addresses = NULL;
    int rc = 0;
    if (field(root, "identifier", &c->identifier) < 0 || field(root, "sender", &c->sender) < 0 ||
        field(root, "sent", &c->sent) < 0 || field(root, "status", &c->status) < 0 ||
        field(root, "msgType", &c->msg_type) < 0 || field(root, "scope", &c->scope) < 0 ||
        field(root, "note", &c->note) < 0 || field(root, "references", &refs) < 0 ||
        field(root, "restriction", &restriction) < 0 || field(root, "addresses", &addresses) < 0) {
        rc = -ENOMEM;
        goto out;
    }
    if (lc_time_parse(c->sent, &c->sent_at) < 0) {
        rc = lc_err_set(err, -EINVAL, "sent: '%.40s' is not a CAP time", c->sent);
        goto out;
    }
    if (strcmp(c->scope, "Restricted") == 0 && (restriction == NULL || !restriction[0])) {
        rc = lc_err_set(err, -EINVAL, "scope Restricted needs a <restriction>");
        goto out;
    }
    if (strcmp(c->scope, "Private") == 0 && (addresses == NULL || !addresses[0])) {
        rc = lc_err_set(err, -EINVAL, "scope Private needs <addresses>");
        goto out;
    }
    if (refs && (rc = read_refs(c, refs, err)) < 0)
        goto out;
    if ((strcmp(c->msg_type, "Update") == 0 || strcmp(c->msg_type, "Cancel") == 0) &&
        c->nrefs == 0) {
        rc = lc_err_set(err, -EINVAL, "msgType %s must name the earlier alert in <references>",
                        c->msg_type);
        goto out;
    }
    for (const xmlNode *n = root->children; n && rc == 0; n = n->next) {
        if (!is_cap(n, "info"))
            continue;
        c->ninfo++;
        char *lang = NULL;
        if ((rc = field(n, "language", &lang)) < 0)
            break;
        if (!c->has_vi && vietnamese(lang))
            rc = read_info(c, n, err);
        free(lang);
    }
out:
    free(refs);
    free(restriction);
    free(addresses);
    return rc;
}

int lc_cap_parse(const struct lc_cap_schema *schema, const char *xml, size_t len,
                 struct lc_cap *out, struct lc_err *err)
{
    struct first_error f = {0};
    xmlParserCtxtPtr pc = NULL;
    xmlSchemaValidCtxtPtr vc = NULL;
    xmlDocPtr doc = NULL;
    int rc;
    memset(out, 0, sizeof *out);
    if (len == 0)
        return lc_err_set(err, -EBADMSG, "the body is empty: a CAP 1.2 XML document is expected");
    if (len > INT_MAX)
        return lc_err_set(err, -EBADMSG, "the document is too large");
    if ((pc = xmlNewParserCtxt()) == NULL)
        return -ENOMEM;
    doc = xmlCtxtReadMemory(pc, xml, (int)len, NULL, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc == NULL || !pc->wellFormed || !pc->nsWellFormed) {
        xmlErrorPtr e = xmlCtxtGetLastError(pc);
        char msg[200];
        clean_message(e && e->message ? e->message : "?", msg, sizeof msg);
        rc = lc_err_set(err, -EBADMSG, "the XML is malformed (line %d: %s)", e ? e->line : 0, msg);
        goto out;
    }
    if (doc->intSubset != NULL || doc->extSubset != NULL) {
        rc = lc_err_set(err, -EPROTO, "a DOCTYPE is not allowed in a CAP alert");
        goto out;
    }
    xmlNode *root = xmlDocGetRootElement(doc);
    const char *ns = root && root->ns ? (const char *)root->ns->href : "";
    if (root == NULL || strcmp((const char *)root->name, "alert") != 0 || strcmp(ns, LC_CAP_NS) != 0) {
        static const char cap_ns[] = "urn:oasis:names:tc:emergency:cap:";
        if (root && strncmp(ns, cap_ns, sizeof cap_ns - 1) == 0 && strcmp(ns, LC_CAP_NS) != 0)
            rc = lc_err_set(err, -EPROTO, "this is CAP %.20s (namespace %.80s); loacast takes CAP "
                            "1.2 (" LC_CAP_NS ")", ns + sizeof cap_ns - 1, ns);
        else
            rc = lc_err_set(err, -EPROTO, "not a CAP 1.2 alert: the root element is <%.40s> in "
                            "namespace '%.80s'; expected <alert> in " LC_CAP_NS,
                            root ? (const char *)root->name : "", ns);
        goto out;
    }
    if ((vc = xmlSchemaNewValidCtxt(schema->schema)) == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    xmlSchemaSetValidStructuredErrors(vc, on_error, &f);
    int v = xmlSchemaValidateDoc(vc, doc);
    if (v != 0) {
        rc = v < 0 ? -ENOMEM
                   : lc_err_set(err, -EPROTO, "not valid CAP 1.2 (line %d: %s)", f.line,
                                f.set ? f.msg : "?");
        goto out;
    }
    rc = read_alert(out, root, err);
    if (rc == -ENOMEM)
        lc_err_set(err, rc, "out of memory");
out:
    xmlSchemaFreeValidCtxt(vc);
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(pc);
    return rc;
}
