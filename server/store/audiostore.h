/*
 * server/store/audiostore.h — rendered audio files in <data_dir>/audio, named by content:
 * <sha256 hex>.opus. Content addressing makes a write idempotent (the same bytes land on the
 * same name) and lets the database refer to a file by hash.
 *
 * lc_audio_store() is blocking and durable: it writes a temporary file, fsyncs it, renames it
 * into place and fsyncs the directory, so when it returns 0 the file survives a crash. It runs
 * on worker threads (thread-safe; no shared state).
 *
 * Receivers name the same file by another hash, its *media hash*: the hex BLAKE2b-256 of its
 * bytes (libsodium crypto_generichash; SPEC "Receivers that store", GET /media/{hash}.opus).
 * The file keeps its SHA-256 name; bulletins.media_hash maps one to the other.
 */
#ifndef LC_SERVER_AUDIOSTORE_H
#define LC_SERVER_AUDIOSTORE_H

#include <stddef.h>

#include "common/err.h"

#define LC_AUDIO_HASH_LEN 65

/* Stores data[0..len) in dir; hash receives the hex SHA-256. 0 or -errno with a message. */
int lc_audio_store(const char *dir, const void *data, size_t len, char hash[LC_AUDIO_HASH_LEN],
                   struct lc_err *err);

/* The media hash of data[0..len): hex BLAKE2b-256, 64 digits and a NUL. Any thread. */
void lc_media_hash(const void *data, size_t len, char hash[LC_AUDIO_HASH_LEN]);

/* The media hash of the stored file audio_hash in dir, read in pieces. Blocking: worker threads
 * only. 0, or -errno with a message (-ENOENT: no such file). */
int lc_media_hash_file(const char *dir, const char *audio_hash, char hash[LC_AUDIO_HASH_LEN],
                       struct lc_err *err);

/* The path of hash's file in dir. hash must be 64 hex digits (checked: -EINVAL). */
int lc_audio_path(const char *dir, const char *hash, char *out, size_t n);

#endif
