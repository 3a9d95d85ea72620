/*
 * cli/render_cmd.c — `loacast render`: text or recordings to Ogg Opus files, offline, through the
 * pipeline the server uses (codecs/render.h).
 *
 * Several inputs are rendered at once, one thread each (they wait on the one espeak-ng thread in
 * turn, then share the encoder pool), which is how the server renders a queue of bulletins.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "codecs/normalize.h"
#include "codecs/render.h"

#define MAX_PARALLEL 16

struct job {
    const char *in;     /* input path or "-" */
    char *out;          /* output path (owned) */
    int is_audio;
    struct lc_renderer *r;
    const struct lc_render_opts *opts;
    const struct lc_lexicon *lex;
    int rc;
    double duration_s, lufs, tp;
    size_t bytes;
    struct lc_err err;
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: loacast render [OPTIONS] [FILE|-]...\n"
            "       loacast render [OPTIONS] --audio RECORDING...\n"
            "\n"
            "Speaks Vietnamese text (UTF-8) into an Ogg Opus file, through the same pipeline as\n"
            "the server: normalisation, espeak-ng, resampling to 48 kHz, loudness to -16 LUFS\n"
            "under a -1 dBTP ceiling, Opus (mono, 20 ms frames), Ogg. With --audio, recordings\n"
            "(WAV, FLAC, Ogg Vorbis/Opus, MP3, AAC/M4A from phones, WebM/Opus from browsers, AMR\n"
            "and the other audio formats of FFmpeg's libavformat) go through the same\n"
            "resample/loudness/encode path.\n"
            "With no FILE, or FILE '-', reads standard input.\n"
            "\n"
            "  -v, --voice VOICE      vi (default), vi-vn-x-central or vi-vn-x-south\n"
            "  -r, --rate WPM         speaking rate, 80..450 words per minute (default %d)\n"
            "  -b, --bitrate KBPS     Opus bitrate, 12..64 kbit/s (default %d)\n"
            "  -c, --complexity N     Opus encoder complexity 1..10 (default %d)\n"
            "  -L, --loudness LUFS    loudness target (default %.0f)\n"
            "  -t, --title TEXT       title stored in the file's OpusTags\n"
            "  -o, --output PATH      output file; with several inputs, an existing directory\n"
            "                         (default: each input's name with .opus, or out.opus)\n"
            "  -a, --audio            the inputs are recordings, not text\n"
            "  -l, --lexicon FILE     the station's own abbreviations (TSV), added to the\n"
            "                         built-in lexicon\n"
            "  -j, --jobs N           encoder threads (default: one per CPU)\n"
            "  -q, --quiet            print nothing on success\n"
            "  -h, --help             this help\n",
            LC_RENDER_DEFAULT_WPM, LC_RENDER_DEFAULT_KBPS, LC_RENDER_DEFAULT_COMPLEXITY,
            LC_RENDER_DEFAULT_LUFS);
}

static int parse_int(const char *s, const char *what, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < -100000 || v > 100000) {
        fprintf(stderr, "loacast render: %s must be a number, not '%s'\n", what, s);
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* The output path for input `in`: -o as given for one input, else dir/base.opus or base.opus. */
static char *output_path(const char *in, const char *opt_out, int many)
{
    if (opt_out != NULL && !many)
        return strdup(opt_out);
    const char *base = strcmp(in, "-") == 0 ? "out" : strrchr(in, '/');
    base = base == NULL ? in : (base[0] == '/' ? base + 1 : base);
    size_t blen = strlen(base);
    const char *dot = strrchr(base, '.');
    if (dot != NULL && dot != base)
        blen = (size_t)(dot - base);
    const char *dir = opt_out;
    char *path = NULL;
    if (dir != NULL) {
        if (asprintf(&path, "%s/%.*s.opus", dir, (int)blen, base) < 0)
            path = NULL;
    } else if (strcmp(in, "-") == 0 || base == in) {
        if (asprintf(&path, "%.*s.opus", (int)blen, base) < 0)
            path = NULL;
    } else {
        /* beside the input */
        if (asprintf(&path, "%.*s%.*s.opus", (int)(base - in), in, (int)blen, base) < 0)
            path = NULL;
    }
    return path;
}

static int write_file(const char *path, const void *data, size_t len, struct lc_err *err)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return lc_err_set(err, -errno, "cannot create %s: %s", path, strerror(errno));
    size_t w = fwrite(data, 1, len, f);
    int bad = w != len;
    if (fclose(f) != 0)
        bad = 1;
    if (bad) {
        remove(path);
        return lc_err_set(err, -EIO, "cannot write %s", path);
    }
    return 0;
}

static void *run_job(void *arg)
{
    struct job *j = arg;
    char *data = NULL;
    size_t len = 0;
    struct lc_rendered x = {0};

    j->rc = lc_cli_read_file(j->in, &data, &len);
    if (j->rc < 0) {
        lc_err_set(&j->err, j->rc, "cannot read %s", j->in);
        return NULL;
    }
    if (j->is_audio)
        j->rc = lc_render_audio(j->r, j->opts, data, len, &x, &j->err);
    else
        j->rc = lc_render_text(j->r, j->opts, j->lex, data, len, &x, &j->err);
    free(data);
    if (j->rc == 0) {
        j->rc = write_file(j->out, x.ogg.data, x.ogg.len, &j->err);
        j->duration_s = x.duration_s;
        j->lufs = x.lufs;
        j->tp = x.true_peak_dbtp;
        j->bytes = x.ogg.len;
    }
    lc_rendered_free(&x);
    return NULL;
}

