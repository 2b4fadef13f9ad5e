/* textstats.c — computes the statistics of textstats.h in a few linear
 * passes over a document: tokens, the three line views the reference
 * filters use, paragraphs, n-grams, and the C4 line filter.
 *
 * The reference filters (datatrove) split lines three different ways, and
 * the thresholds were tuned on those definitions, so each is kept:
 *  - Gopher quality and C4: str.splitlines() (every line break Python knows,
 *    no empty line after a final one);
 *  - Gopher repetition: re.split("\n+") (runs of newlines are one break,
 *    empty first/last pieces are counted);
 *  - FineWeb: str.split("\n") (every newline is a break).
 * Repetition is measured with one open-addressing hash table of 64-bit
 * element hashes, reset between measures, held in the caller's scratch.
 */
#include "textstats.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "../core/util.h"
#include "unichar.h"

#define TS_SEED 0x74657874737461ULL   /* "textsta" */

/* The groups that need the tokens, and every group. */
#define SL_TS_SKIP_TOKENS \
    (SL_TS_SKIP_WORDS | SL_TS_SKIP_SYMBOLS | SL_TS_SKIP_TOP_NGRAMS | SL_TS_SKIP_DUP_NGRAMS | SL_TS_SKIP_FINEWEB)
#define SL_TS_SKIP_ALL (SL_TS_SKIP_TOKENS | SL_TS_SKIP_GOPHER_LINES | SL_TS_SKIP_REPETITION | SL_TS_SKIP_C4)

typedef struct sl_ts_token {
    uint32_t off, len;     /* bytes */
    uint32_t chars;        /* code points */
    uint64_t hash;
    uint64_t prefix;       /* polynomial hash of tokens 0..this one, for n-gram keys */
} sl_ts_token;

#define NGRAM_BASE 0x100000001b3ULL

typedef struct sl_ts_slot {
    uint64_t key;          /* 0 = empty */
    uint32_t count;
    uint32_t first;        /* index of the first occurrence */
} sl_ts_slot;

void sl_textstats_scratch_free(sl_textstats_scratch *s) {
    sl_wordtok_free(&s->wordtok);
    sl_buf_free(&s->words);
    free(s->tokens);
    free(s->gram_slot);
    free(s->gram_repeated);
    free(s->table);
    free(s->used);
    sl_buf_free(&s->lower);
    sl_buf_free(&s->cite);
    memset(s, 0, sizeof *s);
}

/* ---- characters ---- */

/* Unicode punctuation (P*) and symbols (S*). */
static bool is_punct(int32_t cp) {
    if (cp < 0x80)
        return (cp >= '!' && cp <= '/') || (cp >= ':' && cp <= '@') || (cp >= '[' && cp <= '`') ||
               (cp >= '{' && cp <= '~');
    utf8proc_category_t c = utf8proc_category(cp);
    return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_SO;
}

static bool is_alpha(int32_t cp) {
    if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
    utf8proc_category_t c = utf8proc_category(cp);
    return c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO;
}

/* In a sorted table of code points. */
static bool in_table(int32_t cp, const int32_t *t, size_t n) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t[mid] == cp) return true;
        if (t[mid] < cp) lo = mid + 1;
        else hi = mid;
    }
    return false;
}

/* datatrove's TERMINAL_PUNCTUATION (utils/text.py, since 0.4.0): sentence
 * enders of many scripts. */
static const int32_t terminal_punct[] = {
    0x21, 0x2E, 0x3F, 0x589, 0x61D, 0x61E, 0x61F, 0x6D4, 0x700, 0x701, 0x702, 0x7F9, 0x837, 0x839, 0x83D,
    0x83E, 0x964, 0x965, 0x104A, 0x104B, 0x1362, 0x1367, 0x1368, 0x166E, 0x1735, 0x1736, 0x17D4, 0x17D5,
    0x17D6, 0x17D9, 0x17DA, 0x1803, 0x1809, 0x1944, 0x1945, 0x1AA8, 0x1AA9, 0x1AAA, 0x1AAB, 0x1B5A, 0x1B5B,
    0x1B5E, 0x1B5F, 0x1B7D, 0x1B7E, 0x1C3B, 0x1C3C, 0x1C7E, 0x1C7F, 0x203C, 0x203D, 0x2047, 0x2048, 0x2049,
    0x2E2E, 0x2E3C, 0x2E53, 0x2E54, 0x3002, 0xA4FF, 0xA60E, 0xA60F, 0xA6F3, 0xA6F7, 0xA876, 0xA877, 0xA8CE,
    0xA8CF, 0xA92F, 0xA9C8, 0xA9C9, 0xAA5D, 0xAA5E, 0xAA5F, 0xAAF0, 0xAAF1, 0xABEB, 0xFE52, 0xFE56, 0xFE57,
    0xFF01, 0xFF0E, 0xFF1F, 0xFF61, 0x10A56, 0x10A57, 0x10F55, 0x10F56, 0x10F57, 0x10F58, 0x10F59, 0x10F86,
    0x10F87, 0x10F88, 0x10F89, 0x11047, 0x11048, 0x110BE, 0x110BF, 0x110C0, 0x110C1, 0x11141, 0x11142,
    0x11143, 0x111C5, 0x111C6, 0x111CD, 0x111DE, 0x111DF, 0x11238, 0x11239, 0x1123B, 0x1123C, 0x112A9,
    0x1144B, 0x1144C, 0x115C2, 0x115C3, 0x115C9, 0x115CA, 0x115CB, 0x115CC, 0x115CD, 0x115CE, 0x115CF,
    0x115D0, 0x115D1, 0x115D2, 0x115D3, 0x115D4, 0x115D5, 0x115D6, 0x115D7, 0x11641, 0x11642, 0x1173C,
    0x1173D, 0x1173E, 0x11944, 0x11946, 0x11A42, 0x11A43, 0x11A9B, 0x11A9C, 0x11C41, 0x11C42, 0x11EF7,
    0x11EF8, 0x11F43, 0x11F44, 0x16A6E, 0x16A6F, 0x16AF5, 0x16B37, 0x16B38, 0x16B44, 0x16E98, 0x1BC9F,
    0x1DA88,
};

