/*
 * codecs/nz_words.c — word tokens: abbreviations, units, all-caps words, Roman numerals and
 * spelling (READING.md "Abbreviations", "Units", "Roman numerals").
 *
 * Order for a WORD token:
 *   1. an all-caps Roman numeral after a word that takes one (khóa XV, quý II, lần thứ XXV);
 *   2. a lexicon key spanning several tokens (TT&TT, KT-XH, đ/c, tr.đ);
 *   2b. a letter+digit code (ĐT100, IR64, QL1A): letters spelled, digits one by one;
 *   3. a unit after a number or "/" (2,5 km, 45.500.000đ, đồng/kWh);
 *   4. a one-token lexicon key (UBND);
 *   5. a unit that cannot be a Vietnamese word, anywhere (km2, kg);
 *   6. an unknown all-caps token: a Vietnamese syllable stays (HỌP), others are spelled (ST);
 *   7. anything else is copied.
 */
#include <string.h>
#include <strings.h>

#include "codecs/normalize_internal.h"

#define MAX_SPAN_TOKENS 9

bool nz_word_is(const struct nz_ctx *c, size_t i, const char *word)
{
    if (!nz_is_word(c, i) || c->t[i].len > 60)
        return false;
    char low[256];
    int n = nz_lower(c->t[i].s, c->t[i].len, low, sizeof low);
    return n >= 0 && strcmp(low, word) == 0;
}

bool nz_word_in(const struct nz_ctx *c, size_t i, const char *const *words)
{
    if (!nz_is_word(c, i) || c->t[i].len > 60)
        return false;
    char low[256];
    if (nz_lower(c->t[i].s, c->t[i].len, low, sizeof low) < 0)
        return false;
    for (; *words; words++)
        if (strcmp(low, *words) == 0)
            return true;
    return false;
}

/* ---- letters ---- */
static const struct {
    const char *letter;
    const char *name;
} letters[] = {
    {"a", "a"},   {"ă", "á"},   {"â", "ớ"},     {"b", "bê"},  {"c", "xê"},     {"d", "dê"},
    {"đ", "đê"},  {"e", "e"},   {"ê", "ê"},     {"f", "ép"},  {"g", "giê"},    {"h", "hát"},
    {"i", "i"},   {"j", "gi"},  {"k", "ca"},    {"l", "lờ"},  {"m", "mờ"},     {"n", "nờ"},
    {"o", "o"},   {"ô", "ô"},   {"ơ", "ơ"},     {"p", "pê"},  {"q", "quy"},    {"r", "rờ"},
    {"s", "ét"},  {"t", "tê"},  {"u", "u"},     {"ư", "ư"},   {"v", "vê"},     {"w", "vê kép"},
    {"x", "ích"}, {"y", "i"},   {"z", "dét"},
};

void nz_spell(struct nz_ctx *c, const char *s, size_t n)
{
    size_t pos = 0;
    while (pos < n) {
        size_t start = pos;
        uint32_t cp = nz_utf8_next(s, n, &pos);
        if (cp >= '0' && cp <= '9') {
            nz_emit(c, nz_digit_words[cp - '0']);
            continue;
        }
        if (nz_classify(cp) != NZ_C_LETTER)
            continue;
        char base[16];
        int tones;
        if (pos - start > 8 || nz_toneless(s + start, pos - start, base, sizeof base, &tones) < 0)
            continue;
        bool found = false;
        for (size_t k = 0; k < sizeof letters / sizeof letters[0]; k++)
            if (strcmp(base, letters[k].letter) == 0) {
                nz_emit(c, letters[k].name);
                found = true;
                break;
            }
        if (!found)
            nz_emitn(c, s + start, pos - start);
    }
}

