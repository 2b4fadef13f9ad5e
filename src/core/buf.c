/* buf.c — the growable byte buffer (see buf.h).
 *
 * The allocation is always cap + SL_BUF_PADDING bytes, and data[len] is kept
 * '\0' once the buffer holds memory, so a buffer can be handed to simdjson
 * (which reads past the end) or printed as a C string without a copy.
 */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t n) {
    fprintf(stderr, "sluice: out of memory allocating %zu bytes\n", n);
    abort();
}

void sl_buf_init(sl_buf *b) {
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void sl_buf_free(sl_buf *b) {
    free(b->data);
    sl_buf_init(b);
}

void sl_buf_reserve(sl_buf *b, size_t extra) {
    if (extra > (size_t)-1 - b->len - SL_BUF_PADDING)
        out_of_memory(extra);
    size_t need = b->len + extra;
    if (b->data && need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > ((size_t)-1 - SL_BUF_PADDING) / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap + SL_BUF_PADDING);
    if (!p)
        out_of_memory(cap + SL_BUF_PADDING);
    b->data = p;
    b->cap = cap;
    b->data[b->len] = '\0';
}

void sl_buf_shrink(sl_buf *b) {
    if (!b->data || b->cap == b->len)
        return;
    char *p = realloc(b->data, b->len + SL_BUF_PADDING);
    if (!p)
        return;   /* the larger block stays valid */
    b->data = p;
    b->cap = b->len;
}

void sl_buf_append(sl_buf *b, const void *p, size_t n) {
    sl_buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void sl_buf_putc(sl_buf *b, char c) {
    if (!b->data || b->len >= b->cap)
        sl_buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void sl_buf_puts(sl_buf *b, const char *s) {
    sl_buf_append(b, s, strlen(s));
}

void sl_buf_vprintf(sl_buf *b, const char *fmt, va_list ap) {
    sl_buf_reserve(b, 64);
    va_list copy;
    va_copy(copy, ap);
    /* The NUL may land in data[cap], which is inside the padding. */
    int n = vsnprintf(b->data + b->len, b->cap - b->len + 1, fmt, copy);
    va_end(copy);
    if (n < 0) {
        b->data[b->len] = '\0';
        return;
    }
    if ((size_t)n > b->cap - b->len) {
        sl_buf_reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    }
    b->len += (size_t)n;
}

void sl_buf_printf(sl_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sl_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void sl_buf_consume(sl_buf *b, size_t n) {
    if (n >= b->len) {
        b->len = 0;
    } else {
        memmove(b->data, b->data + n, b->len - n);
        b->len -= n;
    }
    if (b->data)
        b->data[b->len] = '\0';
}

char *sl_buf_steal(sl_buf *b, size_t *len) {
    if (!b->data)
        sl_buf_reserve(b, 0);
    char *p = b->data;
    if (len)
        *len = b->len;
    sl_buf_init(b);
    return p;
}
