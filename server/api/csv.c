/* server/api/csv.c — the reports' columns in Vietnamese, and CSV (both forms); see csv.h. */
#include "server/api/csv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/api/api.h"

/* The columns of every report (coverage.c, plays.c, selftest_api.c), in Vietnamese as a
 * commune office writes them. A key missing here keeps its JSON name (LC_COL_AUTO). */
static const struct lc_col_info cols_vi[] = {
    {"commune", "Mã xã", LC_COL_TEXT},
    {"commune_name", "Tên xã", LC_COL_TEXT},
    {"name", "Tên xã", LC_COL_TEXT},
    {"cluster", "Mã cụm loa", LC_COL_TEXT},
    {"cluster_name", "Tên cụm loa", LC_COL_TEXT},
    {"session", "Mã phiên", LC_COL_COUNT},
    {"session_start", "Phiên bắt đầu", LC_COL_TIME},
    {"session_end", "Phiên kết thúc", LC_COL_TIME},
    {"connected_at", "Kết nối lúc", LC_COL_TIME},
    {"disconnected_at", "Ngắt kết nối lúc", LC_COL_TIME},
    {"audio_s", "Âm thanh đã gửi (giây)", LC_COL_SECONDS},
    {"programme_s", "Thời lượng chương trình (giây)", LC_COL_SECONDS},
    {"bytes", "Dung lượng (byte)", LC_COL_BYTES},
    {"reconnections", "Số lần kết nối lại", LC_COL_COUNT},
    {"reached", "Nhận đủ", LC_COL_BOOL},
    {"bulletins_whole", "Bản tin nhận trọn vẹn", LC_COL_TEXT},
    {"played_s", "Đã phát (giây)", LC_COL_SECONDS},
    {"basis", "Căn cứ", LC_COL_TEXT},
    {"clusters_total", "Tổng số cụm loa", LC_COL_COUNT},
    {"clusters_reached", "Số cụm loa nhận được", LC_COL_COUNT},
    {"population_total", "Tổng số dân", LC_COL_COUNT},
    {"population_reached", "Số dân được nghe", LC_COL_COUNT},
    {"percent_clusters", "Tỷ lệ cụm loa (%)", LC_COL_PERCENT},
    {"percent_population", "Tỷ lệ dân số (%)", LC_COL_PERCENT},
    {"bulletins", "Bản tin", LC_COL_TEXT},
    {"sessions", "Số phiên", LC_COL_COUNT},
    {"mean_percent_clusters", "Tỷ lệ cụm loa trung bình (%)", LC_COL_PERCENT},
    {"worst_percent_clusters", "Tỷ lệ cụm loa thấp nhất (%)", LC_COL_PERCENT},
    {"mean_percent_population", "Tỷ lệ dân số trung bình (%)", LC_COL_PERCENT},
    {"worst_session_start", "Phiên kém nhất bắt đầu", LC_COL_TIME},
    {"id", "Mã lượt phát", LC_COL_TEXT},
    {"bulletin", "Mã bản tin", LC_COL_COUNT},
    {"hash", "Mã băm âm thanh", LC_COL_TEXT},
    {"start", "Bắt đầu phát", LC_COL_TIME},
    {"end", "Kết thúc phát", LC_COL_TIME},
    {"underruns", "Số lần ngắt quãng", LC_COL_COUNT},
    {"source", "Nguồn phát", LC_COL_TEXT},
    {"received_at", "Nhận báo cáo lúc", LC_COL_TIME},
    {"failing_since", "Hỏng từ", LC_COL_TIME},
    {"last_test", "Lần thử gần nhất", LC_COL_TIME},
    {"failed_tests", "Số lần thử hỏng", LC_COL_COUNT},
    {"reason", "Mã lý do", LC_COL_TEXT},
    {"reason_text", "Lý do", LC_COL_TEXT},
};

struct lc_col_info lc_col_info(const char *key)
{
    for (size_t i = 0; i < sizeof cols_vi / sizeof cols_vi[0]; i++)
        if (strcmp(cols_vi[i].key, key) == 0)
            return cols_vi[i];
    return (struct lc_col_info){key, key, LC_COL_AUTO};
}

/* A field with a quote, the separator or a line break is quoted, its quotes doubled (RFC 4180). */
static int put_text(struct lc_buf *out, const char *s, char sep)
{
    const char special[] = {'"', sep, '\r', '\n', '\0'};
    if (strpbrk(s, special) == NULL)
        return lc_buf_append_str(out, s);
    int rc = lc_buf_append(out, "\"", 1);
    for (const char *p = s; rc == 0 && *p; p++)
        rc = *p == '"' ? lc_buf_append(out, "\"\"", 2) : lc_buf_append(out, p, 1);
    return rc == 0 ? lc_buf_append(out, "\"", 1) : rc;
}

/* A text value: one that a spreadsheet would take for a formula (it begins with =, +, -, @, tab
 * or CR: "=HYPERLINK(...)" in a commune's name) is neutralised as OWASP recommends, with a
 * leading apostrophe inside a quoted field, so it is shown as text and never evaluated. */
static int put_string(struct lc_buf *out, const char *s, char sep)
{
    if (s[0] == '\0' || strchr("=+-@\t\r", s[0]) == NULL)
        return put_text(out, s, sep);
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
        return put_string(out, json_string_value(v), ',');
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
                int r = text ? put_text(out, text, ',') : -ENOMEM;
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
        rc = rc ? rc : put_string(out, joined.data ? (const char *)joined.data : "", ',');
        lc_buf_free(&joined);
        return rc;
    }
    default: /* null, objects: an empty field */
        return 0;
    }
}