/* The non-ASCII part of datatrove's PUNCTUATION string (utils/text.py): C1
 * controls, quotes, dashes, CJK and full-width punctuation. All ASCII
 * punctuation and the C0 controls but tab and newline are in it too. */
static const int32_t dt_punct_extra[] = {
    0xAB, 0xB4, 0xBB, 0x2013, 0x2014, 0x2019, 0x201C, 0x201D, 0x201E, 0x2026, 0x2236, 0x2501, 0x25BA,
    0x3001, 0x3002, 0x3008, 0x3009, 0x300A, 0x300B, 0x300C, 0x300D, 0x3010, 0x3011, 0xFF01, 0xFF05, 0xFF08,
    0xFF09, 0xFF0C, 0xFF0E, 0xFF11, 0xFF1A, 0xFF1B, 0xFF1F, 0xFF5E,
};

#define TABLE_LEN(t) (sizeof t / sizeof *t)

/* In datatrove's PUNCTUATION_SET (with TERMINAL_PUNCTUATION since 0.4.0). */
static bool dt_is_punct(int32_t cp, sl_rules_version rules) {
    if (cp < 0x80)
        return (cp >= 0 && cp <= 8) || (cp >= 11 && cp <= 31) || cp == 127 || (cp >= '!' && cp <= '/') ||
               (cp >= ':' && cp <= '@') || (cp >= '[' && cp <= '`') || (cp >= '{' && cp <= '~');
    if (cp <= 0x9F) return true;
    if (in_table(cp, dt_punct_extra, TABLE_LEN(dt_punct_extra))) return true;
    return rules >= SL_RULES_DATATROVE_0_4 && in_table(cp, terminal_punct, TABLE_LEN(terminal_punct));
}

/* ASCII's classes, as the functions above and sl_uc_is_space define them,
 * by table (the tokenizer looks up every character). */
enum { C_SPACE = 1, C_ALPHA = 2, C_PUNCT = 4, C_DT_PUNCT = 8 };
static const uint8_t ascii_class[128] = {
    8, 8, 8, 8, 8, 8, 8, 8, 8, 1, 1, 9, 9, 9, 8, 8,
    8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9,
    1, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 12, 12, 12, 12, 12,
    12, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 12, 12, 12, 12, 12,
    12, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 12, 12, 12, 12, 8,
};

/* The last code point of p[0..len) (len > 0). */
static int32_t last_cp(const char *p, size_t len) {
    size_t start = len - 1;
    while (start > 0 && ((unsigned char)p[start] & 0xC0) == 0x80 && len - start < 4) start--;
    int32_t cp;
    sl_uc_next(p + start, len - start, &cp);
    return cp;
}

/* Code points of valid UTF-8: the bytes that do not continue a sequence
 * (10xxxxxx), eight at a time. */
static uint64_t count_valid_chars(const char *p, size_t len) {
    uint64_t continuing = 0;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t x;
        memcpy(&x, p + i, 8);
        uint64_t tops = (x & ~(x << 1) & 0x8080808080808080ULL) >> 7;   /* 1 in each continuation byte */
        continuing += tops * 0x0101010101010101ULL >> 56;                /* their sum, in the top byte */
    }
    for (; i < len; i++) continuing += ((unsigned char)p[i] & 0xC0) == 0x80;
    return len - continuing;
}

/* Code points, counted as sl_uc_next decodes them (an invalid byte is one);
 * valid: p is known to be valid UTF-8. */
static uint64_t count_chars(const char *p, size_t len, bool valid) {
    if (valid) return count_valid_chars(p, len);
    uint64_t n = 0;
    size_t i = 0;
    while (i < len) {
        if ((unsigned char)p[i] < 0x80) {
            i++;
        } else {
            int32_t cp;
            i += sl_uc_next(p + i, len - i, &cp);
        }
        n++;
    }
    return n;
}

static bool ends_with(const char *p, size_t len, const char *suffix) {
    size_t n = strlen(suffix);
    return len >= n && memcmp(p + len - n, suffix, n) == 0;
}

