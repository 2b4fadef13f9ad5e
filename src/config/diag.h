/* diag.h — collected configuration errors and warnings.
 *
 * `sluice check` reports every problem at once, so loading never stops at the
 * first error: each stage adds to an sl_diag and carries on. Messages print
 * as `file:line:col: error: message` (columns and lines are 1-based), sorted
 * by position, with an optional "did you mean 'x'?" hint appended.
 */
#ifndef SL_DIAG_H
#define SL_DIAG_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/buf.h"

typedef struct sl_pos {
    const char *file;      /* owned by the diag's file list; may be NULL */
    int line, col;         /* 1-based; 0 when unknown */
} sl_pos;

typedef struct sl_diag_entry {
    sl_pos pos;
    bool warning;
    char *msg;
} sl_diag_entry;

typedef struct sl_diag {
    sl_diag_entry *entries;
    size_t count, cap;
    size_t errors;         /* entries that are errors (not warnings) */
    char **files;          /* interned file names referenced by positions */
    size_t n_files;
} sl_diag;

void sl_diag_init(sl_diag *d);
void sl_diag_free(sl_diag *d);
/* Interns a file name so positions can point at it for the diag's life. */
const char *sl_diag_file(sl_diag *d, const char *path);
void sl_diag_error(sl_diag *d, sl_pos pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void sl_diag_warning(sl_diag *d, sl_pos pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Sorts by position and writes one line per entry. */
void sl_diag_print(sl_diag *d, sl_buf *out);
bool sl_diag_has_errors(const sl_diag *d);

#endif
