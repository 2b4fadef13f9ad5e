/* writeback.h — starts writing files' dirty pages to disk
 * (sync_file_range) on a thread of its own, so that the thread writing the
 * files never waits for the disk.
 *
 * The exactly-once file sink starts the writeback of its bundle and side
 * files as they grow, so that the seal's sync finds little left to write.
 * Started inline, a thousand side files that reach the threshold together
 * stalled the frame writer, and the whole pipeline behind it, for about
 * 100 ms: the block layer throttles a thread that submits that much at
 * once. Here the frame writer only queues a hint.
 *
 * Hints only: when the queue is full a hint is dropped, and the seal's sync
 * writes those bytes. Descriptors must stay open until sl_writeback_drain
 * has returned.
 */
#ifndef SL_WRITEBACK_H
#define SL_WRITEBACK_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_WRITEBACK_QUEUE 2048u   /* hints waiting, at most (a thousand side files reach a threshold together) */

typedef struct sl_writeback_hint {
    int fd;
    uint64_t from, to;
} sl_writeback_hint;

typedef struct sl_writeback {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool started, stopping, busy;
    sl_writeback_hint queue[SL_WRITEBACK_QUEUE];
    size_t head, tail;   /* queued: [tail, head), counted from 0 */
} sl_writeback;

void sl_writeback_init(sl_writeback *w);
/* Waits for what is queued and stops the thread. */
void sl_writeback_free(sl_writeback *w);
/* Queues the start of the writeback of bytes [from, to) of fd (the thread
 * starts at the first hint). Never waits for the disk. */
void sl_writeback_hint_add(sl_writeback *w, int fd, uint64_t from, uint64_t to);
/* Returns once every queued hint has been acted on: call it before closing
 * a descriptor a hint may name. */
void sl_writeback_drain(sl_writeback *w);

#endif
