/* fuzz_engine_textstats.c — libFuzzer target for the text statistics behind
 * text_quality (text/textstats.h).
 *
 * Any bytes (valid UTF-8 or not, NULs, lone \r, huge runs of newlines) must
 * be measured without crashing, every ratio must lie in [0, 1] where it is a
 * fraction, and the C4 kept text can never be longer than the input. The
 * same scratch space is reused for a second, shorter input, as a worker
 * reuses it across documents.
 */
#include <stdint.h>
#include <stdlib.h>

#include "text/textstats.h"

static void check_fraction(double v) {
    if (!(v >= 0 && v <= 1)) abort();
}

static void measure(const char *text, size_t len, sl_textstats_scratch *scratch, sl_buf *kept) {
    sl_c4_params c4 = {1000, true, 3, true, true, true, true};
    sl_textstats st;
    sl_textstats_compute(text, len, &c4, scratch, &st, kept);
    check_fraction(st.bullet_lines);
    check_fraction(st.ellipsis_lines);
    check_fraction(st.alpha_words);
    check_fraction(st.dup_para_fraction);
    check_fraction(st.dup_para_chars);
    check_fraction(st.dup_line_fraction);
    check_fraction(st.dup_line_chars);
    for (int n = 5; n <= 10; n++) check_fraction(st.dup_ngram[n]);
    check_fraction(st.fw_line_punct);
    check_fraction(st.fw_short_lines);
    check_fraction(st.fw_dup_line_chars);
    if (st.words > st.tokens || kept->len > len) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sl_textstats_scratch scratch = {0};
    sl_buf kept;
    sl_buf_init(&kept);
    measure((const char *)data, size, &scratch, &kept);
    measure((const char *)data, size / 2, &scratch, &kept);
    sl_textstats_scratch_free(&scratch);
    sl_buf_free(&kept);
    return 0;
}
