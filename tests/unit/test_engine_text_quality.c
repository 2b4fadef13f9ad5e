/* test_engine_text_quality.c — the `text_quality` transform, run through a
 * real pipeline (transform_harness.h).
 *
 * Each rule is tested alone (every other rule switched off through
 * `rules:`) on documents built to sit exactly at its threshold — which
 * passes, or for FineWeb's inclusive rules fails — and just past it, and the
 * DLQ message must name that rule with the exact value and threshold. Then:
 * the defaults on real prose and on junk, C4 line removal, re-thresholding,
 * the actions (drop, route, annotate with exact scores), counters, and
 * option errors with "did you mean".
 */
#include "check.h"
#include "text/textstats.h"
#include "transform_harness.h"

static const char *const rule_names[] = {
    "gopher_min_words", "gopher_max_words", "gopher_min_mean_word_length", "gopher_max_mean_word_length",
    "gopher_hash_ratio", "gopher_ellipsis_ratio", "gopher_bullet_lines", "gopher_ellipsis_lines",
    "gopher_alpha_words", "gopher_stop_words", "gopher_dup_para_fraction", "gopher_dup_para_chars",
    "gopher_dup_line_fraction", "gopher_dup_line_chars", "gopher_top_2gram", "gopher_top_3gram",
    "gopher_top_4gram", "gopher_dup_5gram", "gopher_dup_6gram", "gopher_dup_7gram", "gopher_dup_8gram",
    "gopher_dup_9gram", "gopher_dup_10gram", "c4_max_word_length", "c4_terminal_punct",
    "c4_min_words_per_line", "c4_javascript", "c4_policy", "c4_lorem_ipsum", "c4_curly_bracket",
    "c4_min_sentences", "fineweb_line_punct", "fineweb_short_lines", "fineweb_dup_line_chars",
    "fineweb_list_ratio",
};
#define N_RULES (sizeof rule_names / sizeof *rule_names)

/* ---- building documents and configs ---- */

/* {"text": <doc>} as one JSON line. */
static void add_doc(sl_buf *input, const char *doc) {
    sl_buf_puts(input, "{\"text\":");
    sl_json_encode_string(input, doc, strlen(doc));
    sl_buf_puts(input, "}\n");
}

/* A transform `q` with the given options, into sink `out` (and `rej` for
 * the rejected output when routing). */
static void config(sl_buf *yaml, const char *options) {
    sl_buf_printf(yaml, "transforms:\n  q:\n    type: text_quality\n    inputs: [in]\n%s", options);
}

/* rules: every rule off except `rule` (with an optional threshold). */
static void only_rule(sl_buf *yaml, const char *rule, const char *threshold) {
    sl_buf_puts(yaml, "    rules:\n");
    for (size_t i = 0; i < N_RULES; i++) {
        if (strcmp(rule_names[i], rule) == 0)
            sl_buf_printf(yaml, "      %s: %s\n", rule, threshold ? threshold : "true");
        else
            sl_buf_printf(yaml, "      %s: false\n", rule_names[i]);
    }
}

/* Runs `doc` through text_quality (with extra `options` lines) with only
 * `rule` on; returns the DLQ ("" when the document passed). */
static const char *judge_with(const char *options, const char *rule, const char *threshold, const char *doc) {
    sl_buf yaml, input;
    sl_buf_init(&yaml);
    sl_buf_init(&input);
    config(&yaml, options);
    only_rule(&yaml, rule, threshold);
    sl_buf_puts(&yaml, "sinks:\n  out:\n    type: capture\n    inputs: [q]\n");
    add_doc(&input, doc);
    int rc = run_with(text_of(&yaml), text_of(&input), 1, 1024);
    CHECK_INT(rc, 0);
    if (rc != 0) fprintf(stderr, "  diag: %s\n  error: %s\n", diag_output(), run_error.msg);
    sl_buf_free(&yaml);
    sl_buf_free(&input);
    return dlq();
}

static const char *judge(const char *rule, const char *threshold, const char *doc) {
    return judge_with("", rule, threshold, doc);
}

#define PASSES(rule, threshold, doc) CHECK_STR(judge(rule, threshold, doc), "")
#define FAILS(rule, threshold, doc, message) \
    CHECK_STR(judge(rule, threshold, doc), "text_quality: rule " rule ": " message "\n")

/* n copies of piece, joined by sep; the result lives until the fourth
 * call after this one (so two can be combined with cat). */
static const char *repeat(const char *piece, int n, const char *sep) {
    static sl_buf ring[4];
    static int next;
    sl_buf *b = &ring[next++ % 4];
    sl_buf_free(b);
    for (int i = 0; i < n; i++) {
        if (i) sl_buf_puts(b, sep);
        sl_buf_puts(b, piece);
    }
    return text_of(b);
}

/* Text of n distinct words ("w0 w1 w2 ..."), into a static buffer. */
static const char *words(int n) {
    static sl_buf b;
    sl_buf_free(&b);
    for (int i = 0; i < n; i++) sl_buf_printf(&b, "%sw%d", i ? " " : "", i);
    return text_of(&b);
}

static const char *cat(const char *a, const char *b) {
    static char out[4096];
    snprintf(out, sizeof out, "%s%s", a, b);
    return out;
}

/* ---- Gopher quality ---- */

