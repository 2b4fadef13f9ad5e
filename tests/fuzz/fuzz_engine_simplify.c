/* fuzz_engine_simplify.c — runs datatrove's text simplification
 * (text/simplify.c) over arbitrary bytes, then the MinHash signature of its
 * result (what dedup's `simplify: true` does), and checks what shingling
 * relies on: the output has no space at either end, no ASCII upper-case
 * letter or control character, no ASCII punctuation except the `;` and
 * backtick that canonical decomposition makes of U+037E and U+1FEF (as in
 * datatrove, whose punctuation step comes first), and no digit but 0 (two
 * can meet where a mark between two numbers was removed, as in datatrove).
 * Any crash, sanitizer report or failed check is a bug.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

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
        if (c >= 0x80 || c == ' ' || (c >= 'a' && c <= 'z')) continue;
        if (c != '0' && c != ';' && c != '`') fail("upper case, punctuation, control or digit left", &out, i);
    }
    sl_minhash_scratch scratch = {0};
    sl_buf_init(&scratch.word);
    uint16_t sig[16];
    size_t shingles = sl_minhash_signature(&m, &scratch, out.data ? out.data : "", out.len, sig);
    if ((shingles == 0) != (out.len == 0)) fail("shingles of a non-empty text", &out, 0);
    sl_minhash_scratch_free(&scratch);
    sl_buf_free(&out);
    return 0;
}
