/* common/buf.c — growable byte buffer; see buf.h. */
#include "common/buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int lc_buf_reserve(struct lc_buf *b, size_t extra)
{
    if (extra > (size_t)-1 - b->len - 1)
        return -ENOMEM;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
    unsigned char *p = realloc(b->data, cap);
    if (p == NULL)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int lc_buf_append(struct lc_buf *b, const void *p, size_t n)
{
    int rc = lc_buf_reserve(b, n);
    if (rc < 0)
        return rc;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int lc_buf_append_str(struct lc_buf *b, const char *s)
{
    return lc_buf_append(b, s, strlen(s));
}

int lc_buf_terminate(struct lc_buf *b)
{
    int rc = lc_buf_reserve(b, 1);
    if (rc < 0)
        return rc;
    b->data[b->len] = '\0';
    return 0;
}

void lc_buf_free(struct lc_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

unsigned char *lc_buf_steal(struct lc_buf *b, size_t *len)
{
    unsigned char *p = b->data;
    if (len != NULL)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void *lc_grow(void *items, size_t n, size_t *cap, size_t elem, size_t first)
{
    if (n < *cap)
        return items;
    size_t c = *cap ? *cap * 2 : first;
    void *p = realloc(items, c * elem);
    if (p != NULL)
        *cap = c;
    return p;
}
