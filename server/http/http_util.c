/* server/http/http_util.c — request helpers and status texts of http.h that need no connection
 * state: freeing and holding requests, header lookup, query parameters, reason phrases. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "server/http/http.h"
#include "server/http/http_internal.h"

void lc_req_free(struct lc_req *r)
{
    free(r->url);
    free(r->path);
    free(r->query);
    for (int i = 0; i < r->nheaders; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    for (int i = 0; i < r->nparams; i++)
        free(r->params[i]);
    lc_buf_free(&r->body);
    free(r);
}

void lc_req_hold(struct lc_req *req)
{
    req->refs++;
}

void lc_req_release(struct lc_req *req)
{
    if (--req->refs == 0 && req->conn == NULL)
        lc_req_free(req);
}

const char *lc_req_header(const struct lc_req *req, const char *name)
{
    for (int i = 0; i < req->nheaders; i++)
        if (strcmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = tolower(ch);
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

const char *lc_req_query(const struct lc_req *req, const char *name, char *buf, size_t n)
{
    if (req->query == NULL || n == 0)
        return NULL;
    size_t nl = strlen(name);
    const char *p = req->query;
    while (*p) {
        const char *end = strchr(p, '&');
        if (end == NULL)
            end = p + strlen(p);
        if ((size_t)(end - p) >= nl && strncmp(p, name, nl) == 0 && (p[nl] == '=' || p + nl == end)) {
            const char *v = p + nl + (p[nl] == '=' ? 1 : 0);
            size_t o = 0;
            while (v < end && o + 1 < n) {
                int hi, lo;
                if (*v == '%' && end - v >= 3 &&
                    (hi = hexval((unsigned char)v[1])) >= 0 && (lo = hexval((unsigned char)v[2])) >= 0) {
                    buf[o++] = (char)(hi * 16 + lo);
                    v += 3;
                } else {
                    buf[o++] = *v == '+' ? ' ' : *v;
                    v++;
                }
            }
            buf[o] = '\0';
            return buf;
        }
        p = *end ? end + 1 : end;
    }
    return NULL;
}

const char *lc_http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}