char *lc_col_list_text(const json_t *v)
{
    struct lc_buf b = {0};
    char num[64];
    size_t i;
    json_t *e;
    int rc = 0;
    json_array_foreach(v, i, e) {
        if (i > 0)
            rc = rc ? rc : lc_buf_append_str(&b, json_is_object(e) ? "; " : ";");
        if (rc)
            break;
        if (json_is_string(e)) {
            rc = lc_buf_append_str(&b, json_string_value(e));
        } else if (json_is_integer(e) || json_is_real(e)) {
            snprintf(num, sizeof num, "%g", json_number_value(e));
            rc = lc_buf_append_str(&b, num);
        } else if (json_is_object(e) && json_is_string(json_object_get(e, "title"))) {
            const char *title = json_string_value(json_object_get(e, "title"));
            json_t *n = json_object_get(e, "clusters_reached");
            if (title[0] == '\0') /* a bulletin without a title: its id */
                snprintf(num, sizeof num, "#%" JSON_INTEGER_FORMAT,
                         json_integer_value(json_object_get(e, "id")));
            rc = lc_buf_append_str(&b, title[0] ? title : num);
            if (rc == 0 && json_is_integer(n)) {
                snprintf(num, sizeof num, " (%" JSON_INTEGER_FORMAT " cụm)", json_integer_value(n));
                rc = lc_buf_append_str(&b, num);
            }
        } else {
            char *text = json_dumps(e, JSON_COMPACT | JSON_ENCODE_ANY);
            rc = text ? lc_buf_append_str(&b, text) : -ENOMEM;
            free(text);
        }
    }
    if (rc == 0 && lc_buf_terminate(&b) == 0 && b.data != NULL)
        return (char *)b.data;
    if (rc == 0 && b.data == NULL)
        return strdup("");
    lc_buf_free(&b);
    return NULL;
}

/* The office form of a value: ',' decimals, the wall-clock time, có/không (csv.h). */
static int put_office(struct lc_buf *out, const json_t *v, enum lc_col_kind kind)
{
    char num[64];
    if (json_is_integer(v) || json_is_real(v)) {
        if (json_is_integer(v) && kind != LC_COL_SECONDS && kind != LC_COL_PERCENT)
            snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else
            snprintf(num, sizeof num, kind == LC_COL_PERCENT ? "%.1f" : "%.3f",
                     json_number_value(v));
        char *dot = strchr(num, '.');
        if (dot != NULL)
            *dot = ',';
        return lc_buf_append_str(out, num);
    }
    if (json_is_boolean(v))
        return lc_buf_append_str(out, json_is_true(v) ? "có" : "không");
    if (json_is_string(v)) {
        struct lc_wall w;
        if (kind == LC_COL_TIME && lc_col_wall_time(json_string_value(v), &w) == 0) {
            snprintf(num, sizeof num, "%04d-%02d-%02d %02d:%02d:%02d", w.year, w.month, w.day,
                     w.hour, w.min, w.sec);
            return lc_buf_append_str(out, num);
        }
        return put_string(out, json_string_value(v), ';');
    }
    if (json_is_array(v)) {
        char *text = lc_col_list_text(v);
        int rc = text ? put_string(out, text, ';') : -ENOMEM;
        free(text);
        return rc;
    }
    return 0; /* null, objects */
}

static int write_csv(struct lc_buf *out, const json_t *rows, const char *const *cols, bool office)
{
    const char sep = office ? ';' : ',';
    int rc = lc_buf_append(out, "\xEF\xBB\xBF", 3);
    for (size_t c = 0; rc == 0 && cols[c]; c++) {
        if (c > 0)
            rc = lc_buf_append(out, &sep, 1);
        rc = rc ? rc : put_text(out, office ? lc_col_info(cols[c]).vi : cols[c], sep);
    }
    rc = rc ? rc : lc_buf_append(out, "\r\n", 2);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        for (size_t c = 0; rc == 0 && cols[c]; c++) {
            if (c > 0)
                rc = lc_buf_append(out, &sep, 1);
            json_t *v = json_object_get(row, cols[c]);
            if (rc == 0 && v != NULL)
                rc = office ? put_office(out, v, lc_col_info(cols[c]).kind) : put_value(out, v);
        }
        rc = rc ? rc : lc_buf_append(out, "\r\n", 2);
        if (rc)
            break;
    }
    return rc;
}

int lc_csv_write(struct lc_buf *out, const json_t *rows, const char *const *cols)
{
    return write_csv(out, rows, cols, false);
}

int lc_csv_write_office(struct lc_buf *out, const json_t *rows, const char *const *cols)
{
    return write_csv(out, rows, cols, true);
}

int lc_col_wall_time(const char *s, struct lc_wall *w)
{
    int64_t t;
    if (s == NULL || lc_time_parse(s, &t) < 0 ||
        sscanf(s, "%4d-%2d-%2d%*c%2d:%2d:%2d", &w->year, &w->month, &w->day, &w->hour, &w->min,
               &w->sec) != 6)
        return -EINVAL;
    w->ms = 0;
    if (s[19] == '.') /* a fraction: its first three digits */
        for (int k = 0, scale = 100; k < 3 && s[20 + k] >= '0' && s[20 + k] <= '9'; k++, scale /= 10)
            w->ms += (s[20 + k] - '0') * scale;
    return 0;
}