static void test_gopher_word_counts(void) {
    PASSES("gopher_min_words", NULL, words(50));
    FAILS("gopher_min_words", NULL, words(49), "49 is below the minimum 50");
    /* punctuation-only tokens are not words */
    FAILS("gopher_min_words", NULL, cat(words(49), " - ... !"), "49 is below the minimum 50");
    /* re-thresholded */
    PASSES("gopher_max_words", "10", words(10));
    FAILS("gopher_max_words", "10", words(11), "11 is above the maximum 10");
}

static void test_gopher_mean_word_length(void) {
    PASSES("gopher_min_mean_word_length", NULL, "ab abcd");
    FAILS("gopher_min_mean_word_length", NULL, "ab abc", "2.5 is below the minimum 3");
    /* trailing punctuation is not part of the word */
    PASSES("gopher_max_mean_word_length", NULL, "abcdefghij.");
    FAILS("gopher_max_mean_word_length", NULL, "abcdefghijk", "11 is above the maximum 10");
}

static void test_gopher_symbols(void) {
    /* 10 tokens, one '#': 0.1 */
    PASSES("gopher_hash_ratio", NULL, "one two three four five six seven eight nine #ten");
    FAILS("gopher_hash_ratio", NULL, "one two three four five six seven eight #nine",
          "0.111111 is above the maximum 0.1");
    PASSES("gopher_ellipsis_ratio", NULL, "one two three four five six seven eight nine ten...");
    FAILS("gopher_ellipsis_ratio", NULL, "one two three four five six seven eight nine\xe2\x80\xa6",
          "0.111111 is above the maximum 0.1");
}

static void test_gopher_lines(void) {
    /* 20 lines, 18 bullets: 0.9 passes; 19: 0.95 fails */
    PASSES("gopher_bullet_lines", NULL, cat(repeat("- item", 18, "\n"), "\nplain\nplain\n"));
    FAILS("gopher_bullet_lines", NULL, cat(repeat("  \xe2\x80\xa2 item", 19, "\n"), "\nplain"),
          "0.95 is above the maximum 0.9");
    /* 10 lines, 3 ending in an ellipsis (spaces after it do not count) */
    PASSES("gopher_ellipsis_lines", NULL, cat(repeat("and then...  ", 3, "\n"), repeat("\nfine.", 7, "")));
    FAILS("gopher_ellipsis_lines", NULL, cat(repeat("and then\xe2\x80\xa6", 4, "\n"), repeat("\nfine.", 6, "")),
          "0.4 is above the maximum 0.3");
    /* lines end where Python's splitlines() ends them: \r\n, \v, \f, \x1e too
     * (and U+0085, U+2028, U+2029, which the YAML of this harness cannot carry) */
    FAILS("gopher_ellipsis_lines", NULL, "and then...\vfine.\r\nfine.\x1eso...\ffine.",
          "0.4 is above the maximum 0.3");
}

static void test_gopher_alpha_and_stop_words(void) {
    PASSES("gopher_alpha_words", NULL, "a b c d e f g h 1 2");
    FAILS("gopher_alpha_words", NULL, "a b c d e f g 1 2 3", "0.7 is below the minimum 0.8");
    /* stop words count occurrences, with punctuation around them removed,
     * case-sensitively as in the reference */
    PASSES("gopher_stop_words", NULL, "cats and, (the) dogs");
    FAILS("gopher_stop_words", NULL, "The cats And dogs the", "1 is below the minimum 2");
}

/* ---- Gopher repetition ---- */

static void test_gopher_duplicate_paragraphs_and_lines(void) {
    /* 10 paragraphs, 3 repeats: 0.3 passes, 4 fails */
    PASSES("gopher_dup_para_fraction", NULL, "p1\n\np2\n\np3\n\np4\n\np5\n\np6\n\np7\n\np1\n\np2\n\np3");
    FAILS("gopher_dup_para_fraction", NULL, "p1\n\np2\n\np3\n\np4\n\np5\n\np6\n\np1\n\np2\n\np3\n\np4",
          "0.4 is above the maximum 0.3");
    /* many tiny lines: the tables grow with the line count */
    FAILS("gopher_dup_line_fraction", NULL, repeat("a", 3000, "\n"), "0.999667 is above the maximum 0.3");
    /* 20-char paragraph twice in a 100-char text: 0.2; in 99 chars: above */
    const char *x = "aaaaaaaaaaaaaaaaaaaa";
    char doc[256];
    snprintf(doc, sizeof doc, "%s\n\n%s\n\n%s", x, x, repeat("y", 56, ""));
    PASSES("gopher_dup_para_chars", NULL, doc);
    snprintf(doc, sizeof doc, "%s\n\n%s\n\n%s", x, x, repeat("y", 55, ""));
    FAILS("gopher_dup_para_chars", NULL, doc, "0.20202 is above the maximum 0.2");

    PASSES("gopher_dup_line_fraction", NULL, "l1\nl2\nl3\nl4\nl5\nl6\nl7\nl1\nl2\nl3");
    FAILS("gopher_dup_line_fraction", NULL, "l1\nl2\nl3\nl4\nl5\nl6\nl1\nl2\nl3\nl4",
          "0.4 is above the maximum 0.3");
    /* runs of newlines are one break */
    snprintf(doc, sizeof doc, "%s\n%s\n\n\n%s", x, x, repeat("y", 56, ""));
    PASSES("gopher_dup_line_chars", NULL, doc);
    snprintf(doc, sizeof doc, "%s\n%s\n%s", x, x, repeat("y", 57, ""));
    FAILS("gopher_dup_line_chars", NULL, doc, "0.20202 is above the maximum 0.2");
}

