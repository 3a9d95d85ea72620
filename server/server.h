/*
 * server/server.h — the whole `loacast serve`: the module's door for the command line.
 *
 * lc_server_run() builds the server from a configuration, runs the event loop until SIGINT or
 * SIGTERM, shuts down cleanly and returns. Threads: the calling thread runs the libuv loop (all
 * HTTP, all SQLite); the render pool and the auth pool have their own threads (common/workers.h);
 * the renderer (codecs/render.h) has its espeak-ng thread and encoder threads.
 *
 * Shutdown, in two steps (close, run the loop out, then free):
 *   1. stop accepting; idle connections close; requests in progress get their answers;
 *   2. renders in progress finish (their results are stored), queued ones stay `rendering` in
 *      the database and are queued again at the next start;
 *   3. after the last connection closed (or a grace period of 2 s), the loop runs out and
 *      everything is freed.
 */
#ifndef LC_SERVER_SERVER_H
#define LC_SERVER_SERVER_H

#include <stdio.h>

#include "common/err.h"
#include "server/config.h"

/* Returns 0 after a clean shutdown, or a negative errno with a message in err if the server
 * could not start (address in use, database unreadable, ...). */
int lc_server_run(const struct lc_config *cfg, struct lc_err *err);

/* Prints the routes `serve` would answer, one a line: "METHOD PATTERN ROLES" (ROLES: "open" or
 * e.g. "admin,operator"). Opens nothing. Returns 0 or a negative errno. For `loacast routes`. */
int lc_server_print_routes(FILE *f);

#endif
