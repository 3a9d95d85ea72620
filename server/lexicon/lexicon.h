/*
 * server/lexicon/lexicon.h — the door of server/lexicon/: the station lexicon, the readings
 * staff add or correct from the console (issue 20, point 7; docs/normalization.md).
 *
 *   GET    /api/v1/lexicon                → {"entries": [{"word","reading","created_at",
 *                                            "updated_at","updated_by"}], "builtin": N}
 *   PUT    /api/v1/lexicon/{word}         {"reading"} → 201 (new) / 200 the entry
 *   DELETE /api/v1/lexicon/{word}         → 204
 *   POST   /api/v1/normalize              {"text", "word"?, "reading"?} → {"spoken"}
 *   POST   /api/v1/lexicon/preview        {"text", "word"?, "reading"?} → 200 audio/ogg, the
 *                                          spoken text in X-Loacast-Spoken (percent-encoded)
 * Roles: every staff role reads and tries (GET, normalize, preview); admin, editor and approver
 * write (they are the ones who write and check bulletins); the operator does not.
 *
 * It owns the table `lexicon_entries` (migration 44); every write is audited
 * (lexicon_put, lexicon_delete). The lexicon in use is the server's shared handle: built-in
 * entries, then the `[audio] lexicon` TSV file, then the station entries (these win). After each
 * write a new set of entries is built from a kept base (built-in + file, no file read) and
 * swapped into the handle (lc_lexicon_swap): renders in progress keep the set they started
 * with, the next render reads the new one. The answer to a write is sent after the swap.
 *
 * Threads: the loop thread; normalisations and previews run on the render pool.
 */
#ifndef LC_SERVER_LEXICON_LEXICON_H
#define LC_SERVER_LEXICON_LEXICON_H

#include <uv.h>

#include "common/err.h"

struct lc_store;
struct lc_router;
struct lc_workers;
struct lc_renderer;
struct lc_lexicon;
struct lc_stlex;

/* What the module uses; none of it is owned by the module. */
struct lc_stlex_deps {
    uv_loop_t *loop;
    struct lc_store *store;
    struct lc_workers *render_pool;     /* previews, normalisations, the file's re-reads */
    struct lc_renderer *renderer;
    struct lc_lexicon *lexicon;         /* the server's shared lexicon: swapped in place */
    const char *tsv_path;               /* [audio] lexicon, copied; NULL or "": none */
    int bitrate_kbps;                   /* the previews' Opus bitrate */
    double loudness_lufs;
};

/* Creates the module: reads the TSV file and the station entries (before the loop runs) and
 * installs them in deps->lexicon. 0, or -errno with err set (a bad file names file and line). */
int lc_stlex_open(struct lc_stlex **out, const struct lc_stlex_deps *deps, struct lc_err *err);
void lc_stlex_free(struct lc_stlex *m);
int lc_stlex_routes(struct lc_stlex *m, struct lc_router *r);

/* SIGHUP: re-reads the TSV file tsv_path (NULL: the one in use; "": none from now on) on the
 * render pool, then (on the loop) installs built-in + file + station entries and logs what it
 * loaded ("lexicon: reloaded: N built-in and FILE entries, K station entries"); a file that no
 * longer loads is logged with its line and the lexicon in use is kept. 0 when the re-read was
 * queued, else -errno (-ENAMETOOLONG, -ENOMEM, -ESHUTDOWN). */
int lc_stlex_reload(struct lc_stlex *m, const char *tsv_path);

#endif
