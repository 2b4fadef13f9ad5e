/* buf.h — a growable byte buffer.
 *
 * Used for encoder output, file I/O and message building. The buffer always
 * keeps SL_BUF_PADDING spare bytes after len so that simdjson (which reads up
 * to 64 bytes past the end of its input) can parse straight out of it.
 * data is NULL until the first write; after that data[len] is always '\0',
 * so the contents can be used as a C string. Allocation failure aborts, as in
 * arena.h.
 */
#ifndef SL_BUF_H
#define SL_BUF_H

#include <stddef.h>
#include <stdarg.h>

#define SL_BUF_PADDING 64

typedef struct sl_buf {
    char *data;
    size_t len;
    size_t cap;    /* usable capacity, excluding the padding */
} sl_buf;

void sl_buf_init(sl_buf *b);
void sl_buf_free(sl_buf *b);
void sl_buf_reserve(sl_buf *b, size_t extra);          /* room for len + extra */
/* Gives back the capacity past len (e.g. before the buffer is queued, where
 * it is charged by capacity). */
void sl_buf_shrink(sl_buf *b);
void sl_buf_append(sl_buf *b, const void *p, size_t n);
void sl_buf_putc(sl_buf *b, char c);
void sl_buf_puts(sl_buf *b, const char *s);
void sl_buf_printf(sl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sl_buf_vprintf(sl_buf *b, const char *fmt, va_list ap);
/* Removes the first n bytes, moving the rest to the front. */
void sl_buf_consume(sl_buf *b, size_t n);
/* Takes ownership of the data; the buffer is left empty. */
char *sl_buf_steal(sl_buf *b, size_t *len);

#endif
