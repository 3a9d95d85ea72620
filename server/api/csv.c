/* server/api/csv.c — CSV answers for reports; see csv.h. */
#include "server/api/csv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/api/api.h"

/* A field with a quote, separator or line break is quoted, its quotes doubled (RFC 4180). */
static int put_text(struct lc_buf *out, const char *s)
{
    if (strpbrk(s, "\",\r\n") == NULL)
        return lc_buf_append_str(out, s);
    int rc = lc_buf_append(out, "\"", 1);
    for (const char *p = s; rc == 0 && *p; p++)
        rc = *p == '"' ? lc_buf_append(out, "\"\"", 2) : lc_buf_append(out, p, 1);
    return rc == 0 ? lc_buf_append(out, "\"", 1) : rc;
}

/* A text value: one that a spreadsheet would take for a formula (it begins with =, +, -, @, tab
 * or CR: "=HYPERLINK(...)" in a commune's name) is neutralised as OWASP recommends, with a
 * leading apostrophe inside a quoted field, so it is shown as text and never evaluated. */
static int put_string(struct lc_buf *out, const char *s)
{
    if (s[0] == '\0' || strchr("=+-@\t\r", s[0]) == NULL)
        return put_text(out, s);
    int rc = lc_buf_append(out, "\"'", 2);
    for (const char *p = s; rc == 0 && *p; p++)
        rc = *p == '"' ? lc_buf_append(out, "\"\"", 2) : lc_buf_append(out, p, 1);
    return rc == 0 ? lc_buf_append(out, "\"", 1) : rc;
}

static int put_value(struct lc_buf *out, const json_t *v)
{
    char num[64];
    switch (json_typeof(v)) {
    case JSON_STRING:
        return put_string(out, json_string_value(v));
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return lc_buf_append_str(out, num);
    case JSON_REAL:
        snprintf(num, sizeof num, "%.3f", json_real_value(v));
        return lc_buf_append_str(out, num);
    case JSON_TRUE:
        return lc_buf_append_str(out, "true");
    case JSON_FALSE:
        return lc_buf_append_str(out, "false");
    case JSON_ARRAY: {
        size_t k;
        json_t *x;
        json_array_foreach(v, k, x) {
            if (json_is_object(x) || json_is_array(x)) { /* structured: the JSON text itself */
                char *text = json_dumps(v, JSON_COMPACT);
                int r = text ? put_text(out, text) : -ENOMEM;
                free(text);
                return r;
            }
        }
        struct lc_buf joined = {0};
        size_t i;
        json_t *e;
        int rc = 0;
        json_array_foreach(v, i, e) {
            if (i > 0)
                rc = rc ? rc : lc_buf_append(&joined, ";", 1);
            /* texts joined as they are: the field as a whole is quoted and neutralised */
            if (rc == 0 && json_is_string(e))
                rc = lc_buf_append_str(&joined, json_string_value(e));
            else
                rc = rc ? rc : put_value(&joined, e);
        }
        rc = rc ? rc : lc_buf_terminate(&joined);
        rc = rc ? rc : put_string(out, joined.data ? (const char *)joined.data : "");
        lc_buf_free(&joined);
        return rc;
    }
    default: /* null, objects: an empty field */
        return 0;
    }
}

int lc_csv_write(struct lc_buf *out, const json_t *rows, const char *const *cols)
{
    int rc = lc_buf_append(out, "\xEF\xBB\xBF", 3);
    for (size_t c = 0; rc == 0 && cols[c]; c++) {
        if (c > 0)
            rc = lc_buf_append(out, ",", 1);
        rc = rc ? rc : put_text(out, cols[c]);
    }
    rc = rc ? rc : lc_buf_append(out, "\r\n", 2);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        for (size_t c = 0; rc == 0 && cols[c]; c++) {
            if (c > 0)
                rc = lc_buf_append(out, ",", 1);
            json_t *v = json_object_get(row, cols[c]);
            if (rc == 0 && v != NULL)
                rc = put_value(out, v);
        }
        rc = rc ? rc : lc_buf_append(out, "\r\n", 2);
        if (rc)
            break;
    }
    return rc;
}

bool lc_csv_wanted(const struct lc_req *req)
{
    char buf[16];
    const char *f = lc_req_query(req, "format", buf, sizeof buf);
    if (f != NULL)
        return strcasecmp(f, "csv") == 0;
    const char *accept = lc_req_header(req, "accept");
    return accept != NULL && strcasestr(accept, "text/csv") != NULL;
}

void lc_reply_table(struct lc_req *req, json_t *body, const char *list_key,
                    const char *const *cols, const char *filename)
{
    if (!lc_csv_wanted(req)) {
        lc_reply_json(req, 200, body);
        return;
    }
    struct lc_buf csv = {0};
    if (lc_csv_write(&csv, json_object_get(body, list_key), cols) < 0) {
        lc_buf_free(&csv);
        json_decref(body);
        lc_reply_internal(req, "csv");
        return;
    }
    char extra[256];
    snprintf(extra, sizeof extra, "Content-Disposition: attachment; filename=\"%s\"\r\n",
             filename);
    lc_http_respond(req, 200, "text/csv; charset=utf-8", extra, csv.data, csv.len);
    lc_buf_free(&csv);
    json_decref(body);
}
