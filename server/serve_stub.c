/* server/serve_stub.c — `loacast serve` before the server core exists (issue 4). */
#include <stdio.h>

#include "cli/cli.h"

int lc_cmd_serve(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "loacast serve: the server is not built yet\n");
    return 1;
}
