/* server/store/audiostore.c — durable, content-addressed audio files; see audiostore.h. */
#include "server/store/audiostore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <uv.h>

int lc_audio_path(const char *dir, const char *hash, char *out, size_t n)
{
    if (strlen(hash) != 64 || strspn(hash, "0123456789abcdef") != 64)
        return -EINVAL;
    int w = snprintf(out, n, "%s/%s.opus", dir, hash);
    return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

void lc_media_hash(const void *data, size_t len, char hash[LC_AUDIO_HASH_LEN])
{
    unsigned char h[crypto_generichash_BYTES];
    crypto_generichash(h, sizeof h, data, len, NULL, 0);
    sodium_bin2hex(hash, LC_AUDIO_HASH_LEN, h, sizeof h);
}

int lc_media_hash_file(const char *dir, const char *audio_hash, char hash[LC_AUDIO_HASH_LEN],
                       struct lc_err *err)
{
    char path[4096];
    unsigned char buf[64 * 1024], h[crypto_generichash_BYTES];
    crypto_generichash_state st;
    int rc = lc_audio_path(dir, audio_hash, path, sizeof path);
    if (rc < 0)
        return lc_err_set(err, rc, "audio store: bad hash or path too long");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lc_err_set(err, -errno, "audio store: %s: %s", path, strerror(errno));
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = lc_err_set(err, -errno, "audio store: %s: %s", path, strerror(errno));
            close(fd);
            return rc;
        }
        if (n == 0)
            break;
        crypto_generichash_update(&st, buf, (unsigned long long)n);
    }
    close(fd);
    crypto_generichash_final(&st, h, sizeof h);
    sodium_bin2hex(hash, LC_AUDIO_HASH_LEN, h, sizeof h);
    return 0;
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int lc_audio_store(const char *dir, const void *data, size_t len, char hash[LC_AUDIO_HASH_LEN],
                   struct lc_err *err)
{
    unsigned char h[crypto_hash_sha256_BYTES];
    char path[4096], tmp[4200];
    int fd = -1, dfd = -1, rc;
    crypto_hash_sha256(h, data, len);
    sodium_bin2hex(hash, LC_AUDIO_HASH_LEN, h, sizeof h);
    if ((rc = lc_audio_path(dir, hash, path, sizeof path)) < 0)
        return lc_err_set(err, rc, "audio store: path too long");
    struct stat st;
    if (stat(path, &st) == 0 && (size_t)st.st_size == len)
        return 0; /* the same content is there already (written durably before) */
    snprintf(tmp, sizeof tmp, "%s.tmp.%lu", path, (unsigned long)uv_thread_self());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        rc = lc_err_set(err, -errno, "audio store: %s: %s", tmp, strerror(errno));
        goto out;
    }
    if ((rc = write_all(fd, data, len)) < 0 || (fsync(fd) != 0 && (rc = -errno) < 0)) {
        lc_err_set(err, rc, "audio store: %s: %s", tmp, strerror(-rc));
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = lc_err_set(err, -errno, "audio store: %s: %s", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        rc = lc_err_set(err, -errno, "audio store: %s: %s", path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0) {
        rc = lc_err_set(err, -errno, "audio store: %s: %s", dir, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    if (dfd >= 0)
        close(dfd);
    return rc;
}