/* ---- Vietnamese syllables ---- */
static const char *const rhymes[] = {
    "a", "ac", "ach", "ai", "am", "an", "ang", "anh", "ao", "ap", "at", "au", "ay", "ăc", "ăm",
    "ăn", "ăng", "ăp", "ăt", "âc", "âm", "ân", "âng", "âp", "ât", "âu", "ây", "e", "ec", "em",
    "en", "eng", "eo", "ep", "et", "ê", "êch", "êm", "ên", "ênh", "êp", "êt", "êu", "i", "ia",
    "ich", "im", "in", "inh", "ip", "it", "iu", "iêc", "iêm", "iên", "iêng", "iêp", "iêt", "iêu",
    "y", "yêm", "yên", "yêng", "yêt", "yêu", "ynh", "ych", "yt", "yu", "o", "oc", "oi", "om",
    "on", "ong", "op", "ot", "oong", "ooc", "oa", "oac", "oach", "oai", "oam", "oan", "oang",
    "oanh", "oao", "oap", "oat", "oay", "oăc", "oăm", "oăn", "oăng", "oăt", "oe", "oec", "oem",
    "oen", "oeo", "oet", "ô", "ôc", "ôi", "ôm", "ôn", "ông", "ôp", "ôt", "ơ", "ơi", "ơm", "ơn",
    "ơp", "ơt", "u", "uc", "ui", "um", "un", "ung", "up", "ut", "ua", "uân", "uâng", "uât",
    "uây", "uê", "uêch", "uênh", "uy", "uych", "uyên", "uyêt", "uynh", "uyt", "uyu", "uya",
    "uôc", "uôi", "uôm", "uôn", "uông", "uôt", "uơ", "ư", "ưc", "ưi", "ưm", "ưn", "ưng", "ưt",
    "ưu", "ưa", "ươc", "ươi", "ươm", "ươn", "ương", "ươp", "ươt", "ươu", NULL,
};
static const char *const onsets[] = {
    "ngh", "ng", "nh", "gh", "gi", "kh", "ph", "th", "tr", "ch", "qu", "b", "c", "d", "đ",
    "g",   "h",  "k",  "l",  "m",  "n",  "p",  "r",  "s",  "t",  "v",  "x", "",  NULL,
};

static bool front_vowel(const char *r)
{
    return r[0] == 'i' || r[0] == 'e' || strncmp(r, "ê", strlen("ê")) == 0 || r[0] == 'y';
}

bool nz_is_syllable(const char *s, size_t n)
{
    char tl[64];
    int tones;
    if (n > 40 || nz_toneless(s, n, tl, sizeof tl, &tones) < 0 || tones > 1)
        return false;
    if (strcmp(tl, "gi") == 0)
        return true;
    for (size_t o = 0; onsets[o]; o++) {
        size_t ol = strlen(onsets[o]);
        if (strncmp(tl, onsets[o], ol) != 0)
            continue;
        const char *r = tl + ol;
        if (*r == '\0')
            continue;
        bool front = front_vowel(r);
        if ((strcmp(onsets[o], "c") == 0 || strcmp(onsets[o], "ng") == 0 ||
             strcmp(onsets[o], "g") == 0) && front)
            continue;
        if ((strcmp(onsets[o], "k") == 0 || strcmp(onsets[o], "gh") == 0 ||
             strcmp(onsets[o], "ngh") == 0) && !front)
            continue;
        for (size_t k = 0; rhymes[k]; k++)
            if (strcmp(r, rhymes[k]) == 0)
                return true;
    }
    return false;
}

/* ---- units ---- */
static const struct unit {
    const char *key;
    const char *say;
    bool anywhere; /* not a Vietnamese word: expand even without a number before it */
    bool fold;     /* also matches case-insensitively */
} units[] = {
    {"km2", "ki lô mét vuông", true, true}, {"km²", "ki lô mét vuông", true, true},
    {"m2", "mét vuông", true, true},       {"m²", "mét vuông", true, false},
    {"m3", "mét khối", true, true},        {"m³", "mét khối", true, false},
    {"cm2", "xăng ti mét vuông", true, true}, {"cm3", "xăng ti mét khối", true, true},
    {"cm²", "xăng ti mét vuông", true, true}, {"cm³", "xăng ti mét khối", true, true},
    {"km", "ki lô mét", true, true},        {"cm", "xăng ti mét", true, true},
    {"mm", "mi li mét", true, true},        {"dm", "đề xi mét", false, false},
    {"m", "mét", false, false},             {"ha", "héc ta", false, true},
    {"kg", "ki lô gam", true, true},        {"g", "gam", false, false},
    {"mg", "mi li gam", true, false},       {"l", "lít", false, false},
    {"ml", "mi li lít", true, true},        {"kWh", "ki lô oát giờ", true, true},
    {"kW", "ki lô oát", true, true},       {"MW", "mê ga oát", true, false},
    {"MWh", "mê ga oát giờ", true, false},  {"GW", "gi ga oát", false, false},
    {"W", "oát", false, false},             {"kV", "ki lô vôn", true, false},
    {"V", "vôn", false, false},             {"h", "giờ", false, true},
    {"s", "giây", false, false},            {"ph", "phút", false, false},
    {"đ", "đồng", false, false},            {"k", "nghìn", false, false},
    {"tr", "triệu", false, false},          {"mmHg", "mi li mét thủy ngân", true, false},
    {"GB", "gi ga bai", false, false},      {"MB", "mê ga bai", false, false},
    {"Mbps", "mê ga bít trên giây", true, false},
    {"ppm", "phần triệu", true, false},
};

