/*
 * codecs/decode_av.c — an uploaded recording through libavformat and libavcodec, for what
 * libsndfile does not read (AAC/M4A from phones, WebM/Opus and MP4 from browsers' MediaRecorder,
 * AMR, ...); see av_internal.h and decode.h.
 *
 * The bytes are read from memory through a custom AVIOContext: no temporary file, no URL. The
 * data is someone's upload, so libavformat is held to it (docs/audio.md, "Formats"):
 *   - only the audio demuxers of FORMATS are taken (the probe's verdict is checked before the
 *     demuxer opens anything; format_whitelist says it again): no hls, dash, concat, image2 or
 *     subtitle demuxers, whose data can name other URLs or files;
 *   - io_open, through which a demuxer opens a nested resource (an HLS segment, an MP4 data
 *     reference), refuses everything, and protocol_whitelist names no protocol: nothing of the
 *     machine or the network is read from inside an upload.
 * Bounds as libsndfile's path: the length the container announces is refused before decoding
 * when it passes max_s (unless libavformat only guessed it from the bitrate); audio without one
 * stops as the decoded samples pass max_s. A recording that decodes to clearly less than it
 * announces was cut short (an interrupted upload) and is refused, not kept half.
 */
#include "codecs/av_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avstring.h>

/* The demuxers an upload may be read with (any name of a demuxer's list: "mov" is also mp4, m4a,
 * 3gp; "matroska" also webm). */
#define FORMATS "mov,matroska,webm,ogg,mp3,flac,wav,w64,aac,amr,amrnb,amrwb,aiff,caf,au,wv,ape,asf"
#define IO_BUF 32768
#define MAX_BAD 50        /* damaged packets in a row that end the decoding */
#define SHORT_SLACK_S 0.25 /* decoded audio may fall this short of the announced length, */
#define SHORT_SLACK 0.02  /* plus this share of it (priming, padding, edit lists) */

struct memio {
    const uint8_t *data;
    int64_t len, pos;
};

static int mem_read(void *u, uint8_t *buf, int n)
{
    struct memio *m = u;
    int64_t left = m->len - m->pos;
    if (left <= 0)
        return AVERROR_EOF;
    if (n > left)
        n = (int)left;
    memcpy(buf, m->data + m->pos, (size_t)n);
    m->pos += n;
    return n;
}

static int64_t mem_seek(void *u, int64_t off, int whence)
{
    struct memio *m = u;
    if (whence & AVSEEK_SIZE)
        return m->len;
    whence &= ~AVSEEK_FORCE;
    int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : m->len;
    if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END)
        return AVERROR(EINVAL);
    int64_t to = base + off;
    if (to < 0 || to > m->len)
        return AVERROR(EINVAL);
    m->pos = to;
    return to;
}

/* A demuxer's nested open (an HLS segment, an MP4 data reference): never. */
static int refuse_open(struct AVFormatContext *s, AVIOContext **pb, const char *url, int flags,
                       AVDictionary **options)
{
    (void)s;
    (void)pb;
    (void)url;
    (void)flags;
    (void)options;
    return AVERROR(EPERM);
}

static const char *av_text(int e, char *t, size_t n)
{
    if (av_strerror(e, t, n) < 0)
        snprintf(t, n, "error %d", e);
    return t;
}

struct dec {
    AVFormatContext *fmt;
    AVIOContext *pb;
    AVCodecContext *codec;
    AVPacket *pkt;
    AVFrame *frame;
    float *mono;
    size_t mono_cap;
    int stream;
    int rate;               /* of the first frame; every frame must have it */
    double limit;           /* samples (0: no bound) */
    double max_s;
    int bad;                /* damaged packets in a row */
    struct lc_pcm pcm;
};

