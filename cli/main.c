/* cli/main.c — `loacast SUBCOMMAND ...`: dispatches to the subcommands of cli/cli.h. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "server/server.h"

/* `loacast routes`: the server's route table, from the code `serve` runs (for the roles test). */
static int cmd_routes(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("Usage: loacast routes\n\nPrints the HTTP routes of `loacast serve`, one a line:\n"
               "METHOD PATTERN ROLES (\"open\", or the roles admitted, joined by commas).\n");
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "loacast routes: unexpected argument '%s'\n", argv[1]);
        return 2;
    }
    return lc_server_print_routes(stdout) == 0 && fflush(stdout) == 0 ? 0 : 1;
}

struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct subcommand subcommands[] = {
    {"serve", lc_cmd_serve, "run the broadcast server (HTTP API, streams, console)"},
    {"render", lc_cmd_render, "speak text (or re-encode a recording) into an Ogg Opus file"},
    {"normalize", lc_cmd_normalize, "print text exactly as it will be spoken"},
    {"routes", cmd_routes, "print the server's HTTP routes and the roles each admits"},
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: loacast SUBCOMMAND [OPTIONS] [ARGS]\n"
            "\n"
            "loacast is the broadcast server of a district radio station: it speaks bulletins\n"
            "in Vietnamese, encodes them to Ogg Opus and streams each commune's programme to\n"
            "its loudspeaker clusters.\n"
            "\n"
            "Subcommands:\n");
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
    fprintf(f, "\nRun `loacast SUBCOMMAND --help` for the options of each.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("loacast %s\n", LOACAST_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        if (strcmp(argv[1], subcommands[i].name) == 0)
            return subcommands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "loacast: unknown subcommand '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
