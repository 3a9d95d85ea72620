/*
 * receiver/journal.c — plays on disk until acked; see journal.h.
 *
 * Memory mirrors the file: v[] holds each pending play's line (the exact JSON text written)
 * and id, in file order. The file is only ever appended to (one write of a whole line, then
 * fsync) or replaced whole from v[] (rewrite()).
 */
#include "receiver/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "receiver/fsutil.h"
#include "receiver/rtime.h"

/* A journal larger than this is not read whole (64 MB: some 250,000 plays, years of them). */
#define MAX_JOURNAL (64u << 20)

struct entry {
    char id[65];
    char *line;     /* the play's JSON, no newline; owned */
};

struct rcv_journal {
    const struct rcv_config *c;
    pthread_mutex_t mu;
    char path[PATH_MAX];
    char playing[PATH_MAX];     /* the checkpoint of the item playing */
    int fd;                 /* O_APPEND on path; -1 after a failed reopen (append retries) */
    struct entry *v;
    size_t n, cap;
};

static int push(struct rcv_journal *j, const char *id, char *line)
{
    if (j->n == j->cap) {
        size_t cap = j->cap ? j->cap * 2 : 64;
        struct entry *v = realloc(j->v, cap * sizeof *v);
        if (v == NULL)
            return -ENOMEM;
        j->v = v;
        j->cap = cap;
    }
    snprintf(j->v[j->n].id, sizeof j->v[j->n].id, "%s", id);
    j->v[j->n].line = line;
    j->n++;
    return 0;
}

static int reopen(struct rcv_journal *j)
{
    if (j->fd >= 0)
        close(j->fd);
    j->fd = open(j->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    return j->fd < 0 ? -errno : 0;
}

/* Replaces the file with v[]'s lines (atomically), then appends go to the new file. */
static int rewrite(struct rcv_journal *j)
{
    size_t total = 0;
    for (size_t i = 0; i < j->n; i++)
        total += strlen(j->v[i].line) + 1;
    char *text = malloc(total + 1), *p = text;
    if (text == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < j->n; i++) {
        size_t l = strlen(j->v[i].line);
        memcpy(p, j->v[i].line, l);
        p[l] = '\n';
        p += l + 1;
    }
    int rc = rcv_write_atomic(j->path, text, total);
    free(text);
    /* whether or not the rename happened, the fd must name what is at path now */
    int rrc = reopen(j);
    return rc < 0 ? rc : rrc;
}

/* Reads the file's complete lines into v[]; *dropped counts what is not a play. */
static int load(struct rcv_journal *j, size_t *dropped)
{
    char *text = NULL;
    size_t len = 0;
    int rc = rcv_read_file(j->path, MAX_JOURNAL, &text, &len);
    if (rc == -ENOENT)
        return 0;
    if (rc < 0)
        return rc;
    char *line = text, *end = text + len;
    while (line < end) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        if (nl == NULL) { /* torn: the crash came mid-append; the play was never journaled */
            (*dropped)++;
            break;
        }
        *nl = '\0';
        json_t *o = nl > line ? json_loads(line, 0, NULL) : NULL;
        const char *id = json_string_value(json_object_get(o, "id"));
        char *copy = id != NULL && id[0] && strlen(id) <= 64 ? strdup(line) : NULL;
        if (copy != NULL && push(j, id, copy) < 0) {
            free(copy);
            copy = NULL;
        }
        if (copy == NULL && nl > line)
            (*dropped)++;
        json_decref(o);
        line = nl + 1;
    }
    free(text);
    return 0;
}

static int append_line(struct rcv_journal *j, const char *id, char *line);

/* A checkpoint left by a crash in the middle of an item: journaled as that item's play, unless
 * its final play is pending already (the crash came between the append and the unlink). */
