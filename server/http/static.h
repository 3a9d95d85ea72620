/*
 * server/http/static.h — the web console's files (web/), served at "/" and "/web/..." (issue 8).
 *
 * The files are read once, at start, into memory: a table of (name, bytes, type, ETag). A
 * request is answered only if its path names an entry of that table exactly, so nothing outside
 * the table can be reached — no "..", no percent-decoding tricks, no symlinks followed at request
 * time. Editing a file under web/ takes a restart to be seen.
 *
 * Where web/ is found: `[server] web_dir` when set (a missing or empty directory then stops the
 * start); otherwise the first directory holding index.html among
 *   <directory of the executable>/../web            (a build directory inside the source tree)
 *   <directory of the executable>/../share/loacast/web   (installed: meson install)
 *   LC_WEB_SOURCE_DIR, the source tree's web/ as meson saw it when building
 * If none holds it, the server runs without a console ("/" answers 404 with a message saying so;
 * /web/station.json still answers).
 *
 * Every answer carries a strict Content-Security-Policy (only the server's own scripts, styles
 * and media; blob: media for the bulletin preview; images also from [map] tiles' origin), nosniff, no referrer, no framing, an ETag
 * (a hash of the content) and Cache-Control: no-cache, so browsers revalidate with
 * If-None-Match and get 304 until the file changes.
 *
 * Threads: loaded before the loop runs, then read-only on the loop thread.
 */
#ifndef LC_SERVER_STATIC_H
#define LC_SERVER_STATIC_H

#include "common/err.h"

struct lc_router;
struct lc_static;

/* Loads the console's files as described above into *out (owned by the caller, freed with
 * lc_static_free()); web_dir is `[server] web_dir` ("" = look in the default places), timezone
 * the station's (for station.json). When no web directory was found and none was configured,
 * *out holds no files and 0 is returned. Returns a negative errno with a message in err when the
 * configured directory cannot be read, holds no index.html, or is over the limits (512 files,
 * 16 MiB). */
int lc_static_open(struct lc_static **out, const char *web_dir, const char *timezone,
                   struct lc_err *err);
void lc_static_free(struct lc_static *s);

/* [map] tiles and attribution (issue 19, the console's map): given to the console in
 * station.json ({"map":{"tiles","attribution"}}), and the tiles' origin is added to img-src of
 * the Content-Security-Policy. tiles "" (the default): no tiles. Called once, after open. */
void lc_static_set_map(struct lc_static *s, const char *tiles, const char *attribution);

/* The directory the files were read from ("" when none). */
const char *lc_static_dir(const struct lc_static *s);

/* Adds GET "/", "/index.html", "/web/{file}", "/web/{dir}/{file}", "/web/{dir}/{sub}/{file}"
 * (two levels down: web/leaflet/images/, issue 19) and "/web/station.json" (the
 * station's time zone and the version, for the console), answered from s. */
int lc_static_routes(struct lc_static *s, struct lc_router *r);

#endif
