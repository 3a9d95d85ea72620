/* server/station/station.c — the station key and the time route; see station.h. */
#define LC_LOG_MODULE "station"
#include "server/station/station.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <http_parser.h>
#include <sodium.h>

#include "common/log.h"
#include "server/api/api.h"
#include "server/http/http.h"

#define KEY_FILE "station.key"
/* The file: a first line naming what it is, then the 64-byte secret key (libsodium's: seed and
 * public key) in base64. */
#define KEY_HEADER "loacast station key v1 (Ed25519; keep it secret)\n"

struct lc_station {
    unsigned char *sk;                  /* crypto_sign_SECRETKEYBYTES, sodium_malloc'd */
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    char pk_b64[LC_STATION_PUBLIC_B64];
    char name[128];
};

static int key_path(char *out, size_t n, const char *data_dir)
{
    int w = snprintf(out, n, "%s/%s", data_dir, KEY_FILE);
    return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

/* Writes the key file whole: a temporary file, fsync, rename, fsync of the directory. */
static int write_key(const char *data_dir, const unsigned char *sk, struct lc_err *err)
{
    char path[4096], tmp[4200];
    if (key_path(path, sizeof path, data_dir) < 0)
        return lc_err_set(err, -ENAMETOOLONG, "data_dir is too long");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    char b64[sodium_base64_ENCODED_LEN(crypto_sign_SECRETKEYBYTES, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, sk, crypto_sign_SECRETKEYBYTES,
                      sodium_base64_VARIANT_ORIGINAL);
    int rc = 0, fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return lc_err_set(err, -errno, "%s: cannot create: %s", tmp, strerror(errno));
    char text[sizeof KEY_HEADER + sizeof b64 + 2];
    int len = snprintf(text, sizeof text, "%s%s\n", KEY_HEADER, b64);
    if (write(fd, text, (size_t)len) != len || fsync(fd) != 0)
        rc = lc_err_set(err, -EIO, "%s: cannot write: %s", tmp, strerror(errno));
    close(fd);
    sodium_memzero(b64, sizeof b64);
    sodium_memzero(text, sizeof text);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = lc_err_set(err, -errno, "%s: cannot rename: %s", path, strerror(errno));
    if (rc < 0) {
        unlink(tmp);
        return rc;
    }
    int dfd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

/* Reads the key file into sk: 0, -ENOENT (no file: make one), or another errno with err set. */
static int read_key(const char *data_dir, unsigned char *sk, struct lc_err *err)
{
    char path[4096];
    if (key_path(path, sizeof path, data_dir) < 0)
        return lc_err_set(err, -ENAMETOOLONG, "data_dir is too long");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return -ENOENT;
        return lc_err_set(err, -errno, "%s: cannot open: %s", path, strerror(errno));
    }
    struct stat sb;
    char text[512];
    ssize_t n = -1;
    int rc = 0;
    if (fstat(fd, &sb) != 0) {
        rc = lc_err_set(err, -errno, "%s: %s", path, strerror(errno));
    } else if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
        rc = lc_err_set(err, -EPERM, "%s: others may read the station's private key (mode %03o);"
                        " make it private (chmod 600) or, if it leaked, remove it and provision"
                        " every receiver with the new public key", path,
                        (unsigned)(sb.st_mode & 0777));
    } else if ((n = read(fd, text, sizeof text - 1)) < 0) {
        rc = lc_err_set(err, -errno, "%s: cannot read: %s", path, strerror(errno));
    }
    close(fd);
    if (rc < 0)
        return rc;
    text[n] = '\0';
    const char *b64 = strncmp(text, KEY_HEADER, strlen(KEY_HEADER)) == 0 ? text + strlen(KEY_HEADER)
                                                                          : NULL;
    size_t got = 0;
    if (b64 == NULL ||
        sodium_base642bin(sk, crypto_sign_SECRETKEYBYTES, b64, strlen(b64), "\n", &got, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        got != crypto_sign_SECRETKEYBYTES)
        rc = lc_err_set(err, -EINVAL, "%s: not a loacast station key", path);
    sodium_memzero(text, sizeof text);
    return rc;
}

int lc_station_open(struct lc_station **out, const char *data_dir, const char *name,
                    struct lc_err *err)
{
    *out = NULL;
    if (sodium_init() < 0)
        return lc_err_set(err, -EIO, "cannot initialise libsodium");
    struct lc_station *st = calloc(1, sizeof *st);
    if (st == NULL || (st->sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL) {
        free(st);
        return lc_err_set(err, -ENOMEM, "out of memory");
    }
    snprintf(st->name, sizeof st->name, "%s", name);
    int rc = read_key(data_dir, st->sk, err);
    if (rc == -ENOENT) {
        crypto_sign_keypair(st->pk, st->sk);
        rc = write_key(data_dir, st->sk, err);
        if (rc == 0)
            lc_log(LC_LOG_INFO, "made the station key %s/%s", data_dir, KEY_FILE);
    }
    if (rc < 0)
        goto fail;
    crypto_sign_ed25519_sk_to_pk(st->pk, st->sk);
    sodium_mprotect_readonly(st->sk);
    sodium_bin2base64(st->pk_b64, sizeof st->pk_b64, st->pk, sizeof st->pk,
                      sodium_base64_VARIANT_ORIGINAL);
    *out = st;
    return 0;
fail:
    lc_station_free(st);
    return rc;
}

void lc_station_free(struct lc_station *st)
{
    if (st == NULL)
        return;
    sodium_free(st->sk); /* wipes it */
    free(st);
}

const char *lc_station_public_b64(const struct lc_station *st)
{
    return st->pk_b64;
}

void lc_station_sign(const struct lc_station *st, const void *data, size_t len,
                     char sig[LC_STATION_SIGNATURE_B64])
{
    unsigned char s[crypto_sign_BYTES];
    crypto_sign_detached(s, NULL, data, len, st->sk);
    sodium_bin2base64(sig, LC_STATION_SIGNATURE_B64, s, sizeof s, sodium_base64_VARIANT_ORIGINAL);
}

static void get_station(struct lc_req *req, void *ctx)
{
    const struct lc_station *st = ctx;
    lc_reply_json(req, 200, json_pack("{s:s,s:s}", "name", st->name, "public_key", st->pk_b64));
}

static int64_t wall_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

/* received_us: when the request's first byte was read (the wall clock now, less the monotonic
 * time since then: a request that waited on a busy loop still says when it came); sent_us: just
 * before the answer is written. NTP's t2 and t3. */
static void get_time(struct lc_req *req, void *ctx)
{
    (void)ctx;
    int64_t waited_us = (int64_t)((uv_hrtime() - req->started_ns) / 1000);
    int64_t received = wall_us() - waited_us;
    json_t *o = json_pack("{s:I,s:I}", "received_us", (json_int_t)received, "sent_us",
                          (json_int_t)wall_us());
    lc_reply_json(req, 200, o);
}

int lc_station_routes(struct lc_station *st, struct lc_router *r)
{
    static const struct lc_api_route routes[] = {
        {HTTP_GET, "/api/v1/station", LC_ROUTE_OPEN, LC_BODY_NONE, get_station},
        {HTTP_GET, "/api/v1/time", LC_ROUTE_OPEN, LC_BODY_NONE, get_time},
    };
    return LC_API_ROUTES(r, routes, st);
}