static int recover_playing(struct rcv_journal *j)
{
    char *text = NULL;
    size_t len = 0;
    int rc = rcv_read_file(j->playing, 1 << 16, &text, &len);
    if (rc == -ENOENT)
        return 0;
    if (rc < 0)
        return rc;
    json_t *o = json_loads(text, 0, NULL);
    const char *id = json_string_value(json_object_get(o, "id"));
    bool known = false;
    for (size_t i = 0; id != NULL && i < j->n; i++)
        known = known || strcmp(j->v[i].id, id) == 0;
    char *line = id != NULL && id[0] && strlen(id) <= 64 && !known ?
                 json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    if (line != NULL) {
        fprintf(stderr, "loacast-receiver: the play of %s was cut by a stop: journaled as far as"
                " it played\n", id);
        rc = append_line(j, id, line);
    }
    json_decref(o);
    free(text);
    if (rc == 0 && (unlink(j->playing) < 0 || rcv_fsync_parent(j->playing) < 0))
        rc = -errno;
    return rc;
}

struct rcv_journal *rcv_journal_open(const struct rcv_config *c, size_t *dropped, char *why,
                                     size_t whylen)
{
    size_t bad = 0;
    int rc;
    struct rcv_journal *j = calloc(1, sizeof *j);
    if (j == NULL) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    j->c = c;
    j->fd = -1;
    if (pthread_mutex_init(&j->mu, NULL) != 0) {
        free(j);
        snprintf(why, whylen, "mutex");
        return NULL;
    }
    if (snprintf(j->path, sizeof j->path, "%s/%s", c->cache_dir, RCV_JOURNAL_FILE) >=
        (int)sizeof j->path ||
        snprintf(j->playing, sizeof j->playing, "%s/%s", c->cache_dir, RCV_JOURNAL_PLAYING) >=
        (int)sizeof j->playing) {
        snprintf(why, whylen, "cache_dir too long");
        rcv_journal_close(j);
        return NULL;
    }
    if ((rc = rcv_mkdirs(c->cache_dir, 0700)) < 0 || (rc = load(j, &bad)) < 0 ||
        (rc = bad ? rewrite(j) : reopen(j)) < 0 || (rc = recover_playing(j)) < 0) {
        snprintf(why, whylen, "%s: %s", j->path, strerror(-rc));
        rcv_journal_close(j);
        return NULL;
    }
    if (dropped != NULL)
        *dropped = bad;
    return j;
}

void rcv_journal_close(struct rcv_journal *j)
{
    if (j == NULL)
        return;
    for (size_t i = 0; i < j->n; i++)
        free(j->v[i].line);
    free(j->v);
    if (j->fd >= 0)
        close(j->fd);
    pthread_mutex_destroy(&j->mu);
    free(j);
}

size_t rcv_journal_pending(struct rcv_journal *j)
{
    pthread_mutex_lock(&j->mu);
    size_t n = j->n;
    pthread_mutex_unlock(&j->mu);
    return n;
}

/* What the server would refuse, refused here (the journal must never hold a play that blocks
 * the rest); NULL when p is fine. */
static const char *invalid(const struct rcv_play *p)
{
    size_t hl = strlen(p->hash);
    if (p->session < 1 || p->bulletin < 0)
        return "session must be an id (≥ 1), bulletin an id or 0 (a relay)";
    if (p->bulletin == 0 && (hl != 0 || strcmp(p->source, "live") != 0))
        return "a relay's play (bulletin 0) has no hash and is live";
    if (p->bulletin > 0 && (hl != 64 || strspn(p->hash, "0123456789abcdef") != 64))
        return "hash must be 64 lowercase hex digits";
    if (p->end_ms < p->start_ms)
        return "end is before start";
    if (!(p->played_s >= 0) || p->played_s > (double)(p->end_ms - p->start_ms) / 1000.0 + 1.0)
        return "played_s is not within start..end";
    if (p->underruns < 0)
        return "underruns is negative";
    if (strcmp(p->source, "cache") != 0 && strcmp(p->source, "live") != 0)
        return "source must be cache or live";
    return NULL;
}

/* The play's JSON line (malloc'd, no newline), or NULL with why. */
static char *play_line(const struct rcv_play *p, char *why, size_t whylen)
{
    char start[32], end[32];
    const char *bad = invalid(p);
    if (bad != NULL) {
        snprintf(why, whylen, "play %s: %s", p->id, bad);
        return NULL;
    }
    rcv_time_format_ms(p->start_ms, start);
    rcv_time_format_ms(p->end_ms, end);
    json_t *o = json_pack("{s:s,s:I,s:I,s:s,s:s,s:s,s:f,s:I,s:s}", "id", p->id, "session",
                          (json_int_t)p->session, "bulletin", (json_int_t)p->bulletin, "hash",
                          p->hash, "start", start, "end", end, "played_s", p->played_s,
                          "underruns", (json_int_t)p->underruns, "source", p->source);
    char *line = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(o);
    if (line == NULL)
        snprintf(why, whylen, "play %s: cannot be written as JSON", p->id);
    return line;
}