/* Bytes of leading / trailing whitespace. */
static size_t lstrip_len(const char *p, size_t len) {
    size_t i = 0;
    while (i < len) {
        int32_t cp;
        size_t n = sl_uc_next(p + i, len - i, &cp);
        if (!sl_uc_is_space(cp)) break;
        i += n;
    }
    return i;
}

static size_t rstrip_len(const char *p, size_t len) {
    size_t end = len;
    while (end > 0) {
        size_t start = end - 1;
        while (start > 0 && ((unsigned char)p[start] & 0xC0) == 0x80 && end - start < 4) start--;
        int32_t cp;
        sl_uc_next(p + start, end - start, &cp);
        if (!sl_uc_is_space(cp)) break;
        end = start;
    }
    return len - end;
}

/* ch is one of the characters of set (never matches NUL). */
static bool one_of(char ch, const char *set) {
    return ch && strchr(set, ch);
}

static double ratio(double num, double den) {
    return den > 0 ? num / den : 0;
}

/* ---- the hash table ---- */

static uint64_t mix(uint64_t h) {
    h ^= h >> 31;
    h *= 0x7fb5d329728ea185ULL;
    h ^= h >> 27;
    h *= 0x81dadef4bc2dd44dULL;
    h ^= h >> 33;
    return h ? h : 1;
}

/* Prepares an empty table for up to `elements` distinct keys. The table is
 * kept all zero between measures: only the slots the last measure filled
 * (listed in used) are cleared, so neither one huge document nor a big table
 * for a few keys costs a memset of the whole. */
static void table_reset(sl_textstats_scratch *s, size_t elements) {
    for (size_t k = 0; k < s->n_used; k++) s->table[s->used[k]] = (sl_ts_slot){0};
    s->n_used = 0;
    size_t size = 64;
    while (size < elements * 2) size *= 2;
    if (size > s->table_cap) {
        free(s->table);
        free(s->used);
        s->table = calloc(size, sizeof *s->table);
        s->used = malloc(size * sizeof *s->used);
        if (!s->table || !s->used) abort();   /* out of memory: not recoverable on a worker */
        s->table_cap = size;
    }
    s->table_size = size;
}

/* Counts one occurrence of key (first seen at index); returns its slot. */
static sl_ts_slot *table_add(sl_textstats_scratch *s, uint64_t key, uint32_t index) {
    key = mix(key);
    size_t mask = s->table_size - 1;
    size_t i = key & mask;
    while (s->table[i].key && s->table[i].key != key) i = (i + 1) & mask;
    sl_ts_slot *slot = &s->table[i];
    if (!slot->key) {
        slot->key = key;
        slot->first = index;
        s->used[s->n_used++] = (uint32_t)i;
    }
    slot->count++;
    return slot;
}

/* ---- measures ---- */

/* Tokens, and the word measures of Gopher quality: in sluice mode the
 * whitespace tokens of text, with words stripped of edge punctuation; in
 * datatrove mode the tokens of wordtok.h, where a word is a whole token with
 * a character outside PUNCTUATION. Stop words are counted per occurrence,
 * or once each from datatrove 0.5.0. */