static void test_gopher_top_ngrams(void) {
    /* "aa bb" (5 chars) twice = 10 chars: 0.2 of 50 chars, above in 49 */
    PASSES("gopher_top_2gram", NULL, cat("aa bb aa bb ", repeat("z", 38, "")));
    FAILS("gopher_top_2gram", NULL, cat("aa bb aa bb ", repeat("z", 37, "")), "0.204082 is above the maximum 0.2");
    /* "aa bb cc" (8) twice = 16: 89 chars 0.1798 passes, 88 chars 0.1818 fails */
    PASSES("gopher_top_3gram", NULL, cat("aa bb cc aa bb cc ", repeat("z", 71, "")));
    FAILS("gopher_top_3gram", NULL, cat("aa bb cc aa bb cc ", repeat("z", 70, "")),
          "0.181818 is above the maximum 0.18");
    /* "aa bb cc dd" (11) twice = 22: 138 chars passes, 137 fails */
    PASSES("gopher_top_4gram", NULL, cat("aa bb cc dd aa bb cc dd ", repeat("z", 114, "")));
    FAILS("gopher_top_4gram", NULL, cat("aa bb cc dd aa bb cc dd ", repeat("z", 113, "")),
          "0.160584 is above the maximum 0.16");
}

static void test_gopher_duplicated_ngrams(void) {
    /* a 5-gram of 2-char tokens repeated: 10 duplicated chars (spaces not
     * counted); 67 chars: 0.1493 passes, 66: 0.1515 fails */
    const char *five = "a1 a2 a3 a4 a5 a1 a2 a3 a4 a5 ";
    PASSES("gopher_dup_5gram", NULL, cat(five, repeat("z", 37, "")));
    FAILS("gopher_dup_5gram", NULL, cat(five, repeat("z", 36, "")), "0.151515 is above the maximum 0.15");
    /* a 10-gram repeated: 20 chars; exactly 0.1 of 200 passes, 199 fails */
    const char *ten = "b0 b1 b2 b3 b4 b5 b6 b7 b8 b9 b0 b1 b2 b3 b4 b5 b6 b7 b8 b9 ";
    PASSES("gopher_dup_10gram", NULL, cat(ten, repeat("z", 140, "")));
    FAILS("gopher_dup_10gram", NULL, cat(ten, repeat("z", 139, "")), "0.100503 is above the maximum 0.1");
    /* the same text trips the 7-gram rule at its own threshold: 14/0.13 */
    FAILS("gopher_dup_7gram", NULL, cat(ten, repeat("z", 45, "")), "0.133333 is above the maximum 0.13");
}

/* ---- C4 ---- */

static void test_c4_document_rules(void) {
    PASSES("c4_min_sentences", NULL, "One two three. Four five six! Seven?\nEight nine. Ten eleven.");
    FAILS("c4_min_sentences", NULL, "One two three. Four five six! Seven?\nEight nine.", "4 is below the minimum 5");
    FAILS("c4_lorem_ipsum", NULL, "Some text.\nLorem Ipsum dolor sit amet.",
          "the text contains \"lorem ipsum\"");
    FAILS("c4_curly_bracket", NULL, "function f() { return 1; }", "the text contains a curly bracket");
    PASSES("c4_curly_bracket", NULL, "no brackets (at all) [here]");
}

static void test_c4_line_rules(void) {
    /* Lines C4 removes do not count: "lorem ipsum" on a line without
     * terminal punctuation is removed before the document rule sees it. */
    sl_buf yaml, input;
    sl_buf_init(&yaml);
    sl_buf_init(&input);
    config(&yaml, "    remove_lines: true\n    rules:\n");
    for (size_t i = 0; i < N_RULES; i++)
        if (strncmp(rule_names[i], "c4_", 3) != 0) sl_buf_printf(&yaml, "      %s: false\n", rule_names[i]);
    sl_buf_puts(&yaml, "      c4_min_sentences: 2\n"
                       "sinks:\n  out:\n    type: capture\n    inputs: [q]\n");
    add_doc(&input, "  This first line is kept.  \n"
                    "Please enable JavaScript to continue.\n"
                    "Too short.\n"
                    "lorem ipsum without an end\n"
                    "We value your privacy policy choices.\n"
                    "A word of ten thousand letters would also go.\n"
                    "\n"
                    "Citation markers go[1] before the check.[23]\v"
                    "And this line ends well!");
    CHECK_INT(run_with(text_of(&yaml), text_of(&input), 1, 1024), 0);
    /* "\v" ends a line, as in Python's splitlines(); citation markers are
     * removed before the punctuation check */
    CHECK_STR(output("out"), "{\"text\":\"This first line is kept.\\nA word of ten thousand letters would also go.\\n"
                             "Citation markers go before the check.\\nAnd this line ends well!\"}\n");
    CHECK_CONTAINS(describe_output(), "{\"rule\":\"c4_max_word_length\",\"lines_removed\":0},"
                                      "{\"rule\":\"c4_terminal_punct\",\"lines_removed\":2},"
                                      "{\"rule\":\"c4_min_words_per_line\",\"lines_removed\":1},"
                                      "{\"rule\":\"c4_javascript\",\"lines_removed\":1},"
                                      "{\"rule\":\"c4_policy\",\"lines_removed\":1},");
    CHECK_CONTAINS(metrics_output(),
                   "sluice_text_quality_lines_removed_total{component=\"q\",rule=\"c4_terminal_punct\"} 2\n");
    sl_buf_free(&yaml);
    sl_buf_free(&input);
}