/* Appends line (owned: taken by v[] on success, freed otherwise) with its newline in one
 * write, fsynced. 0 or -errno (nothing of it stays in the file then). */
static int append_line(struct rcv_journal *j, const char *id, char *line)
{
    size_t len = strlen(line);
    char *nl = realloc(line, len + 2);
    if (nl == NULL) {
        free(line);
        return -ENOMEM;
    }
    line = nl;
    line[len] = '\n'; /* written with its newline in one write; the NUL comes back below */
    line[len + 1] = '\0';
    int rc = 0;
    pthread_mutex_lock(&j->mu);
    struct stat st;
    if (j->fd < 0 && (rc = reopen(j)) < 0)
        goto unlock;
    if (fstat(j->fd, &st) < 0) {
        rc = -errno;
        goto unlock;
    }
    rc = rcv_write_all(j->fd, line, len + 1);
    if (rc == 0 && fsync(j->fd) < 0)
        rc = -errno;
    if (rc < 0) {
        /* a part of the line may be there: cut it off, or the next line would glue onto it */
        if (ftruncate(j->fd, st.st_size) < 0)
            rc = rc == 0 ? -errno : rc;
        goto unlock;
    }
    line[len] = '\0';
    rc = push(j, id, line);
    if (rc == 0)
        line = NULL; /* now v[]'s */
unlock:
    pthread_mutex_unlock(&j->mu);
    free(line);
    return rc;
}

int rcv_journal_append(struct rcv_journal *j, struct rcv_play *p, char *why, size_t whylen)
{
    if (p->id[0] == '\0') {
        unsigned char r[12];
        char hex[25];
        if (sodium_init() < 0) {
            snprintf(why, whylen, "libsodium cannot start");
            return -1;
        }
        randombytes_buf(r, sizeof r);
        sodium_bin2hex(hex, sizeof hex, r, sizeof r);
        snprintf(p->id, sizeof p->id, "p-%s", hex);
    }
    char *line = play_line(p, why, whylen);
    if (line == NULL)
        return -1;
    int rc = append_line(j, p->id, line);
    if (rc < 0) {
        snprintf(why, whylen, "%s: %s", j->path, strerror(-rc));
        return -1;
    }
    return 0;
}

int rcv_journal_progress(struct rcv_journal *j, const struct rcv_play *p, char *why,
                         size_t whylen)
{
    char tmp[PATH_MAX + 8];
    char *line = play_line(p, why, whylen);
    if (line == NULL)
        return -1;
    /* Written and renamed, not fsynced: this runs on the player's thread, between two 20 ms
     * buffers, where an fsync on an SD card could make the sink run dry. A kill -9 loses
     * nothing of it; a power loss may lose the last few seconds of checkpoints (the file system
     * commits within seconds), and a torn file is ignored at the next start. */
    snprintf(tmp, sizeof tmp, "%s.tmp", j->playing);
    int rc = 0, fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        rc = -errno;
    else {
        rc = rcv_write_all(fd, line, strlen(line));
        if (close(fd) < 0 && rc == 0)
            rc = -errno;
        if (rc == 0 && rename(tmp, j->playing) < 0)
            rc = -errno;
    }
    free(line);
    if (rc < 0) {
        snprintf(why, whylen, "%s: %s", j->playing, strerror(-rc));
        return -1;
    }
    return 0;
}

void rcv_journal_progress_done(struct rcv_journal *j)
{
    /* not synced: a checkpoint that comes back after a power loss is known by its id */
    unlink(j->playing);
}

/* {"plays":[<the first k lines>]}, malloc'd; *k the count. Under the mutex. */
static char *batch(struct rcv_journal *j, size_t *k)
{
    size_t n = j->n < RCV_JOURNAL_BATCH ? j->n : RCV_JOURNAL_BATCH, total = 16;
    for (size_t i = 0; i < n; i++)
        total += strlen(j->v[i].line) + 1;
    char *body = malloc(total), *p = body;
    if (body == NULL)
        return NULL;
    p += sprintf(p, "{\"plays\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            *p++ = ',';
        size_t l = strlen(j->v[i].line);
        memcpy(p, j->v[i].line, l);
        p += l;
    }
    strcpy(p, "]}");
    *k = n;
    return body;
}

