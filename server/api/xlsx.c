/* server/api/xlsx.c — reports as XLSX workbooks, off the loop; see xlsx.h. */
#include "server/api/xlsx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xlsxwriter.h>

#include "server/api/api.h"

#define MAX_WIDTH 60
#define XLSX_MIME "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

struct formats {
    lxw_format *header, *time, *seconds, *bytes, *count, *percent;
};

static size_t utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void widen(double *w, size_t chars)
{
    double c = chars > MAX_WIDTH ? MAX_WIDTH : (double)chars;
    if (c + 2 > *w)
        *w = c + 2;
}

/* One cell; *width grows to fit what it shows. */
static lxw_error put_cell(lxw_worksheet *ws, const struct formats *f, lxw_row_t r, lxw_col_t c,
                          const json_t *v, enum lc_col_kind kind, double *width)
{
    char num[64];
    if (json_is_integer(v) || json_is_real(v)) {
        double x = json_number_value(v);
        lxw_format *fmt = kind == LC_COL_SECONDS ? f->seconds
                          : kind == LC_COL_BYTES ? f->bytes
                          : kind == LC_COL_PERCENT ? f->percent
                          : json_is_integer(v) ? f->count
                                               : f->seconds;
        if (kind == LC_COL_PERCENT)
            x /= 100;
        snprintf(num, sizeof num, kind == LC_COL_BYTES || json_is_integer(v) ? "%.0f" : "%.3f",
                 json_number_value(v));
        size_t len = strlen(num);
        widen(width, len + (kind == LC_COL_BYTES ? len / 3 : 0) + (kind == LC_COL_PERCENT));
        return worksheet_write_number(ws, r, c, x, fmt);
    }
    if (json_is_boolean(v)) {
        widen(width, 6);
        return worksheet_write_boolean(ws, r, c, json_is_true(v), NULL);
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        struct lc_wall w;
        if (kind == LC_COL_TIME && lc_col_wall_time(s, &w) == 0) {
            lxw_datetime dt = {w.year, w.month, w.day, w.hour, w.min, w.sec + w.ms / 1000.0};
            widen(width, 19);
            return worksheet_write_datetime(ws, r, c, &dt, f->time);
        }
        widen(width, utf8_len(s));
        return worksheet_write_string(ws, r, c, s, NULL); /* a text cell: never a formula */
    }
    if (json_is_array(v)) {
        char *text = lc_col_list_text(v);
        if (text == NULL)
            return LXW_ERROR_MEMORY_MALLOC_FAILED;
        widen(width, utf8_len(text));
        lxw_error e = worksheet_write_string(ws, r, c, text, NULL);
        free(text);
        return e;
    }
    return LXW_NO_ERROR; /* null, objects: an empty cell */
}

int lc_xlsx_write(const char *path, const char *tmpdir, const json_t *rows,
                  const char *const *cols, const char *sheet)
{
    lxw_workbook_options opt = {.constant_memory = LXW_FALSE, .tmpdir = (char *)tmpdir};
    lxw_workbook *wb = workbook_new_opt(path, &opt);
    if (wb == NULL)
        return -EIO;
    int rc = -EIO;
    size_t ncols = 0;
    while (cols[ncols])
        ncols++;
    double *width = calloc(ncols ? ncols : 1, sizeof *width);
    lxw_worksheet *ws = workbook_add_worksheet(wb, sheet);
    if (width == NULL || ws == NULL)
        goto out;
    struct formats f = {
        workbook_add_format(wb), workbook_add_format(wb), workbook_add_format(wb),
        workbook_add_format(wb), workbook_add_format(wb), workbook_add_format(wb),
    };
    format_set_bold(f.header);
    format_set_text_wrap(f.header);
    format_set_align(f.header, LXW_ALIGN_VERTICAL_TOP);
    format_set_num_format(f.time, "dd/mm/yyyy hh:mm:ss");
    format_set_num_format(f.seconds, "0.000");
    format_set_num_format(f.bytes, "#,##0");
    format_set_num_format(f.count, "0");
    format_set_num_format(f.percent, "0.0%");

    lxw_error e = LXW_NO_ERROR;
    for (size_t c = 0; e == LXW_NO_ERROR && c < ncols; c++) {
        const char *h = lc_col_info(cols[c]).vi;
        /* a long header wraps over two lines rather than widening its column to its length */
        size_t hl = utf8_len(h);
        widen(&width[c], hl > 16 ? (hl + 1) / 2 + 2 : hl);
        e = worksheet_write_string(ws, 0, (lxw_col_t)c, h, f.header);
    }
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        for (size_t c = 0; e == LXW_NO_ERROR && c < ncols; c++) {
            json_t *v = json_object_get(row, cols[c]);
            if (v != NULL)
                e = put_cell(ws, &f, (lxw_row_t)(i + 1), (lxw_col_t)c, v, lc_col_info(cols[c]).kind,
                             &width[c]);
        }
        if (e != LXW_NO_ERROR)
            break;
    }
    for (size_t c = 0; e == LXW_NO_ERROR && c < ncols; c++)
        e = worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c, width[c], NULL);
    if (e == LXW_NO_ERROR && ncols > 0) {
        worksheet_freeze_panes(ws, 1, 0);
        e = worksheet_autofilter(ws, 0, 0, (lxw_row_t)json_array_size(rows), (lxw_col_t)(ncols - 1));
    }
    if (e == LXW_NO_ERROR)
        rc = 0;
    else
        fprintf(stderr, "xlsx: %s\n", lxw_strerror(e));