/* Every line break C4 knows, after a first line of 0 to 40 bytes: the
 * breaks are found sixteen bytes at a time and words are counted without
 * branches, so each alignment must give the same lines and the same
 * verdicts (a word longer than 5 letters, fewer than 3 words). */
static void test_c4_breaks_at_every_alignment(void) {
    static const char *const breaks[] = {"\n", "\r\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e",
                                         "\xc2\x85", "\xe2\x80\xa8", "\xe2\x80\xa9"};
    sl_textstats_params params = {.tokenizer = SL_TOKENIZER_SLUICE, .rules = SL_RULES_DATATROVE_0_5,
                                  .c4 = {5, true, 3, true, true, true, true},
                                  .skip = SL_TS_SKIP_WORDS | SL_TS_SKIP_SYMBOLS | SL_TS_SKIP_GOPHER_LINES |
                                          SL_TS_SKIP_REPETITION | SL_TS_SKIP_TOP_NGRAMS | SL_TS_SKIP_DUP_NGRAMS |
                                          SL_TS_SKIP_FINEWEB};
    sl_textstats_scratch scratch = {0};
    sl_textstats st;
    sl_buf text = {0}, kept = {0};
    int failed = 0;
    for (size_t b = 0; b < sizeof breaks / sizeof *breaks; b++)
        for (int k = 0; k <= 40; k++) {
            text.len = 0;
            for (int i = 0; i < k; i++) sl_buf_putc(&text, 'x');
            sl_buf_printf(&text, "%sTwo  more\twords here.%sOnly two.", breaks[b], breaks[b]);
            sl_textstats_compute(text.data, text.len, &params, &scratch, &st, &kept);
            bool ok = st.c4_lines == 3 && st.c4_lines_removed == 2 &&
                      st.c4_removed_by[SL_C4_LONG_WORD] == (k > 5) &&
                      st.c4_removed_by[SL_C4_NO_TERMINAL_PUNCT] == (k <= 5) &&
                      st.c4_removed_by[SL_C4_FEW_WORDS] == 1 && kept.len == 21 &&
                      memcmp(kept.data, "Two  more\twords here.", 21) == 0;
            if (!ok && failed++ < 5)
                fprintf(stderr, "  break %zu after %d bytes: %llu lines, %llu removed\n", b, k,
                        (unsigned long long)st.c4_lines, (unsigned long long)st.c4_lines_removed);
        }
    CHECK_INT(failed, 0);
    sl_buf_free(&text);
    sl_buf_free(&kept);
    sl_textstats_scratch_free(&scratch);
}

/* Ellipses are counted as str.count counts them: without overlap, from
 * the left, up to the text's last byte; stop words are compared whole. */
static void test_ellipsis_count(void) {
    sl_textstats_params params = {.tokenizer = SL_TOKENIZER_SLUICE, .rules = SL_RULES_DATATROVE_0_5};
    sl_textstats_scratch scratch = {0};
    sl_textstats st;
    const char *text = "a.... b...... c.. d\xe2\x80\xa6\xe2\x80\xa6 e\xe2\x80 f...";
    sl_textstats_compute(text, strlen(text), &params, &scratch, &st, NULL);
    CHECK_INT(st.tokens, 6);
    CHECK(st.ellipsis_ratio == 6.0 / 6);
    sl_textstats_compute(text, strlen(text) - 1, &params, &scratch, &st, NULL);   /* "f.." at the end */
    CHECK(st.ellipsis_ratio == 5.0 / 6);
    /* stop words: lowercase, punctuation around them removed, of 2 to 4
     * letters; every occurrence in 0.4, each once from 0.5 */
    const char *stop = "the the. (And) that've with Be be, tHe xthe of to\xc3\xa9 \"have\"";
    sl_textstats_compute(stop, strlen(stop), &params, &scratch, &st, NULL);
    CHECK_INT(st.stop_words, 5);
    params.rules = SL_RULES_DATATROVE_0_4;
    sl_textstats_compute(stop, strlen(stop), &params, &scratch, &st, NULL);
    CHECK_INT(st.stop_words, 6);
    sl_textstats_scratch_free(&scratch);
}

/* The word measures do not depend on where tokens lie: runs of ASCII
 * letters and digits are taken up to eight bytes at once, so the same
 * random texts (letters, digits, punctuation, accents, spaces) moved by 1
 * to 9 spaces, or followed by them, must give the same values. */