/* Everything the decoder has for now into d->pcm: 0, or an error with its message. */
static int drain(struct dec *d, struct lc_err *err)
{
    for (;;) {
        int e = avcodec_receive_frame(d->codec, d->frame);
        if (e == AVERROR(EAGAIN) || e == AVERROR_EOF)
            return 0;
        if (e < 0) {
            if (++d->bad > MAX_BAD)
                return lc_err_set(err, -EBADMSG, "the audio file is damaged: %s",
                                  av_text(e, (char[AV_ERROR_MAX_STRING_SIZE]){0},
                                          AV_ERROR_MAX_STRING_SIZE));
            continue;
        }
        int rate = d->frame->sample_rate;
        int n = lc_av_mono(d->frame, &d->mono, &d->mono_cap);
        av_frame_unref(d->frame);
        if (n == -ENOMEM)
            return lc_err_set(err, -ENOMEM, "out of memory");
        if (n < 0 || rate < 1000 || rate > 384000)
            return lc_err_set(err, -EINVAL, "unsupported audio: %d Hz, or samples loacast cannot "
                              "read", rate);
        if (n == 0)
            continue;
        if (d->rate == 0) {
            d->rate = rate;
            d->limit = d->max_s > 0 ? d->max_s * rate : 0;
        } else if (rate != d->rate) {
            return lc_err_set(err, -EBADMSG, "the audio file is damaged: its sample rate changes "
                              "from %d to %d Hz", d->rate, rate);
        }
        d->bad = 0;
        if (lc_pcm_append(&d->pcm, d->mono, (size_t)n) < 0)
            return lc_err_set(err, -ENOMEM, "out of memory");
        if (d->limit > 0 && (double)d->pcm.n > d->limit)
            return lc_err_set(err, -EFBIG, "the recording lasts more than %.0f s, the longest a "
                              "bulletin may last", d->max_s);
    }
}

static const char *kind_of(const AVInputFormat *f)
{
    return f->long_name ? f->long_name : f->name;
}

/* Opens the data: 0, or -EINVAL (not audio loacast takes), -EBADMSG (damaged), -ENOMEM (ours). */
static int open_input(struct dec *d, struct memio *m, struct lc_err *err)
{
    char t[AV_ERROR_MAX_STRING_SIZE];
    AVDictionary *opts = NULL;
    const AVInputFormat *ifmt = NULL;
    int e;
    unsigned char *buf = av_malloc(IO_BUF);
    if (buf == NULL)
        return lc_err_set(err, -ENOMEM, "out of memory");
    d->pb = avio_alloc_context(buf, IO_BUF, 0, m, mem_read, NULL, mem_seek);
    if (d->pb == NULL) {
        av_free(buf);
        return lc_err_set(err, -ENOMEM, "out of memory");
    }
    /* the format first, checked against FORMATS before its demuxer reads a byte */
    e = av_probe_input_buffer2(d->pb, &ifmt, "", NULL, 0, 0);
    if (e < 0 || ifmt == NULL)
        return lc_err_set(err, -EINVAL, "the file is not audio that loacast can read");
    if (av_match_list(ifmt->name, FORMATS, ',') <= 0)
        return lc_err_set(err, -EINVAL, "the file is not audio that loacast can read (it looks "
                          "like %s)", kind_of(ifmt));
    if ((d->fmt = avformat_alloc_context()) == NULL)
        return lc_err_set(err, -ENOMEM, "out of memory");
    d->fmt->pb = d->pb; /* ours to free (AVFMT_FLAG_CUSTOM_IO) */
    d->fmt->io_open = refuse_open;
    av_dict_set(&opts, "format_whitelist", FORMATS, 0);
    av_dict_set(&opts, "protocol_whitelist", "none", 0);
    e = avformat_open_input(&d->fmt, "", ifmt, &opts); /* frees fmt on failure */
    av_dict_free(&opts);
    /* libav says ENOMEM for sizes a damaged header claims ("Failed to read extradata of size
     * 4191", found by tests/fuzz/fuzz_decode): its errors here are all the file's */
    if (e < 0)
        return lc_err_set(err, -EBADMSG, "the audio file (%s) is damaged: %s", kind_of(ifmt),
                          av_text(e, t, sizeof t));
    if ((e = avformat_find_stream_info(d->fmt, NULL)) < 0)
        return lc_err_set(err, -EBADMSG, "the audio file (%s) is damaged: %s", kind_of(ifmt),
                          av_text(e, t, sizeof t));
    return 0;
}

/* The length the container announces, in seconds (0: none, or only guessed from the bitrate). */
static double announced_s(const AVFormatContext *fmt, const AVStream *st)
{
    if (fmt->duration_estimation_method == AVFMT_DURATION_FROM_BITRATE)
        return 0;
    if (st->duration != AV_NOPTS_VALUE && st->duration > 0)
        return (double)st->duration * av_q2d(st->time_base);
    if (fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0)
        return (double)fmt->duration / AV_TIME_BASE;
    return 0;
}

