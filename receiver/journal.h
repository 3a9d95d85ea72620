/*
 * receiver/journal.h — plays journaled on disk until the server acknowledges them (SPEC
 * "Receivers that store", Plays: at least once).
 *
 * The file is <cache_dir>/plays.jsonl: one play per line, the very JSON object the server takes
 * ({"id","session","bulletin","hash","start","end","played_s","underruns","source"}; start and
 * end RFC 3339 UTC to the ms). An append writes one whole line and fsyncs before it returns, so
 * a play the player was told is journaled survives kill -9 and power loss. A crash mid-append
 * leaves at worst a torn last line: opening the journal ignores it and rewrites the file
 * without it (so the next append does not glue onto it). Acked plays are dropped by rewriting
 * the file atomically (temporary, fsync, rename, fsync of the directory).
 *
 * Thread-safe: the player appends while the reporter sends (a mutex; the HTTP request of
 * rcv_journal_send runs outside it).
 */
#ifndef LC_RECEIVER_JOURNAL_H
#define LC_RECEIVER_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "receiver/net.h"
#include "receiver/receiver.h"

#define RCV_JOURNAL_FILE "plays.jsonl"
#define RCV_JOURNAL_BATCH 500  /* plays per POST at most (the server's bound) */

struct rcv_play {
    char id[65];            /* unique per cluster, 1..64 characters; "" → one is made */
    int64_t session;        /* ≥ 1 */
    int64_t bulletin;       /* ≥ 1; 0 for a relay (played live: source "live", hash "") */
    char hash[65];          /* the media's BLAKE2b-256 hex; "" for a relay */
    int64_t start_ms;       /* wall clock (the server's, as estimated) when the sound began */
    int64_t end_ms;         /* ... and ended at the sink; ≥ start_ms */
    double played_s;        /* ≤ (end - start) + 1 s */
    int64_t underruns;
    char source[8];         /* "cache" or "live" */
};

struct rcv_journal;

/* Opens (creating) <cache_dir>/plays.jsonl and reads the pending plays; a torn or unreadable
 * line is dropped (and counted in *dropped, may be NULL). NULL with why on failure. */
struct rcv_journal *rcv_journal_open(const struct rcv_config *c, size_t *dropped, char *why,
                                     size_t whylen);
void rcv_journal_close(struct rcv_journal *j);

/* Appends p (its id made first if empty: p->id is then set) and fsyncs. 0, or -1 with why
 * (nothing of it stays in the file then). */
int rcv_journal_append(struct rcv_journal *j, struct rcv_play *p, char *why, size_t whylen);

/* The item playing now, as far as it played (p->id set: the id its final play will have),
 * written to <cache_dir>/playing.json (a temporary renamed over it; no fsync: it is called on
 * the player's thread) every few seconds by the player: should the box die in the middle of the
 * item, the next rcv_journal_open() journals it as a play, so that what sounded before the crash
 * is reported too (up to the last checkpoint). 0, or -1 with why. */
int rcv_journal_progress(struct rcv_journal *j, const struct rcv_play *p, char *why,
                         size_t whylen);
/* The item ended (its play was appended): its checkpoint goes. */
void rcv_journal_progress_done(struct rcv_journal *j);

#define RCV_JOURNAL_PLAYING "playing.json"

/* Plays not acked yet. */
size_t rcv_journal_pending(struct rcv_journal *j);

/* POSTs up to RCV_JOURNAL_BATCH pending plays to /api/v1/receivers/{cluster}/plays and drops
 * the acked ones (the file rewritten). 0 with *acked (may be NULL) when the server answered
 * 200 (also when nothing was pending: no request is made); -1 with why otherwise. A batch the
 * server refuses for one play (400/422 naming "plays[i]") drops that play — it would be refused
 * forever and hold every later play back — and says so in why. */
int rcv_journal_send(struct rcv_journal *j, struct rcv_net *n, int timeout_s, size_t *acked,
                     char *why, size_t whylen);

#endif
