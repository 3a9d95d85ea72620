/*
 * tests/server/test_transitions.c — docs/server.md's bulletin lifecycle against the code's.
 *
 * Reads the two tables under "Lifecycle" in docs/server.md — "| from \ event | ..." (the status
 * each event leads to) and "| event | who may cause it |" — and compares them with the table
 * the code follows (lc_bulletin_transitions(), lc_bulletin_event_who() in
 * server/bulletins/bulletin_status.c): every filled cell of the document must be a transition of
 * the code with the same result, every transition of the code a filled cell, every event a
 * column, and each event's "who" line the one the code's bits spell. Either side changing alone
 * fails the test.
 *
 * Usage: test_transitions path/to/docs/server.md
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/bulletins/bulletins.h"
#include "tests/check.h"

#define MAX_CELLS 16
#define MAX_DOC 64

/* Splits a Markdown table row "| a | b |" into trimmed cells (in place). Returns their count. */
static int split_row(char *line, char *cells[MAX_CELLS])
{
    int n = 0;
    char *p = line;
    while (*p == ' ')
        p++;
    if (*p != '|')
        return 0;
    p++;
    while (*p && *p != '\n' && n < MAX_CELLS) {
        char *end = strchr(p, '|');
        if (end == NULL)
            break;
        *end = '\0';
        while (*p == ' ')
            p++;
        char *q = end;
        while (q > p && q[-1] == ' ')
            *--q = '\0';
        cells[n++] = p;
        p = end + 1;
    }
    return n;
}

static int event_by_name(const char *name)
{
    for (int ev = 0; ev < LC_BEV_COUNT; ev++)
        if (strcmp(lc_bulletin_event_name((enum lc_bulletin_event)ev), name) == 0)
            return ev;
    return -1;
}

/* The "who may cause it" text of the code's bits, as the document writes it. */
static void who_text(unsigned who, char *out, size_t len)
{
    static const struct {
        unsigned bit;
        const char *text;
    } parts[] = {{LC_BWHO_SERVER, "the server"},
                 {LC_BWHO_AUTHOR, "the author"},
                 {LC_BWHO_APPROVER, "an approver"},
                 {LC_BWHO_ADMIN, "an admin"}};
    out[0] = '\0';
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (who & parts[i].bit)
            snprintf(out + strlen(out), len - strlen(out), "%s%s", out[0] ? ", " : "",
                     parts[i].text);
    if (who & LC_BWHO_NOT_AUTHOR)
        snprintf(out + strlen(out), len - strlen(out), "; never the author");
}

struct doc_cell {
    char from[32];
    int event;
    char to[32];
};

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s docs/server.md\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (f == NULL) {
        perror(argv[1]);
        return 2;
    }
    struct doc_cell doc[MAX_DOC];
    size_t ndoc = 0;
    int columns[MAX_CELLS] = {0};
    int ncolumns = 0;
    bool who_seen[LC_BEV_COUNT] = {0};
    enum { NONE, STATUS, WHO } table = NONE;
    int tables_seen = 0;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        char *cells[MAX_CELLS];
        int n = split_row(line, cells);
        if (n == 0) {
            table = NONE;
            continue;
        }
        if (strspn(cells[0], "-:") == strlen(cells[0]) && cells[0][0] != '\0')
            continue; /* |---|---| */
        if (strcmp(cells[0], "from \\ event") == 0) {
            table = STATUS;
            tables_seen |= 1;
            ncolumns = n - 1;
            for (int i = 1; i < n; i++) {
                columns[i - 1] = event_by_name(cells[i]);
                CHECKF(columns[i - 1] >= 0, "docs: unknown event column '%s'", cells[i]);
            }
            continue;
        }
        if (n == 2 && strcmp(cells[0], "event") == 0 && strcmp(cells[1], "who may cause it") == 0) {
            table = WHO;
            tables_seen |= 2;
            continue;
        }
        if (table == STATUS) {
            CHECKF(n == ncolumns + 1, "docs: row '%s' has %d cells, not %d", cells[0], n,
                   ncolumns + 1);
            for (int i = 1; i < n && i <= ncolumns; i++) {
                if (cells[i][0] == '\0' || columns[i - 1] < 0)
                    continue;
                CHECK(ndoc < MAX_DOC);
                if (ndoc == MAX_DOC)
                    break;
                struct doc_cell *c = &doc[ndoc++];
                snprintf(c->from, sizeof c->from, "%s", cells[0]);
                c->event = columns[i - 1];
                snprintf(c->to, sizeof c->to, "%s", cells[i]);
            }
        } else if (table == WHO) {
            int ev = n == 2 ? event_by_name(cells[0]) : -1;
            CHECKF(ev >= 0, "docs: unknown event '%s' in the who table", cells[0]);
            if (ev < 0)
                continue;
            char want[160];
            who_text(lc_bulletin_event_who((enum lc_bulletin_event)ev), want, sizeof want);
            CHECKF(strcmp(cells[1], want) == 0, "'%s': the docs say '%s', the code '%s'",
                   cells[0], cells[1], want);
            CHECKF(!who_seen[ev], "docs: event '%s' twice in the who table", cells[0]);
            who_seen[ev] = true;
        }
    }
    fclose(f);
    CHECKF(tables_seen == 3, "docs: the lifecycle tables were not found (%d)", tables_seen);

    size_t n;
    const struct lc_bulletin_transition *t = lc_bulletin_transitions(&n);
    /* the code's table in the document */
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t k = 0; k < ndoc; k++)
            if (doc[k].event == (int)t[i].event && strcmp(doc[k].from, t[i].from) == 0) {
                found = true;
                CHECKF(strcmp(doc[k].to, t[i].to) == 0, "%s --%s--> the docs say %s, the code %s",
                       t[i].from, lc_bulletin_event_name(t[i].event), doc[k].to, t[i].to);
            }
        CHECKF(found, "the code's %s --%s--> %s is not in the docs", t[i].from,
               lc_bulletin_event_name(t[i].event), t[i].to);
    }
    /* the document's table in the code */
    for (size_t k = 0; k < ndoc; k++) {
        bool found = false;
        for (size_t i = 0; i < n; i++)
            found = found || (doc[k].event == (int)t[i].event && strcmp(doc[k].from, t[i].from) == 0);
        CHECKF(found, "the docs' %s --%s--> %s is not in the code", doc[k].from,
               lc_bulletin_event_name((enum lc_bulletin_event)doc[k].event), doc[k].to);
    }
    /* every event is a column and has its who line */
    for (int ev = 0; ev < LC_BEV_COUNT; ev++) {
        bool column = false;
        for (int i = 0; i < ncolumns; i++)
            column = column || columns[i] == ev;
        CHECKF(column, "event '%s' is not a column of the docs' table",
               lc_bulletin_event_name((enum lc_bulletin_event)ev));
        CHECKF(who_seen[ev], "event '%s' has no line in the docs' who table",
               lc_bulletin_event_name((enum lc_bulletin_event)ev));
    }
    fprintf(stderr, "%zu transitions in the code, %zu cells in the docs\n", n, ndoc);
    return check_done();
}