static size_t tokenize(const char *text, size_t len, const sl_textstats_params *p, sl_textstats_scratch *s,
                       sl_textstats *st) {
    /* each word's bytes packed into a number, the first lowest (as
     * a word of the text is packed below), so that a word is compared with
     * one comparison instead of a memcmp call */
#define STOP(a, b, c, d, n) {(uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24, n}
    static const struct { uint32_t key; size_t len; } stop_words[] = {
        STOP('t', 'h', 'e', 0, 3), STOP('b', 'e', 0, 0, 2), STOP('t', 'o', 0, 0, 2), STOP('o', 'f', 0, 0, 2),
        STOP('a', 'n', 'd', 0, 3), STOP('t', 'h', 'a', 't', 4), STOP('h', 'a', 'v', 'e', 4), STOP('w', 'i', 't', 'h', 4),
    };
#undef STOP
    bool datatrove = p->tokenizer == SL_TOKENIZER_DATATROVE;
    if (datatrove) {
        s->words.len = 0;
        sl_wordtok_words(&s->wordtok, text, len, &s->words);
        text = s->words.data ? s->words.data : "";
        len = s->words.len;
    }
    size_t n = 0;
    uint64_t word_chars = 0, alpha_tokens = 0;
    unsigned stop_seen = 0;   /* bit w: stop word w was seen */
    size_t i = 0;
    while (i < len) {
        int32_t cp;
        size_t k = sl_uc_next(text + i, len - i, &cp);
        if (sl_uc_is_space(cp)) {
            i += k;
            continue;
        }
        /* a token: up to the next whitespace */
        size_t start = i, chars = 0;
        size_t word_start = 0, word_end = 0, word_chars_here = 0, punct_tail_chars = 0;
        bool any_word = false, alpha = false;
        while (i < len) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            /* A run of ASCII letters and digits (neither space nor
             * punctuation) at once, from up to eight bytes: what the byte
             * loop below does for each, done for the run. Of each byte's
             * low 7 bits (no carry into the next byte), with 0x20 set for
             * the letters: adding 0x1F sets the top bit from 'a', 0x05 above
             * 'z'; 0x50 from '0', 0x46 above '9'. */
            if (!datatrove && i + 8 <= len) {
                const uint64_t ones = 0x0101010101010101ULL, top = 0x8080808080808080ULL;
                uint64_t x;
                memcpy(&x, text + i, 8);
                uint64_t low = x & ~top, folded = low | 0x20 * ones;
                uint64_t letters = (folded + 0x1F * ones) & ~(folded + 0x05 * ones) & ~x & top;
                uint64_t digits = (low + 0x50 * ones) & ~(low + 0x46 * ones) & ~x & top;
                uint64_t other = ~(letters | digits) & top;
                size_t run = other ? (size_t)__builtin_ctzll(other) / 8 : 8;
                if (run) {
                    uint64_t in_run = run == 8 ? ~0ULL : (1ULL << (8 * run)) - 1;
                    alpha = alpha || (letters & in_run);
                    chars += run;
                    if (!any_word) word_start = i;
                    any_word = true;
                    word_end = i + run;
                    word_chars_here += punct_tail_chars + run;
                    punct_tail_chars = 0;
                    i += run;
                    continue;
                }
            }
#endif
            bool punct;
            if ((unsigned char)text[i] < 0x80) {
                unsigned c = ascii_class[(unsigned char)text[i]];
                if (c & C_SPACE) break;
                k = 1;
                alpha = alpha || (c & C_ALPHA);
                punct = c & (datatrove ? C_DT_PUNCT : C_PUNCT);
            } else {
                k = sl_uc_next(text + i, len - i, &cp);
                if (sl_uc_is_space(cp)) break;
                alpha = alpha || is_alpha(cp);
                punct = datatrove ? dt_is_punct(cp, p->rules) : is_punct(cp);
            }
            chars++;
            if (datatrove) {
                any_word = any_word || !punct;
            } else if (punct) {
                if (any_word) punct_tail_chars++;
            } else {
                if (!any_word) word_start = i;
                any_word = true;
                word_end = i + k;
                word_chars_here += punct_tail_chars + 1;
                punct_tail_chars = 0;
            }
            i += k;
        }
        if (datatrove) {   /* the whole token is the word */
            word_start = start;
            word_end = i;
            word_chars_here = chars;
        }
        if (n == s->tokens_cap) {
            s->tokens_cap = s->tokens_cap ? s->tokens_cap * 2 : 256;
            s->tokens = realloc(s->tokens, s->tokens_cap * sizeof *s->tokens);
            s->gram_slot = realloc(s->gram_slot, s->tokens_cap * sizeof *s->gram_slot);
            s->gram_repeated = realloc(s->gram_repeated, s->tokens_cap * sizeof *s->gram_repeated);
            if (!s->tokens || !s->gram_slot || !s->gram_repeated) abort();
        }
        uint64_t h = sl_hash64(text + start, i - start, TS_SEED);
        uint64_t before = n ? s->tokens[n - 1].prefix : 0;
        s->tokens[n] = (sl_ts_token){(uint32_t)start, (uint32_t)(i - start), (uint32_t)chars, h,
                                     before * NGRAM_BASE + h};
        n++;
        alpha_tokens += alpha;
        if (any_word) {
            st->words++;
            word_chars += word_chars_here;
            size_t wl = word_end - word_start;
            if (wl >= 2 && wl <= 4) {
                const unsigned char *wp = (const unsigned char *)text + word_start;
                uint32_t key = (uint32_t)wp[0] | (uint32_t)wp[1] << 8 | (wl > 2 ? (uint32_t)wp[2] << 16 : 0) |
                               (wl > 3 ? (uint32_t)wp[3] << 24 : 0);
                for (size_t w = 0; w < sizeof stop_words / sizeof *stop_words; w++)
                    if (stop_words[w].len == wl && stop_words[w].key == key) {
                        if (p->rules < SL_RULES_DATATROVE_0_5 || !(stop_seen & (1u << w))) st->stop_words++;
                        stop_seen |= 1u << w;
                    }
            }
        }
    }
    st->tokens = n;
    st->mean_word_length = ratio((double)word_chars, (double)st->words);
    st->alpha_words = ratio((double)alpha_tokens, (double)n);
    return n;
}

/* Non-overlapping occurrences of needle (as str.count counts them), n >= 1:
 * each found from its first byte (memchr), which is much cheaper than
 * memmem's setup for the few-byte needles counted here. */
static uint64_t count_of(const char *text, size_t len, const char *needle, size_t n) {
    uint64_t count = 0;
    const char *p = text, *end = text + len;
    while ((p = memchr(p, needle[0], (size_t)(end - p)))) {
        if ((size_t)(end - p) < n) break;
        if (memcmp(p + 1, needle + 1, n - 1) == 0) {
            count++;
            p += n;
        } else {
            p++;
        }
    }
    return count;
}

