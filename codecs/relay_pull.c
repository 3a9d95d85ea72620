/*
 * codecs/relay_pull.c — an upstream stream through libavformat and libavcodec: open the URL,
 * pick its audio stream, decode, average the channels; see relay_internal.h.
 *
 * Deadlines: libavformat's own I/O timeouts (rw_timeout, timeout) end a stalled socket read;
 * on top, the interrupt callback ends any wait of libavformat (opening, probing, an HLS playlist
 * reload, a read) once the deadline set before each call passed, or at once when the relay
 * stops. The deadline moves on with every packet read, so a stream that flows is never cut.
 *
 * HLS delivers whole segments (2–10 s each) with nothing between them: its deadline is
 * HLS_DEADLINE_TIMES × timeout_ms (15 s by default), not to take the wait for the next segment
 * for a stall.
 *
 * The format: the HTTP answer's Content-Type names it when it is one a station sends (Icecast
 * always sends one); libavformat's probing is the fallback. Why not always probe: on an Icecast
 * MP3 stream it waits ~4.5 s for more data (measured with ffprobe 5.1), most of the early start.
 */
#include "codecs/relay_internal.h"
#include "codecs/av_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libavutil/time.h>

/* Protocols a relay may use (libavformat's nested opens, e.g. HLS segments, obey it too). */
#define NET_PROTOCOLS "http,https,tcp,tls,crypto,hls,httpproxy"
#define HLS_DEADLINE_TIMES 3
#define MAX_BAD 50 /* decoding errors in a row that end a connection */

static int on_interrupt(void *arg)
{
    struct relay_pull *p = arg;
    if (atomic_load_explicit(p->stop, memory_order_relaxed))
        return 1;
    return av_gettime_relative() > p->deadline_us;
}

/* The demuxer a Content-Type names, or NULL (probe). */
static const AVInputFormat *format_of(const char *mime)
{
    static const struct {
        const char *mime, *fmt;
    } map[] = {
        {"audio/mpeg", "mp3"}, {"audio/mp3", "mp3"}, {"audio/x-mpeg", "mp3"},
        {"audio/aac", "aac"}, {"audio/aacp", "aac"}, {"audio/x-aac", "aac"},
        {"application/ogg", "ogg"}, {"audio/ogg", "ogg"}, {"audio/opus", "ogg"},
        {"audio/vorbis", "ogg"},
        {"application/vnd.apple.mpegurl", "hls"}, {"application/x-mpegurl", "hls"},
        {"audio/mpegurl", "hls"}, {"audio/x-mpegurl", "hls"},
    };
    if (mime == NULL)
        return NULL;
    size_t n = strcspn(mime, "; ");
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strlen(map[i].mime) == n && strncasecmp(mime, map[i].mime, n) == 0)
            return av_find_input_format(map[i].fmt);
    return NULL;
}

static void arm(struct relay_pull *p)
{
    p->deadline_us = av_gettime_relative() + (int64_t)p->timeout_ms * 1000;
}

/* One libav error as ours, with its text. */
static int av_fail(struct relay_pull *p, int averr, const char *what, struct lc_err *err)
{
    char t[AV_ERROR_MAX_STRING_SIZE] = "";
    av_strerror(averr, t, sizeof t);
    int code = -EIO;
    if (atomic_load_explicit(p->stop, memory_order_relaxed))
        code = -ECANCELED;
    else if (averr == AVERROR_EXIT || averr == AVERROR(ETIMEDOUT))
        code = -ETIMEDOUT; /* our deadline (AVERROR_EXIT) or libav's */
    else if (averr == AVERROR_EOF)
        code = -EPIPE;
    else if (averr == AVERROR(ENOMEM))
        code = -ENOMEM;
    if (code == -ETIMEDOUT)
        return lc_err_set(err, code, "%s: nothing for %d ms", what, p->timeout_ms);
    return lc_err_set(err, code, "%s: %s", what, t);
}

