/* wordtok.h — datatrove's English word tokenizer, reproduced without a
 * model: NLTK's word_tokenize, which cuts the text into sentences (punkt)
 * and each sentence into Penn Treebank tokens (NLTKWordTokenizer).
 *
 * The Treebank rules are reproduced exactly (the same ordered list of
 * regular-expression rewrites, run with PCRE2 in Unicode mode):
 * punctuation becomes tokens of its own ("end." -> "end" "." at the end of
 * a sentence, "$3" -> "$" "3", "(a)" -> "(" "a" ")"), double quotes become
 * `` and '', clitics are split ("don't" -> "do" "n't"), and a URL is cut at
 * its ':' ("https" ":" "//example.com/x").
 *
 * Punkt is a trained model (abbreviations, collocations and how often each
 * word is capitalised) that sluice does not ship. Its algorithm is followed
 * (candidate ends, token annotation, boundary realignment) with two fixed
 * lists in place of the trained statistics: common English abbreviations
 * ("Mr.", "e.g.", "U.S.") and common words that start sentences. Sentence
 * ends that depend on the trained statistics can differ from NLTK's.
 * docs/text-quality.md says what was checked and how.
 *
 * Thread-safe: the compiled rules are shared (built once), the buffers are
 * the caller's.
 */
#ifndef SL_WORDTOK_H
#define SL_WORDTOK_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/buf.h"

/* Per-thread working memory. Zero-initialise; free with sl_wordtok_free. */
typedef struct sl_wordtok {
    sl_buf clean;          /* the text with invalid UTF-8 bytes replaced by U+FFFD */
    sl_buf a, b;           /* the sentence being rewritten, rule after rule */
    void *match_data;      /* pcre2_match_data */
} sl_wordtok;

void sl_wordtok_free(sl_wordtok *w);

/* Appends the word tokens of text (any bytes; an invalid byte is read as
 * U+FFFD) to out, each followed by one space. Returns the number of tokens. */
size_t sl_wordtok_words(sl_wordtok *w, const char *text, size_t len, sl_buf *out);

/* The number of sentences punkt finds in text (valid UTF-8 expected;
 * invalid bytes are skipped over), 0 for blank text. */
size_t sl_wordtok_sentences(const char *text, size_t len);

#endif