static void test_word_measures_at_every_alignment(void) {
    static const char *const pieces[] = {"The", "of", "AND", "x", "Hello", "wörld", "42", "3.14", "(a)", "--",
                                         "don't", "...", "é", "Zz9", "ab_cd", "[1]", "with", "\"q\"", "!", "#"};
    sl_textstats_params params = {.tokenizer = SL_TOKENIZER_SLUICE, .rules = SL_RULES_DATATROVE_0_4,
                                  .skip = SL_TS_SKIP_GOPHER_LINES | SL_TS_SKIP_REPETITION | SL_TS_SKIP_FINEWEB |
                                          SL_TS_SKIP_C4};
    sl_textstats_scratch scratch = {0};
    sl_textstats want, got;
    sl_buf text = {0}, moved = {0};
    unsigned seed = 3;
    int failed = 0;
    for (int t = 0; t < 300; t++) {
        text.len = 0;
        for (int k = 0; k < 30; k++) {
            seed = seed * 1103515245u + 12345u;
            sl_buf_puts(&text, pieces[(seed >> 16) % (sizeof pieces / sizeof *pieces)]);
            if ((seed >> 8) % 3) sl_buf_putc(&text, ' ');
        }
        sl_textstats_compute(text.data, text.len, &params, &scratch, &want, NULL);
        for (int shift = 1; shift <= 18; shift++) {
            moved.len = 0;
            for (int k = 0; k < shift % 10; k++) sl_buf_putc(&moved, ' ');
            sl_buf_append(&moved, text.data, text.len);
            for (int k = 0; k < shift / 10 * (shift % 10); k++) sl_buf_putc(&moved, ' ');
            sl_textstats_compute(moved.data, moved.len, &params, &scratch, &got, NULL);
            if ((got.tokens != want.tokens || got.words != want.words || got.stop_words != want.stop_words ||
                 got.mean_word_length != want.mean_word_length || got.alpha_words != want.alpha_words) &&
                failed++ < 3)
                fprintf(stderr, "  \"%s\" moved by %d: %llu words (%llu)\n", text.data, shift,
                        (unsigned long long)got.words, (unsigned long long)want.words);
        }
    }
    CHECK_INT(failed, 0);
    CHECK(want.words > 10 && want.stop_words > 0);
    sl_buf_free(&text);
    sl_buf_free(&moved);
    sl_textstats_scratch_free(&scratch);
}

/* ---- FineWeb ---- */

static void test_fineweb(void) {
    /* 25 lines, 3 ending in punctuation: exactly 0.12 fails (the rule
     * rejects at the threshold); 4: 0.16 passes */
    FAILS("fineweb_line_punct", NULL, cat(repeat("done.", 3, "\n"), repeat("\nopen", 22, "")),
          "0.12 is not above the minimum 0.12");
    PASSES("fineweb_line_punct", NULL, cat(repeat("done.", 4, "\n"), repeat("\nopen", 21, "")));
    /* 100 lines, 67 of <= 30 chars: fails at the threshold; 66 passes */
    const char *long_line = "\nthis line is longer than thirty characters";
    FAILS("fineweb_short_lines", NULL, cat(repeat("short", 67, "\n"), repeat(long_line, 33, "")),
          "0.67 is not below the maximum 0.67");
    PASSES("fineweb_short_lines", NULL, cat(repeat("short", 66, "\n"), repeat(long_line, 34, "")));
    /* a 10-char line twice among 1000 chars (newlines not counted): 0.01 fails */
    static char doc[2048];
    snprintf(doc, sizeof doc, "abcdefghij\n%s\nabcdefghij", repeat("x", 980, ""));
    FAILS("fineweb_dup_line_chars", NULL, doc, "0.01 is not below the maximum 0.01");
    snprintf(doc, sizeof doc, "abcdefghij\n\n%s\nabcdefghij\n", repeat("x", 981, ""));
    PASSES("fineweb_dup_line_chars", NULL, doc);
    /* 10 tokens, 3 newlines: 0.3 passes; 4 fails */
    PASSES("fineweb_list_ratio", NULL, "a b c\nd e f\ng h\ni j");
    FAILS("fineweb_list_ratio", NULL, "a b c\nd e\nf\ng h\ni j", "0.4 is above the maximum 0.3");
}

/* ---- tokenizer and rules version ---- */

#define DATATROVE "    tokenizer: datatrove\n"

static void test_datatrove_tokenizer(void) {
    /* punctuation is a token of its own: 4 of 8 tokens have a letter */
    PASSES("gopher_alpha_words", NULL, "a, b, c, d.");
    CHECK_STR(judge_with(DATATROVE, "gopher_alpha_words", NULL, "a, b, c, d."),
              "text_quality: rule gopher_alpha_words: 0.5 is below the minimum 0.8\n");
    /* a word is a whole token with a non-punctuation character: "n't" counts
     * (do n't = 2 + 3 chars), "..." does not */
    CHECK_STR(judge_with(DATATROVE, "gopher_min_mean_word_length", NULL, "don't ..."),
              "text_quality: rule gopher_min_mean_word_length: 2.5 is below the minimum 3\n");
    /* '#' per token: "#a" is two tokens, so 1 in 10 */
    FAILS("gopher_hash_ratio", NULL, "#a b c d e f g h i", "0.111111 is above the maximum 0.1");
    CHECK_STR(judge_with(DATATROVE, "gopher_hash_ratio", NULL, "#a b c d e f g h i"), "");
    /* FineWeb's list ratio: 3 newlines over 16 datatrove tokens, not 8 */
    FAILS("fineweb_list_ratio", NULL, "aa, bb.\ncc, dd.\nee, ff.\ngg, hh.", "0.375 is above the maximum 0.3");
    CHECK_STR(judge_with(DATATROVE, "fineweb_list_ratio", NULL, "aa, bb.\ncc, dd.\nee, ff.\ngg, hh."), "");
    /* C4 counts sentences with the same splitter: "Mr." does not end one */
    CHECK_STR(judge_with(DATATROVE, "c4_min_sentences", "2", "Mr. Smith went home today.\nDr. Jones stayed there."),
              "");
    CHECK_STR(judge_with(DATATROVE, "c4_min_sentences", "3", "Mr. Smith went home today.\nDr. Jones stayed there."),
              "text_quality: rule c4_min_sentences: 2 is below the minimum 3\n");
    CHECK_STR(judge_with("", "c4_min_sentences", "3", "Mr. Smith went home today.\nDr. Jones stayed there."), "");
}

