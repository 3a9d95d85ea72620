/*
 * codecs/nz_lexicon.c — the abbreviation lexicon and the URL-label (domain) lexicon.
 *
 * File format (UTF-8, NFC or NFD): one `ABBR<TAB>expansion` per line; blank lines and lines
 * starting with `#` are ignored; surrounding spaces are trimmed. The built-in lexicon is
 * data/lexicon.tsv and data/domains.tsv, embedded at build time (tools/gen_lexdata.py ->
 * nz_lexdata.c); a station file given at run time is read after it, so its entries add to or
 * replace the built-in ones.
 *
 * Matching: `exact` holds every key as written. A key with a lower-case letter (đ/c, tr.đ, TTg)
 * is also put, lower-cased, in `folded`, which a token that is not all-caps may match
 * case-insensitively ("Đ/c" finds "đ/c"). All-caps keys match only all-caps tokens, so "UBND" is
 * never found for "ubnd".
 *
 * Ownership: the tables (struct nz_lexdata) own every key and value (one malloc each). A
 * struct lc_lexicon is a handle on one set of tables: lc_lexicon_add() writes to them only
 * while the handle is private (being built); once shared, the tables are immutable and are
 * replaced whole by lc_lexicon_swap(). Each lc_normalize() takes a reference to the tables in
 * use (a mutex held only to read the pointer and count), so a render in progress keeps its
 * tables while a swap installs new ones; the last reference frees them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codecs/normalize_internal.h"

struct entry {
    char *key;
    char *val;
    uint32_t hash;
};

struct map {
    struct entry *v;
    size_t cap, n;
};

struct nz_lexdata {
    struct map exact, folded, domains;
    size_t max_key;
    atomic_size_t refs;
};

struct lc_lexicon {
    pthread_mutex_t mu;     /* guards d (the pointer), not the tables */
    struct nz_lexdata *d;
};

static uint32_t hash_bytes(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static const struct entry *map_find(const struct map *m, const char *key, size_t n)
{
    if (m->cap == 0)
        return NULL;
    uint32_t h = hash_bytes(key, n);
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        const struct entry *e = &m->v[i];
        if (e->key == NULL)
            return NULL;
        if (e->hash == h && strlen(e->key) == n && memcmp(e->key, key, n) == 0)
            return e;
    }
}

static int map_grow(struct map *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 256;
    struct entry *v = calloc(ncap, sizeof *v);
    if (v == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->v[i].key == NULL)
            continue;
        size_t j = m->v[i].hash & (ncap - 1);
        while (v[j].key)
            j = (j + 1) & (ncap - 1);
        v[j] = m->v[i];
    }
    free(m->v);
    m->v = v;
    m->cap = ncap;
    return 0;
}

/* Inserts or replaces key -> val (both copied). */
static int map_put(struct map *m, const char *key, size_t kn, const char *val, size_t vn)
{
    if ((m->n + 1) * 2 > m->cap && map_grow(m) < 0)
        return -ENOMEM;
    uint32_t h = hash_bytes(key, kn);
    size_t i = h & (m->cap - 1);
    while (m->v[i].key && !(m->v[i].hash == h && strlen(m->v[i].key) == kn &&
                            memcmp(m->v[i].key, key, kn) == 0))
        i = (i + 1) & (m->cap - 1);
    char *nv = strndup(val, vn);
    if (nv == NULL)
        return -ENOMEM;
    if (m->v[i].key) {
        free(m->v[i].val);
        m->v[i].val = nv;
        return 0;
    }
    char *nk = strndup(key, kn);
    if (nk == NULL) {
        free(nv);
        return -ENOMEM;
    }
    m->v[i] = (struct entry){nk, nv, h};
    m->n++;
    return 0;
}

static void map_free(struct map *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        free(m->v[i].key);
        free(m->v[i].val);
    }
    free(m->v);
    m->v = NULL;
    m->cap = m->n = 0;
}

static bool has_lower(const char *s, size_t n)
{
    size_t pos = 0;
    while (pos < n) {
        uint32_t cp = nz_utf8_next(s, n, &pos);
        if (nz_classify(cp) == NZ_C_LETTER && !nz_is_upper_cp(cp))
            return true;
    }
    return false;
}

