/*
 * server/http/http_proxy.c — the client's address behind trusted proxies (issue 20).
 *
 * loacast has no TLS: a station runs nginx in front, and then every request comes from nginx's
 * address. The audit would name 127.0.0.1 for everyone and the per-address login limit would
 * become one limit for the whole station. A proxy listed in `[server] trusted_proxies` is
 * believed about the address it got the request from: `Forwarded: for=` (RFC 7239), else
 * `X-Forwarded-For`. Nobody else is: a client that writes these headers itself, straight to
 * loacast, keeps its own address.
 *
 * Each proxy appends the address it saw, so the list is read from the right: hops that are
 * trusted proxies are skipped, the first that is not is the client. A hop that is no address
 * ("unknown", an obfuscated name, garbage) ends the walk: the last address before it (a
 * trusted proxy's, which saw it) stands. When every hop is a trusted proxy, the leftmost is
 * taken.
 */
#include "server/http/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct lc_net {
    int family;                 /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int bits;
};

struct lc_http_trust {
    size_t n;
    struct lc_net nets[];
};

/* An address as text (IPv4, IPv6, IPv4-mapped IPv6 as IPv4) into family/addr. */
static int parse_addr(const char *s, size_t len, int *family, unsigned char addr[16])
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET, buf, addr) == 1) {
        *family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, buf, addr) != 1)
        return -1;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(addr, mapped, 12) == 0) {
        memmove(addr, addr + 12, 4);
        *family = AF_INET;
    } else {
        *family = AF_INET6;
    }
    return 0;
}

int lc_http_trust_parse(struct lc_http_trust **out, const char *list, char *why, size_t n)
{
    *out = NULL;
    /* entries are separated by commas and/or blanks: one slot per separator is enough */
    size_t count = 0;
    for (const char *p = list; *p; p++)
        count += *p == ',' || *p == ' ' || *p == '\t';
    struct lc_http_trust *t = calloc(1, sizeof *t + (count + 1) * sizeof t->nets[0]);
    if (t == NULL) {
        snprintf(why, n, "out of memory");
        return -ENOMEM;
    }
    const char *p = list;
    while (*p) {
        p += strspn(p, " \t,");
        size_t len = strcspn(p, " \t,");
        if (len == 0)
            break;
        struct lc_net *net = &t->nets[t->n];
        const char *slash = memchr(p, '/', len);
        size_t alen = slash ? (size_t)(slash - p) : len;
        if (parse_addr(p, alen, &net->family, net->addr) < 0)
            goto bad;
        int max = net->family == AF_INET ? 32 : 128;
        net->bits = max;
        if (slash != NULL) {
            char *end;
            long bits = strtol(slash + 1, &end, 10);
            if (end != p + len || slash + 1 == end || bits < 0 || bits > max)
                goto bad;
            net->bits = (int)bits;
        }
        t->n++;
        p += len;
        continue;
bad:
        snprintf(why, n, "'%.*s' is not an address or address/prefix (e.g. 127.0.0.1, ::1, "
                 "10.0.0.0/8)", (int)(len > 60 ? 60 : len), p);
        free(t);
        return -EINVAL;
    }
    *out = t;
    return 0;
}

void lc_http_trust_free(struct lc_http_trust *t)
{
    free(t);
}

size_t lc_http_trust_count(const struct lc_http_trust *t)
{
    return t ? t->n : 0;
}

static bool trusted(const struct lc_http_trust *t, int family, const unsigned char *addr)
{
    for (size_t i = 0; i < t->n; i++) {
        const struct lc_net *net = &t->nets[i];
        if (net->family != family)
            continue;
        int full = net->bits / 8, rest = net->bits % 8;
        if (memcmp(net->addr, addr, (size_t)full) != 0)
            continue;
        if (rest == 0 || ((net->addr[full] ^ addr[full]) & (0xff << (8 - rest)) & 0xff) == 0)
            return true;
    }
    return false;
}

/* The hops named by one header value, left to right, into hops[] (at most max). A Forwarded
 * element gives its for= parameter: quoted, "[v6]:port" and "v4:port" forms unwrapped; an
 * element without for= counts as an unknown hop. */
struct hop {
    const char *s;
    size_t len;
};

static size_t forwarded_hops(const char *v, bool rfc7239, struct hop *hops, size_t n, size_t max)
{
    while (*v && n < max) {
        size_t elen = strcspn(v, ",");
        struct hop h = {"", 0};
        if (!rfc7239) {
            h.s = v;
            h.len = elen;
        } else {
            for (const char *q = v; q < v + elen;) {
                q += strspn(q, " \t;");
                size_t plen = strcspn(q, ";,");
                if (plen > 4 && strncasecmp(q, "for=", 4) == 0) {
                    h.s = q + 4;
                    h.len = plen - 4;
                }
                q += plen;
            }
        }
        /* trim, unquote, unwrap [v6]:port, drop a v4's :port */
        while (h.len && (*h.s == ' ' || *h.s == '\t')) {
            h.s++;
            h.len--;
        }
        while (h.len && (h.s[h.len - 1] == ' ' || h.s[h.len - 1] == '\t'))
            h.len--;
        if (h.len >= 2 && h.s[0] == '"' && h.s[h.len - 1] == '"') {
            h.s++;
            h.len -= 2;
        }
        if (h.len && h.s[0] == '[') {
            const char *close = memchr(h.s, ']', h.len);
            if (close != NULL) {
                h.len = (size_t)(close - h.s) - 1;
                h.s++;
            }
        } else {
            const char *colon = memchr(h.s, ':', h.len);
            if (colon != NULL && memchr(colon + 1, ':', h.len - (size_t)(colon + 1 - h.s)) == NULL)
                h.len = (size_t)(colon - h.s);  /* one colon: "v4:port" */
        }
        hops[n++] = h;
        v += elen;
        if (*v == ',')
            v++;
    }
    return n;
}

#define MAX_HOPS 32

void lc_http_client_addr(const struct lc_http_trust *t, struct lc_req *req, const char *peer)
{
    int family;
    unsigned char addr[16];
    snprintf(req->addr, sizeof req->addr, "%s", peer);
    if (t == NULL || t->n == 0 || parse_addr(peer, strlen(peer), &family, addr) < 0 ||
        !trusted(t, family, addr))
        return;
    bool rfc7239 = lc_req_header(req, "forwarded") != NULL;
    const char *want = rfc7239 ? "forwarded" : "x-forwarded-for";
    struct hop hops[MAX_HOPS];
    size_t n = 0;
    for (int i = 0; i < req->nheaders; i++)   /* several header lines: one list, in order */
        if (strcmp(req->headers[i].name, want) == 0)
            n = forwarded_hops(req->headers[i].value, rfc7239, hops, n, MAX_HOPS);
    for (size_t i = n; i-- > 0;) {
        if (parse_addr(hops[i].s, hops[i].len, &family, addr) < 0)
            return;     /* no address: the last one believed stands */
        snprintf(req->addr, sizeof req->addr, "%.*s", (int)hops[i].len, hops[i].s);
        if (!trusted(t, family, addr))
            return;
    }
}
