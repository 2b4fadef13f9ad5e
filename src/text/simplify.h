/* simplify.h — datatrove's text simplification (simplify_text with its
 * default TextNormConfig), applied before shingling by dedup's
 * `simplify: true` and its `preset: datatrove`, so that near-duplicates
 * that differ only in case, punctuation, numbers or accents have the same
 * shingles.
 *
 * In datatrove's order, on the whole text:
 *   1. lowercase;
 *   2. every number — a run of decimal digits (Unicode category Nd),
 *      optionally followed by one separator (. , U+060C U+066B U+2396-U+2398)
 *      and another run of digits — becomes "0" ("3.14" -> "0",
 *      "1,000,000" -> "0,0" -> "0 0");
 *   3. punctuation becomes a space: datatrove's PUNCTUATION set, i.e. the 32
 *      ASCII punctuation characters, the C0 controls except tab and
 *      newline, DEL and the C1 controls, and 34 others (typographic quotes
 *      and dashes, the ellipsis, CJK and full-width punctuation);
 *   4. whitespace runs become one space, with none at the ends;
 *   5. canonical decomposition (NFD), with the non-spacing marks (Mn)
 *      removed: "é" -> "e"; then the ends are trimmed again.
 *
 * Differences from Python that remain: lowercasing uses the simple Unicode
 * case mapping (utf8proc), so U+0130 "İ" becomes "i" rather than "i" plus a
 * combining dot (which step 5 removes anyway) and a word-final capital sigma
 * becomes "σ" rather than "ς"; combining marks are not canonically
 * reordered (which only matters for the rare spacing marks that survive
 * step 5). Each invalid UTF-8 byte becomes U+FFFD (Python, decoding with
 * errors="replace", makes one of a truncated multi-byte sequence), so the
 * result is valid UTF-8: kept as they were, invalid bytes left side by side
 * could form a character, even a space.
 */
#ifndef SL_SIMPLIFY_H
#define SL_SIMPLIFY_H

#include <stddef.h>

#include "../core/buf.h"

/* Replaces out's contents with the simplified s[0..len). */
void sl_text_simplify(const char *s, size_t len, sl_buf *out);

#endif