static int add_entry(struct nz_lexdata *lex, bool domain, const char *k, size_t kn,
                     const char *v, size_t vn)
{
    char low[256];
    if (domain) {
        int ln = nz_lower(k, kn, low, sizeof low);
        return ln < 0 ? -EINVAL : map_put(&lex->domains, low, (size_t)ln, v, vn);
    }
    int rc = map_put(&lex->exact, k, kn, v, vn);
    if (rc < 0)
        return rc;
    if (kn > lex->max_key)
        lex->max_key = kn;
    if (has_lower(k, kn)) {
        int ln = nz_lower(k, kn, low, sizeof low);
        if (ln < 0)
            return -EINVAL;
        rc = map_put(&lex->folded, low, (size_t)ln, v, vn);
    }
    return rc;
}

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r';
}

/* Parses TSV text (already valid NFC UTF-8) into lex. name names the source in messages. */
static int parse_tsv(struct nz_lexdata *lex, bool domain, const char *text, size_t len,
                     const char *name, struct lc_err *err)
{
    size_t pos = 0, line = 0;
    while (pos < len) {
        line++;
        const char *ls = text + pos;
        const char *nl = memchr(ls, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - ls) : len - pos;
        pos += ll + (nl != NULL);
        while (ll > 0 && is_blank(ls[ll - 1]))
            ll--;
        size_t a = 0;
        while (a < ll && (ls[a] == ' ' || ls[a] == '\r'))
            a++;
        if (a == ll || ls[a] == '#')
            continue;
        const char *tab = memchr(ls + a, '\t', ll - a);
        if (tab == NULL)
            return lc_err_set(err, -EINVAL, "%s:%zu: expected ABBR<TAB>expansion", name, line);
        const char *k = ls + a;
        size_t kn = (size_t)(tab - k);
        while (kn > 0 && is_blank(k[kn - 1]))
            kn--;
        const char *v = tab + 1;
        size_t vn = (size_t)(ls + ll - v);
        while (vn > 0 && is_blank(v[0]))
            v++, vn--;
        if (kn == 0 || vn == 0)
            return lc_err_set(err, -EINVAL, "%s:%zu: empty abbreviation or expansion", name,
                              line);
        if (kn > 200 || vn > 1000)
            return lc_err_set(err, -EINVAL, "%s:%zu: entry too long", name, line);
        int rc = add_entry(lex, domain, k, kn, v, vn);
        if (rc < 0)
            return lc_err_set(err, rc, "%s:%zu: cannot add entry", name, line);
    }
    return 0;
}

static int parse_text(struct nz_lexdata *lex, bool domain, const char *text, size_t len,
                      const char *name, struct lc_err *err)
{
    size_t bad = 0;
    if (nz_utf8_validate(text, len, &bad) < 0)
        return lc_err_set(err, -EILSEQ, "%s: not valid UTF-8 (byte %zu)", name, bad);
    struct lc_buf nfc = {0};
    int rc = nz_nfc(text, len, &nfc);
    if (rc < 0)
        return lc_err_set(err, rc, "%s: out of memory", name);
    rc = parse_tsv(lex, domain, (const char *)nfc.data, nfc.len, name, err);
    lc_buf_free(&nfc);
    return rc;
}

static int read_station(struct nz_lexdata *lex, const char *path, struct lc_err *err)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    if (f == NULL)
        return lc_err_set(err, -errno, "cannot open lexicon %s: %s", path, strerror(errno));
    for (;;) {
        if (cap - n < 4096) {
            size_t ncap = cap ? cap * 2 : 16384;
            if (ncap > (64u << 20)) {
                rc = lc_err_set(err, -EFBIG, "lexicon %s is larger than 64 MB", path);
                goto out;
            }
            char *p = realloc(buf, ncap);
            if (p == NULL) {
                rc = lc_err_set(err, -ENOMEM, "out of memory reading %s", path);
                goto out;
            }
            buf = p;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        rc = lc_err_set(err, -EIO, "cannot read lexicon %s", path);
        goto out;
    }
    rc = parse_text(lex, false, buf, n, path, err);
out:
    free(buf);
    fclose(f);
    return rc;
}

static void data_unref(struct nz_lexdata *d)
{
    if (d == NULL || atomic_fetch_sub(&d->refs, 1) != 1)
        return;
    map_free(&d->exact);
    map_free(&d->folded);
    map_free(&d->domains);
    free(d);
}