out:
    free(width);
    e = workbook_close(wb); /* writes the file; frees wb in every case */
    if (rc == 0 && e != LXW_NO_ERROR) {
        fprintf(stderr, "xlsx: %s: %s\n", path, lxw_strerror(e));
        rc = -EIO;
    }
    return rc;
}

/* ---- the answer, off the loop ------------------------------------------------------------- */

struct xlsx_job {
    uv_work_t work;
    struct lc_req *req;
    json_t *body;               /* owns rows */
    const json_t *rows;
    const char *const *cols;    /* static */
    char sheet[128];
    char extra[768];
    char tmpdir[256];
    struct lc_buf out;          /* the workbook's bytes */
    int rc;
};

/* Reads the whole file at path into out. 0 or -errno. */
static int slurp(const char *path, struct lc_buf *out)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return -errno;
    char chunk[65536];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        rc = lc_buf_append(out, chunk, n);
    if (rc == 0 && ferror(fp))
        rc = -EIO;
    fclose(fp);
    return rc;
}

static void xlsx_work(uv_work_t *w)
{
    struct xlsx_job *j = w->data;
    char path[512];
    snprintf(path, sizeof path, "%s/loacast-report-XXXXXX.xlsx", j->tmpdir);
    int fd = mkstemps(path, 5);
    if (fd < 0) {
        j->rc = -errno;
        fprintf(stderr, "xlsx: %s: %s\n", path, strerror(errno));
        return;
    }
    close(fd); /* libxlsxwriter opens it by name; the name stays ours (0600) until unlinked */
    j->rc = lc_xlsx_write(path, j->tmpdir, j->rows, j->cols, j->sheet);
    if (j->rc == 0)
        j->rc = slurp(path, &j->out);
    unlink(path);
}

static void xlsx_done(uv_work_t *w, int status)
{
    struct xlsx_job *j = w->data;
    if (status < 0 || j->rc < 0)
        lc_reply_internal(j->req, "report: xlsx");
    else
        lc_http_respond(j->req, 200, XLSX_MIME, j->extra, j->out.data, j->out.len);
    lc_req_release(j->req);
    lc_buf_free(&j->out);
    json_decref(j->body);
    free(j);
}

void lc_xlsx_reply(struct lc_req *req, uv_loop_t *loop, json_t *body, const json_t *rows,
                   const char *const *cols, const char *sheet, const char *extra)
{
    struct xlsx_job *j = calloc(1, sizeof *j);
    if (j == NULL) {
        json_decref(body);
        lc_reply_internal(req, "report: memory");
        return;
    }
    const char *tmp = getenv("TMPDIR");
    j->work.data = j;
    j->req = req;
    j->body = body;
    j->rows = rows;
    j->cols = cols;
    snprintf(j->sheet, sizeof j->sheet, "%s", sheet);
    snprintf(j->extra, sizeof j->extra, "%s", extra);
    snprintf(j->tmpdir, sizeof j->tmpdir, "%s", tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
    lc_req_hold(req);
    int rc = uv_queue_work(loop, &j->work, xlsx_work, xlsx_done);
    if (rc < 0) {
        lc_reply_internal(req, "report: queue");
        lc_req_release(req);
        json_decref(body);
        free(j);
    }
}
