/*
 * receiver/rtime.h — RFC 3339 times as the protocol writes them ("2026-12-07T17:00:00+07:00",
 * "2026-12-07T17:00:00.120Z"), to and from Unix milliseconds. The receiver links no server
 * code, so it has its own reader (the same grammar as the server's lc_time_parse()).
 */
#ifndef LC_RECEIVER_RTIME_H
#define LC_RECEIVER_RTIME_H

#include <stdint.h>

/* "YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)" → Unix ms (fraction kept to the ms, truncated).
 * 0, or -1 when s is not such a time. */
int rcv_time_parse_ms(const char *s, int64_t *ms);

/* Unix ms → "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC), NUL-terminated; out holds 25 bytes at least. */
void rcv_time_format_ms(int64_t ms, char out[32]);

#endif
