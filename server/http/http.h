/*
 * server/http/http.h — HTTP/1.1 on libuv with http-parser: connections, requests, responses.
 *
 * Glossary
 *   server      one listening socket and the connections it accepted (struct lc_http).
 *   connection  one TCP client; parses requests one after another (keep-alive, pipelining);
 *               while a request is being handled, the next bytes are only buffered (one read's
 *               worth at most, then reading stops), so a client that leaves is still noticed.
 *   request     struct lc_req: method, path, query, headers, body, plus what the router and
 *               the auth layer attach. Handed to the server's on_request callback once complete.
 *   response    exactly one per request: lc_http_respond() (whole body, copied) or a stream
 *               (lc_http_stream_begin / _write / _end) for long-lived, paced bodies (issue 6).
 *
 * Threads: everything here runs on the loop thread.
 *
 * Ownership: a request belongs to its connection. A handler that answers later (after a worker
 * finishes) calls lc_req_hold() and, when done, lc_req_release(); between the two the request
 * stays valid even if the client goes away, but lc_req_alive() turns false and responses to it
 * are dropped silently. Nothing else may keep a request pointer.
 *
 * Limits and timeouts (struct lc_http_limits) protect the loop from hostile clients:
 *   - the request line plus headers are at most max_header_bytes (431 otherwise);
 *   - a body is at most the limit on_headers() returns for its route (413, checked against
 *     Content-Length before any byte is read, and while chunks arrive);
 *   - headers must be complete header_timeout_ms after a request's first byte (slow-loris),
 *     a body must make progress every body_timeout_ms, and an idle keep-alive connection is
 *     closed after idle_timeout_ms (408 when a request was under way, silence otherwise);
 *   - at most max_connections at once; beyond that a newcomer closes the oldest idle connection
 *     that never showed a token, or gets 503 and is closed;
 *   - a body has an overall deadline too: body_timeout_ms plus its size (Content-Length, else
 *     the route's limit) at min_body_rate bytes per second, so a trickle cannot hold it forever;
 *   - admission by kind (http_admit.h): a connection is anonymous until one of its requests
 *     carries a valid token (lc_req_vouch); anonymous ones leave reserve_staff and
 *     reserve_receivers free and each address holds at most max_anonymous_per_address; past
 *     those a connection is admitted on probation: its first request must carry a token within
 *     probation_ms, else it is answered and closed.
 * After any protocol error the connection answers once and closes ("lingering": it stops
 * writing, keeps discarding input for a moment, so that the client can read the answer).
 */
#ifndef LC_SERVER_HTTP_H
#define LC_SERVER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "common/buf.h"

#define LC_HTTP_MAX_HEADERS 64
#define LC_HTTP_MAX_PARAMS 4

struct lc_http;
struct lc_http_conn;

struct lc_http_header {
    char *name;   /* lowercased */
    char *value;
};

struct lc_req {
    int method;                 /* enum http_method */
    char *url;                  /* as received */
    char *path;                 /* url up to '?', NUL-terminated */
    char *query;                /* after '?', or NULL */
    struct lc_http_header headers[LC_HTTP_MAX_HEADERS];
    int nheaders;
    struct lc_buf body;         /* the whole body (bounded by the route's limit) */
    bool has_body;              /* the headers announce a body (Content-Length > 0, chunked):
                                 * known in on_headers, before any body byte is read */
    char addr[64];              /* the client's address, without port: the peer's, or behind a
                                 * trusted proxy the one it names (lc_http_client_addr) */

    /* Filled by the router and the auth layer before the handler runs. */
    const void *route;
    char *params[LC_HTTP_MAX_PARAMS];   /* path parameters, in pattern order (owned) */
    int nparams;
    int64_t user_id;            /* 0 when not authenticated */
    char user[64];
    unsigned role;              /* LC_ROLE_* bit of the authenticated user */
    int64_t node;               /* the user's organisation node (server/org/org.h): they see and
                                 * change only its subtree; 0 without a user (no scope) */
    bool authorized;            /* the route's roles were checked (on the headers) */

    /* Private to http.c. */
    struct lc_http_conn *conn;  /* NULL once the connection is gone */
    int refs;                   /* holders besides the connection */
    bool responded;
    bool streaming;
    uint64_t started_ns;
};

struct lc_http_limits {
    size_t max_header_bytes;
    int max_connections;
    unsigned header_timeout_ms;
    unsigned body_timeout_ms;
    unsigned idle_timeout_ms;
    /* Bytes of request bodies being received, all connections together; past it a body is
     * refused with 503 (0: no bound). A body counts until its request is complete. */
    size_t max_body_bytes_total;
    unsigned min_body_rate;         /* bytes per second a body must average (0: no deadline) */
    int reserve_staff;              /* connections only staff may take */
    int reserve_receivers;          /* connections anonymous clients may not take */
    int max_anonymous_per_address;  /* 0: no bound per address */
    unsigned probation_ms;          /* a probation connection's first request comes within */
};

