/* cli/serve_cmd.c — `loacast serve [--config FILE]`: reads the configuration, runs the server. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "server/config.h"
#include "server/server.h"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: loacast serve [--config FILE] [--print-config]\n"
            "\n"
            "Runs the broadcast server: the staff API, the audit log, rendering of bulletins.\n"
            "Without --config it runs on the embedded defaults: listen on 127.0.0.1:8480,\n"
            "data under ./var/, time zone Asia/Ho_Chi_Minh. On the first start it creates the\n"
            "user 'admin' and prints its one-time password (or takes LOACAST_ADMIN_PASSWORD).\n"
            "\n"
            "Options:\n"
            "  -c, --config FILE   read the INI configuration FILE (see docs/server.md)\n"
            "  --print-config      print the configuration in effect and exit\n"
            "  -h, --help          show this help\n");
}

int lc_cmd_serve(int argc, char **argv)
{
    const char *path = NULL;
    int print = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc) {
            path = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            path = argv[i] + 9;
        } else if (strcmp(argv[i], "--print-config") == 0) {
            print = 1;
        } else {
            fprintf(stderr, "loacast serve: unexpected argument '%s'\n\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    struct lc_config cfg;
    struct lc_err err = {0};
    lc_config_defaults(&cfg);
    if (path != NULL && lc_config_load(&cfg, path, &err) < 0) {
        fprintf(stderr, "loacast serve: %s\n", lc_err_msg(&err));
        return 1;
    }
    if (print) {
        lc_config_print(&cfg, stdout);
        return 0;
    }
    if (lc_server_run(&cfg, &err) < 0) {
        fprintf(stderr, "loacast serve: %s\n", lc_err_msg(&err));
        return 1;
    }
    return 0;
}
