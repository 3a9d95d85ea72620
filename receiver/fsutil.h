/*
 * receiver/fsutil.h — the few file-system steps that make the receiver's files survive kill -9
 * and power loss: a whole file replaced atomically (write a temporary, fsync, rename, fsync the
 * directory), a directory synced, directories made, a small file read whole.
 * Every function returns 0 or a negative errno; none logs.
 */
#ifndef LC_RECEIVER_FSUTIL_H
#define LC_RECEIVER_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* fsync of a directory: makes the renames and unlinks done in it durable. */
int rcv_fsync_dir(const char *dir);

/* fsync of the directory that holds path (path's part before its last '/', or "."). */
int rcv_fsync_parent(const char *path);

/* Replaces path with data: writes path + ".tmp", fsyncs it, renames it over path, fsyncs the
 * directory. After a crash at any point, path is either its old content or the new, whole. */
int rcv_write_atomic(const char *path, const void *data, size_t len);

/* mkdir -p with mode for each directory it makes; an existing directory is fine. */
int rcv_mkdirs(const char *path, mode_t mode);

/* Reads path whole into a malloc'd, NUL-terminated buffer (*out, free() it; *len its bytes).
 * -EFBIG if it is longer than max, -ENOENT if it does not exist. */
int rcv_read_file(const char *path, size_t max, char **out, size_t *len);

/* write(2) of all len bytes (retried on EINTR and short writes). */
int rcv_write_all(int fd, const void *data, size_t len);

#endif