static const struct unit *find_unit(const char *s, size_t n)
{
    for (size_t k = 0; k < sizeof units / sizeof units[0]; k++) {
        const struct unit *u = &units[k];
        if (strlen(u->key) != n)
            continue;
        if (memcmp(u->key, s, n) == 0 || (u->fold && strncasecmp(u->key, s, n) == 0))
            return u;
    }
    return NULL;
}

/* The unit spelled by tokens i.. (WORD, or WORD + adjacent "2"/"3"/"²"/"³"). */
static const struct unit *unit_span(const struct nz_ctx *c, size_t i, size_t *end)
{
    if (!nz_is_word(c, i))
        return NULL;
    const struct nz_tok *t = &c->t[i];
    if (i + 1 < c->n && nz_adj(c, i + 1) &&
        ((c->t[i + 1].type == NZ_T_NUM && c->t[i + 1].len == 1) ||
         nz_is_sym(c, i + 1, 0xB2) || nz_is_sym(c, i + 1, 0xB3)) &&
        !(i + 2 < c->n && nz_adj(c, i + 2) && c->t[i + 2].type != NZ_T_SYM)) {
        char key[80];
        size_t kl = t->len + c->t[i + 1].len;
        if (kl < sizeof key) {
            memcpy(key, t->s, t->len);
            memcpy(key + t->len, c->t[i + 1].s, c->t[i + 1].len);
            const struct unit *u = find_unit(key, kl);
            if (u) {
                *end = i + 2;
                return u;
            }
        }
    }
    /* a unit word must end there: "km" but not "kmx" (tokens are maximal already) nor "m" in
     * "m2x" */
    if (i + 1 < c->n && nz_adj(c, i + 1) && c->t[i + 1].type == NZ_T_NUM)
        return NULL;
    *end = i + 1;
    return find_unit(t->s, t->len);
}

size_t nz_unit_at(struct nz_ctx *c, size_t i, bool after_number)
{
    size_t end = 0;
    const struct unit *u = unit_span(c, i, &end);
    if (u == NULL || (!after_number && !u->anywhere))
        return 0;
    nz_emit(c, u->say);
    return end;
}

bool nz_unit_at_peek(const struct nz_ctx *c, size_t i)
{
    size_t end = 0;
    return unit_span(c, i, &end) != NULL;
}

bool nz_is_currency(const struct nz_ctx *c, size_t i)
{
    static const char *const cur[] = {"đ", "đồng", "vnđ", "vnd", "usd", "$", NULL};
    if (i < c->n && c->t[i].type == NZ_T_SYM)
        return c->t[i].cp == '$' || c->t[i].cp == '%';
    return nz_word_in(c, i, cur);
}

/* ---- lexicon spans ---- */
/* Longest lexicon key made of tokens i.. (adjacent, at least min_tokens), looked up with prefix
 * ("" or "@" for document-code entries); emits it. */
static size_t lex_span(struct nz_ctx *c, size_t i, size_t min_tokens, const char *prefix)
{
    size_t maxk = nz_lex_max_key(c->lex), pl = strlen(prefix);
    if (maxk <= pl)
        return 0;
    maxk -= pl;
    size_t last = i, bytes = c->t[i].len;
    while (last + 1 < c->n && last + 1 - i < MAX_SPAN_TOKENS && nz_adj(c, last + 1) &&
           c->t[last + 1].type != NZ_T_URL && bytes + c->t[last + 1].len <= maxk) {
        bytes += c->t[last + 1].len;
        last++;
    }
    if (bytes > maxk)
        return 0;
    char key[512];
    if (pl + bytes >= sizeof key)
        return 0;
    memcpy(key, prefix, pl);
    memcpy(key + pl, c->t[i].s, bytes);
    for (size_t e = last + 1; e >= i + min_tokens && e > i; e--) {
        size_t n = (size_t)(c->t[e - 1].s + c->t[e - 1].len - c->t[i].s);
        const char *v = nz_lex_find(c->lex, key, pl + n);
        if (v) {
            nz_emit(c, v);
            return e;
        }
    }
    return 0;
}

