/* fuzz_engine_simplify.c — runs datatrove's text simplification
 * (text/simplify.c) over arbitrary bytes, then the MinHash signature of its
 * result (what dedup's `simplify: true` does), and checks what shingling
 * relies on: the output is valid UTF-8 with no space at either end, no
 * ASCII control character and no digit but 0 (two can meet where a mark
 * between two numbers was removed, as in datatrove), and a non-empty output
 * has shingles. ASCII punctuation can appear: canonical decomposition makes
 * `;` of U+037E and `>` plus a mark of U+226F, after datatrove's punctuation
 * step. Any crash, sanitizer report or failed check is a bug.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <utf8proc.h>

#include "text/minhash.h"
#include "text/simplify.h"

static void fail(const char *what, const sl_buf *out, size_t at) {
    fprintf(stderr, "simplify fuzz: %s at byte %zu of %zu\n", what, at, out->len);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static sl_minhash m;
    static bool ready;
    if (!ready) {
        if (sl_minhash_init(&m, 16, 2) < 0) abort();
        ready = true;
    }
    sl_buf out;
    sl_buf_init(&out);
    sl_text_simplify((const char *)data, size, &out);
    if (out.len && (out.data[0] == ' ' || out.data[out.len - 1] == ' ')) fail("space at an end", &out, 0);
    for (size_t i = 0; i < out.len; i++) {
        unsigned char c = (unsigned char)out.data[i];
        if (c < 0x20 || c == 0x7f) fail("control character left", &out, i);
        if (c >= '1' && c <= '9') fail("digit other than 0 left", &out, i);
    }
    if (utf8proc_decompose((const utf8proc_uint8_t *)(out.data ? out.data : ""), (utf8proc_ssize_t)out.len, NULL, 0,
                           0) < 0)
        fail("invalid UTF-8", &out, 0);
    sl_minhash_scratch scratch = {0};
    sl_buf_init(&scratch.word);
    uint16_t sig[16];
    size_t shingles = sl_minhash_signature(&m, &scratch, out.data ? out.data : "", out.len, sig);
    if ((shingles == 0) != (out.len == 0)) fail("shingles of a non-empty text", &out, 0);
    sl_minhash_scratch_free(&scratch);
    sl_buf_free(&out);
    return 0;
}
