/*
 * receiver/cache.h — the media cache: <cache_dir>/media/<hash>.opus, each file named by the
 * BLAKE2b-256 of its bytes (SPEC "Receivers that store", Media).
 *
 * The one rule: a <hash>.opus exists only if its bytes hash to <hash> and have the size the
 * schedule said. A download goes to <hash>.part (resumed from its size with Range), is checked
 * (size, hash: a mismatch deletes the part), fsync'd, renamed to <hash>.opus, and the directory
 * fsync'd. kill -9 or a power loss at any point leaves at worst a .part (resumed next time) —
 * never a wrong or partial .opus, so the player plays any .opus it finds.
 *
 * Eviction: a file no schedule names for evict_after_s is deleted. "Last named" is the file's
 * mtime: each eviction pass sets it to now on every file the current schedule names (a .part is
 * also touched by its writes), so no state file is needed and a crash loses nothing.
 *
 * One writer: the prefetcher thread is the only caller of rcv_cache_fetch and rcv_cache_evict;
 * any thread may call the read-only functions.
 */
#ifndef LC_RECEIVER_CACHE_H
#define LC_RECEIVER_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "receiver/net.h"
#include "receiver/receiver.h"

/* Makes <cache_dir>/media (0700). 0, or -1 with why. */
int rcv_cache_init(const struct rcv_config *c, char *why, size_t whylen);

/* The path of hash's verified file in path[n]: 0 when it is held, -1 when not (path is still
 * filled, for messages). hash must be 64 lowercase hex digits (as a verified schedule has). */
int rcv_cache_path(const struct rcv_config *c, const char *hash, char *path, size_t n);

/* Bytes of it->hash held: it->bytes when its .opus is there, else what its .part has (at most
 * it->bytes). For progress reports. */
int64_t rcv_cache_held(const struct rcv_config *c, const struct rcv_item *it);

/* The session's bytes held, in percent of its items' bytes (100 for a session without items). */
double rcv_cache_fetched_percent(const struct rcv_config *c, const struct rcv_session *se);

/* Makes it held: nothing if its .opus is there; else downloads it->media into its .part (from
 * the part's size), checks size and hash, and renames it into place (the rule above). stall_s:
 * no byte for that long ends the attempt. 0 when held; -1 with why (*status: the HTTP status,
 * 0 without an answer) — a cut or stalled transfer keeps its .part for the next attempt; a wrong
 * size or hash deletes it. */
int rcv_cache_fetch(const struct rcv_config *c, struct rcv_net *n, const struct rcv_item *it,
                    int stall_s, long *status, char *why, size_t whylen);

/* Hashes the file at path (BLAKE2b-256) and compares with hash and, if bytes ≥ 0, its size.
 * 0 when it matches, -1 with why. The player may use it to re-check a file before playing. */
int rcv_cache_check_file(const char *path, const char *hash, int64_t bytes, char *why,
                         size_t whylen);

/* Total bytes of the cache's files (.opus and .part). */
int64_t rcv_cache_bytes(const struct rcv_config *c);

/* One eviction pass (cache_evict.c): touches every file s names (s may be NULL: none named),
 * then deletes the .opus and .part files (named <64 hex>.opus|.part; nothing else is touched)
 * whose mtime is more than evict_after_s old by the system clock. *removed (may be NULL): files
 * deleted. 0, or -1 with why (the directory cannot be read; a file that cannot be deleted is
 * skipped). */
int rcv_cache_evict(const struct rcv_config *c, const struct rcv_schedule *s, int *removed,
                    char *why, size_t whylen);

#endif
