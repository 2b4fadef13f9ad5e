/* diag.c — the list of configuration errors and warnings.
 *
 * Entries are appended as the loader, the option validator and the graph
 * checker find problems; nothing stops at the first one. Printing sorts by
 * position (file in the order files were first seen, then line, then column,
 * then the order the problems were found) so that `sluice check` reads top to
 * bottom like the file.
 */
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sl_diag_init(sl_diag *d)
{
    memset(d, 0, sizeof *d);
}

void sl_diag_free(sl_diag *d)
{
    for (size_t i = 0; i < d->count; i++)
        free(d->entries[i].msg);
    for (size_t i = 0; i < d->n_files; i++)
        free(d->files[i]);
    free(d->entries);
    free(d->files);
    memset(d, 0, sizeof *d);
}

const char *sl_diag_file(sl_diag *d, const char *path)
{
    if (!path)
        return NULL;
    for (size_t i = 0; i < d->n_files; i++)
        if (strcmp(d->files[i], path) == 0)
            return d->files[i];
    char **files = realloc(d->files, (d->n_files + 1) * sizeof *files);
    char *copy = strdup(path);
    if (!files || !copy)
        abort();
    d->files = files;
    d->files[d->n_files++] = copy;
    return copy;
}

static void add(sl_diag *d, sl_pos pos, bool warning, const char *fmt, va_list ap)
{
    char *msg;
    if (vasprintf(&msg, fmt, ap) < 0)
        abort();
    if (d->count == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        sl_diag_entry *entries = realloc(d->entries, cap * sizeof *entries);
        if (!entries)
            abort();
        d->entries = entries;
        d->cap = cap;
    }
    d->entries[d->count++] = (sl_diag_entry){ .pos = pos, .warning = warning, .msg = msg };
    if (!warning)
        d->errors++;
}

void sl_diag_error(sl_diag *d, sl_pos pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add(d, pos, false, fmt, ap);
    va_end(ap);
}

void sl_diag_warning(sl_diag *d, sl_pos pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add(d, pos, true, fmt, ap);
    va_end(ap);
}

bool sl_diag_has_errors(const sl_diag *d)
{
    return d->errors > 0;
}

/* Sorting needs the diag (for file order) and a stable tie-break; qsort has
 * no context argument, so the entries are sorted through an array of keys. */
typedef struct sort_key {
    size_t file_rank;   /* 0 = no file, else 1 + index in d->files */
    size_t seq;         /* the order the entry was added */
    sl_diag_entry entry;
} sort_key;

static int compare_keys(const void *pa, const void *pb)
{
    const sort_key *a = pa, *b = pb;
    if (a->file_rank != b->file_rank)
        return a->file_rank < b->file_rank ? -1 : 1;
    if (a->entry.pos.line != b->entry.pos.line)
        return a->entry.pos.line < b->entry.pos.line ? -1 : 1;
    if (a->entry.pos.col != b->entry.pos.col)
        return a->entry.pos.col < b->entry.pos.col ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static size_t file_rank(const sl_diag *d, const char *file)
{
    if (!file)
        return 0;
    for (size_t i = 0; i < d->n_files; i++)
        if (d->files[i] == file || strcmp(d->files[i], file) == 0)
            return i + 1;
    return d->n_files + 1;   /* a file name the diag did not intern */
}

static void sort_entries(sl_diag *d)
{
    if (d->count < 2)
        return;
    sort_key *keys = malloc(d->count * sizeof *keys);
    if (!keys)
        abort();
    for (size_t i = 0; i < d->count; i++)
        keys[i] = (sort_key){ file_rank(d, d->entries[i].pos.file), i, d->entries[i] };
    qsort(keys, d->count, sizeof *keys, compare_keys);
    for (size_t i = 0; i < d->count; i++)
        d->entries[i] = keys[i].entry;
    free(keys);
}

void sl_diag_print(sl_diag *d, sl_buf *out)
{
    sort_entries(d);
    for (size_t i = 0; i < d->count; i++) {
        const sl_diag_entry *e = &d->entries[i];
        sl_buf_puts(out, e->pos.file ? e->pos.file : "<config>");
        if (e->pos.line > 0)
            sl_buf_printf(out, ":%d:%d", e->pos.line, e->pos.col);
        sl_buf_printf(out, ": %s: %s\n", e->warning ? "warning" : "error", e->msg);
    }
}
