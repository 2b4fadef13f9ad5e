/* norm_inert.h — the code points a Unicode normalization leaves alone
 * wherever they stand, so that `normalize` can skip utf8proc for text made
 * only of them (nearly all text of most corpora, in any script).
 *
 * For utf8proc options O (a normalization form, maybe case folding), a code
 * point c is inert when:
 *  - it decomposes to itself under O (no canonical or, with
 *    UTF8PROC_COMPAT, compatibility decomposition, no case folding, not a
 *    Hangul syllable); or, with UTF8PROC_COMPOSE, its decomposition composes
 *    back to it and starts with a code point of combining class 0 that never
 *    follows a starter in a decomposition (é = e + U+0301, 가 = L + V): the
 *    marks it decomposes into then meet no other marks, and its first code
 *    point joins nothing before it;
 *  - its canonical combining class is 0, so canonical reordering never
 *    moves it or anything next to it;
 *  - with UTF8PROC_COMPOSE: it never follows a starter in a canonical
 *    decomposition (it is no combining mark, no Hangul vowel or trailing
 *    consonant, none of the vowel signs that compose), so composition never
 *    joins it to the code point before it.
 * A text of inert code points is therefore its own normalization under O:
 * decomposition, reordering and composition all leave it as it is. The
 * table is computed from utf8proc itself at build time of the component,
 * so it follows the library's Unicode version.
 */
#ifndef SL_NORM_INERT_H
#define SL_NORM_INERT_H

#include <stdbool.h>
#include <stdint.h>
#include <utf8proc.h>

#define SL_NORM_INERT_CODE_POINTS 0x110000

typedef struct sl_norm_inert {
    uint64_t bits[SL_NORM_INERT_CODE_POINTS / 64];   /* bit c: c is inert */
} sl_norm_inert;

/* The table for utf8proc options (as given to utf8proc_map), built on the
 * first call for those options (a few milliseconds) and shared by every
 * caller for the life of the process; NULL when out of memory.
 * Thread-safe. */
const sl_norm_inert *sl_norm_inert_get(utf8proc_option_t options);

static inline bool sl_norm_inert_has(const sl_norm_inert *t, int32_t cp) {
    return cp >= 0 && cp < SL_NORM_INERT_CODE_POINTS && (t->bits[cp >> 6] >> (cp & 63) & 1);
}

#endif