static void test_rules_version(void) {
    /* stop words: per occurrence up to 0.4.0, once each from 0.5.0 */
    PASSES("gopher_stop_words", NULL, "the cat the dog");
    CHECK_STR(judge_with("    rules_version: 0.4.0\n", "gopher_stop_words", NULL, "the cat the dog"), "");
    CHECK_STR(judge_with("    rules_version: 0.5.0\n", "gopher_stop_words", NULL, "the cat the dog"),
              "text_quality: rule gopher_stop_words: 1 is below the minimum 2\n");
    CHECK_STR(judge_with("    rules_version: 0.10.0\n", "gopher_stop_words", NULL, "the cat the dog"),
              "text_quality: rule gopher_stop_words: 1 is below the minimum 2\n");
    /* FineWeb from 0.4.0: strict comparisons (0.12 passes), non-empty lines only */
    char at_threshold[256], with_blanks[sizeof at_threshold + 16];
    snprintf(at_threshold, sizeof at_threshold, "%s%s", repeat("done.", 3, "\n"), repeat("\nopen", 22, ""));
    snprintf(with_blanks, sizeof with_blanks, "%s\n\n\n\n\n\n\n\n\n\n", at_threshold);
    CHECK_STR(judge_with("    rules_version: 0.4.0\n", "fineweb_line_punct", NULL, at_threshold), "");
    /* 3 of 25 lines end in '.', plus 10 blank lines that no longer count: 3/25 */
    CHECK_STR(judge_with("    rules_version: 0.4.0\n", "fineweb_line_punct", NULL, with_blanks),
              "");
    CHECK_STR(judge("fineweb_line_punct", NULL, with_blanks),
              "text_quality: rule fineweb_line_punct: 0.0857143 is not above the minimum 0.12\n");
    /* quotes no longer end a line from 0.4.0; the Arabic question mark does */
    CHECK_STR(judge_with("    rules_version: 0.4.0\n", "fineweb_line_punct", "0.5", "he said \"no\"\nwhy\xd8\x9f"),
              "");
    CHECK_STR(judge_with("    rules_version: 0.4.0\n", "fineweb_line_punct", "0.5", "he said \"no\"\nwhy"),
              "text_quality: rule fineweb_line_punct: 0 is below the minimum 0.5\n");
    /* a blank document fails fineweb_line_punct (datatrove: "empty") */
    CHECK_STR(judge_with("    rules_version: 0.4.0\n", "fineweb_line_punct", NULL, " \n \n"),
              "text_quality: rule fineweb_line_punct: 0 is below the minimum 0.12\n");
}

/* ---- defaults, actions, options ---- */

static const char *good_doc =
    "The licenses for most software are designed to take away your freedom to share and change it. "
    "By contrast, the GNU General Public License is intended to guarantee your freedom to share and "
    "change free software, to make sure the software is free for all its users.\n\n"
    "When we speak of free software, we are referring to freedom, not price. Our General Public "
    "Licenses are designed to make sure that you have the freedom to distribute copies of free "
    "software, that you receive source code or can get it if you want it, that you can change the "
    "software or use pieces of it in new free programs; and that you know you can do these things.\n\n"
    "To protect your rights, we need to make restrictions that forbid anyone to deny you these "
    "rights or to ask you to surrender the rights.";

static void test_defaults(void) {
    sl_buf yaml, input;
    sl_buf_init(&yaml);
    sl_buf_init(&input);
    config(&yaml, "sinks:\n  out:\n    type: capture\n    inputs: [q]\n");
    add_doc(&input, good_doc);
    add_doc(&input, "Click here to subscribe!");
    add_doc(&input, repeat("Buy now and save with the best deals of the year today.", 40, "\n"));
    sl_buf_puts(&input, "{\"id\":7}\n");
    CHECK_INT(run_with(text_of(&yaml), text_of(&input), 1, 1024), 0);
    /* the prose passes; the rest is rejected by the first failing rule */
    CHECK_INT(strncmp(output("out"), "{\"text\":\"The licenses", 21), 0);
    CHECK_CONTAINS(output("out"), "\n{\"id\":7}\n");
    CHECK_STR(dlq(), "text_quality: rule gopher_min_words: 4 is below the minimum 50\n"
                     "text_quality: rule gopher_dup_line_fraction: 0.975 is above the maximum 0.3\n");
    CHECK_CONTAINS(describe_output(), "\"q\":{\"type\":\"text_quality\",\"documents\":3,\"rejected\":2,\"skipped\":1,"
                                      "\"rules\":[{\"rule\":\"gopher_min_words\",\"rejected\":1},");
    CHECK_CONTAINS(metrics_output(), "sluice_text_quality_rejected_total{component=\"q\",rule=\"gopher_min_words\"} 1\n");
    CHECK_CONTAINS(metrics_output(),
                   "sluice_text_quality_rejected_total{component=\"q\",rule=\"gopher_dup_line_fraction\"} 1\n");
    sl_buf_free(&yaml);
    sl_buf_free(&input);
}

