/*
 * codecs/normalize.h — Vietnamese text normalisation: the words an announcer would say.
 *
 * Turns UTF-8 Vietnamese text (NFC or NFD) into NFC words and punctuation only, following
 * shared/data/READING.md: numbers, dates, times, money, units, ranges, ratios, document codes,
 * Roman numerals, phone numbers, web addresses, abbreviations from a lexicon, list markers and
 * paragraph breaks as pauses. Output has one line per input line.
 *
 * Threads: lc_normalize() may run on any number of threads at once with the same lexicon. A
 * lexicon handle shared between threads is changed only by lc_lexicon_swap(), which installs a
 * whole new set of entries at once: each lc_normalize() call reads the set that was in use when
 * it started (reference-counted), so a render in progress keeps its reading.
 */
#ifndef LC_CODECS_NORMALIZE_H
#define LC_CODECS_NORMALIZE_H

#include <stddef.h>

#include "common/err.h"

struct lc_lexicon;

/* Loads the built-in lexicon (compiled into the program from data/lexicon.tsv and
 * data/domains.tsv), then, if station_path is not NULL, the station's own TSV file
 * (`ABBR<TAB>expansion`, `#` comments, UTF-8 NFC or NFD; `@ABBR` = only inside document numbers),
 * whose entries add to or override the built-in ones. The file is read now: editing it takes
 * effect at the next load, without a rebuild. On success *out owns the lexicon (free with
 * lc_lexicon_free). A station file that cannot be read (-errno) or has a malformed line (-EINVAL)
 * or invalid UTF-8 (-EILSEQ) is an error naming the file (and line); *out is NULL then.
 * See docs/normalization.md. */
int lc_lexicon_load(struct lc_lexicon **out, const char *station_path, struct lc_err *err);

/* Number of entries (built-in plus station). */
size_t lc_lexicon_size(const struct lc_lexicon *lex);

void lc_lexicon_free(struct lc_lexicon *lex);

/* The most bytes of a station entry's word and reading. */
#define LC_LEXICON_KEY_MAX 64
#define LC_LEXICON_READING_MAX 300

/* Checks a station entry (word -> reading) and gives its NFC, trimmed form in *nkey and
 * *nreading (malloc'd, the caller frees; NULL on error). Refused: invalid UTF-8 (-EILSEQ), an
 * empty side, a word with a space, a reading with digits (they would be read again by the
 * number rules), control characters or no letter (-EINVAL), a side longer than the limits above
 * (-E2BIG). err says which, in plain words. */
int lc_lexicon_check_entry(const char *key, const char *reading, char **nkey, char **nreading,
                           struct lc_err *err);

/* Adds or replaces an entry (checked as above) in a lexicon that no other thread uses yet (one
 * being built before lc_lexicon_swap()). 0 or the error above. */
int lc_lexicon_add(struct lc_lexicon *lex, const char *key, const char *reading,
                   struct lc_err *err);

/* A private copy of the entries src uses now (src may be in use by other threads), to add to
 * before a swap or to try an entry. 0 or -ENOMEM; *out as lc_lexicon_load(). */
int lc_lexicon_clone(struct lc_lexicon **out, const struct lc_lexicon *src, struct lc_err *err);

/* Makes lex (shared, in use) read fresh's entries from now on and frees the handle fresh.
 * Normalisations already running finish with the entries they started with; the old entries
 * are freed when the last of them ends. Thread-safe. */
void lc_lexicon_swap(struct lc_lexicon *lex, struct lc_lexicon *fresh);

/* Normalises text[0..len) (NUL bytes allowed, treated as spaces). On success *out is a
 * NUL-terminated, malloc'd NFC string owned by the caller, with one line per input line, at most
 * 10x the input bytes. Text that is not valid UTF-8 (-EILSEQ, message with line and byte) or that
 * normalises to nothing (-ENODATA) is an error with a message and *out is NULL; -ENOMEM likewise.
 * Linear time in len. lex may be NULL only in tests that want no abbreviations. */
int lc_normalize(const struct lc_lexicon *lex, const char *text, size_t len, char **out,
                 struct lc_err *err);

#endif