int lc_lexicon_load(struct lc_lexicon **out, const char *station_path, struct lc_err *err)
{
    struct lc_lexicon *lex = calloc(1, sizeof *lex);
    struct nz_lexdata *d = calloc(1, sizeof *d);
    int rc;
    *out = NULL;
    if (lex == NULL || d == NULL || pthread_mutex_init(&lex->mu, NULL) != 0) {
        free(lex);
        free(d);
        return lc_err_set(err, -ENOMEM, "out of memory");
    }
    atomic_init(&d->refs, 1);
    lex->d = d;
    rc = parse_text(d, false, nz_builtin_lexicon, strlen(nz_builtin_lexicon),
                    "built-in lexicon", err);
    if (rc == 0)
        rc = parse_text(d, true, nz_builtin_domains, strlen(nz_builtin_domains),
                        "built-in domain lexicon", err);
    if (rc == 0 && station_path != NULL)
        rc = read_station(d, station_path, err);
    if (rc < 0) {
        lc_lexicon_free(lex);
        return rc;
    }
    *out = lex;
    return 0;
}

int lc_lexicon_check_entry(const char *key, const char *reading, char **nkey, char **nreading,
                           struct lc_err *err)
{
    size_t bad = 0, kl = strlen(key), rl = strlen(reading);
    struct lc_buf k = {0}, r = {0};
    int rc = 0;
    *nkey = *nreading = NULL;
    if (nz_utf8_validate(key, kl, &bad) < 0 || nz_utf8_validate(reading, rl, &bad) < 0)
        return lc_err_set(err, -EILSEQ, "not valid UTF-8");
    if ((rc = nz_nfc(key, kl, &k)) < 0 || (rc = nz_nfc(reading, rl, &r)) < 0) {
        rc = lc_err_set(err, rc, "out of memory");
        goto out;
    }
    const char *ks = (const char *)k.data, *rs = (const char *)r.data;
    size_t kn = k.len, rn = r.len;
    while (kn > 0 && is_blank(ks[kn - 1]))
        kn--;
    while (kn > 0 && is_blank(ks[0]))
        ks++, kn--;
    while (rn > 0 && (is_blank(rs[rn - 1]) || rs[rn - 1] == ' '))
        rn--;
    while (rn > 0 && (is_blank(rs[0]) || rs[0] == ' '))
        rs++, rn--;
    if (kn == 0 || rn == 0) {
        rc = lc_err_set(err, -EINVAL, kn == 0 ? "the word is empty" : "the reading is empty");
        goto out;
    }
    if (kn > LC_LEXICON_KEY_MAX || rn > LC_LEXICON_READING_MAX) {
        rc = lc_err_set(err, -E2BIG, "%s is too long (at most %d bytes)",
                        kn > LC_LEXICON_KEY_MAX ? "the word" : "the reading",
                        kn > LC_LEXICON_KEY_MAX ? LC_LEXICON_KEY_MAX : LC_LEXICON_READING_MAX);
        goto out;
    }
    size_t pos = 0;
    while (pos < kn) {
        uint32_t cp = nz_utf8_next(ks, kn, &pos);
        if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || nz_classify(cp) == NZ_C_SPACE) {
            rc = lc_err_set(err, -EINVAL, "a word cannot contain a space");
            goto out;
        }
    }
    bool letter = false;
    for (pos = 0; pos < rn;) {
        uint32_t cp = nz_utf8_next(rs, rn, &pos);
        if (cp >= '0' && cp <= '9') {
            /* a reading is what is said: digits would be read again by the number rules */
            rc = lc_err_set(err, -EINVAL, "a reading is written in words, without digits");
            goto out;
        }
        if (cp < 0x20 || cp == 0x7f) {
            rc = lc_err_set(err, -EINVAL, "a reading is one line of text");
            goto out;
        }
        enum nz_class cl = nz_classify(cp);
        if (cl != NZ_C_LETTER && cl != NZ_C_MARK && cl != NZ_C_SPACE &&
            !(cp < 0x80 && strchr(" ,.;:-'()", (int)cp))) {
            /* the reading goes to the synthesiser as it is: words and pauses only */
            rc = lc_err_set(err, -EINVAL, "a reading is written in words and , . ; : - ' ( )");
            goto out;
        }
        letter |= cl == NZ_C_LETTER;
    }
    if (!letter) {
        rc = lc_err_set(err, -EINVAL, "a reading needs at least one letter");
        goto out;
    }
    if ((*nkey = strndup(ks, kn)) == NULL || (*nreading = strndup(rs, rn)) == NULL) {
        free(*nkey);
        *nkey = NULL;
        rc = lc_err_set(err, -ENOMEM, "out of memory");
    }
out:
    lc_buf_free(&k);
    lc_buf_free(&r);
    return rc;
}