/* '#' and ellipsis counts (non-overlapping "..." as str.count does). The
 * three are counted apart: no occurrence of one overlaps another. */
static void symbols(const char *text, size_t len, sl_textstats *st) {
    uint64_t hashes = 0;
    for (const char *p = text, *end = text + len; (p = memchr(p, '#', (size_t)(end - p))); p++) hashes++;
    uint64_t ellipses = count_of(text, len, "...", 3) + count_of(text, len, "\xE2\x80\xA6", 3);
    st->hash_ratio = ratio((double)hashes, (double)st->tokens);
    st->ellipsis_ratio = ratio((double)ellipses, (double)st->tokens);
}

/* The index of the first byte in text[i, len) a line break can start with
 * (\n \v \f \r, 0x1C-0x1E; 0xC2 and 0xE2 lead U+0085, U+2028 and U+2029),
 * or len; sixteen bytes at a time where SSE2 is there. */
static size_t next_break_byte(const char *text, size_t len, size_t i) {
#if defined(__SSE2__)
    for (; i + 16 <= len; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(text + i));
        __m128i ctl = _mm_or_si128(   /* signed comparisons: these ranges are under 0x80 */
            _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('\n' - 1)), _mm_cmplt_epi8(x, _mm_set1_epi8('\r' + 1))),
            _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8(0x1B)), _mm_cmplt_epi8(x, _mm_set1_epi8(0x1F))));
        __m128i lead = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8((char)0xC2)),
                                    _mm_cmpeq_epi8(x, _mm_set1_epi8((char)0xE2)));
        int found = _mm_movemask_epi8(_mm_or_si128(ctl, lead));
        if (found) return i + (size_t)__builtin_ctz((unsigned)found);
    }
#endif
    static const bool may_break[256] = {['\n'] = 1, ['\v'] = 1, ['\f'] = 1, ['\r'] = 1, [0x1C] = 1,
                                        [0x1D] = 1, [0x1E] = 1, [0xC2] = 1, [0xE2] = 1};
    while (i < len && !may_break[(unsigned char)text[i]]) i++;
    return i;
}

/* Python's str.splitlines(): the line starting at i ends at \n, \r or
 * \r\n, \v, \f, \x1c-\x1e, U+0085, U+2028 or U+2029. Returns the end of
 * the line (the break excluded); *next is where the next line starts. */
static size_t line_end(const char *text, size_t len, size_t i, size_t *next) {
    for (; i < len; i++) {
        i = next_break_byte(text, len, i);
        if (i >= len) break;
        unsigned char c = (unsigned char)text[i];
        size_t brk = 0;
        if (c == '\n' || c == '\v' || c == '\f' || (c >= 0x1C && c <= 0x1E))
            brk = 1;
        else if (c == '\r')
            brk = i + 1 < len && text[i + 1] == '\n' ? 2 : 1;
        else if (c == 0xC2 && i + 1 < len && (unsigned char)text[i + 1] == 0x85)
            brk = 2;
        else if (c == 0xE2 && i + 2 < len && (unsigned char)text[i + 1] == 0x80 &&
                 ((unsigned char)text[i + 2] == 0xA8 || (unsigned char)text[i + 2] == 0xA9))
            brk = 3;
        if (brk) {
            *next = i + brk;
            return i;
        }
    }
    *next = len;
    return len;
}

/* Gopher quality line measures over splitlines() lines. */
static void gopher_lines(const char *text, size_t len, sl_textstats *st) {
    uint64_t lines = 0, bullets = 0, ellipsis = 0;
    size_t i = 0;
    while (i < len) {
        size_t next, end = line_end(text, len, i, &next);
        const char *line = text + i;
        size_t n = end - i;
        lines++;
        size_t lead = lstrip_len(line, n);
        if (lead < n && (line[lead] == '-' || (n - lead >= 3 && memcmp(line + lead, "\xE2\x80\xA2", 3) == 0)))
            bullets++;
        size_t body = n - rstrip_len(line, n);
        if (ends_with(line, body, "...") || ends_with(line, body, "\xE2\x80\xA6")) ellipsis++;
        i = next;
    }
    st->bullet_lines = ratio((double)bullets, (double)lines);
    st->ellipsis_lines = ratio((double)ellipsis, (double)lines);
}

/* Duplicate elements among pieces of text: counts each piece, returns the
 * number of pieces; dups and dup_chars get the repeats (the first occurrence
 * is not a duplicate). The pieces are given by split(), called repeatedly. */
typedef struct piece_counter {
    sl_textstats_scratch *s;
    uint64_t pieces, dups, dup_chars;
} piece_counter;

static void count_piece(piece_counter *pc, const char *p, size_t len) {
    sl_ts_slot *slot = table_add(pc->s, sl_hash64(p, len, TS_SEED), (uint32_t)pc->pieces);
    if (slot->count > 1) {
        pc->dups++;
        pc->dup_chars += count_chars(p, len, pc->s->valid_utf8);
    }
    pc->pieces++;
}

/* Gopher repetition: paragraphs (split on 2+ newlines after strip()) and
 * lines (split on runs of newlines). */
