/*
 * bench/normalize_bench.c — how long the normaliser takes on a bulletin.
 *
 * Usage: normalize_bench [FILE] [WORDS] [ROUNDS]
 *   FILE    text to normalise (default: ../shared/data/bulletin-long-vi.txt from the source
 *           root, else tests/normalize/bulletin-long-vi.txt)
 *   WORDS   the text is repeated until it has at least this many words (default 1500)
 *   ROUNDS  timed runs (default 200); the median and the worst are printed
 *
 * Output (one line, for bench/render and humans):
 *   normalize: 1502 words, 10342 bytes -> 19873 bytes; median 0.412 ms, max 0.730 ms (200 runs)
 * Exit status 1 if the median is 5 ms or more (the budget of issue 3), 2 on a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codecs/normalize.h"
#include "common/buf.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static size_t count_words(const char *s, size_t n)
{
    size_t w = 0;
    int in = 0;
    for (size_t i = 0; i < n; i++) {
        int sp = s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r';
        if (!sp && !in)
            w++;
        in = !sp;
    }
    return w;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    struct lc_buf b = {0};
    char tmp[65536];
    size_t got;
    while ((got = fread(tmp, 1, sizeof tmp, f)) > 0)
        if (lc_buf_append(&b, tmp, got) < 0)
            break;
    fclose(f);
    if (lc_buf_terminate(&b) < 0) {
        lc_buf_free(&b);
        return NULL;
    }
    return (char *)lc_buf_steal(&b, len);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : NULL;
    long want_words = argc > 2 ? atol(argv[2]) : 1500;
    int rounds = argc > 3 ? atoi(argv[3]) : 200;
    size_t len = 0;
    char *text = NULL;
    if (path) {
        text = read_all(path, &len);
    } else {
        static const char *const tries[] = {"../shared/data/bulletin-long-vi.txt",
                                            "tests/normalize/bulletin-long-vi.txt"};
        const char *root = getenv("LOACAST_SOURCE_ROOT");
        char p[4096];
        for (size_t i = 0; i < 2 && text == NULL; i++) {
            snprintf(p, sizeof p, "%s/%s", root ? root : ".", tries[i]);
            text = read_all(p, &len);
            path = tries[i];
        }
    }
    if (text == NULL || rounds < 1 || want_words < 1) {
        fprintf(stderr, "usage: normalize_bench [FILE] [WORDS] [ROUNDS]\n");
        free(text);
        return 2;
    }

    /* repeat the bulletin to the wanted length */
    struct lc_buf in = {0};
    size_t words = 0, per = count_words(text, len);
    while (words < (size_t)want_words && per > 0) {
        if (lc_buf_append(&in, text, len) < 0 || lc_buf_append(&in, "\n", 1) < 0)
            return 1;
        words += per;
    }
    free(text);
    /* cut at the wanted word count, so "1,500 words" means 1,500 */
    size_t w = 0;
    int inw = 0;
    for (size_t i = 0; i < in.len; i++) {
        int sp = in.data[i] == ' ' || in.data[i] == '\n' || in.data[i] == '\t' || in.data[i] == '\r';
        if (!sp && !inw && ++w > (size_t)want_words) {
            in.len = i;
            break;
        }
        inw = !sp;
    }
    words = w > (size_t)want_words ? (size_t)want_words : w;

    struct lc_lexicon *lex = NULL;
    struct lc_err err = {0};
    if (lc_lexicon_load(&lex, NULL, &err) < 0) {
        fprintf(stderr, "normalize_bench: %s\n", lc_err_msg(&err));
        return 1;
    }
    double *t = calloc((size_t)rounds, sizeof *t);
    size_t out_len = 0;
    for (int r = -3; r < rounds; r++) { /* three warm-up runs */
        char *out = NULL;
        double t0 = now_ms();
        if (lc_normalize(lex, (const char *)in.data, in.len, &out, &err) < 0) {
            fprintf(stderr, "normalize_bench: %s\n", lc_err_msg(&err));
            return 1;
        }
        double dt = now_ms() - t0;
        if (r >= 0)
            t[r] = dt;
        out_len = strlen(out);
        free(out);
    }
    qsort(t, (size_t)rounds, sizeof *t, cmp_double);
    double median = t[rounds / 2], max = t[rounds - 1];
    printf("normalize: %zu words, %zu bytes -> %zu bytes; median %.3f ms, max %.3f ms (%d runs)\n",
           words, in.len, out_len, median, max, rounds);
    free(t);
    lc_buf_free(&in);
    lc_lexicon_free(lex);
    return median < 5.0 ? 0 : 1;
}
