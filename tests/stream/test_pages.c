/*
 * tests/stream/test_pages.c — the streaming engine's parts without a network: page reference
 * counts and the burst queue's trimming, the packer's granules across spliced clips and silence
 * (one serial, BOS/EOS, end trimming), the timeline's interruption (an emergency in front, the
 * interrupted bulletin again from its start), the clips read on the reader thread (a missing file
 * plays as silence), a page renumbered for a late receiver (libogg checks its CRC), and delivery
 * ranges (merge, coverage).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ogg/ogg.h>
#include <uv.h>

#include "codecs/encode.h"
#include "codecs/oggmux.h"
#include "server/accounting/accounting.h"
#include "server/stream/stream_clips.h"
#include "server/stream/stream_page.h"
#include "server/stream/stream_prog.h"
#include "tests/check.h"

static void test_refs_and_trim(void)
{
    struct lc_pageq q = {0};
    struct lc_page *held = NULL;
    for (int i = 0; i < 10; i++) {
        struct lc_page *p = lc_page_new("x", 1, "yz", 2, (uint64_t)i * 48000, (uint64_t)(i + 1) * 48000);
        CHECK(p != NULL && p->len == 3 && memcmp(p->data, "xyz", 3) == 0);
        if (i == 2)
            held = lc_page_ref(p); /* an in-flight write */
        lc_pageq_push(&q, p);
    }
    CHECK(q.n == 10);
    lc_pageq_trim(&q, 3 * 48000); /* keep the pages covering the last 3 s */
    CHECK(q.n == 3);
    CHECK(q.head->g0 == 7 * 48000 && q.tail->g1 == 10 * 48000);
    CHECK(held->refs == 1 && held->g0 == 2 * 48000); /* still valid after leaving the queue */
    lc_page_unref(held);
    lc_pageq_trim(&q, 10 * 48000); /* never below one page */
    CHECK(q.n == 3);
    lc_pageq_clear(&q);
    CHECK(q.n == 0 && q.head == NULL && q.tail == NULL);
}

/* A stored bulletin file: a tone of `ms` milliseconds at freq, encoded and muxed. */
static void write_clip(const char *dir, const char *name, int ms, double freq)
{
    size_t n = (size_t)ms * 48;
    float *x = calloc(n, sizeof *x);
    for (size_t i = 0; i < n; i++)
        x[i] = 0.3f * (float)sin(2 * M_PI * freq * (double)i / 48000.0);
    struct lc_encode_opts o = {.bitrate_kbps = 24, .complexity = 5, .pad_tail = 1};
    struct lc_encoded e = {0};
    struct lc_buf file = {0};
    CHECK(lc_encode(x, n, &o, &e, NULL) == 0);
    CHECK(lc_ogg_mux(&e, "t", 99, &file, NULL) == 0);
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    fwrite(file.data, 1, file.len, f);
    fclose(f);
    lc_buf_free(&file);
    lc_encoded_free(&e);
    free(x);
}

static uv_loop_t loop;
static int loads_done;

static void on_programme(void *arg, const struct lc_clipload *ld, int status)
{
    CHECK(status == 0);
    CHECK(lc_prog_append(arg, ld->items, ld->clips, ld->n) == 0);
    loads_done++;
}

static void on_emergency(void *arg, const struct lc_clipload *ld, int status)
{
    CHECK(status == 0);
    CHECK(lc_prog_interrupt(arg, ld->items, ld->clips, ld->n) == 0);
    loads_done++;
}

/* Runs the loop until the reader's callbacks ran `want` times in all (never inside the call). */
static void wait_loads(int want)
{
    CHECK(loads_done < want);
    while (loads_done < want)
        uv_run(&loop, UV_RUN_ONCE);
}

