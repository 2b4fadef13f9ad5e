/* fuzz_engine_textstats.c — libFuzzer target for the text statistics behind
 * text_quality (text/textstats.h).
 *
 * Any bytes (valid UTF-8 or not, NULs, lone \r, huge runs of newlines) must
 * be measured without crashing, every ratio must lie in [0, 1] where it is a
 * fraction, and the C4 kept text can never be longer than the input. The
 * same scratch space is reused for a second, shorter input, as a worker
 * reuses it across documents. The first byte chooses the tokenizer (sluice
 * or datatrove's, with its sentence splitter and PCRE2 rules) and the
 * datatrove rules version.
 */
#include <stdint.h>
#include <stdlib.h>

#include "text/textstats.h"

static void check_fraction(double v) {
    if (!(v >= 0 && v <= 1)) abort();
}

static void measure(const char *text, size_t len, sl_tokenizer tokenizer, sl_rules_version rules,
                    sl_textstats_scratch *scratch, sl_buf *kept) {
    sl_textstats_params params = {tokenizer, rules, {1000, true, 3, true, true, true, true}, 0};
    sl_textstats st;
    sl_textstats_compute(text, len, &params, scratch, &st, kept);
    check_fraction(st.bullet_lines);
    check_fraction(st.ellipsis_lines);
    check_fraction(st.alpha_words);
    check_fraction(st.dup_para_fraction);
    check_fraction(st.dup_para_chars);
    check_fraction(st.dup_line_fraction);
    check_fraction(st.dup_line_chars);
    /* datatrove's tokens write a '"' as `` or '' (two characters), so its
     * duplicated characters can reach twice the text's, as in datatrove */
    double most = tokenizer == SL_TOKENIZER_DATATROVE ? 2 : 1;
    for (int n = 5; n <= 10; n++)
        if (!(st.dup_ngram[n] >= 0 && st.dup_ngram[n] <= most)) abort();
    check_fraction(st.fw_line_punct);
    check_fraction(st.fw_short_lines);
    check_fraction(st.fw_dup_line_chars);
    if (st.words > st.tokens || kept->len > len) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sl_textstats_scratch scratch = {0};
    sl_buf kept;
    sl_buf_init(&kept);
    /* the first byte picks the tokenizer and the rules version */
    sl_tokenizer tokenizer = size && (data[0] & 1) ? SL_TOKENIZER_DATATROVE : SL_TOKENIZER_SLUICE;
    sl_rules_version rules = size ? (sl_rules_version)((data[0] >> 1) % 3) : SL_RULES_DATATROVE_0_3;
    measure((const char *)data, size, tokenizer, rules, &scratch, &kept);
    measure((const char *)data, size / 2, tokenizer, rules, &scratch, &kept);
    sl_textstats_scratch_free(&scratch);
    sl_buf_free(&kept);
    return 0;
}
