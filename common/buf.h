/*
 * common/buf.h — a growable byte buffer.
 *
 * The buffer owns data; lc_buf_free() releases it. A zeroed struct is an empty buffer. Appends
 * grow the allocation geometrically; on failure they return -ENOMEM and leave the buffer as it was.
 */
#ifndef LC_COMMON_BUF_H
#define LC_COMMON_BUF_H

#include <stddef.h>

struct lc_buf {
    unsigned char *data;
    size_t len;
    size_t cap;
};

int lc_buf_reserve(struct lc_buf *b, size_t extra);
int lc_buf_append(struct lc_buf *b, const void *p, size_t n);
int lc_buf_append_str(struct lc_buf *b, const char *s);
/* Appends a NUL that is not counted in len, so data can be used as a C string. */
int lc_buf_terminate(struct lc_buf *b);
void lc_buf_free(struct lc_buf *b);
/* Hands the data to the caller (who frees it with free()) and empties b. */
unsigned char *lc_buf_steal(struct lc_buf *b, size_t *len);

/* Makes room for one more element in an array of n used elements of elem bytes each, *cap
 * allocated (0: none yet, then `first` are allocated), doubling. Returns the array, moved or not,
 * or NULL when out of memory (the old array is then untouched and still owned by the caller). */
void *lc_grow(void *items, size_t n, size_t *cap, size_t elem, size_t first);

#endif
