/*
 * receiver/cache.c — media by hash: paths, verified downloads, sizes; see cache.h.
 */
#include "receiver/cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "receiver/fsutil.h"

static int media_dir(const struct rcv_config *c, char *dir, size_t n)
{
    return snprintf(dir, n, "%s/media", c->cache_dir) >= (int)n ? -1 : 0;
}

/* <cache_dir>/media/<hash><ext> */
static int media_file(const struct rcv_config *c, const char *hash, const char *ext, char *path,
                      size_t n)
{
    return snprintf(path, n, "%s/media/%.64s%s", c->cache_dir, hash, ext) >= (int)n ? -1 : 0;
}

int rcv_cache_init(const struct rcv_config *c, char *why, size_t whylen)
{
    char dir[PATH_MAX];
    int rc = media_dir(c, dir, sizeof dir) < 0 ? -ENAMETOOLONG : rcv_mkdirs(dir, 0700);
    if (rc < 0) {
        snprintf(why, whylen, "%s: %s", dir, strerror(-rc));
        return -1;
    }
    return 0;
}

int rcv_cache_path(const struct rcv_config *c, const char *hash, char *path, size_t n)
{
    struct stat st;
    if (media_file(c, hash, ".opus", path, n) < 0)
        return -1;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? 0 : -1;
}

int64_t rcv_cache_held(const struct rcv_config *c, const struct rcv_item *it)
{
    char path[PATH_MAX];
    struct stat st;
    if (rcv_cache_path(c, it->hash, path, sizeof path) == 0)
        return it->bytes;
    if (media_file(c, it->hash, ".part", path, sizeof path) < 0 || stat(path, &st) < 0)
        return 0;
    return st.st_size < it->bytes ? (int64_t)st.st_size : it->bytes;
}

double rcv_cache_fetched_percent(const struct rcv_config *c, const struct rcv_session *se)
{
    int64_t want = 0, have = 0;
    for (size_t i = 0; i < se->nitems; i++) {
        want += se->items[i].bytes;
        have += rcv_cache_held(c, &se->items[i]);
    }
    return want > 0 ? 100.0 * (double)have / (double)want : 100.0;
}

/* Hash of fd's bytes from its start (BLAKE2b-256, hex) and their count. 0 or -errno. */
static int hash_fd(int fd, char hex[65], int64_t *size)
{
    crypto_generichash_state st;
    unsigned char buf[65536], d[crypto_generichash_BYTES];
    off_t pos = 0;
    crypto_generichash_init(&st, NULL, 0, sizeof d);
    for (;;) {
        ssize_t r = pread(fd, buf, sizeof buf, pos);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            break;
        crypto_generichash_update(&st, buf, (unsigned long long)r);
        pos += r;
    }
    crypto_generichash_final(&st, d, sizeof d);
    sodium_bin2hex(hex, 65, d, sizeof d);
    *size = (int64_t)pos;
    return 0;
}

/* 0 when fd holds bytes bytes (unless bytes < 0) hashing to hash; -1 with why. */
static int check_fd(int fd, const char *hash, int64_t bytes, char *why, size_t whylen)
{
    char hex[65];
    int64_t size;
    int rc = hash_fd(fd, hex, &size);
    if (rc < 0) {
        snprintf(why, whylen, "reading: %s", strerror(-rc));
        return -1;
    }
    if (bytes >= 0 && size != bytes) {
        snprintf(why, whylen, "%lld bytes, the schedule says %lld", (long long)size, (long long)bytes);
        return -1;
    }
    if (strcmp(hex, hash) != 0) {
        snprintf(why, whylen, "its BLAKE2b-256 is %.16s…, not %.16s…", hex, hash);
        return -1;
    }
    return 0;
}

int rcv_cache_check_file(const char *path, const char *hash, int64_t bytes, char *why,
                         size_t whylen)
{
    if (sodium_init() < 0) {
        snprintf(why, whylen, "libsodium cannot start");
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, whylen, "%s: %s", path, strerror(errno));
        return -1;
    }
    int rc = check_fd(fd, hash, bytes, why, whylen);
    close(fd);
    return rc;
}

int rcv_cache_fetch(const struct rcv_config *c, struct rcv_net *n, const struct rcv_item *it,
                    int stall_s, long *status, char *why, size_t whylen)
{
    char opus[PATH_MAX], part[PATH_MAX], reason[200];
    struct stat st;
    int fd = -1, rc = -1;
    *status = 0;
    if (sodium_init() < 0) {
        snprintf(why, whylen, "libsodium cannot start");
        return -1;
    }
    if (rcv_cache_path(c, it->hash, opus, sizeof opus) == 0)
        return 0;
    if (media_file(c, it->hash, ".part", part, sizeof part) < 0) {
        snprintf(why, whylen, "cache_dir too long");
        return -1;
    }
    fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(why, whylen, "%s: %s", part, strerror(errno));
        goto out;
    }
    int64_t have = st.st_size;
    if (have > it->bytes) { /* not a prefix of this file: start over */
        if (ftruncate(fd, 0) < 0) {
            snprintf(why, whylen, "%s: %s", part, strerror(errno));
            goto out;
        }
        have = 0;
    }
    if (have < it->bytes) {
        int64_t got;
        int restarted;
        if (rcv_net_fetch(n, it->media, fd, have, stall_s, &got, &restarted, status, reason,
                          sizeof reason) < 0) {
            snprintf(why, whylen, "%s: %s", it->media, reason);
            if (*status == 416) /* the server's file is shorter than the part: not ours */
                unlink(part);
            goto out;
        }
    }
    /* the whole file, as far as the server is concerned: it is ours only if it checks */
    if (check_fd(fd, it->hash, it->bytes, reason, sizeof reason) < 0) {
        snprintf(why, whylen, "%s: %s (deleted)", it->media, reason);
        unlink(part);
        goto out;
    }
    if (fsync(fd) < 0) {
        snprintf(why, whylen, "%s: fsync: %s", part, strerror(errno));
        goto out;
    }
    close(fd);
    fd = -1;
    if (rename(part, opus) < 0) {
        snprintf(why, whylen, "%s: rename: %s", part, strerror(errno));
        goto out;
    }
    int drc = rcv_fsync_parent(opus);
    if (drc < 0) {
        snprintf(why, whylen, "%s: fsync of the directory: %s", opus, strerror(-drc));
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

int64_t rcv_cache_bytes(const struct rcv_config *c)
{
    char dir[PATH_MAX];
    int64_t total = 0;
    if (media_dir(c, dir, sizeof dir) < 0)
        return 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    struct dirent *e;
    struct stat st;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && fstatat(dirfd(d), e->d_name, &st, 0) == 0 && S_ISREG(st.st_mode))
            total += st.st_size;
    closedir(d);
    return total;
}
