/*
 * server/api/xlsx.h — a report's rows as an XLSX workbook, written with libxlsxwriter (internal
 * header of server/api/; the forms and the columns' words are in csv.h, docs/reports.md).
 *
 * One sheet: the Vietnamese headers in a bold row that stays in view (frozen) with a filter,
 * numbers as numbers (seconds "0.000", bytes "#,##0", percentages as fractions "0.0%"), times as
 * Excel dates in the station's wall-clock time ("dd/mm/yyyy hh:mm:ss"), booleans as booleans,
 * texts as text cells (never formulas), every column as wide as its longest cell (at most 60).
 * libxlsxwriter 1.1.4 (Debian 12) writes only to a file: the workbook goes to a temporary file
 * in $TMPDIR (else /tmp), the library's own temporary parts too; the file is read back, answered
 * and removed. The build runs on libuv's thread pool, never on the loop thread.
 */
#ifndef LC_SERVER_XLSX_H
#define LC_SERVER_XLSX_H

#include <jansson.h>
#include <uv.h>

#include "common/buf.h"
#include "server/http/http.h"

/* Writes rows (a JSON array of objects) with the columns cols as the one sheet named sheet of a
 * new workbook at path; tmpdir: the library's temporary files. Thread-safe (touches nothing
 * shared; rows must not change meanwhile). 0, or -EIO with nothing promised about path. */
int lc_xlsx_write(const char *path, const char *tmpdir, const json_t *rows,
                  const char *const *cols, const char *sheet);

/* Answers 200 with the workbook of rows (inside body, stolen) and the extra header lines, built
 * on loop's thread pool; 500 if it fails. The request is held until then. */
void lc_xlsx_reply(struct lc_req *req, uv_loop_t *loop, json_t *body, const json_t *rows,
                   const char *const *cols, const char *sheet, const char *extra);

#endif