static void test_timeline_and_packer(const char *dir)
{
    write_clip(dir, "a.opus", 1000, 440);
    write_clip(dir, "b.opus", 500, 880);
    write_clip(dir, "e.opus", 300, 660);
    struct lc_clips cc;
    CHECK(uv_loop_init(&loop) == 0);
    CHECK(lc_clips_open(&cc, &loop, dir) == 0);
    static const unsigned char silence[3] = {0xf8, 0xff, 0xfe}; /* any bytes: not decoded here */
    struct lc_prog prog = {.silence = silence, .silence_len = 3};
    struct lc_onair_item items[] = {
        {.bulletin = 1, .audio = "a.opus", .offset_ms = 0, .duration_ms = 1000},
        {.bulletin = 2, .audio = "b.opus", .offset_ms = 1500, .duration_ms = 500},
        {.bulletin = 3, .audio = "missing.opus", .offset_ms = 2100, .duration_ms = 200},
    };
    CHECK(lc_clips_load(&cc, items, 3, on_programme, &prog) == 0);
    wait_loads(1);
    /* a (≥ 50 packets), silence up to 1.5 s, b, silence for the missing file's 200 ms */
    CHECK(prog.nsegs == 5);
    CHECK(prog.segs[0].clip != NULL && prog.segs[1].clip == NULL && prog.segs[3].clip == NULL);
    CHECK(prog.segs[0].npkts + prog.segs[1].npkts == 75);
    CHECK(cc.head != NULL && cc.head->refs == 1);

    struct lc_packer pk;
    struct lc_page *headers = NULL;
    CHECK(lc_packer_init(&pk, 4242, 312, NULL, 0, &headers) == 0);
    CHECK(headers != NULL && headers->g0 == 0 && headers->g1 == 0);
    CHECK(memcmp(headers->data, "OggS", 4) == 0 && (headers->data[5] & 2)); /* BOS */
    struct lc_pageq q = {0};
    uint64_t made = 0;
    bool last = false, interrupted = false;
    while (!last) {
        for (int i = 0; i < 25 && !last; i++) { /* 0.5 s pages */
            const unsigned char *pkt;
            uint32_t len;
            uint64_t end;
            CHECK(lc_prog_next(&prog, pk.granule, &pkt, &len, &last, &end) == 1);
            CHECK(lc_packer_add(&pk, pkt, len, 960, last, end) == 0);
            made++;
        }
        CHECK(lc_packer_flush(&pk, &q) >= 1);
        if (!interrupted && made >= 100) { /* in b: the emergency goes in front, b again */
            struct lc_onair_item em = {.bulletin = 9, .audio = "e.opus", .duration_ms = 300};
            CHECK(lc_clips_load(&cc, &em, 1, on_emergency, &prog) == 0);
            wait_loads(2);
            interrupted = true;
        }
    }
    CHECK(lc_packer_add(&pk, silence, 3, 960, false, 0) == -EINVAL); /* nothing after EOS */
    /* pages: continuous granules, one serial, EOS on the last */
    uint64_t g = 0;
    int pages = 0;
    for (struct lc_page *p = q.head; p; p = p->next, pages++) {
        CHECK(p->g0 == g);
        CHECK(p->g1 >= p->g0);
        ogg_page og = {.header = p->data, .header_len = 27 + p->data[26]};
        og.body = p->data + og.header_len;
        og.body_len = (long)p->len - og.header_len;
        CHECK(ogg_page_serialno(&og) == 4242);
        CHECK((uint64_t)ogg_page_granulepos(&og) == p->g1);
        CHECK((ogg_page_eos(&og) != 0) == (p->next == NULL));
        CHECK(p->eos == (p->next == NULL));
        g = p->g1;
    }
    CHECK(pages >= 6);
    /* renumbering a page for a receiver that joined in the middle: the CRC is still right */
    for (struct lc_page *p = q.head; p; p = p->next) {
        unsigned char hdr[27], *copy = malloc(p->len), crc[4];
        CHECK(lc_page_reseq(p, lc_page_seq(p) - 5, hdr) == 0);
        memcpy(copy, hdr, 27);
        memcpy(copy + 27, p->data + 27, p->len - 27);
        CHECK(copy[18] == 5 && copy[19] == 0);
        memcpy(crc, copy + 22, 4);
        ogg_page og = {.header = copy, .header_len = 27 + copy[26]};
        og.body = copy + og.header_len;
        og.body_len = (long)p->len - og.header_len;
        ogg_page_checksum_set(&og); /* libogg's own CRC of the renumbered page */
        CHECK(memcmp(crc, copy + 22, 4) == 0);
        free(copy);
    }
    /* airings: a whole, b cut by the emergency, e, b again */
    CHECK(prog.nair == 4);
    CHECK(prog.air[0].bulletin == 1 && prog.air[1].bulletin == 2 && prog.air[2].bulletin == 9 &&
          prog.air[3].bulletin == 2);
    CHECK(prog.air[0].g0 == 312 && prog.air[0].g1 == 312 + 48000);
    CHECK(prog.air[3].g0 > prog.air[2].g1);
    /* the last packet is the missing file's silence: no end trimming */
    CHECK(g == made * 960);

    /* delivery: a receiver that got the first 1.5 s, then the rest after a 0.5 s gap */
    struct lc_dlv *list = NULL, *d = lc_dlv_new("k1", &list);
    CHECK(d != NULL && list == d);
    for (struct lc_page *p = q.head; p; p = p->next)
        if (p->g1 <= 72000 || p->g0 >= 96000)
            CHECK(lc_dlv_add(d, p->g0, p->g1) == 0);
    CHECK(d->nrng == 2);
    CHECK(lc_dlv_covers(d, prog.air[0].g0, prog.air[0].g1));
    CHECK(lc_dlv_covers(d, prog.air[3].g0, prog.air[3].g1));
    CHECK(!lc_dlv_covers(d, prog.air[1].g0, prog.air[1].g1));
    CHECK(lc_dlv_add(d, 48000, 120000) == 0); /* a reconnection's burst overlaps both */
    CHECK(d->nrng == 1);
    CHECK(fabs(lc_dlv_audio_s(d) - (double)g / 48000.0) < 1e-9);
    CHECK(lc_dlv_delivered(d, 100, 0, 0) == 0 && d->bytes == 100 && d->nrng == 1); /* headers */
    lc_dlv_free_all(&list);
    CHECK(list == NULL);

    lc_page_unref(headers);
    lc_pageq_clear(&q);
    lc_packer_free(&pk);
    lc_prog_free(&prog);
    CHECK(cc.head == NULL); /* the last user let go of every clip */
    lc_clips_close(&cc);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0); /* no handle left */
}

int main(void)
{
    char dir[] = "/tmp/lc-stream-pages-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    test_refs_and_trim();
    test_timeline_and_packer(dir);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    return check_done();
}
