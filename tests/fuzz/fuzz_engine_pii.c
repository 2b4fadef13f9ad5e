/* fuzz_engine_pii.c — runs every built-in PII detector (text/pii.c) over
 * arbitrary bytes and checks what the redact transform relies on: each
 * reported span lies inside the text, a detector's spans come in order and
 * do not overlap, every hit passes its own validator and is allowed by the
 * prefilter, the merged list after sl_pii_resolve is sorted and
 * non-overlapping, and the partial mask and canonical form of each hit can
 * be written. Any crash, sanitizer report or failed check is a bug.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "text/pii.h"

static void fail(const char *what, size_t start, size_t end) {
    fprintf(stderr, "pii fuzz: %s (span %zu..%zu)\n", what, start, end);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    sl_pii_spans all = {0}, one = {0};
    sl_buf out;
    sl_buf_init(&out);
    unsigned possible = sl_pii_candidates(s, size);
    for (int d = 0; d < SL_PII_BUILTIN_COUNT; d++) {
        const sl_pii_detector *det = &sl_pii_detectors[d];
        one.count = 0;
        det->scan(s, size, d, &one);
        size_t prev_end = 0;
        for (size_t i = 0; i < one.count; i++) {
            const sl_pii_span *sp = &one.items[i];
            if (sp->start >= sp->end || sp->end > size) fail("span out of bounds", sp->start, sp->end);
            if (sp->start < prev_end) fail("spans overlap or are out of order", sp->start, sp->end);
            if (sp->detector != d) fail("wrong detector number", sp->start, sp->end);
            if (!(possible & (1u << d))) fail("hit that the prefilter ruled out", sp->start, sp->end);
            if (!det->validate(s + sp->start, sp->end - sp->start)) fail("hit fails its validator", sp->start, sp->end);
            out.len = 0;
            det->partial(s + sp->start, sp->end - sp->start, &out);
            if (out.len == 0) fail("empty partial mask", sp->start, sp->end);
            out.len = 0;
            det->canonical(s + sp->start, sp->end - sp->start, &out);
            prev_end = sp->end;
            sl_pii_spans_push(&all, sp->start, sp->end, d);
        }
    }
    sl_pii_resolve(&all);
    for (size_t i = 1; i < all.count; i++)
        if (all.items[i].start < all.items[i - 1].end) fail("resolved spans overlap", all.items[i].start, all.items[i].end);
    out.len = 0;
    sl_pii_partial_generic(s, size, &out);
    if (out.len != size) fail("generic partial changed the length", 0, size);
    sl_pii_spans_free(&all);
    sl_pii_spans_free(&one);
    sl_buf_free(&out);
    return 0;
}