static void test_actions(void) {
    sl_buf yaml, input;
    sl_buf_init(&yaml);
    sl_buf_init(&input);
    add_doc(&input, good_doc);
    add_doc(&input, "too short");

    config(&yaml, "    action: route\nsinks:\n  out:\n    type: capture\n    inputs: [q.kept]\n"
                  "  rej:\n    type: capture\n    inputs: [q.rejected]\n");
    CHECK_INT(run_with(text_of(&yaml), text_of(&input), 1, 1024), 0);
    CHECK_INT(strncmp(output("out"), "{\"text\":\"The licenses", 21), 0);
    /* the rejected record says which rule failed and its value */
    CHECK_STR(output("rej"), "{\"text\":\"too short\",\"_quality\":{\"rule\":\"gopher_min_words\",\"value\":2,"
                             "\"threshold\":50.0,\"reason\":\"rule gopher_min_words: 2 is below the minimum 50\"}}\n");
    CHECK_STR(dlq(), "");

    sl_buf_free(&yaml);
    config(&yaml, "    action: drop\nsinks:\n  out:\n    type: capture\n    inputs: [q]\n");
    CHECK_INT(run_with(text_of(&yaml), text_of(&input), 1, 1024), 0);
    CHECK_INT(strncmp(output("out"), "{\"text\":\"The licenses", 21), 0);
    CHECK(strstr(output("out"), "too short") == NULL);
    CHECK_STR(dlq(), "");
    sl_buf_free(&yaml);
    sl_buf_free(&input);
}

static void test_annotate_scores(void) {
    sl_buf yaml, input;
    sl_buf_init(&yaml);
    sl_buf_init(&input);
    config(&yaml, "    action: annotate\n    rules:\n");
    for (size_t i = 0; i < N_RULES; i++) {
        const char *r = rule_names[i];
        if (strcmp(r, "gopher_min_words") && strcmp(r, "gopher_hash_ratio") && strcmp(r, "c4_lorem_ipsum") &&
            strcmp(r, "fineweb_line_punct") && strcmp(r, "c4_terminal_punct"))
            sl_buf_printf(&yaml, "      %s: false\n", r);
    }
    sl_buf_puts(&yaml, "sinks:\n  out:\n    type: capture\n    inputs: [q]\n");
    add_doc(&input, "#one two three.\nfour");
    CHECK_INT(run_with(text_of(&yaml), text_of(&input), 1, 1024), 0);
    CHECK_STR(output("out"),
              "{\"text\":\"#one two three.\\nfour\",\"_quality\":{\"gopher_min_words\":4,"
              "\"gopher_hash_ratio\":0.25,\"c4_terminal_punct\":1,\"c4_lorem_ipsum\":false,"
              "\"fineweb_line_punct\":0.5,\"failed\":[\"gopher_min_words\",\"gopher_hash_ratio\"]}}\n");
    CHECK_STR(dlq(), "");
    sl_buf_free(&yaml);
    sl_buf_free(&input);
}

/* The value of rule in an annotated line ("<rule>":value), into out. */
static void score_of(const char *line, const char *rule, char *out, size_t size) {
    char key[64];
    snprintf(key, sizeof key, "\"%s\":", rule);
    const char *p = strstr(line, key);
    size_t n = 0;
    if (p)
        for (p += strlen(key); p[n] && p[n] != ',' && p[n] != '}' && n + 1 < size; n++) out[n] = p[n];
    out[n] = 0;
}

/* text_quality computes only the measures of the rules that are on: each
 * rule alone gives the value it has with every rule on, on documents that
 * exercise every measure (both tokenizers). Not the C4 rules: which lines
 * each of them sees depends on which other C4 line rules are on. */
static void test_rule_alone_same_value(void) {
    static const char *const docs[] = {
        "The cat sat on the mat. The cat sat on the mat. The cat sat on the mat.\n\nIt was a good day, and "
        "the dog came by with a hat... Then it left.\n- one\n- two\n\u2022 three\nA line without end",
        "aa bb cc dd ee ff gg aa bb cc dd ee ff gg hh ii aa bb cc\n\naa bb cc dd ee ff gg aa bb cc\n\n#tag #tag",
        "function f() { return 1; }\nlorem ipsum dolor sit amet.\nWe use cookies. See our privacy policy.\n"
        "Enable javascript to continue.\nCaf\u00e9 na\u00efve \u00e9t\u00e9 [12] Wikipedia text.[edit]\n\n\n",
        "Mr. Smith went to Washington. He said: \"don't go!\" She cannot; they're gonna wait\u2026 OK?\n"
        "Short.\nShort.\nShort.\n",
    };
    static const char *const tokenizers[] = {"", "    tokenizer: datatrove\n    rules_version: \"0.5.0\"\n"};
    sl_buf input;
    sl_buf_init(&input);
    for (size_t d = 0; d < sizeof docs / sizeof *docs; d++) add_doc(&input, docs[d]);
    for (size_t t = 0; t < 2; t++) {
        sl_buf yaml, options;
        sl_buf_init(&yaml);
        sl_buf_init(&options);
        sl_buf_printf(&options, "    action: annotate\n%s", tokenizers[t]);
        config(&yaml, text_of(&options));
        sl_buf_puts(&yaml, "sinks:\n  out:\n    type: capture\n    inputs: [q]\n");
        CHECK_INT(run_with(text_of(&yaml), text_of(&input), 1, 1024), 0);
        char *all = strdup(output("out"));
        for (size_t r = 0; r < N_RULES; r++) {
            if (strncmp(rule_names[r], "c4_", 3) == 0) continue;
            sl_buf_free(&yaml);
            config(&yaml, text_of(&options));
            only_rule(&yaml, rule_names[r], NULL);
            sl_buf_puts(&yaml, "sinks:\n  out:\n    type: capture\n    inputs: [q]\n");
            CHECK_INT(run_with(text_of(&yaml), text_of(&input), 1, 1024), 0);
            const char *alone = output("out"), *every = all;
            for (size_t d = 0; d < sizeof docs / sizeof *docs; d++) {
                char want[64], got[64];
                score_of(every, rule_names[r], want, sizeof want);
                score_of(alone, rule_names[r], got, sizeof got);
                CHECK(want[0] != 0);
                CHECK_STR(got, want);
                every = strchr(every, '\n') + 1;
                alone = strchr(alone, '\n') + 1;
            }
        }
        free(all);
        sl_buf_free(&yaml);
        sl_buf_free(&options);
    }
    sl_buf_free(&input);
}

