/* server/http/http_internal.h — shared by http.c and http_util.c only. */
#ifndef LC_SERVER_HTTP_INTERNAL_H
#define LC_SERVER_HTTP_INTERNAL_H

#include "server/http/http.h"

/* Frees a request and everything it owns (the connection has let go of it, no holder left). */
void lc_req_free(struct lc_req *r);

#endif
