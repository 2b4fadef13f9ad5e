/* queue.h — a bounded blocking FIFO of pointers, the pipe between threads.
 *
 * The runtime uses one for source -> workers and one per sink for
 * workers -> sink. A queue is bounded by item count and by bytes (each item
 * is pushed with its size); a push blocks while either bound would be
 * exceeded, except that an empty queue always takes one item, so an item
 * bigger than the byte bound cannot wedge the pipeline. Blocking pushes are
 * how backpressure travels upstream.
 *
 * Closing wakes everyone: pushes fail from then on (the caller still owns the
 * item), pops keep returning what is left and then report the end.
 */
#ifndef SL_QUEUE_H
#define SL_QUEUE_H

#include <stddef.h>
#include <stdint.h>

typedef struct sl_queue sl_queue;

/* max_items >= 1; max_bytes 0 = no byte bound. */
sl_queue *sl_queue_new(size_t max_items, size_t max_bytes);
void sl_queue_free(sl_queue *q);    /* the queue must be empty or its items leaked */

/* Appends item (blocking while full). Returns 0, or -1 when the queue is
 * closed (the item was not taken). */
int sl_queue_push(sl_queue *q, void *item, size_t bytes);

/* Takes the oldest item. Waits up to timeout_ms (< 0 = forever).
 * Returns 1 with *item (and *bytes when non-NULL) set, 0 on timeout, or -1
 * when the queue is closed and empty. */
int sl_queue_pop(sl_queue *q, int64_t timeout_ms, void **item, size_t *bytes);

void sl_queue_close(sl_queue *q);   /* idempotent */

#endif
