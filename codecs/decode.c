/*
 * codecs/decode.c — libsndfile through its virtual-I/O interface, so uploads are decoded from
 * memory without a temporary file; what libsndfile does not recognise goes to libavformat
 * (decode_av.c); see decode.h.
 */
#include "codecs/decode.h"
#include "codecs/av_internal.h"

#include <sndfile.h>
#include <stdlib.h>
#include <string.h>

struct memfile {
    const unsigned char *data;
    sf_count_t len, pos;
};

static sf_count_t vio_len(void *u)
{
    return ((struct memfile *)u)->len;
}

static sf_count_t vio_seek(sf_count_t off, int whence, void *u)
{
    struct memfile *m = u;
    sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : m->len;
    sf_count_t to = base + off;
    if (to < 0 || to > m->len)
        return -1;
    m->pos = to;
    return to;
}

static sf_count_t vio_read(void *dst, sf_count_t n, void *u)
{
    struct memfile *m = u;
    if (n > m->len - m->pos)
        n = m->len - m->pos;
    if (n > 0)
        memcpy(dst, m->data + m->pos, (size_t)n);
    m->pos += n;
    return n;
}

static sf_count_t vio_write(const void *src, sf_count_t n, void *u)
{
    (void)src;
    (void)n;
    (void)u;
    return 0;
}

static sf_count_t vio_tell(void *u)
{
    return ((struct memfile *)u)->pos;
}

int lc_decode_mem(const void *data, size_t len, double max_s, struct lc_pcm *out,
                  struct lc_err *err)
{
    SF_VIRTUAL_IO vio = {vio_len, vio_seek, vio_read, vio_write, vio_tell};
    struct memfile m = {data, (sf_count_t)len, 0};
    SF_INFO info = {0};
    SNDFILE *sf = NULL;
    float *frames = NULL;
    struct lc_pcm tmp = {0};
    int rc = 0;

    if (len == 0)
        return lc_err_set(err, -EINVAL, "the audio file is empty");
    sf = sf_open_virtual(&vio, SFM_READ, &info, &m);
    if (sf == NULL) /* not a format of libsndfile's: AAC/M4A, WebM, AMR, ... */
        return lc_decode_av(data, len, max_s, out, err);
    if (info.channels < 1 || info.samplerate < 1000 || info.samplerate > 384000) {
        rc = lc_err_set(err, -EINVAL, "unsupported audio: %d channels at %d Hz", info.channels,
                        info.samplerate);
        goto out;
    }
    /* The length the header announces is refused before anything is decoded (20 hours of
     * silence in an 11 MB FLAC must not become 3 GB of samples); a length it does not announce is
     * bounded while decoding, below. */
    double limit = max_s > 0 ? max_s * info.samplerate : 0;
    if (limit > 0 && info.frames > 0 && info.frames != SF_COUNT_MAX && (double)info.frames > limit) {
        rc = lc_err_set(err, -EFBIG, "the recording lasts %.0f s; a bulletin lasts at most %.0f s",
                        (double)info.frames / info.samplerate, max_s);
        goto out;
    }
    /* The header's length (when it gives one) is the buffer's size: no doubling past it. */
    if (info.frames > 0 && info.frames != SF_COUNT_MAX &&
        lc_pcm_reserve_exact(&tmp, (size_t)info.frames) < 0) {
        rc = lc_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    /* Float reads of integer formats come back in [-1, 1). */
    sf_command(sf, SFC_SET_NORM_FLOAT, NULL, SF_TRUE);
    enum { CHUNK = 4096 };
    frames = malloc(sizeof(float) * CHUNK * (size_t)info.channels);
    if (frames == NULL) {
        rc = lc_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    float mono[CHUNK];
    for (;;) {
        sf_count_t got = sf_readf_float(sf, frames, CHUNK);
        if (got <= 0)
            break;
        for (sf_count_t i = 0; i < got; i++) {
            float acc = 0;
            for (int c = 0; c < info.channels; c++)
                acc += frames[i * info.channels + c];
            mono[i] = acc / (float)info.channels;
        }
        if (lc_pcm_append(&tmp, mono, (size_t)got) < 0) {
            rc = lc_err_set(err, -ENOMEM, "out of memory");
            goto out;
        }
        if (limit > 0 && (double)tmp.n > limit) {
            rc = lc_err_set(err, -EFBIG, "the recording lasts more than %.0f s, the longest a "
                            "bulletin may last", max_s);
            goto out;
        }
    }
    if (sf_error(sf) != SF_ERR_NO_ERROR) {
        rc = lc_err_set(err, -EINVAL, "the audio file is damaged: %s", sf_strerror(sf));
        goto out;
    }
    if (tmp.n == 0) {
        rc = lc_err_set(err, -EINVAL, "the audio file holds no samples");
        goto out;
    }
    tmp.rate = info.samplerate;
    lc_pcm_free(out);
    *out = tmp;
    tmp = (struct lc_pcm){0};
out:
    lc_pcm_free(&tmp);
    free(frames);
    if (sf != NULL)
        sf_close(sf);
    return rc;
}