int lc_cmd_render(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"voice", required_argument, NULL, 'v'},   {"rate", required_argument, NULL, 'r'},
        {"bitrate", required_argument, NULL, 'b'}, {"complexity", required_argument, NULL, 'c'},
        {"loudness", required_argument, NULL, 'L'}, {"title", required_argument, NULL, 't'},
        {"output", required_argument, NULL, 'o'},  {"audio", no_argument, NULL, 'a'},
        {"lexicon", required_argument, NULL, 'l'}, {"jobs", required_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},         {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct lc_render_opts opts = {0};
    const char *out = NULL, *lexicon_path = NULL;
    int is_audio = 0, jobs = 0, quiet = 0, c, status = 1, lufs = 0;
    struct lc_renderer *r = NULL;
    struct lc_lexicon *lex = NULL;
    struct job *js = NULL;
    struct lc_err err = {0};

    optind = 1;
    while ((c = getopt_long(argc, argv, "v:r:b:c:L:t:o:al:j:qh", longopts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'v': opts.voice = optarg; break;
        case 'r': bad = parse_int(optarg, "--rate", &opts.rate_wpm); break;
        case 'b': bad = parse_int(optarg, "--bitrate", &opts.bitrate_kbps); break;
        case 'c': bad = parse_int(optarg, "--complexity", &opts.complexity); break;
        case 'L': bad = parse_int(optarg, "--loudness", &lufs); opts.loudness_lufs = lufs; break;
        case 't': opts.title = optarg; break;
        case 'o': out = optarg; break;
        case 'a': is_audio = 1; break;
        case 'l': lexicon_path = optarg; break;
        case 'j': bad = parse_int(optarg, "--jobs", &jobs); break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
        if (bad)
            return 2;
    }
    if (opts.bitrate_kbps != 0 && (opts.bitrate_kbps < 12 || opts.bitrate_kbps > 64)) {
        fprintf(stderr, "loacast render: bitrate %d kbit/s is outside 12..64\n",
                opts.bitrate_kbps);
        return 2;
    }
    struct lc_render_opts check = opts;
    if (lc_render_opts_resolve(&check, &err) < 0) {
        fprintf(stderr, "loacast render: %s\n", lc_err_msg(&err));
        return 2;
    }
    int n = argc - optind;
    char *stdin_only[] = {"-"};
    char **inputs = n > 0 ? argv + optind : stdin_only;
    if (n == 0)
        n = 1;
    int many = n > 1;
    if (many && out != NULL) {
        struct stat st;
        if (stat(out, &st) != 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "loacast render: with several inputs, -o must be a directory\n");
            return 2;
        }
    }

    if (!is_audio && lc_lexicon_load(&lex, lexicon_path, &err) < 0) {
        fprintf(stderr, "loacast render: %s\n", lc_err_msg(&err));
        goto out;
    }
    if (lc_renderer_open(&r, jobs, &err) < 0) {
        fprintf(stderr, "loacast render: %s\n", lc_err_msg(&err));
        goto out;
    }
    js = calloc((size_t)n, sizeof *js);
    if (js == NULL)
        goto out;
    for (int i = 0; i < n; i++) {
        js[i] = (struct job){.in = inputs[i], .out = output_path(inputs[i], out, many),
                             .is_audio = is_audio, .r = r, .opts = &opts, .lex = lex};
        if (js[i].out == NULL)
            goto out;
    }
    /* Render MAX_PARALLEL inputs at a time, one thread each. */
    status = 0;
    for (int at = 0; at < n; at += MAX_PARALLEL) {
        pthread_t th[MAX_PARALLEL];
        int k = n - at < MAX_PARALLEL ? n - at : MAX_PARALLEL;
        int started = 0;
        for (; started < k; started++)
            if (pthread_create(&th[started], NULL, run_job, &js[at + started]) != 0)
                break;
        for (int i = started; i < k; i++) /* could not start a thread: run it here */
            run_job(&js[at + i]);
        for (int i = 0; i < started; i++)
            pthread_join(th[i], NULL);
    }
    for (int i = 0; i < n; i++) {
        if (js[i].rc < 0) {
            fprintf(stderr, "loacast render: %s: %s\n", js[i].in, lc_err_msg(&js[i].err));
            status = 1;
        } else if (!quiet) {
            printf("wrote %s (%.2f s of audio, %zu bytes, %.1f LUFS, true peak %.1f dBTP)\n",
                   js[i].out,
                   js[i].duration_s, js[i].bytes, js[i].lufs, js[i].tp);
        }
    }
out:
    if (js != NULL)
        for (int i = 0; i < n; i++)
            free(js[i].out);
    free(js);
    lc_renderer_close(r);
    lc_lexicon_free(lex);
    return status;
}
