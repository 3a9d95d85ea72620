/* codecs/normalize.c — PLACEHOLDER until the normaliser lands (issue 3): checks UTF-8, copies. */
#include "codecs/normalize.h"

#include <stdlib.h>
#include <string.h>

struct lc_lexicon {
    int unused;
};

int lc_lexicon_load(struct lc_lexicon **out, const char *station_path, struct lc_err *err)
{
    (void)station_path;
    *out = calloc(1, sizeof **out);
    return *out ? 0 : lc_err_set(err, -ENOMEM, "out of memory");
}

size_t lc_lexicon_size(const struct lc_lexicon *lex)
{
    (void)lex;
    return 0;
}

void lc_lexicon_free(struct lc_lexicon *lex)
{
    free(lex);
}

int lc_normalize(const struct lc_lexicon *lex, const char *text, size_t len, char **out,
                 struct lc_err *err)
{
    (void)lex;
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t' || text[i] == '\r'))
        i++;
    if (i == len)
        return lc_err_set(err, -ENODATA, "the text is empty");
    *out = strndup(text, len);
    return *out ? 0 : lc_err_set(err, -ENOMEM, "out of memory");
}