static void gopher_repetition_lines(const char *text, size_t len, uint64_t chars, size_t max_lines,
                                    sl_textstats_scratch *s, sl_textstats *st) {
    table_reset(s, max_lines);
    piece_counter pc = {s, 0, 0, 0};
    size_t lead = lstrip_len(text, len);
    const char *p = text + lead;
    size_t n = len - lead;
    n -= rstrip_len(p, n);
    size_t start = 0, i = 0;
    const char *nl;
    while (i < n && (nl = memchr(p + i, '\n', n - i))) {
        i = (size_t)(nl - p);
        if (i + 1 < n && p[i + 1] == '\n') {
            count_piece(&pc, p + start, i - start);
            while (i < n && p[i] == '\n') i++;
            start = i;
        } else {
            i++;
        }
    }
    count_piece(&pc, p + start, n - start);
    st->dup_para_fraction = ratio((double)pc.dups, (double)pc.pieces);
    st->dup_para_chars = ratio((double)pc.dup_chars, (double)chars);

    table_reset(s, max_lines);
    pc = (piece_counter){s, 0, 0, 0};
    start = 0;
    i = 0;
    while (i < len && (nl = memchr(text + i, '\n', len - i))) {
        i = (size_t)(nl - text);
        count_piece(&pc, text + start, i - start);
        while (i < len && text[i] == '\n') i++;
        start = i;
    }
    count_piece(&pc, text + start, len - start);
    st->dup_line_fraction = ratio((double)pc.dups, (double)pc.pieces);
    st->dup_line_chars = ratio((double)pc.dup_chars, (double)chars);
}

/* The key of the n tokens starting at i, in O(1) from the prefix hashes
 * (a rolling polynomial hash mod 2^64); base_n is NGRAM_BASE^n. */
static uint64_t ngram_key(const sl_ts_token *t, size_t i, size_t n, uint64_t base_n) {
    uint64_t before = i ? t[i - 1].prefix : 0;
    return t[i + n - 1].prefix - before * base_n;
}

static uint64_t power(uint64_t base, size_t n) {
    uint64_t p = 1;
    while (n--) p *= base;
    return p;
}

/* Counts the n-grams starting at the tokens marked in gram_repeated (all
 * tokens when all is true) and marks instead those whose n-gram occurs more
 * than once. An n-gram that occurs twice has an (n-1)-gram prefix that
 * occurs twice, so counting the n-grams at the tokens the (n-1)-gram pass
 * marked counts every repeated n-gram exactly; the others occur once.
 * Returns the most frequent n-gram (the first one of those), as the count
 * and the token where it first occurs: one that occurs once, the first of
 * the text, when none is repeated. */
static void count_ngrams(sl_textstats_scratch *s, size_t n_tokens, size_t n, bool all, uint32_t *best_count,
                         uint32_t *best_first) {
    const sl_ts_token *t = s->tokens;
    uint8_t *repeated = s->gram_repeated;
    uint64_t base_n = power(NGRAM_BASE, n);
    size_t last = n_tokens - n;   /* the last token an n-gram starts at */
    size_t marked = 0;
    for (size_t i = 0; i <= last; i++) marked += all || repeated[i];
    table_reset(s, marked);
    *best_count = 1;
    *best_first = 0;
    for (size_t i = 0; i <= last; i++) {
        if (!all && !repeated[i]) continue;
        sl_ts_slot *slot = table_add(s, ngram_key(t, i, n, base_n), (uint32_t)i);
        s->gram_slot[i] = (uint32_t)(slot - s->table);
        if (slot->count > *best_count || (slot->count == *best_count && slot->first < *best_first)) {
            *best_count = slot->count;
            *best_first = slot->first;
        }
    }
    for (size_t i = 0; i < n_tokens; i++)
        repeated[i] = i <= last && (all || repeated[i]) && s->table[s->gram_slot[i]].count > 1;
}

/* Top n-gram (2..4) and duplicated n-gram (5..10) character fractions.
 * The counts go from n-1 to n over the repeated (n-1)-grams only (see
 * count_ngrams), and the duplicate scans only look up the n-grams whose
 * 5-gram prefix is repeated: an n-gram starting elsewhere occurs once, is
 * no duplicate and cannot be one of a later n-gram. */
