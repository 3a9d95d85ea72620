/* cli/normalize_cmd.c — `loacast normalize [--lexicon FILE] [FILE|-]`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "codecs/normalize.h"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: loacast normalize [--lexicon FILE] [FILE|-]\n"
            "\n"
            "Prints the text of FILE (or standard input) exactly as loacast will speak it:\n"
            "abbreviations expanded, numbers, dates, times, money and units written out in\n"
            "Vietnamese words. One output line per input line.\n"
            "\n"
            "  -l, --lexicon FILE  the station's own abbreviations (TSV: ABBR<TAB>expansion),\n"
            "                      added to or overriding the built-in lexicon\n"
            "  -h, --help          this help\n");
}

int lc_cmd_normalize(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"lexicon", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *lexicon_path = NULL;
    struct lc_lexicon *lex = NULL;
    char *text = NULL, *out = NULL;
    size_t len = 0;
    struct lc_err err = {0};
    int status = 1, c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "l:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'l':
            lexicon_path = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (argc - optind > 1) {
        usage(stderr);
        return 2;
    }
    const char *path = optind < argc ? argv[optind] : "-";

    if (lc_lexicon_load(&lex, lexicon_path, &err) < 0) {
        fprintf(stderr, "loacast normalize: %s\n", lc_err_msg(&err));
        goto out;
    }
    if (lc_cli_read_file(path, &text, &len) < 0)
        goto out;
    if (lc_normalize(lex, text, len, &out, &err) < 0) {
        fprintf(stderr, "loacast normalize: %s: %s\n", path, lc_err_msg(&err));
        goto out;
    }
    fputs(out, stdout);
    if (out[0] != '\0' && out[strlen(out) - 1] != '\n')
        fputc('\n', stdout);
    status = fflush(stdout) == 0 ? 0 : 1;
out:
    free(out);
    free(text);
    lc_lexicon_free(lex);
    return status;
}
