/* textstats.h — document statistics behind the text_quality rules: words,
 * lines, paragraphs, repetition and n-gram measures, and the C4 line filter.
 *
 * The definitions follow datatrove's GopherQualityFilter,
 * GopherRepetitionFilter, C4QualityFilter and FineWebQualityFilter (see
 * docs/text-quality.md for each formula), in the version chosen by
 * sl_rules_version. Two tokenizers:
 *  - SL_TOKENIZER_SLUICE (language-agnostic, no model): a token is a maximal
 *    run of non-whitespace; a word is a token with its leading and trailing
 *    punctuation and symbols (Unicode P* and S*) removed; a token that is
 *    nothing but punctuation is a symbol, not a word;
 *  - SL_TOKENIZER_DATATROVE: datatrove's English tokens (text/wordtok.h,
 *    punctuation as tokens of their own); a word is a token with a character
 *    outside datatrove's PUNCTUATION set, and its length is the whole
 *    token's; C4 counts sentences with the same sentence splitter.
 * Lengths are counted in code points, as Python's len() does.
 * Repeated elements (lines, paragraphs, n-grams) are compared by 64-bit
 * hashes of their bytes; a collision would need ~2^32 distinct elements in
 * one document.
 *
 * All ratios with a zero denominator are 0. The computation allocates only
 * from the scratch space it is given (reused across documents by a worker).
 */
#ifndef SL_TEXTSTATS_H
#define SL_TEXTSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/buf.h"
#include "wordtok.h"

/* Reusable scratch memory for one thread. Zero-initialise; free with
 * sl_textstats_scratch_free. */
typedef struct sl_textstats_scratch {
    sl_wordtok wordtok;
    sl_buf words;          /* datatrove tokens, each followed by a space */
    struct sl_ts_token *tokens;
    size_t tokens_cap;
    uint32_t *gram_slot;   /* per token: the table slot of the n-gram starting there */
    uint8_t *gram_repeated;   /* per token: that n-gram occurs more than once */
    struct sl_ts_slot *table;
    size_t table_cap;      /* slots allocated */
    size_t table_size;     /* slots in use for the current measure (a power of 2) */
    uint32_t *used;        /* the slots holding a key, n_used of them (cleared by the next measure) */
    size_t n_used;
    sl_buf lower;          /* a lowercased line (C4) */
    sl_buf cite;           /* a line without its citation markers (C4) */
    bool valid_utf8;       /* the document is valid UTF-8 (characters are then counted by bytes) */
} sl_textstats_scratch;

void sl_textstats_scratch_free(sl_textstats_scratch *s);

/* The C4 line filter's settings (datatrove's C4QualityFilter defaults in
 * parentheses). A line is removed when it: has a word longer than
 * max_word_length chars (1000; <= 0 = off), does not end in terminal
 * punctuation or ends in "..." (terminal_punct, on), has fewer than
 * min_words_per_line words (3; <= 0 = off), mentions "javascript"
 * (javascript, on), or contains a policy phrase such as "terms of use"
 * (policy, on). The document fails when a kept line contains "lorem ipsum"
 * (lorem_ipsum) or "{" (curly_bracket); unlike datatrove, which stops
 * there, the scan goes on so that every measure covers the whole document. */
typedef struct sl_c4_params {
    int64_t max_word_length;
    bool terminal_punct;
    int64_t min_words_per_line;
    bool javascript;
    bool policy;
    bool lorem_ipsum;
    bool curly_bracket;
} sl_c4_params;

typedef enum { SL_TOKENIZER_SLUICE, SL_TOKENIZER_DATATROVE } sl_tokenizer;

/* The datatrove release whose rule definitions are followed:
 *  - 0.3.0: FineWeb compares inclusively over every line of split("\n") with
 *    the stop characters . ' " ! ?; stop words are counted by occurrence;
 *  - 0.4.0: FineWeb looks at non-empty lines only, compares strictly, and a
 *    line ends in punctuation when its last character is one of datatrove's
 *    TERMINAL_PUNCTUATION (159 sentence enders of many scripts, without the
 *    quotes); those also join the PUNCTUATION set of datatrove words;
 *  - 0.5.0 (unchanged up to 0.10.0): stop words are counted once each. */
