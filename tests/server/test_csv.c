/*
 * tests/server/test_csv.c — CSV answers (server/api/csv.c): RFC 4180 quoting, and text that a
 * spreadsheet would evaluate (=, +, -, @, tab, CR first) neutralised as OWASP recommends: a
 * commune named =HYPERLINK(...) is shown, never run. Numbers stay numbers (a negative one is not
 * text).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "server/api/api.h"
#include "tests/check.h"

/* The CSV of one row {"v": value} without the byte-order mark and header: the field and CRLF. */
static char *field_of(json_t *value)
{
    static const char *const cols[] = {"v", NULL};
    json_t *rows = json_pack("[{s:o}]", "v", value);
    struct lc_buf out = {0};
    char *s = NULL;
    if (rows != NULL && lc_csv_write(&out, rows, cols) == 0 && lc_buf_terminate(&out) == 0) {
        const char *text = (const char *)out.data + 3 + strlen("v\r\n"); /* BOM, header */
        s = strdup(text);
    }
    json_decref(rows);
    lc_buf_free(&out);
    return s;
}

static void expect(json_t *value, const char *want)
{
    char *got = field_of(value);
    CHECKF(got != NULL && strcmp(got, want) == 0, "got [%s], want [%s]", got ? got : "(null)",
           want);
    free(got);
}

int main(void)
{
    expect(json_string("Xã Quảng Thọ"), "Xã Quảng Thọ\r\n");
    expect(json_string("a,b"), "\"a,b\"\r\n");
    expect(json_string("say \"hi\""), "\"say \"\"hi\"\"\"\r\n");
    /* formulas and their cousins: an apostrophe inside a quoted field */
    expect(json_string("=HYPERLINK(\"http://x\",\"y\")"), "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\r\n");
    expect(json_string("+84 912"), "\"'+84 912\"\r\n");
    expect(json_string("-1+2"), "\"'-1+2\"\r\n");
    expect(json_string("@SUM(A1)"), "\"'@SUM(A1)\"\r\n");
    expect(json_string("\tcmd"), "\"'\tcmd\"\r\n");
    expect(json_string("\rcmd"), "\"'\rcmd\"\r\n");
    /* a list of strings is one field: only its start matters to a spreadsheet */
    expect(json_pack("[s,s]", "k1", "=1"), "k1;=1\r\n");
    expect(json_pack("[s,s]", "=1", "k,1"), "\"'=1;k,1\"\r\n");
    expect(json_pack("[i,i]", 12, 15), "12;15\r\n");
    /* numbers, booleans, null are not text */
    expect(json_integer(-5), "-5\r\n");
    expect(json_real(-0.25), "-0.250\r\n");
    expect(json_true(), "true\r\n");
    expect(json_null(), "\r\n");
    expect(json_string(""), "\r\n");
    return check_done();
}
