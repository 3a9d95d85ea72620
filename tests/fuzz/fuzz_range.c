/*
 * tests/fuzz/fuzz_range.c — libFuzzer target: the two request headers that GET /media and the
 * bulletin preview parse themselves (server/http/http_file.c): `Range` (lc_http_parse_range)
 * and `If-None-Match` / `If-Range` (lc_http_etag_match).
 *
 * An input is: 8 bytes, the file's size (little-endian; taken modulo 2^40 when the first byte is
 * even, so that small sizes are common), then the Range header up to a '\n', then an
 * If-None-Match list up to a '\n', then an entity tag (the rest).
 *
 * Checks the contracts of http.h on every input:
 *   - lc_http_parse_range: -1, 0 or 1; 1 only with from <= to < size; 1 and -1 only for a
 *     header that starts with "bytes=" (any case) and names one range (no ','); a range it
 *     gave, written back as "bytes=from-to", parses to the same range;
 *   - lc_http_etag_match: never reads past the strings; a list that is the tag in quotes (a tag
 *     without '"'), or "*", matches.
 *
 *   ninja -C build-fuzz tests/fuzz/fuzz_range
 *   build-fuzz/tests/fuzz/fuzz_range -max_len=512 CORPUS_DIR tests/fuzz/corpus/fuzz_range
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *range, uint64_t fsize)
{
    fprintf(stderr, "fuzz_range: %s (Range \"%s\", size %" PRIu64 ")\n", what, range, fsize);
    abort();
}

/* The next field of the input, up to '\n' or the end, as a C string (malloc'd). */
static char *field(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    size_t n = (size_t)((nl ? nl : end) - *p);
    char *s = malloc(n + 1);
    if (s == NULL)
        abort();
    memcpy(s, *p, n);
    s[n] = '\0';
    *p = nl ? nl + 1 : end;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    uint64_t fsize = 0;
    for (int i = 7; i >= 0; i--)
        fsize = fsize << 8 | data[i];
    if ((data[0] & 1) == 0)
        fsize &= (1ULL << 40) - 1;
    const uint8_t *p = data + 8, *end = data + size;
    char *range = field(&p, end), *list = field(&p, end), *tag = field(&p, end);

    uint64_t from = 0, to = 0;
    int rc = lc_http_parse_range(range, fsize, &from, &to);
    if (rc < -1 || rc > 1)
        fail("not -1, 0 or 1", range, fsize);
    if (rc != 0 && (strncasecmp(range, "bytes=", 6) != 0 || strchr(range, ',') != NULL))
        fail("a range from a header that is not one byte range", range, fsize);
    if (rc == 1) {
        if (!(from <= to && to < fsize))
            fail("a range outside the file", range, fsize);
        char again[64];
        uint64_t f2 = 1, t2 = 0;
        snprintf(again, sizeof again, "bytes=%" PRIu64 "-%" PRIu64, from, to);
        if (lc_http_parse_range(again, fsize, &f2, &t2) != 1 || f2 != from || t2 != to)
            fail("a range that does not parse back to itself", range, fsize);
    }

    (void)lc_http_etag_match(list, tag);
    if (!lc_http_etag_match("*", tag))
        fail("\"*\" does not match", range, fsize);
    if (strchr(tag, '"') == NULL) {
        size_t n = strlen(tag);
        char *quoted = malloc(n + 3);
        if (quoted == NULL)
            abort();
        quoted[0] = '"';
        memcpy(quoted + 1, tag, n);
        quoted[n + 1] = '"';
        quoted[n + 2] = '\0';
        if (!lc_http_etag_match(quoted, tag))
            fail("a tag in quotes does not match itself", range, fsize);
        free(quoted);
    }
    free(range);
    free(list);
    free(tag);
    return 0;
}
