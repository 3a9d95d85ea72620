/* codecs/av_util.c — libav's log and frames to mono; see av_internal.h. */
#define LC_LOG_MODULE "libav"
#include "codecs/av_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/frame.h>
#include <libavutil/log.h>
#include <libavutil/samplefmt.h>

#include "common/log.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void on_av_log(void *avcl, int level, const char *fmt, va_list vl)
{
    if (level > AV_LOG_ERROR)
        return;
    char line[512];
    int prefix = 1;
    /* libav's own formatter (its fmt is not a literal: -Wformat-nonliteral) */
    av_log_format_line2(avcl, level, fmt, vl, line, sizeof line, &prefix);
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == '\n')
        line[--n] = 0;
    if (n > 0)
        lc_log(LC_LOG_WARN, "libav: %s", line);
}

static void init_once(void)
{
    av_log_set_callback(on_av_log);
}

void lc_av_init(void)
{
    pthread_once(&once, init_once);
}

int lc_av_mono(const AVFrame *f, float **buf, size_t *cap)
{
    int ch = f->ch_layout.nb_channels, n = f->nb_samples;
    enum AVSampleFormat fmt = (enum AVSampleFormat)f->format;
    bool planar = av_sample_fmt_is_planar(fmt);
    enum AVSampleFormat packed = av_get_packed_sample_fmt(fmt);
    if (ch < 1 || n < 0)
        return -EIO;
    if ((size_t)n > *cap) {
        float *m = realloc(*buf, (size_t)n * sizeof *m);
        if (m == NULL)
            return -ENOMEM;
        *buf = m;
        *cap = (size_t)n;
    }
    float k = 1.0f / (float)ch;
    for (int i = 0; i < n; i++) {
        double acc = 0;
        for (int c = 0; c < ch; c++) {
            const uint8_t *d = planar ? f->extended_data[c] : f->extended_data[0];
            size_t at = planar ? (size_t)i : (size_t)i * (size_t)ch + (size_t)c;
            switch (packed) {
            case AV_SAMPLE_FMT_U8: acc += (d[at] - 128) / 128.0; break;
            case AV_SAMPLE_FMT_S16: acc += ((const int16_t *)d)[at] / 32768.0; break;
            case AV_SAMPLE_FMT_S32: acc += ((const int32_t *)d)[at] / 2147483648.0; break;
            case AV_SAMPLE_FMT_S64: acc += (double)((const int64_t *)d)[at] / 9223372036854775808.0;
                break;
            case AV_SAMPLE_FMT_FLT: acc += ((const float *)d)[at]; break;
            case AV_SAMPLE_FMT_DBL: acc += ((const double *)d)[at]; break;
            default: return -EIO;
            }
        }
        (*buf)[i] = (float)acc * k;
    }
    return n;
}