static void ngrams(size_t n_tokens, uint64_t chars, bool top, bool dup, sl_textstats_scratch *s, sl_textstats *st) {
    const sl_ts_token *t = s->tokens;
    if (n_tokens < 2 || !(top || dup)) return;
    uint32_t count, first;
    size_t counted = 0;   /* gram_repeated marks the repeated n-grams of this n */
    for (size_t n = 2; n <= 4 && top && n <= n_tokens; n++) {
        count_ngrams(s, n_tokens, n, n == 2, &count, &first);
        counted = n;
        uint64_t gram_chars = n - 1;   /* joined by spaces */
        for (size_t k = 0; k < n; k++) gram_chars += t[first + k].chars;
        st->top_ngram[n] = ratio((double)(gram_chars * count), (double)chars);
    }
    if (!dup || n_tokens < 5) return;
    count_ngrams(s, n_tokens, 5, counted != 4, &count, &first);   /* after the 4-grams: their repeated ones */
    const uint8_t *repeated5 = s->gram_repeated;
    size_t marked = 0;
    for (size_t i = 0; i < n_tokens; i++) marked += repeated5[i];
    for (size_t n = 5; n <= 10 && n <= n_tokens; n++) {
        table_reset(s, marked);
        uint64_t base_n = power(NGRAM_BASE, n);
        uint64_t repeated = 0;
        size_t i = 0;
        while (i + n <= n_tokens) {
            if (!repeated5[i]) {
                i++;
                continue;
            }
            sl_ts_slot *slot = table_add(s, ngram_key(t, i, n, base_n), (uint32_t)i);
            if (slot->count > 1) {   /* seen before: these chars are repeated; jump past them */
                for (size_t k = 0; k < n; k++) repeated += t[i + k].chars;
                i += n;
            } else {
                i++;
            }
        }
        st->dup_ngram[n] = ratio((double)repeated, (double)chars);
    }
}

/* FineWeb line measures over split("\n") lines: every line up to datatrove
 * 0.3.0, the non-empty ones from 0.4.0 (with its terminal punctuation). */
static void fineweb_lines(const char *text, size_t len, uint64_t chars, size_t max_lines, sl_rules_version rules,
                          sl_textstats_scratch *s, sl_textstats *st) {
    table_reset(s, max_lines);
    piece_counter pc = {s, 0, 0, 0};
    uint64_t lines = 0, punct = 0, short_lines = 0, newlines = 0;
    size_t i = 0;
    for (;;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - text) : len;
        const char *line = text + i;
        size_t n = end - i;
        bool blank = lstrip_len(line, n) == n;
        if (rules == SL_RULES_DATATROVE_0_3 || !blank) {
            lines++;
            if (rules == SL_RULES_DATATROVE_0_3 ? n > 0 && one_of(line[n - 1], ".'\"!?")
                                                : in_table(last_cp(line, n), terminal_punct, TABLE_LEN(terminal_punct)))
                punct++;
            if (count_chars(line, n, s->valid_utf8) <= 30) short_lines++;
        }
        if (!blank) count_piece(&pc, line, n);
        if (!nl) break;
        newlines++;
        i = end + 1;
    }
    st->fw_line_punct = ratio((double)punct, (double)lines);
    st->fw_short_lines = ratio((double)short_lines, (double)lines);
    st->fw_dup_line_chars = ratio((double)pc.dup_chars, (double)(chars - newlines));
    st->fw_list_ratio = ratio((double)newlines, (double)st->tokens);
}

/* ---- C4 ---- */

static bool contains(const char *p, size_t len, const char *needle) {
    return memmem(p, len, needle, strlen(needle)) != NULL;
}

/* Sentences: runs of . ! ? (with closing quotes/brackets) followed by
 * whitespace or the end, plus a final fragment without one. */
static uint64_t count_sentences(const char *p, size_t len) {
    uint64_t n = 0;
    bool pending = false;
    size_t i = 0;
    while (i < len) {
        char ch = p[i];
        if (ch == '.' || ch == '!' || ch == '?') {
            while (i < len && one_of(p[i], ".!?\"')]")) i++;
            if (pending && (i == len || p[i] == ' ' || p[i] == '\t')) {
                n++;
                pending = false;
            }
            continue;
        }
        if (ch != ' ' && ch != '\t') pending = true;
        i++;
    }
    return n + pending;
}

static const char *const policy_phrases[] = {
    "terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies",
};

/* The length of a Wikipedia citation marker at p ("[12]", "[]", "[edit]",
 * "[citation needed]"; digits of any script), or 0. */
static size_t citation_len(const char *p, size_t n) {
    static const char *const words[] = {"[edit]", "[citation needed]"};
    for (size_t w = 0; w < 2; w++)
        if (n >= strlen(words[w]) && memcmp(p, words[w], strlen(words[w])) == 0) return strlen(words[w]);
    size_t k = 1;
    while (k < n && p[k] != ']') {
        int32_t cp;
        size_t step = sl_uc_next(p + k, n - k, &cp);
        if (utf8proc_category(cp) != UTF8PROC_CATEGORY_ND) return 0;
        k += step;
    }
    return k < n ? k + 1 : 0;
}

/* datatrove removes citation markers from a line before the punctuation
 * check; the line then continues without them (into cite). */
static void remove_citations(const char **line, size_t *n, sl_buf *cite) {
    if (!memchr(*line, '[', *n)) return;
    cite->len = 0;
    for (size_t k = 0; k < *n;) {
        size_t c = (*line)[k] == '[' ? citation_len(*line + k, *n - k) : 0;
        if (c) {
            k += c;
        } else {
            sl_buf_putc(cite, (*line)[k]);
            k++;
        }
    }
    *line = cite->data ? cite->data : "";
    *n = cite->len;
}