typedef enum { SL_RULES_DATATROVE_0_3, SL_RULES_DATATROVE_0_4, SL_RULES_DATATROVE_0_5 } sl_rules_version;

/* Groups of measures a caller may leave out (params.skip; 0 computes
 * everything). A measure left out is 0, except the word measures, which
 * come with the tokens: those are counted unless words, symbols, both
 * n-gram groups and FineWeb are all left out. The measures computed have
 * the values they have when everything is. */
enum {
    SL_TS_SKIP_WORDS = 1 << 0,          /* words, mean_word_length, alpha_words, stop_words */
    SL_TS_SKIP_SYMBOLS = 1 << 1,        /* hash_ratio, ellipsis_ratio */
    SL_TS_SKIP_GOPHER_LINES = 1 << 2,   /* bullet_lines, ellipsis_lines */
    SL_TS_SKIP_REPETITION = 1 << 3,     /* dup_para_*, dup_line_* */
    SL_TS_SKIP_TOP_NGRAMS = 1 << 4,     /* top_ngram */
    SL_TS_SKIP_DUP_NGRAMS = 1 << 5,     /* dup_ngram */
    SL_TS_SKIP_FINEWEB = 1 << 6,        /* fw_* */
    SL_TS_SKIP_C4 = 1 << 7,             /* c4_* and the kept lines */
};

typedef struct sl_textstats_params {
    sl_tokenizer tokenizer;
    sl_rules_version rules;
    sl_c4_params c4;
    unsigned skip;                  /* SL_TS_SKIP_* */
} sl_textstats_params;

typedef struct sl_textstats {
    /* sizes */
    uint64_t chars;                 /* code points of the whole text */
    uint64_t tokens;                /* whitespace-separated tokens */
    uint64_t words;                 /* tokens that are not only punctuation */

    /* Gopher quality */
    double mean_word_length;        /* mean chars per word */
    double hash_ratio;              /* '#' count / tokens */
    double ellipsis_ratio;          /* ("..." + "…") count / tokens */
    double bullet_lines;            /* lines starting with • or - / lines */
    double ellipsis_lines;          /* lines ending with ... or … / lines */
    double alpha_words;             /* tokens with a letter / tokens */
    uint64_t stop_words;            /* words in {the, be, to, of, and, that, have, with} */

    /* Gopher repetition */
    double dup_para_fraction;       /* duplicate paragraphs / paragraphs */
    double dup_para_chars;          /* chars in duplicate paragraphs / chars */
    double dup_line_fraction;       /* duplicate lines / lines */
    double dup_line_chars;          /* chars in duplicate lines / chars */
    double top_ngram[5];            /* [2..4]: chars of the most frequent n-gram x count / chars */
    double dup_ngram[11];           /* [5..10]: chars in duplicated n-grams / chars */

    /* C4 */
    uint64_t c4_sentences;          /* sentences in the lines C4 keeps */
    bool c4_lorem_ipsum;            /* a kept line contains "lorem ipsum" */
    bool c4_curly_bracket;          /* a kept line contains "{" */
    uint64_t c4_lines, c4_lines_removed;
    uint64_t c4_removed_by[5];      /* lines removed per reason, see SL_C4_* */

    /* FineWeb */
    double fw_line_punct;           /* lines ending in . ' " ! ? / lines (0.4: terminal punctuation / non-empty lines) */
    double fw_short_lines;          /* lines of <= 30 chars / lines (0.4: / non-empty lines) */
    double fw_dup_line_chars;       /* chars in duplicate non-empty lines / chars without \n */
    double fw_list_ratio;           /* newlines / tokens */
} sl_textstats;

enum { SL_C4_LONG_WORD, SL_C4_NO_TERMINAL_PUNCT, SL_C4_FEW_WORDS, SL_C4_JAVASCRIPT, SL_C4_POLICY };

/* Computes every statistic of text (valid UTF-8 is expected; invalid bytes
 * count as one character each). When kept is not NULL, the lines C4 keeps are
 * written to it joined by "\n" (the text C4 would publish). */
void sl_textstats_compute(const char *text, size_t len, const sl_textstats_params *params,
                          sl_textstats_scratch *scratch, sl_textstats *out, sl_buf *kept);

#endif