/* What a connection was proven to be by a token (http_admit.h). */
enum lc_conn_kind { LC_CONN_ANON, LC_CONN_STAFF, LC_CONN_RECEIVER };

/* Called when a request's headers are complete. Returns the largest body the request may
 * carry (0 = none allowed), or responds itself (e.g. 404) and returns (size_t)-1 to stop:
 * the connection then closes after the response. */
typedef size_t (*lc_http_headers_cb)(struct lc_req *req, void *ctx);
/* Called with a complete request; must eventually respond exactly once. */
typedef void (*lc_http_request_cb)(struct lc_req *req, void *ctx);
/* Called after each response was handed to the socket (for metrics). */
typedef void (*lc_http_log_cb)(struct lc_req *req, int status, size_t bytes, void *ctx);

struct lc_http_callbacks {
    lc_http_headers_cb on_headers;
    lc_http_request_cb on_request;
    lc_http_log_cb on_response;
    void *ctx;
};

struct lc_http_stats {
    uint64_t accepted;
    uint64_t rejected;      /* over max_connections, or an address over its bound */
    uint64_t probation_closed;  /* probation connections closed without a token */
    uint64_t evicted;           /* tokenless idle connections closed for a newcomer (all taken) */
    uint64_t receivers_refused; /* receiver requests over what the staff's reserve leaves */
    uint64_t timeouts;
    uint64_t bad_requests;  /* protocol errors: parse errors, oversize, ... */
    uint64_t bodies_refused;    /* over max_body_bytes_total */
    size_t body_bytes;      /* bytes of bodies being received now */
    int open;               /* connections open now */
    int anonymous, probation, staff, receivers;     /* of them, by kind (http_admit.h) */
};

/* Binds host:port and starts listening on loop. *out is owned by the caller until
 * lc_http_close(). Returns 0 or a negative errno (address in use, bad address). */
int lc_http_listen(struct lc_http **out, uv_loop_t *loop, const char *host, int port,
                   const struct lc_http_limits *limits, const struct lc_http_callbacks *cb);

/* Stops accepting, closes idle connections, and lets the others finish their current response
 * (then they close). Safe to call twice. */
void lc_http_stop(struct lc_http *h);
/* Closes every connection now (cancelling writes) and the listener; the struct is freed once
 * all handles are closed, i.e. after the loop ran out. */
void lc_http_close(struct lc_http *h);
/* The port the server listens on (useful after listening on port 0), or a negative errno. */
int lc_http_port(const struct lc_http *h);
/* Number of connections still open. */
int lc_http_open_connections(const struct lc_http *h);
void lc_http_get_stats(const struct lc_http *h, struct lc_http_stats *st);

/* Trusted proxies (http_proxy.c): a list of addresses and address/prefix networks ("127.0.0.1,
 * ::1, 10.0.0.0/8"), separated by commas or spaces. 0 and *out (NULL-safe to free), or -EINVAL
 * with why (which entry is wrong) / -ENOMEM. */
struct lc_http_trust;
int lc_http_trust_parse(struct lc_http_trust **out, const char *list, char *why, size_t n);
void lc_http_trust_free(struct lc_http_trust *t);
size_t lc_http_trust_count(const struct lc_http_trust *t);
/* Sets req->addr: peer, or — when peer is a trusted proxy — the client its Forwarded or
 * X-Forwarded-For header names (read from the right, past other trusted proxies). */
void lc_http_client_addr(const struct lc_http_trust *t, struct lc_req *req, const char *peer);
/* The proxies h believes from now on (taken over; the old list is freed), and new limits
 * (SIGHUP): connections open keep what they were admitted under. */
void lc_http_set_trust(struct lc_http *h, struct lc_http_trust *t);
void lc_http_set_limits(struct lc_http *h, const struct lc_http_limits *limits);

/* Header value by lowercase name, or NULL. */
const char *lc_req_header(const struct lc_req *req, const char *name);
/* Query parameter by name, percent-decoded into buf (size n); NULL if absent. */
const char *lc_req_query(const struct lc_req *req, const char *name, char *buf, size_t n);

/* The request carried a valid token of this kind (the auth layer calls it): its connection counts
 * as staff or receiver from now on. Returns 0, or -EBUSY for a receiver while receivers hold all
 * but the staff's reserve (answer 503 then). A connection already vouched for stays as it is. */
int lc_req_vouch(struct lc_req *req, enum lc_conn_kind kind);

void lc_req_hold(struct lc_req *req);
void lc_req_release(struct lc_req *req);
bool lc_req_alive(const struct lc_req *req);

