/* cli/readfile.c — whole-file reading for the subcommands; see cli.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int lc_cli_read_file(const char *path, char **data, size_t *len)
{
    FILE *f = NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        rc = -errno;
        fprintf(stderr, "loacast: cannot open %s: %s\n", path, strerror(errno));
        goto out;
    }
    for (;;) {
        if (cap - n < 65536) {
            size_t ncap = cap ? cap * 2 : 65536 * 2;
            char *p = realloc(buf, ncap);
            if (p == NULL) {
                rc = -ENOMEM;
                fprintf(stderr, "loacast: %s: out of memory\n", path);
                goto out;
            }
            buf = p;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                rc = -EIO;
                fprintf(stderr, "loacast: cannot read %s\n", path);
                goto out;
            }
            break;
        }
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    buf = NULL;
out:
    if (f != NULL && f != stdin)
        fclose(f);
    free(buf);
    return rc;
}
