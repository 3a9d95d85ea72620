/*
 * receiver/cache_evict.c — deleting the media no schedule has named for evict_after_s; see
 * cache.h ("last named" is the file's mtime, set to now on every pass that finds it named).
 */
#include "receiver/cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Does the name look like one of ours: 64 hex digits then ext? */
static bool ours(const char *name, const char *ext)
{
    size_t n = strlen(name), el = strlen(ext);
    if (n != 64 + el || strcmp(name + 64, ext) != 0)
        return false;
    for (size_t i = 0; i < 64; i++)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
            return false;
    return true;
}

static void touch_named(int dfd, const struct rcv_schedule *s)
{
    static const char *const exts[] = {".opus", ".part"};
    char name[80];
    for (size_t i = 0; s != NULL && i < s->nsessions; i++)
        for (size_t j = 0; j < s->sessions[i].nitems; j++)
            for (size_t k = 0; k < 2 && !s->sessions[i].items[j].relay; k++) {
                snprintf(name, sizeof name, "%.64s%s", s->sessions[i].items[j].hash, exts[k]);
                utimensat(dfd, name, NULL, 0); /* absent: nothing to keep */
            }
}

int rcv_cache_evict(const struct rcv_config *c, const struct rcv_schedule *s, int *removed,
                    char *why, size_t whylen)
{
    char dir[4200];
    int n = 0;
    if (removed != NULL)
        *removed = 0;
    snprintf(dir, sizeof dir, "%s/media", c->cache_dir);
    DIR *d = opendir(dir);
    if (d == NULL) {
        snprintf(why, whylen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    touch_named(dirfd(d), s);
    time_t now = time(NULL);
    struct dirent *e;
    struct stat st;
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        if (!ours(name, ".opus") && !ours(name, ".part"))
            continue; /* not the cache's: left alone */
        if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            continue;
        if ((int64_t)(now - st.st_mtime) <= c->evict_after_s)
            continue;
        if (unlinkat(dirfd(d), name, 0) == 0)
            n++;
    }
    closedir(d);
    if (removed != NULL)
        *removed = n;
    return 0;
}