static size_t say_caps_or_copy(struct nz_ctx *c, size_t i)
{
    const struct nz_tok *t = &c->t[i];
    if (t->caps) {
        if (nz_is_syllable(t->s, t->len)) {
            char low[256];
            /* a lone capital (Nguyễn Văn A, Trạm Y tế) keeps its case */
            size_t pos = 0;
            nz_utf8_next(t->s, t->len, &pos);
            int n = t->len < 200 && pos < t->len ? nz_lower(t->s, t->len, low, sizeof low) : -1;
            if (n > 0)
                nz_emitn(c, low, (size_t)n);
            else
                nz_emitn(c, t->s, t->len);
        } else {
            nz_spell(c, t->s, t->len);
        }
        return i + 1;
    }
    nz_emitn(c, t->s, t->len);
    return i + 1;
}

size_t nz_say_word_plain(struct nz_ctx *c, size_t i, bool doc)
{
    size_t j = doc ? lex_span(c, i, 1, "@") : 0;
    if (j)
        return j;
    j = lex_span(c, i, 1, "");
    return j ? j : say_caps_or_copy(c, i);
}

/* ---- letter+digit codes ---- */
/* ĐT100, IR64, OM5451, H5N1, QL1A: capitals glued to digits (and maybe more capitals) are a
 * code: letters spelled, digits one by one, whatever the lexicon says of the letters alone (ĐT
 * is "điện thoại" in running text, not in a rice variety's name). A whole code that is a
 * lexicon key was read before this (lex_span). Road numbers are the exception: QL/TL + number
 * is "quốc lộ/tỉnh lộ" + the number as a cardinal (QL14 → quốc lộ mười bốn). */
static size_t say_code(struct nz_ctx *c, size_t i)
{
    static const char *const roads[][2] = {{"QL", "quốc lộ"}, {"TL", "tỉnh lộ"}};
    const struct nz_tok *t = &c->t[i];
    if (!t->caps || t->len > 12 || !nz_is_num(c, i + 1) || !nz_adj(c, i + 1) ||
        c->t[i + 1].len > 12)
        return 0;
    size_t j = i;
    const char *road = NULL;
    for (size_t r = 0; r < sizeof roads / sizeof roads[0]; r++)
        if (t->len == strlen(roads[r][0]) && memcmp(t->s, roads[r][0], t->len) == 0)
            road = roads[r][1];
    /* the parts: caps words and digit runs, glued, a bounded number of them */
    while (j < c->n && j < i + 8 && (j == i || nz_adj(c, j))) {
        const struct nz_tok *p = &c->t[j];
        if (p->type == NZ_T_WORD && p->caps && p->len <= 12) {
            if (j == i && road)
                nz_emit(c, road);
            else
                nz_spell(c, p->s, p->len);
        } else if (p->type == NZ_T_NUM && p->len <= 12) {
            if (j == i + 1 && road)
                nz_say_int(c, p->s, p->len);
            else
                nz_say_digits(c, p->s, p->len);
        } else {
            break;
        }
        j++;
    }
    return j;
}

static const char *const roman_triggers[] = {
    "khóa", "khoá", "hội", "thứ", "quý", "kỷ", "kỉ", "kỳ", "kì", "phần", "chương", "mục",
    "đoạn", "lần", "tập", "hạng", "cấp", "điều", "bậc", "vùng", "đợt", "phiên", NULL,
};

size_t nz_rule_word(struct nz_ctx *c, size_t i)
{
    const struct nz_tok *t = &c->t[i];
    size_t j;
    if (t->caps && i > 0 && nz_word_in(c, i - 1, roman_triggers) &&
        !(i + 1 < c->n && nz_adj(c, i + 1) && c->t[i + 1].type != NZ_T_SYM)) {
        int v = nz_roman_value(t->s, t->len);
        if (v > 0) {
            if (nz_word_is(c, i - 1, "thứ"))
                nz_say_ordinal(c, (uint64_t)v);
            else
                nz_say_u64(c, (uint64_t)v);
            /* quý III/2024 */
            if (nz_is_sym(c, i + 1, '/') && nz_adj(c, i + 1) && nz_is_num(c, i + 2) &&
                nz_adj(c, i + 2) && c->t[i + 2].len == 4) {
                nz_emit(c, "năm");
                nz_say_int(c, c->t[i + 2].s, 4);
                return i + 3;
            }
            return i + 1;
        }
    }
    if ((j = lex_span(c, i, 2, "")))
        return j;
    if ((j = say_code(c, i)))
        return j;
    if (i > 0 && (c->t[i - 1].type == NZ_T_NUM || nz_is_sym(c, i - 1, '/')) &&
        (j = nz_unit_at(c, i, true)))
        return j;
    if ((j = lex_span(c, i, 1, "")))
        return j;
    if ((j = nz_unit_at(c, i, false)))
        return j;
    return say_caps_or_copy(c, i);
}