int lc_decode_av(const void *data, size_t len, double max_s, struct lc_pcm *out,
                 struct lc_err *err)
{
    struct memio m = {data, (int64_t)len, 0};
    struct dec d = {.stream = -1, .max_s = max_s};
    char t[AV_ERROR_MAX_STRING_SIZE];
    int rc, e;

    lc_av_init();
    if (len == 0)
        return lc_err_set(err, -EINVAL, "the audio file is empty");
    if ((rc = open_input(&d, &m, err)) < 0)
        goto out;
    const AVCodec *codec = NULL;
    e = av_find_best_stream(d.fmt, AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
    if (e < 0 || codec == NULL) {
        rc = lc_err_set(err, -EINVAL, "the file holds no audio that loacast can decode");
        goto out;
    }
    d.stream = e;
    for (unsigned i = 0; i < d.fmt->nb_streams; i++) /* demux the audio stream only */
        d.fmt->streams[i]->discard = (int)i == d.stream ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
    AVStream *st = d.fmt->streams[d.stream];
    double announced = announced_s(d.fmt, st);
    if (max_s > 0 && announced > max_s) {
        rc = lc_err_set(err, -EFBIG, "the recording lasts %.0f s; a bulletin lasts at most %.0f s",
                        announced, max_s);
        goto out;
    }
    int hint_rate = st->codecpar->sample_rate;
    if (announced > 0 && hint_rate >= 1000 && hint_rate <= 384000 &&
        lc_pcm_reserve_exact(&d.pcm, (size_t)(announced * hint_rate) + 4096) < 0) {
        rc = lc_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    if ((d.codec = avcodec_alloc_context3(codec)) == NULL || (d.pkt = av_packet_alloc()) == NULL ||
        (d.frame = av_frame_alloc()) == NULL) {
        rc = lc_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    if ((e = avcodec_parameters_to_context(d.codec, st->codecpar)) < 0 ||
        (e = avcodec_open2(d.codec, codec, NULL)) < 0) {
        rc = lc_err_set(err, -EINVAL, "cannot decode the recording's %s audio: %s", codec->name,
                        av_text(e, t, sizeof t));
        goto out;
    }
    int read_err = 0;
    for (;;) {
        e = av_read_frame(d.fmt, d.pkt);
        if (e < 0) {
            read_err = e == AVERROR_EOF ? 0 : e;
            break;
        }
        if (d.pkt->stream_index != d.stream) {
            av_packet_unref(d.pkt);
            continue;
        }
        e = avcodec_send_packet(d.codec, d.pkt);
        av_packet_unref(d.pkt);
        /* a damaged packet is skipped; only MAX_BAD in a row end the decoding */
        if (e < 0 && e != AVERROR(EAGAIN) && ++d.bad > MAX_BAD) {
            rc = lc_err_set(err, -EBADMSG, "the audio file is damaged: %s",
                            av_text(e, t, sizeof t));
            goto out;
        }
        if ((rc = drain(&d, err)) < 0)
            goto out;
    }
    avcodec_send_packet(d.codec, NULL); /* the decoder's last frames */
    if ((rc = drain(&d, err)) < 0)
        goto out;
    if (d.pcm.n == 0) {
        rc = read_err ? lc_err_set(err, -EBADMSG, "the audio file is damaged: %s",
                                   av_text(read_err, t, sizeof t))
                      : lc_err_set(err, -EINVAL, "the audio file holds no samples");
        goto out;
    }
    double got = (double)d.pcm.n / d.rate;
    if (announced > 0 && got < announced - SHORT_SLACK_S - SHORT_SLACK * announced) {
        rc = lc_err_set(err, -EBADMSG, "the audio file is cut short: %.1f s of the %.1f s it "
                        "announces", got, announced);
        goto out;
    }
    d.pcm.rate = d.rate;
    lc_pcm_free(out);
    *out = d.pcm;
    d.pcm = (struct lc_pcm){0};
out:
    lc_pcm_free(&d.pcm);
    free(d.mono);
    av_frame_free(&d.frame);
    av_packet_free(&d.pkt);
    avcodec_free_context(&d.codec);
    avformat_close_input(&d.fmt);
    if (d.pb != NULL) {
        av_freep(&d.pb->buffer);
        avio_context_free(&d.pb);
    }
    return rc;
}