static void c4_lines(const char *text, size_t len, const sl_textstats_params *p, sl_textstats_scratch *s,
                     sl_textstats *st, sl_buf *kept) {
    const sl_c4_params *c4 = &p->c4;
    size_t i = 0;
    bool first_kept = true;
    while (i < len) {
        size_t next, end = line_end(text, len, i, &next);
        const char *line = text + i;
        size_t n = end - i;
        i = next;
        st->c4_lines++;
        size_t lead = lstrip_len(line, n);
        line += lead;
        n -= lead;
        n -= rstrip_len(line, n);

        /* words and the longest one; without branches on the characters
         * of ASCII, whose word boundaries no branch predictor guesses */
        uint64_t words = 0, longest = 0, word = 0;
        for (size_t k = 0; k < n;) {
            size_t step = 1;
            bool space;
            if ((unsigned char)line[k] < 0x80) {
                space = ascii_class[(unsigned char)line[k]] & C_SPACE;
            } else {
                int32_t cp;
                step = sl_uc_next(line + k, n - k, &cp);
                space = sl_uc_is_space(cp);
            }
            word = (word + 1) & ((uint64_t)space - 1);   /* 0 at a space */
            words += word == 1;
            longest = word > longest ? word : longest;
            k += step;
        }
        int removed = -1;
        if (c4->max_word_length > 0 && longest > (uint64_t)c4->max_word_length) {
            removed = SL_C4_LONG_WORD;
        } else {
            remove_citations(&line, &n, &s->cite);
            if (c4->terminal_punct && (n == 0 || !one_of(line[n - 1], ".?!\"'") || ends_with(line, n, "...")))
                removed = SL_C4_NO_TERMINAL_PUNCT;
            else if (c4->min_words_per_line > 0 && words < (uint64_t)c4->min_words_per_line)
                removed = SL_C4_FEW_WORDS;
        }
        if (removed < 0) {
            s->lower.len = 0;
            sl_buf_append(&s->lower, line, n);
            for (size_t k = 0; k < n; k++)
                if (s->lower.data[k] >= 'A' && s->lower.data[k] <= 'Z') s->lower.data[k] += 'a' - 'A';
            const char *low = s->lower.data ? s->lower.data : "";
            /* a document rule that fires does not stop the scan: the other
             * measures still describe the whole document */
            if (c4->lorem_ipsum && contains(low, n, "lorem ipsum")) st->c4_lorem_ipsum = true;
            if (c4->javascript && contains(low, n, "javascript")) {
                removed = SL_C4_JAVASCRIPT;
            } else {
                if (c4->curly_bracket && memchr(line, '{', n)) st->c4_curly_bracket = true;
                if (c4->policy)
                    for (size_t k = 0; k < sizeof policy_phrases / sizeof *policy_phrases && removed < 0; k++)
                        if (contains(low, n, policy_phrases[k])) removed = SL_C4_POLICY;
            }
        }
        if (removed >= 0) {
            st->c4_lines_removed++;
            st->c4_removed_by[removed]++;
            continue;
        }
        st->c4_sentences += p->tokenizer == SL_TOKENIZER_DATATROVE ? sl_wordtok_sentences(line, n)
                                                                   : count_sentences(line, n);
        if (kept) {
            if (!first_kept) sl_buf_putc(kept, '\n');
            sl_buf_append(kept, line, n);
            first_kept = false;
        }
    }
}

void sl_textstats_compute(const char *text, size_t len, const sl_textstats_params *params,
                          sl_textstats_scratch *scratch, sl_textstats *out, sl_buf *kept) {
    memset(out, 0, sizeof *out);
    if (kept) kept->len = 0;
    unsigned skip = params->skip;
    if ((skip & SL_TS_SKIP_ALL) == SL_TS_SKIP_ALL) return;
    scratch->valid_utf8 = sl_utf8_valid(text, len);
    out->chars = count_chars(text, len, scratch->valid_utf8);
    size_t max_lines = 1;   /* lines, paragraphs: at most newlines + 1 */
    for (const char *p = text, *end = text + len; (p = memchr(p, '\n', (size_t)(end - p))); p++) max_lines++;
    size_t n_tokens = 0;
    if ((skip & SL_TS_SKIP_TOKENS) != SL_TS_SKIP_TOKENS) n_tokens = tokenize(text, len, params, scratch, out);
    if (!(skip & SL_TS_SKIP_SYMBOLS)) symbols(text, len, out);
    if (!(skip & SL_TS_SKIP_GOPHER_LINES)) gopher_lines(text, len, out);
    if (!(skip & SL_TS_SKIP_REPETITION)) gopher_repetition_lines(text, len, out->chars, max_lines, scratch, out);
    ngrams(n_tokens, out->chars, !(skip & SL_TS_SKIP_TOP_NGRAMS), !(skip & SL_TS_SKIP_DUP_NGRAMS), scratch, out);
    if (!(skip & SL_TS_SKIP_FINEWEB)) fineweb_lines(text, len, out->chars, max_lines, params->rules, scratch, out);
    if (!(skip & SL_TS_SKIP_C4)) c4_lines(text, len, params, scratch, out, kept);
}