/* annotate measures every rule on the whole document: a C4 document rule
 * that fires early (lorem ipsum on the first line) does not hide the
 * curly bracket and the sentences of the lines after it. */
static void test_annotate_whole_document(void) {
    sl_buf yaml, input;
    sl_buf_init(&yaml);
    sl_buf_init(&input);
    config(&yaml, "    action: annotate\n    rules:\n");
    for (size_t i = 0; i < N_RULES; i++) {
        const char *r = rule_names[i];
        if (strcmp(r, "c4_lorem_ipsum") && strcmp(r, "c4_curly_bracket") && strcmp(r, "c4_min_sentences"))
            sl_buf_printf(&yaml, "      %s: false\n", r);
    }
    sl_buf_puts(&yaml, "sinks:\n  out:\n    type: capture\n    inputs: [q]\n");
    add_doc(&input, "Lorem ipsum dolor sit amet.\nThe code {x} is here now.\nOne more good line. And two more.");
    CHECK_INT(run_with(text_of(&yaml), text_of(&input), 1, 1024), 0);
    CHECK_CONTAINS(output("out"), "\"_quality\":{\"c4_lorem_ipsum\":true,\"c4_curly_bracket\":true,"
                                  "\"c4_min_sentences\":4,\"failed\":[\"c4_lorem_ipsum\",\"c4_curly_bracket\","
                                  "\"c4_min_sentences\"]}}\n");
    CHECK_STR(dlq(), "");
    sl_buf_free(&yaml);
    sl_buf_free(&input);
}

static void test_option_errors(void) {
    check_build_error("transforms:\n  q:\n    type: text_quality\n    inputs: [in]\n"
                      "    rules: {gopher_min_word: 20}\n"
                      "sinks:\n  out:\n    type: capture\n    inputs: [q]\n",
                      "unknown text_quality rule 'gopher_min_word'; did you mean 'gopher_min_words'?");
    check_build_error("transforms:\n  q:\n    type: text_quality\n    inputs: [in]\n"
                      "    rules: {c4_lorem_ipsum: 3}\n"
                      "sinks:\n  out:\n    type: capture\n    inputs: [q]\n",
                      "rule c4_lorem_ipsum has no threshold; use true or false");
    check_build_error("transforms:\n  q:\n    type: text_quality\n    inputs: [in]\n"
                      "    rules: {gopher_min_words: lots}\n"
                      "sinks:\n  out:\n    type: capture\n    inputs: [q]\n",
                      "rule gopher_min_words must be true, false or a threshold (a number >= 0), not 'lots'");
    check_build_error("transforms:\n  q:\n    type: text_quality\n    inputs: [in]\n    rules: [a]\n"
                      "sinks:\n  out:\n    type: capture\n    inputs: [q]\n",
                      "rules must be a mapping");
    /* route: the outputs must be named */
    check_build_error("transforms:\n  q:\n    type: text_quality\n    inputs: [in]\n    action: route\n"
                      "sinks:\n  out:\n    type: capture\n    inputs: [q]\n",
                      "q.kept, q.rejected");
}

int main(void) {
    RUN(test_gopher_word_counts);
    RUN(test_c4_breaks_at_every_alignment);
    RUN(test_ellipsis_count);
    RUN(test_word_measures_at_every_alignment);
    RUN(test_gopher_mean_word_length);
    RUN(test_gopher_symbols);
    RUN(test_gopher_lines);
    RUN(test_gopher_alpha_and_stop_words);
    RUN(test_gopher_duplicate_paragraphs_and_lines);
    RUN(test_gopher_top_ngrams);
    RUN(test_gopher_duplicated_ngrams);
    RUN(test_c4_document_rules);
    RUN(test_c4_line_rules);
    RUN(test_fineweb);
    RUN(test_datatrove_tokenizer);
    RUN(test_rules_version);
    RUN(test_defaults);
    RUN(test_actions);
    RUN(test_annotate_scores);
    RUN(test_annotate_whole_document);
    RUN(test_rule_alone_same_value);
    RUN(test_option_errors);
    reset();
    return check_report();
}