/* Drops the plays whose ids are in ids (a JSON array), and the one named dead (may be NULL);
 * rewrites the file if any went. The number dropped. Under the mutex. */
static size_t drop(struct rcv_journal *j, json_t *ids, const char *dead, int *rc)
{
    size_t out = 0, gone = 0;
    for (size_t i = 0; i < j->n; i++) {
        bool acked = dead != NULL && strcmp(j->v[i].id, dead) == 0;
        json_t *x;
        size_t k;
        json_array_foreach(ids, k, x) {
            const char *s = json_string_value(x);
            if (!acked && s != NULL && strcmp(s, j->v[i].id) == 0)
                acked = true;
        }
        if (acked) {
            free(j->v[i].line);
            gone++;
        } else {
            j->v[out++] = j->v[i];
        }
    }
    j->n = out;
    *rc = gone ? rewrite(j) : 0;
    return gone;
}

/* "plays[i]: ..." in a 400/422 answer's message: i, or -1. */
static long refused_index(const struct rcv_answer *a)
{
    json_t *o = a->body ? json_loadb(a->body, a->len, 0, NULL) : NULL;
    const char *m = json_string_value(json_object_get(o, "message"));
    long i = -1;
    if (m != NULL && strncmp(m, "plays[", 6) == 0) {
        char *end;
        i = strtol(m + 6, &end, 10);
        if (end == m + 6 || *end != ']')
            i = -1;
    }
    json_decref(o);
    return i;
}

int rcv_journal_send(struct rcv_journal *j, struct rcv_net *n, int timeout_s, size_t *acked,
                     char *why, size_t whylen)
{
    char path[160], reason[256];
    size_t k = 0;
    struct rcv_answer a = {0};
    json_t *ans = NULL;
    int rc = -1, wrc = 0;
    if (acked != NULL)
        *acked = 0;
    pthread_mutex_lock(&j->mu);
    char *body = j->n ? batch(j, &k) : NULL;
    bool empty = j->n == 0;
    pthread_mutex_unlock(&j->mu);
    if (empty)
        return 0;
    if (body == NULL) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    snprintf(path, sizeof path, "/api/v1/receivers/%s/plays", j->c->cluster);
    if (rcv_net_post_json(n, path, body, timeout_s, &a, reason, sizeof reason) < 0) {
        snprintf(why, whylen, "POST plays: %s", reason);
        goto out;
    }
    if (a.status == 400 || a.status == 422) {
        long i = refused_index(&a);
        char dead[65] = "";
        pthread_mutex_lock(&j->mu);
        if (i >= 0 && (size_t)i < k && (size_t)i < j->n) /* v[] only shrinks from here */
            snprintf(dead, sizeof dead, "%s", j->v[i].id);
        if (dead[0])
            drop(j, NULL, dead, &wrc);
        pthread_mutex_unlock(&j->mu);
        snprintf(why, whylen, "POST plays: HTTP %ld: %.200s%s%s", a.status, a.body ? a.body : "",
                 dead[0] ? "; dropped play " : "", dead);
        goto out;
    }
    if (a.status != 200) {
        snprintf(why, whylen, "POST plays: HTTP %ld", a.status);
        goto out;
    }
    ans = a.body ? json_loadb(a.body, a.len, 0, NULL) : NULL;
    json_t *ids = json_object_get(ans, "acked");
    if (!json_is_array(ids)) {
        snprintf(why, whylen, "POST plays: the answer has no \"acked\" list");
        goto out;
    }
    pthread_mutex_lock(&j->mu);
    size_t gone = drop(j, ids, NULL, &wrc);
    pthread_mutex_unlock(&j->mu);
    if (acked != NULL)
        *acked = gone;
    if (wrc < 0) {
        /* memory is right; the file still has acked plays: sent again, acked again */
        snprintf(why, whylen, "%s: %s", j->path, strerror(-wrc));
        goto out;
    }
    rc = 0;
out:
    json_decref(ans);
    free(a.body);
    free(body);
    return rc;
}
