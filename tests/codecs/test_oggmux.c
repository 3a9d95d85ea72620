/* Ogg muxing: header packets, granule positions, EOS, a mux → demux round trip, the page writer. */
#include <ogg/ogg.h>
#include <string.h>

#include "codecs/encode.h"
#include "codecs/oggmux.h"
#include "tests/check.h"

static void make_fake(struct lc_encoded *e, size_t npkts, uint64_t samples)
{
    memset(e, 0, sizeof *e);
    for (size_t i = 0; i < npkts; i++) {
        unsigned char p[40];
        memset(p, (int)(i & 0xff), sizeof p);
        struct lc_packet one = {0, sizeof p};
        struct lc_encoded src = {.data = p, .data_len = sizeof p, .pkts = &one, .npkts = 1};
        CHECK(lc_encoded_append(e, &src) == 0);
    }
    e->preskip = 312;
    e->samples = samples;
}

int main(void)
{
    unsigned char head[19];
    lc_opus_head(head, 312);
    CHECK(memcmp(head, "OpusHead", 8) == 0);
    CHECK(head[8] == 1 && head[9] == 1);
    CHECK(head[10] == (312 & 0xff) && head[11] == (312 >> 8));
    CHECK(head[12] == 0x80 && head[13] == 0xbb && head[14] == 0 && head[15] == 0); /* 48000 */

    /* 120 packets of 20 ms, true length 2.35 s = 112800 samples (trims part of the padding). */
    struct lc_encoded e;
    make_fake(&e, 120, 112800);
    struct lc_buf file = {0};
    struct lc_err err = {0};
    CHECK(lc_ogg_mux(&e, "Bản tin thử", 1234, &file, &err) == 0);

    /* Walk the pages with libogg: BOS first, EOS last, last granule = preskip + samples. */
    ogg_sync_state oy;
    ogg_sync_init(&oy);
    char *b = ogg_sync_buffer(&oy, (long)file.len);
    memcpy(b, file.data, file.len);
    ogg_sync_wrote(&oy, (long)file.len);
    ogg_page pg;
    int pages = 0, eos_pages = 0;
    int64_t last_gp = -1, prev_gp = -1;
    while (ogg_sync_pageout(&oy, &pg) == 1) {
        if (pages == 0)
            CHECK(ogg_page_bos(&pg));
        if (pages == 0 || pages == 1)
            CHECK(ogg_page_granulepos(&pg) == 0);
        CHECK(ogg_page_serialno(&pg) == 1234);
        if (ogg_page_eos(&pg))
            eos_pages++;
        int64_t gp = ogg_page_granulepos(&pg);
        if (pages >= 2)
            CHECKF(gp > prev_gp, "granules must grow: %lld after %lld", (long long)gp,
                   (long long)prev_gp);
        prev_gp = gp;
        last_gp = gp;
        pages++;
    }
    ogg_sync_clear(&oy);
    CHECK(pages >= 4); /* head, tags, and 120 packets at 50 per page */
    CHECK(eos_pages == 1);
    CHECK(last_gp == 312 + 112800);

    /* Round trip. */
    struct lc_encoded back = {0};
    CHECK(lc_ogg_demux(file.data, file.len, &back, &err) == 0);
    CHECK(back.npkts == 120);
    CHECK(back.preskip == 312);
    CHECK(back.samples == 112800);
    CHECK(back.data_len == e.data_len && memcmp(back.data, e.data, e.data_len) == 0);
    lc_encoded_free(&back);

    /* Garbage and truncation are errors, not crashes. */
    CHECK(lc_ogg_demux((const unsigned char *)"not ogg at all", 14, &back, &err) < 0);
    CHECK(lc_ogg_demux(file.data, 60, &back, &err) < 0);

    /* The writer alone (the live streams' use): header pages at once, then one page per flush
     * whatever its size when page_fill is 65307; libogg reads it back (CRC checked). */
    struct lc_ogg_writer *w = NULL;
    struct lc_buf live = {0};
    CHECK(lc_ogg_writer_open(&w, 77, 312, NULL, 65307, &live) == 0);
    size_t headers_len = live.len;
    CHECK(headers_len > 47 + 19 && memcmp(live.data, "OggS", 4) == 0);
    struct lc_ogg_page lp;
    CHECK(lc_ogg_writer_page(w, &lp) == 0); /* nothing pending */
    unsigned char big[400] = {0};
    for (int i = 0; i < 60; i++)
        CHECK(lc_ogg_writer_packet(w, big, sizeof big, 312 + (i + 1) * 960, i == 59) == 0);
    CHECK(lc_ogg_writer_packet(w, big, 1, 0, false) == -EINVAL); /* after EOS */
    CHECK(lc_ogg_writer_page(w, &lp) == 1);
    CHECK(lp.eos && lp.granulepos == 312 + 60 * 960 && lp.body_len == 60 * sizeof big);
    CHECK(lc_buf_append(&live, lp.header, lp.header_len) == 0);
    CHECK(lc_buf_append(&live, lp.body, lp.body_len) == 0);
    CHECK(lc_ogg_writer_page(w, &lp) == 0);
    lc_ogg_writer_free(w);
    ogg_sync_init(&oy);
    b = ogg_sync_buffer(&oy, (long)live.len);
    memcpy(b, live.data, live.len);
    ogg_sync_wrote(&oy, (long)live.len);
    pages = 0;
    while (ogg_sync_pageout(&oy, &pg) == 1)
        pages++;
    CHECK(pages == 3);
    ogg_sync_clear(&oy);
    lc_buf_free(&live);

    /* An empty packet list cannot be muxed. */
    struct lc_encoded empty = {0};
    struct lc_buf f2 = {0};
    CHECK(lc_ogg_mux(&empty, NULL, 1, &f2, &err) == -EINVAL);

    lc_buf_free(&f2);
    lc_buf_free(&file);
    lc_encoded_free(&e);
    return check_done();
}
