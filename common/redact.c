/* common/redact.c — secrets out of logged URLs; see redact.h. */
#include "common/redact.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

static const char *const secret_names[] = {"token", "access_token", "ticket", "listen", "key",
                                           "sig", "signature", "password", "pass", "secret",
                                           "auth", NULL};

static bool is_secret(const char *name, size_t len)
{
    for (const char *const *s = secret_names; *s; s++)
        if (strlen(*s) == len && strncasecmp(*s, name, len) == 0)
            return true;
    return false;
}

struct out {
    char *p;
    size_t n, len;
};

static void put(struct out *o, const char *s, size_t len)
{
    for (size_t i = 0; i < len && o->len + 1 < o->n; i++) {
        unsigned char ch = (unsigned char)s[i];
        o->p[o->len++] = ch <= ' ' || ch == 0x7f ? '_' : (char)ch;
    }
    o->p[o->len] = '\0';
}

char *lc_url_redact(const char *url, char *out, size_t n)
{
    struct out o = {out, n, 0};
    if (n == 0)
        return out;
    out[0] = '\0';
    const char *p = url;
    /* "scheme://user:pass@host…": the user information goes */
    const char *scheme_end = strstr(p, "://");
    if (scheme_end != NULL && scheme_end == p + strcspn(p, ":/?#")) {
        const char *auth = scheme_end + 3;
        size_t hostpart = strcspn(auth, "/?#");
        const char *at = memchr(auth, '@', hostpart);
        if (at != NULL) {
            put(&o, p, (size_t)(auth - p));
            put(&o, "[hidden]", 8);
            p = at;
        }
    }
    size_t path = strcspn(p, "?#");
    put(&o, p, path);
    p += path;
    if (*p != '?') {
        put(&o, p, strlen(p));
        return out;
    }
    put(&o, "?", 1);
    p++;
    while (*p && *p != '#') {
        size_t pair = strcspn(p, "&#"), name = strcspn(p, "=&#");
        if (name < pair && is_secret(p, name)) {
            put(&o, p, name + 1);
            put(&o, "[hidden]", 8);
        } else {
            put(&o, p, pair);
        }
        p += pair;
        if (*p == '&') {
            put(&o, "&", 1);
            p++;
        }
    }
    put(&o, p, strlen(p));
    return out;
}
