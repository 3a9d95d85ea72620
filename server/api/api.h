/*
 * server/api/api.h — the door of server/api/: what every JSON route shares: answers, errors,
 * reading and checking bodies, times, identifiers, CSV, and one pattern for the handlers of a
 * table's rows (crud.c).
 *
 * Error answers are {"error": code, "message": text}. The codes used:
 *   400 bad_json, bad_field (wrong type, missing), unknown_field, bad_query
 *   401 unauthorized    403 forbidden     404 not_found     405 method_not_allowed
 *   409 exists, conflict, bad_state       413 body_too_large 415 unsupported_media
 *   416 bad_range       422 invalid (a value out of range, unknown commune or voice)
 *   429 rate_limited    500 internal      503 busy, shutting_down
 * A function here that answers returns -1 after answering, so a handler writes
 * `if (lc_api_string(...) < 0) goto out;`.
 */
#ifndef LC_SERVER_API_H
#define LC_SERVER_API_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "server/http/http.h"

/* Answers body (the reference is stolen) as JSON. */
void lc_reply_json(struct lc_req *req, int status, json_t *body);
void lc_reply_error(struct lc_req *req, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* 500 with a generic message; the detail goes to stderr. */
void lc_reply_internal(struct lc_req *req, const char *what);
void lc_reply_no_content(struct lc_req *req);
/* An error answer {"error": code, "message": message} with extra header lines (each ending in
 * \r\n) and without Cache-Control (405 with Allow, 429 with Retry-After ...). */
void lc_reply_error_headers(struct lc_req *req, int status, const char *headers, const char *code,
                            const char *message);

/* Parses the body as a JSON object whose keys are all in allowed (NULL-terminated). On error
 * answers (400 bad_json / unknown_field, 415 if Content-Type is not JSON) and returns NULL. */
json_t *lc_api_body(struct lc_req *req, const char *const *allowed);

/* Field readers. `required` false: an absent field leaves *out as it was and returns 0; a JSON
 * null counts as absent. Wrong type is 400 bad_field; out of range is 422 invalid. */
int lc_api_string(struct lc_req *req, json_t *obj, const char *key, bool required,
                  size_t max_chars, const char **out);
int lc_api_int(struct lc_req *req, json_t *obj, const char *key, bool required, long long min,
               long long max, long long *out);
int lc_api_number(struct lc_req *req, json_t *obj, const char *key, bool required, double min,
                  double max, double *out, bool *present);
/* true or false (nothing else: 400). */
int lc_api_bool(struct lc_req *req, json_t *obj, const char *key, bool required, bool *out,
                bool *present);

/* Unix seconds now. */
int64_t lc_now(void);
/* RFC 3339 in the configured zone (TZ is set at start), e.g. 2026-11-24T06:00:00+07:00. */
void lc_time_format(int64_t t, char out[40]);
json_t *lc_time_json(int64_t t);
/* The same to the millisecond: "2026-11-24T06:00:00.003+07:00". */
json_t *lc_time_ms_json(int64_t ms);
/* Parses RFC 3339 (with Z or an offset; fraction ignored). 0 or -EINVAL. */
int lc_time_parse(const char *s, int64_t *out);

/* A slug: 1..64 of [a-z0-9], single '-' between. */
bool lc_slug_ok(const char *s);
/* Number of UTF-8 code points, or -1 if s is not valid UTF-8. */
long lc_utf8_chars(const char *s);

/* CSV answers: this header is the door of server/api/. */
#include "server/api/csv.h"

/* ---- one pattern for list/get/create/patch/delete handlers (crud.c) ------------------------- */

struct lc_res_write;
struct lc_store;
struct sqlite3_stmt;

/* Binds the query parameter name (percent-decoded, cut to size - 1 bytes; size at most 256) as
 * text to parameter idx of st; an absent one stays NULL. */
void lc_api_bind_query(struct lc_req *req, struct sqlite3_stmt *st, int idx, const char *name,
                       size_t size);

/* A route of a module's table, added with lc_api_routes(). */
struct lc_api_route {
    int method;             /* enum http_method */
    const char *pattern;    /* static */
    unsigned roles;
    enum lc_body body;
    lc_route_fn fn;
};
/* Adds the n routes of t with ctx, the module's handle. 0 or -ENOMEM/-EINVAL. */
int lc_api_routes(struct lc_router *r, const struct lc_api_route *t, size_t n, void *ctx);
#define LC_API_ROUTES(r, table, ctx) lc_api_routes(r, table, sizeof table / sizeof table[0], ctx)

/* The audit log's writer (lc_audit, server/accounts/accounts.h), given to api/ in a resource so
 * that api/ does not call accounts/. */
typedef int (*lc_res_audit_fn)(struct lc_store *store, const struct lc_req *req, const char *actor,
                               const char *action, const char *target, json_t *detail);

/* What a step of a write returns after it has answered (the -1 above): the transaction is rolled
 * back and nothing more is answered. */
#define LC_ANSWERED (-1)

/* Rows of one table addressed by a text key, as the API shows them (a static table in the
 * module that owns the table). */
struct lc_resource {
    const char *noun;       /* "commune": 404 "no commune '<key>'", 409 "the commune '<key>'
                             * exists already" */
    int key_chars;          /* the most of a key that a 404 quotes; 0: all of it */
    const char *plural;     /* "communes": the list's key in {"communes": [...]}; the tag of 500s */
    const char *list_sql;   /* every row, in order (static storage: the statement cache's key) */
    const char *one_sql;    /* the row whose key is ?1 (static storage) */
    json_t *(*row_json)(struct sqlite3_stmt *st);   /* a row of either, as JSON */
    const char *path;       /* "/api/v1/communes": GET the list, POST (static, as the two below) */
    const char *item_path;  /* "/api/v1/communes/{id}": GET, PATCH, DELETE */
    unsigned readers;       /* the roles of the GETs (LC_ROLE_* bits) */
    unsigned writers;       /* the roles of POST, PATCH, DELETE */
    lc_res_audit_fn audit;  /* writes the entries of lc_res_write's action and of lc_res_delete */
    const char *delete_sql; /* lc_res_delete: deletes the row whose key is ?1 */
    /* lc_res_delete: runs first in the transaction (NULL: nothing): 0 (delete), LC_RES_RETIRE
     * (the row has history: retire it instead), or LC_ANSWERED / -errno */
    int (*delete_check)(struct lc_res_write *w);
    /* Rows with history are retired, not deleted: retire_sql sets retired_at = ?2 of row ?1
     * (static storage); the DELETE then answers 200 with the row, audited "<noun>_retire".
     * list_sql takes ?1: 1 to list retired rows too (the query ?retired=true), else 0. */
    const char *retire_sql;
};
#define LC_RES_RETIRE 1

/* A resource's handlers (each gets the module's handle); NULL: no such route. */
struct lc_res_handlers {
    lc_route_fn list, get, write, del;
};
/* Adds GET path (list), POST path (write), GET item_path (get), PATCH item_path (write) and
 * DELETE item_path (del), in that order, with ctx. 0 or -ENOMEM/-EINVAL. */
int lc_res_routes(struct lc_router *r, const struct lc_resource *res,
                  const struct lc_res_handlers *h, void *ctx);

/* ?retired=true|1 → 1, false|0 or absent → 0; anything else answers 400 and returns -1. */
int lc_api_query_retired(struct lc_req *req);
/* GET of the list: 200 {"<plural>": [row, ...]}, or 500 (also when a step fails midway). */
void lc_res_list(struct lc_req *req, struct lc_store *s, const struct lc_resource *res);
/* The row of key as JSON (a new reference) in *out: 0, -ENOENT (no such row) or -EIO. one_sql's
 * scope parameter (LC_SCOPE, ?99), if it has one, is bound to scope (the caller's node, server/org/org.h; 0: any row):
 * lc_res_find reads any row, lc_res_get and the changes of lc_res_write only the caller's. */
int lc_res_find_in(struct lc_store *s, const struct lc_resource *res, const char *key,
                   int64_t scope, json_t **out);
int lc_res_find(struct lc_store *s, const struct lc_resource *res, const char *key, json_t **out);
/* The same, NULL for either failure (after a write, when the row must be there). */
json_t *lc_res_load(struct lc_store *s, const struct lc_resource *res, const char *key);
/* GET of one row: 200 the row, or 404. */
void lc_res_get(struct lc_req *req, struct lc_store *s, const struct lc_resource *res,
                const char *key);
/* Answers 404 "no <noun> '<key>'" and returns LC_ANSWERED. */
int lc_res_not_found(struct lc_req *req, const struct lc_resource *res, const char *key);

/* A write of one row (create, patch, delete, ...): fn runs inside one transaction (lc_store_tx),
 * followed there by the audit entry "<noun>_<what>" when audit is set (fn writes the entries
 * itself when there are several); lc_res_write() answers when it is over. */
struct lc_res_write {
    struct lc_req *req;
    struct lc_store *store;
    const struct lc_resource *res;
    const char *key;            /* the row */
    int (*fn)(struct lc_res_write *w);  /* 0: commit; LC_ANSWERED (it answered) or -errno: roll
                                         * back */
    void *arg;                  /* fn's */
    int status;                 /* after the commit: 200 or 201 answer the row read back (or
                                 * answer), 204 no content */
    const char *what;           /* "create": a 500 is logged as "<plural>: create" */
    bool audit;                 /* after fn: the entry "<noun>_<what>" for key, with detail */
    json_t *detail;             /* the entry's detail (may be NULL; stolen) */
    json_t *answer;             /* fn may set it: answered instead of the row (stolen, also when
                                 * the write fails) */
};
void lc_res_write(struct lc_res_write *w);
/* DELETE of the row key: res->delete_check, res->delete_sql (no row: 404), the audit entry
 * "<noun>_delete"; 204. */
void lc_res_delete(struct lc_req *req, struct lc_store *s, const struct lc_resource *res,
                   const char *key);

/* Steps st (a statement of w->store that the caller bound; NULL is -EIO) once and resets it.
 * lc_res_insert: a constraint failure answers 409 "exists". lc_res_update (UPDATE or DELETE):
 * no row changed answers 404. Return 0, LC_ANSWERED or -EIO. */
int lc_res_insert(struct lc_res_write *w, struct sqlite3_stmt *st);
int lc_res_update(struct lc_res_write *w, struct sqlite3_stmt *st);
/* lc_res_update of sql with only the key bound, as ?1 ("DELETE FROM t WHERE id = ?1"). */
int lc_res_update_key(struct lc_res_write *w, const char *sql);

#endif
