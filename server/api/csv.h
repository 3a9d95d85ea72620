/*
 * server/api/csv.h — report tables as CSV for spreadsheets (internal header of server/).
 *
 * The CSV opens cleanly in LibreOffice and Excel: UTF-8 with a byte-order mark (Excel needs it
 * to read Vietnamese letters), a header row, CRLF line ends, RFC 4180 quoting. A JSON array of
 * numbers or strings (bulletins_whole: [12, 15]) becomes one field "12;15"; an array of objects
 * (a session's bulletins) is written as its compact JSON text, so nothing is lost; null is an
 * empty field; true and false are written as they are.
 */
#ifndef LC_SERVER_CSV_H
#define LC_SERVER_CSV_H

#include <stdbool.h>

#include <jansson.h>

#include "common/buf.h"
#include "server/http/http.h"

/* Appends rows (a JSON array of objects) as CSV with the columns cols (NULL-terminated), in
 * that order. 0 or -ENOMEM. */
int lc_csv_write(struct lc_buf *out, const json_t *rows, const char *const *cols);

/* True if the client asked for CSV: ?format=csv, or an Accept header that names text/csv. */
bool lc_csv_wanted(const struct lc_req *req);

/* Answers {list_key: rows, ...} (body, stolen) as JSON, or body[list_key] as CSV with the
 * columns cols when the client asked for CSV; filename goes into Content-Disposition. */
void lc_reply_table(struct lc_req *req, json_t *body, const char *list_key,
                    const char *const *cols, const char *filename);

#endif
