/*
 * server/access_log.h — one line per answered request, for the technician (issue 20):
 *
 *   2026-12-07T21:04:05+07:00 203.0.113.7 "GET /api/v1/communes?token=[hidden]" 200 1234 3.1ms olga
 *
 * time, client (behind a trusted proxy: the client it names, server/http/http.h), method and
 * URL with every secret hidden (common/redact.h), status, body bytes ("-" for a stream, whose
 * bytes and seconds the streaming engine's receiver lines tell), time to the answer, staff user
 * or "-". `[server] access_log`: a file (appended to; reopened on SIGHUP/SIGUSR1, for logrotate),
 * "-" for stderr (the journal under systemd), empty for none.
 *
 * Lines are buffered (64 KiB) and written at most a second late by a timer: the loop never
 * waits for more than one buffered write. Loop thread only.
 */
#ifndef LC_SERVER_ACCESS_LOG_H
#define LC_SERVER_ACCESS_LOG_H

#include <stddef.h>

#include <uv.h>

#include "common/err.h"

struct lc_access_log;
struct lc_req;

/* *out stays NULL for an empty path (no log). 0, or a negative errno with a message in err. */
int lc_access_log_open(struct lc_access_log **out, uv_loop_t *loop, const char *path,
                       struct lc_err *err);
/* Flushes and opens the file again under its name (after logrotate moved it). 0 or -errno: the
 * old file stays in use then. */
int lc_access_log_reopen(struct lc_access_log *l);
void lc_access_log_write(struct lc_access_log *l, const struct lc_req *req, int status,
                         size_t bytes);
/* Flushes and closes; the struct goes when its timer's handle is closed (the loop must run). */
void lc_access_log_close(struct lc_access_log *l);

#endif