int relay_pull_open(struct relay_pull *p, const char *url, bool allow_file, int timeout_ms,
                    const atomic_bool *stop, struct lc_err *err)
{
    AVDictionary *opts = NULL, *io_opts = NULL;
    int rc = 0, e;
    p->stop = stop;
    p->timeout_ms = timeout_ms;
    p->stream = -1;
    if ((p->fmt = avformat_alloc_context()) == NULL)
        return lc_err_set(err, -ENOMEM, "out of memory");
    p->fmt->interrupt_callback = (AVIOInterruptCB){on_interrupt, p};
    char us[32];
    snprintf(us, sizeof us, "%lld", (long long)timeout_ms * 1000);
    const char *wl = allow_file ? NET_PROTOCOLS ",file" : NET_PROTOCOLS;
    av_dict_set(&io_opts, "rw_timeout", us, 0);     /* any protocol: a read or write stalls */
    av_dict_set(&io_opts, "timeout", us, 0);        /* tcp/http: connecting and I/O */
    av_dict_set(&io_opts, "protocol_whitelist", wl, 0);
    av_dict_set(&io_opts, "user_agent", "loacast-relay", 0);
    av_dict_copy(&opts, io_opts, 0);                /* nested opens (HLS segments) too */
    /* probe little: a live stream's first second tells its format */
    av_dict_set(&opts, "analyzeduration", "1000000", 0);
    av_dict_set(&opts, "probesize", "65536", 0);
    arm(p);
    e = avio_open2(&p->pb, url, AVIO_FLAG_READ, &p->fmt->interrupt_callback, &io_opts);
    if (e < 0) {
        rc = av_fail(p, e, "cannot open", err);
        goto out;
    }
    uint8_t *mime = NULL;
    if (av_opt_get(p->pb, "mime_type", AV_OPT_SEARCH_CHILDREN, &mime) < 0)
        mime = NULL;
    const AVInputFormat *hint = format_of((const char *)mime);
    av_free(mime);
    p->fmt->pb = p->pb; /* ours to close (relay_pull_close) */
    arm(p);
    e = avformat_open_input(&p->fmt, url, hint, &opts); /* frees fmt on failure */
    if (e < 0) {
        rc = av_fail(p, e, "cannot open", err);
        goto out;
    }
    arm(p);
    if ((e = avformat_find_stream_info(p->fmt, NULL)) < 0) {
        rc = av_fail(p, e, "cannot read the stream's format", err);
        goto out;
    }
    const AVCodec *codec = NULL;
    e = av_find_best_stream(p->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
    if (e < 0 || codec == NULL) {
        rc = lc_err_set(err, -ENOENT, "no audio stream that loacast can decode");
        goto out;
    }
    p->stream = e;
    for (unsigned i = 0; i < p->fmt->nb_streams; i++) /* demux the audio stream only */
        p->fmt->streams[i]->discard = (int)i == p->stream ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
    AVStream *st = p->fmt->streams[p->stream];
    if ((p->dec = avcodec_alloc_context3(codec)) == NULL ||
        (p->pkt = av_packet_alloc()) == NULL || (p->frame = av_frame_alloc()) == NULL) {
        rc = lc_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    if ((e = avcodec_parameters_to_context(p->dec, st->codecpar)) < 0 ||
        (e = avcodec_open2(p->dec, codec, NULL)) < 0) {
        rc = av_fail(p, e, "cannot start the decoder", err);
        goto out;
    }
    if (strcmp(p->fmt->iformat->name, "hls") == 0)
        p->timeout_ms *= HLS_DEADLINE_TIMES;
    snprintf(p->desc, sizeof p->desc, "%s/%s, %d Hz, %d ch", p->fmt->iformat->name, codec->name,
             st->codecpar->sample_rate, st->codecpar->ch_layout.nb_channels);
out:
    av_dict_free(&opts);
    av_dict_free(&io_opts);
    if (rc < 0)
        relay_pull_close(p);
    return rc;
}

int relay_pull_read(struct relay_pull *p, const float **pcm, size_t *n, struct lc_err *err)
{
    for (;;) {
        int e = avcodec_receive_frame(p->dec, p->frame);
        if (e == 0) {
            int k = lc_av_mono(p->frame, &p->mono, &p->mono_cap);
            p->rate = p->frame->sample_rate;
            av_frame_unref(p->frame);
            if (k == -ENOMEM)
                return lc_err_set(err, k, "out of memory");
            if (k < 0 || p->rate < 1000 || p->rate > 384000)
                return lc_err_set(err, -EIO, "the decoder gave audio loacast cannot use");
            if (k == 0)
                continue;
            p->bad = 0;
            arm(p); /* audio flows: the deadline moves on */
            *pcm = p->mono;
            *n = (size_t)k;
            return 0;
        }
        if (e == AVERROR_EOF)
            return av_fail(p, e, "decoding", err);
        if (e != AVERROR(EAGAIN) && ++p->bad > MAX_BAD) /* damaged ones are skipped, below */
            return av_fail(p, e, "decoding", err);
        /* the decoder wants more: the next packet of the audio stream */
        do {
            if (av_gettime_relative() > p->deadline_us) /* packets but no audio for too long */
                return av_fail(p, AVERROR_EXIT, "reading", err);
            e = av_read_frame(p->fmt, p->pkt);
            if (e < 0)
                return av_fail(p, e, "reading", err);
            if (p->pkt->stream_index != p->stream)
                av_packet_unref(p->pkt);
        } while (p->pkt->data == NULL && p->pkt->side_data_elems == 0);
        e = avcodec_send_packet(p->dec, p->pkt);
        av_packet_unref(p->pkt);
        /* a damaged packet is skipped (a stream joined in the middle of an AAC frame, a station's
         * own reconnection): only MAX_BAD in a row, or the deadline, end the connection */
        if (e < 0 && e != AVERROR(EAGAIN) && ++p->bad > MAX_BAD)
            return av_fail(p, e, "decoding", err);
    }
}

void relay_pull_close(struct relay_pull *p)
{
    avcodec_free_context(&p->dec);
    av_packet_free(&p->pkt);
    av_frame_free(&p->frame);
    avformat_close_input(&p->fmt);
    avio_closep(&p->pb);
    free(p->mono);
    p->mono = NULL;
    p->mono_cap = 0;
}
