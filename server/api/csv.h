/*
 * server/api/csv.h — report tables as JSON, CSV or XLSX for offices (internal header of server/;
 * docs/reports.md).
 *
 * One handler builds {list_key: rows, ...} and calls lc_reply_table(), which answers in the form
 * the client asked for:
 *   JSON  (default, ?format=json)  the body as it is.
 *   CSV   (?format=csv, or Accept: text/csv)  UTF-8 with a byte-order mark, a header row, CRLF,
 *         RFC 4180 quoting. Machine form by default: the JSON keys as headers, ',' between fields,
 *         '.' decimals, RFC 3339 times. ?lang=vi: the office form for a Vietnamese locale —
 *         Vietnamese headers, ';' between fields, ',' decimals, local "YYYY-MM-DD HH:MM:SS"
 *         times, booleans "có"/"không" (docs/reports.md says why).
 *   XLSX  (?format=xlsx, or Accept: application/vnd.openxmlformats-officedocument.spreadsheetml
 *         .sheet)  one sheet written with libxlsxwriter off the loop (xlsx.h): Vietnamese headers
 *         in a bold frozen row, numbers as numbers, times as Excel dates, widths that fit.
 * A JSON array of numbers or strings (bulletins_whole: [12, 15]) becomes one field "12;15"; an
 * array of objects (a session's bulletins) is its compact JSON text in the machine CSV and
 * "title (n cụm)" items in the office forms; null is an empty field.
 * A "commune_name" / "cluster_name" column of cols that the rows lack is filled from the
 * registry's tables, in every form (JSON, CSV and XLSX carry the same content). The files carry
 * Content-Disposition: attachment with an ASCII file name and its Vietnamese one
 * (filename*=UTF-8''…).
 * A text that a spreadsheet would take for a formula (=, +, -, @, tab, CR first) is written with
 * a leading apostrophe in CSV and as a string cell in XLSX: never evaluated.
 */
#ifndef LC_SERVER_CSV_H
#define LC_SERVER_CSV_H

#include <stdbool.h>

#include <jansson.h>
#include <uv.h>

#include "common/buf.h"
#include "server/http/http.h"

struct lc_store;

/* What a column holds, for the office forms (the machine CSV writes JSON values as they are). */
enum lc_col_kind {
    LC_COL_AUTO,      /* by the JSON value: integer, real, text, boolean */
    LC_COL_TEXT,      /* ids, names, words */
    LC_COL_COUNT,     /* a whole number: sessions, clusters, people */
    LC_COL_SECONDS,   /* seconds, to the millisecond */
    LC_COL_BYTES,     /* a whole number, grouped */
    LC_COL_PERCENT,   /* 0..100 in JSON; a fraction with a percent format in XLSX */
    LC_COL_TIME,      /* RFC 3339 in JSON; the station's wall-clock time in the office forms */
    LC_COL_BOOL,
};

/* A column of the reports: the JSON key, its Vietnamese header, its kind. */
struct lc_col_info {
    const char *key;
    const char *vi;
    enum lc_col_kind kind;
};

/* The column key's description; an unknown key gets {key, key, LC_COL_AUTO}. */
struct lc_col_info lc_col_info(const char *key);

/* The wall-clock time an RFC 3339 text names (its own offset: the station's zone, api.h). */
struct lc_wall {
    int year, month, day, hour, min, sec, ms;
};
/* 0, or -EINVAL when s is not RFC 3339. */
int lc_col_wall_time(const char *s, struct lc_wall *w);

enum lc_table_form { LC_FORM_JSON, LC_FORM_CSV, LC_FORM_XLSX };

/* Appends rows (a JSON array of objects) as CSV with the columns cols (NULL-terminated), in
 * that order: the machine form, and the ?lang=vi office form. 0 or -ENOMEM. */
int lc_csv_write(struct lc_buf *out, const json_t *rows, const char *const *cols);
int lc_csv_write_office(struct lc_buf *out, const json_t *rows, const char *const *cols);

/* The form the client asked for (?format= first, then Accept). -1 after answering 400 for a
 * ?format= or ?lang= that is not one of json|csv|xlsx, vi|en. */
int lc_table_form(struct lc_req *req, enum lc_table_form *form, bool *office);
/* An array's text in the office forms (a new string, NULL: no memory): numbers and texts joined
 * by ";", objects with a "title" as "title (n cụm)" joined by "; ". */
char *lc_col_list_text(const json_t *v);

/* A report as the handler describes it (all static or living until lc_reply_table returns). */
struct lc_report {
    const char *list_key;       /* the rows: body[list_key] */
    const char *const *cols;    /* their columns, in order (NULL-terminated, static) */
    const char *file;           /* ASCII file name without extension: "coverage-2026-11-01-…" */
    const char *file_vi;        /* its Vietnamese form (UTF-8): "Độ phủ 2026-11-01 đến …" */
    const char *sheet_vi;       /* the XLSX sheet's name, at most 31 characters */
};

/* Answers body (stolen) as JSON, or body[rep->list_key] as CSV or XLSX (the XLSX is built on
 * libuv's thread pool of loop; the request is held meanwhile). store: the registry's names. */
void lc_reply_table(struct lc_req *req, uv_loop_t *loop, struct lc_store *store, json_t *body,
                    const struct lc_report *rep);

#endif