/* Sends the whole response: status line, Content-Type (if ctype), Content-Length, the extra
 * header lines (each ending in "\r\n", may be NULL), then body (copied; omitted for HEAD).
 * Returns 0, or -ECONNRESET if the client is gone (the response is dropped), or -EALREADY. */
int lc_http_respond(struct lc_req *req, int status, const char *ctype, const char *extra,
                    const void *body, size_t len);

/* A file that never changes under its name (content-addressed audio), answered to a GET or HEAD
 * off the loop (http_file.c): If-None-Match with etag → 304 at once; otherwise the file is
 * opened, measured and read on the loop's libuv thread pool, the request held meanwhile, and
 * answered 200, 206 for one `Range: bytes=a-b | a- | -n` (several ranges or another unit: the
 * whole file; If-Range naming another version: the whole file), 416 with the size in
 * Content-Range for a range past the end, 500 if the file is missing or unreadable. 200 and 206
 * carry Accept-Ranges, ETag "etag" and Cache-Control cache_control. done(req, status, bytes,
 * arg), if set, runs on the loop once per call that returned 0, after the answer: the status
 * (0 when the client had left and nothing was answered) and the body bytes sent (0 for HEAD).
 * Everything is copied. 0, or -ENAMETOOLONG / -ENOMEM / a libuv error (nothing answered). */
typedef void (*lc_http_file_cb)(struct lc_req *req, int status, uint64_t bytes, void *arg);
struct lc_http_file {
    const char *path;
    const char *etag;           /* without the quotes */
    const char *cache_control;  /* the header's value */
    const char *ctype;          /* a static string */
    lc_http_file_cb done;
    void *arg;
};
int lc_http_send_file(struct lc_req *req, uv_loop_t *loop, const struct lc_http_file *f);
/* One `Range: bytes=…` against a size: 1 = a range [*from, *to]; 0 = none to honour (absent,
 * malformed, another unit, several ranges); -1 = unsatisfiable (416). */
int lc_http_parse_range(const char *range, uint64_t size, uint64_t *from, uint64_t *to);
/* Whether an If-None-Match list (`*`, `"a", W/"b"`) names tag (weak comparison). */
bool lc_http_etag_match(const char *list, const char *tag);

/* A streamed response of unknown length: the headers now (Connection: close, no length), then
 * lc_http_stream_write() as data comes; on_written(arg, status) runs when that write completed
 * (status < 0: failed or the client went away). lc_http_stream_end() closes the connection
 * after the queued writes. Only on the loop thread. */
typedef void (*lc_http_written_cb)(void *arg, int status);
int lc_http_stream_begin(struct lc_req *req, int status, const char *ctype, const char *extra);
int lc_http_stream_write(struct lc_req *req, const void *data, size_t len,
                         lc_http_written_cb on_written, void *arg);
/* Bytes queued in the socket and not yet written (back-pressure for slow receivers). */
size_t lc_http_stream_queued(const struct lc_req *req);
void lc_http_stream_end(struct lc_req *req);

/* Streaming takeover (issue 6, server/stream/stream.c). After lc_http_stream_begin(), the engine takes
 * the connection and lets the request go (it is freed when the handler returns: a receiver keeps
 * no request, headers or parser buffers). It then writes shared, immutable buffers to the socket
 * itself — uv_try_write(), or uv_write() with its own requests, whose callbacks release the
 * buffers (no copy per receiver). http.c still owns the connection and its handles: it reads and
 * discards input, and closes on EOF, errors, lc_http_conn_abort(), lc_http_close(), or after
 * lc_http_conn_end() (a graceful shutdown queued behind the pending writes: call it once they
 * completed). on_close(arg) runs exactly once, when the connection starts closing, before its
 * pending writes are cancelled (their callbacks run later, with UV_ECANCELED); from then on the
 * connection pointer must not be used — it is freed once its handles closed.
 *   lc_http_stream_detach()  NULL if the client is already gone (nothing to do then).
 *   lc_http_conn_socket()    NULL once closing. */
typedef void (*lc_http_closed_cb)(void *arg);
struct lc_http_conn *lc_http_stream_detach(struct lc_req *req);
uv_stream_t *lc_http_conn_socket(struct lc_http_conn *c);
void lc_http_conn_on_close(struct lc_http_conn *c, lc_http_closed_cb cb, void *arg);
void lc_http_conn_end(struct lc_http_conn *c);
/* Closes the connection now, cancelling its writes (a dropped or replaced receiver). */
void lc_http_conn_abort(struct lc_http_conn *c);

const char *lc_http_reason(int status);

/* The module's other public pieces: this header is the door of server/http/. */
#include "server/http/router.h"
#include "server/http/static.h"

#endif
