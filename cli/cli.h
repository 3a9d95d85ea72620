/*
 * cli/cli.h — the subcommands of the `loacast` program. Each takes the arguments after its name
 * (argv[0] is the subcommand's name) and returns the process exit status: 0 success, 1 failure,
 * 2 bad usage. Errors go to stderr.
 */
#ifndef LC_CLI_CLI_H
#define LC_CLI_CLI_H

int lc_cmd_render(int argc, char **argv);
int lc_cmd_normalize(int argc, char **argv);
int lc_cmd_serve(int argc, char **argv);

/* Reads a whole file ("-" = stdin) into a malloc'd, NUL-terminated buffer; *len excludes the NUL.
 * Returns 0 or a negative errno (message printed to stderr, naming path). */
int lc_cli_read_file(const char *path, char **data, size_t *len);

#endif
