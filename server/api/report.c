/* server/api/report.c — a report answered in the form asked for (JSON, CSV, XLSX), with the
 * registry's names and a Vietnamese file name; see csv.h. */
#include "server/api/csv.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "server/api/api.h"
#include "server/api/xlsx.h"
#include "server/store/store.h"

#define XLSX_MIME "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

int lc_table_form(struct lc_req *req, enum lc_table_form *form, bool *office)
{
    char fbuf[16], lbuf[16];
    const char *f = lc_req_query(req, "format", fbuf, sizeof fbuf);
    const char *l = lc_req_query(req, "lang", lbuf, sizeof lbuf);
    if (l != NULL && strcasecmp(l, "vi") != 0 && strcasecmp(l, "en") != 0) {
        lc_reply_error(req, 400, "bad_query", "lang must be vi or en");
        return -1;
    }
    *office = l != NULL && strcasecmp(l, "vi") == 0;
    if (f != NULL) {
        if (strcasecmp(f, "json") == 0)
            *form = LC_FORM_JSON;
        else if (strcasecmp(f, "csv") == 0)
            *form = LC_FORM_CSV;
        else if (strcasecmp(f, "xlsx") == 0)
            *form = LC_FORM_XLSX;
        else {
            lc_reply_error(req, 400, "bad_query", "format must be json, csv or xlsx");
            return -1;
        }
        return 0;
    }
    const char *accept = lc_req_header(req, "accept");
    *form = accept == NULL                       ? LC_FORM_JSON
            : strcasestr(accept, XLSX_MIME) != NULL ? LC_FORM_XLSX
            : strcasestr(accept, "text/csv") != NULL ? LC_FORM_CSV
                                                    : LC_FORM_JSON;
    return 0;
}

/* Fills key_name (commune_name, cluster_name) in rows that have key but not key_name, from
 * sql (id, name). 0 or -EIO. */
static int fill_names(struct lc_store *store, json_t *rows, const char *const *cols,
                      const char *key, const char *key_name, const char *sql)
{
    bool wanted = false;
    for (size_t c = 0; cols[c]; c++)
        wanted = wanted || strcmp(cols[c], key_name) == 0;
    if (!wanted)
        return 0;
    json_t *names = json_object();
    sqlite3_stmt *st = names ? lc_store_stmt(store, sql) : NULL;
    if (st == NULL) {
        json_decref(names);
        return -EIO;
    }
    while (sqlite3_step(st) == SQLITE_ROW)
        json_object_set_new(names, lc_col_text(st, 0), json_string(lc_col_text(st, 1)));
    if (lc_store_done(st) < 0) {
        json_decref(names);
        return -EIO;
    }
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        const char *id = json_string_value(json_object_get(row, key));
        if (id != NULL && json_object_get(row, key_name) == NULL)
            json_object_set(row, key_name, json_object_get(names, id) ? json_object_get(names, id)
                                                                       : json_null());
    }
    json_decref(names);
    return 0;
}

/* Content-Disposition: attachment with the ASCII name and the Vietnamese one, percent-encoded
 * (RFC 6266, RFC 8187). */
static void disposition(char *out, size_t n, const struct lc_report *rep, const char *ext)
{
    size_t k = (size_t)snprintf(out, n, "Content-Disposition: attachment; filename=\"%s.%s\"; "
                                        "filename*=UTF-8''", rep->file, ext);
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)rep->file_vi; *p && k + 8 < n; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p) != NULL) {
            out[k++] = (char)*p;
        } else {
            out[k++] = '%';
            out[k++] = hex[*p >> 4];
            out[k++] = hex[*p & 15];
        }
    }
    snprintf(out + k, n - k, ".%s\r\n", ext);
}

void lc_reply_table(struct lc_req *req, uv_loop_t *loop, struct lc_store *store, json_t *body,
                    const struct lc_report *rep)
{
    enum lc_table_form form;
    bool office;
    char extra[768];
    if (lc_table_form(req, &form, &office) < 0) {
        json_decref(body);
        return;
    }
    json_t *rows = json_object_get(body, rep->list_key);
    if (fill_names(store, rows, rep->cols, "commune", "commune_name",
                   "SELECT id, name FROM communes") < 0 ||
        fill_names(store, rows, rep->cols, "cluster", "cluster_name",
                   "SELECT id, name FROM clusters") < 0) {
        json_decref(body);
        lc_reply_internal(req, "report: names");
        return;
    }
    if (form == LC_FORM_JSON) {
        lc_reply_json(req, 200, body);
        return;
    }
    disposition(extra, sizeof extra, rep, form == LC_FORM_XLSX ? "xlsx" : "csv");
    if (form == LC_FORM_XLSX) {
        lc_xlsx_reply(req, loop, body, rows, rep->cols, rep->sheet_vi, extra);
        return;
    }
    struct lc_buf csv = {0};
    if ((office ? lc_csv_write_office(&csv, rows, rep->cols) : lc_csv_write(&csv, rows, rep->cols)) < 0) {
        lc_buf_free(&csv);
        json_decref(body);
        lc_reply_internal(req, "csv");
        return;
    }
    lc_http_respond(req, 200, "text/csv; charset=utf-8", extra, csv.data, csv.len);
    lc_buf_free(&csv);
    json_decref(body);
}
