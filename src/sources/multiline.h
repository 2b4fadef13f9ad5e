/* multiline.h — joins the lines of one log event (a stack trace, a
 * pretty-printed object) into one frame, by a pattern that matches the
 * first line of every event.
 *
 * An event is a line followed by the lines that do not match `start`, up to
 * max_lines lines and max_bytes bytes in all; the first line of the input
 * (or the first after a cut) starts an event whatever it looks like. The
 * joined lines stay contiguous in the input, so a frame is simply a longer
 * byte range: the text format keeps its inner line breaks in `message`.
 *
 * Whether an event is complete is only known when the next event's first
 * line has arrived, so the caller says how much it knows (sl_multiline_mode):
 * more input may come; nothing came for a while (flush what is complete);
 * or the input has ended.
 */
#ifndef SL_MULTILINE_H
#define SL_MULTILINE_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/error.h"

typedef enum {
    SL_MULTILINE_MORE,    /* more input may come: an event ends only at the next start */
    SL_MULTILINE_FLUSH,   /* input paused past the timeout: the complete lines form an event */
    SL_MULTILINE_END,     /* input ended: everything left is one last event */
} sl_multiline_mode;

typedef struct sl_multiline sl_multiline;

/* Compiles the start pattern (PCRE2, UTF-8); NULL with err when it does not
 * compile. max_lines >= 1. */
sl_multiline *sl_multiline_new(const char *start, size_t max_lines, sl_error *err);
void sl_multiline_free(sl_multiline *m);

/* Length of the first event of p[0..len), or 0 when it is not complete yet.
 * Only a first line that is itself longer than max_bytes makes a longer
 * frame (the caller dead-letters it); otherwise an event is cut before the
 * line that would take it past max_bytes. */
size_t sl_multiline_frame(sl_multiline *m, const char *p, size_t len, size_t max_bytes,
                          sl_multiline_mode mode);

#endif