int lc_lexicon_add(struct lc_lexicon *lex, const char *key, const char *reading,
                   struct lc_err *err)
{
    char *k = NULL, *r = NULL;
    int rc = lc_lexicon_check_entry(key, reading, &k, &r, err);
    if (rc == 0 && (rc = add_entry(lex->d, false, k, strlen(k), r, strlen(r))) < 0)
        lc_err_set(err, rc, "out of memory");
    free(k);
    free(r);
    return rc;
}

static int map_copy(struct map *dst, const struct map *src)
{
    for (size_t i = 0; i < src->cap; i++) {
        const struct entry *e = &src->v[i];
        if (e->key && map_put(dst, e->key, strlen(e->key), e->val, strlen(e->val)) < 0)
            return -ENOMEM;
    }
    return 0;
}

int lc_lexicon_clone(struct lc_lexicon **out, const struct lc_lexicon *src, struct lc_err *err)
{
    struct lc_lexicon *lex = calloc(1, sizeof *lex);
    struct nz_lexdata *d = calloc(1, sizeof *d);
    const struct nz_lexdata *s = NULL;
    int rc = 0;
    *out = NULL;
    if (lex == NULL || d == NULL || pthread_mutex_init(&lex->mu, NULL) != 0) {
        free(lex);
        free(d);
        return lc_err_set(err, -ENOMEM, "out of memory");
    }
    atomic_init(&d->refs, 1);
    lex->d = d;
    s = nz_lex_acquire(src);
    if (s && (map_copy(&d->exact, &s->exact) < 0 || map_copy(&d->folded, &s->folded) < 0 ||
              map_copy(&d->domains, &s->domains) < 0))
        rc = lc_err_set(err, -ENOMEM, "out of memory");
    if (s)
        d->max_key = s->max_key;
    nz_lex_release(s);
    if (rc < 0) {
        lc_lexicon_free(lex);
        return rc;
    }
    *out = lex;
    return 0;
}

void lc_lexicon_swap(struct lc_lexicon *lex, struct lc_lexicon *fresh)
{
    pthread_mutex_lock(&lex->mu);
    struct nz_lexdata *old = lex->d;
    lex->d = fresh->d;
    pthread_mutex_unlock(&lex->mu);
    fresh->d = old;
    lc_lexicon_free(fresh);
}

const struct nz_lexdata *nz_lex_acquire(const struct lc_lexicon *lex)
{
    if (lex == NULL)
        return NULL;
    /* the handle's mutex is not part of its value: locking it through a const handle is the
     * documented contract (normalize.h, "Threads") */
    struct lc_lexicon *m = (struct lc_lexicon *)lex;
    pthread_mutex_lock(&m->mu);
    struct nz_lexdata *d = m->d;
    atomic_fetch_add(&d->refs, 1);
    pthread_mutex_unlock(&m->mu);
    return d;
}

void nz_lex_release(const struct nz_lexdata *d)
{
    data_unref((struct nz_lexdata *)d);
}

size_t lc_lexicon_size(const struct lc_lexicon *lex)
{
    if (lex == NULL)
        return 0;
    const struct nz_lexdata *d = nz_lex_acquire(lex);
    size_t n = d->exact.n;
    nz_lex_release(d);
    return n;
}

void lc_lexicon_free(struct lc_lexicon *lex)
{
    if (lex == NULL)
        return;
    data_unref(lex->d);
    pthread_mutex_destroy(&lex->mu);
    free(lex);
}

const char *nz_lex_find(const struct nz_lexdata *lex, const char *key, size_t n)
{
    if (lex == NULL || n == 0 || n > lex->max_key)
        return NULL;
    const struct entry *e = map_find(&lex->exact, key, n);
    if (e)
        return e->val;
    if (!has_lower(key, n))
        return NULL;
    char low[256];
    int ln = nz_lower(key, n, low, sizeof low);
    if (ln < 0)
        return NULL;
    e = map_find(&lex->folded, low, (size_t)ln);
    return e ? e->val : NULL;
}

const char *nz_domain_find(const struct nz_lexdata *lex, const char *key, size_t n)
{
    if (lex == NULL || n == 0 || n > 200)
        return NULL;
    char low[256];
    int ln = nz_lower(key, n, low, sizeof low);
    if (ln < 0)
        return NULL;
    const struct entry *e = map_find(&lex->domains, low, (size_t)ln);
    return e ? e->val : NULL;
}

size_t nz_lex_max_key(const struct nz_lexdata *lex)
{
    return lex ? lex->max_key : 0;
}
