/* queue.c — bounded blocking FIFO (see queue.h).
 *
 * A ring buffer of (item, bytes) slots sized to max_items, one mutex and two
 * condition variables (not_empty for poppers, not_full for pushers). Items
 * are whole batches or payloads, so the lock is taken a few thousand times a
 * second at most: a plain mutex is the simplest thing that is fast enough.
 */
#include "queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

typedef struct queue_slot {
    void *item;
    size_t bytes;
} queue_slot;

struct sl_queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    queue_slot *slots;
    size_t cap, head, count;       /* ring: items at head .. head+count-1 */
    size_t bytes, max_bytes;
    bool closed;
};

sl_queue *sl_queue_new(size_t max_items, size_t max_bytes)
{
    sl_queue *q = calloc(1, sizeof *q);
    if (!q) abort();
    q->cap = max_items ? max_items : 1;
    q->slots = calloc(q->cap, sizeof *q->slots);
    if (!q->slots) abort();
    q->max_bytes = max_bytes;
    pthread_mutex_init(&q->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&q->not_empty, &attr);
    pthread_cond_init(&q->not_full, &attr);
    pthread_condattr_destroy(&attr);
    return q;
}

void sl_queue_free(sl_queue *q)
{
    if (!q) return;
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
    free(q->slots);
    free(q);
}

static bool queue_full(const sl_queue *q, size_t bytes)
{
    if (q->count == 0) return false;
    if (q->count == q->cap) return true;
    return q->max_bytes && q->bytes + bytes > q->max_bytes;
}

int sl_queue_push(sl_queue *q, void *item, size_t bytes)
{
    pthread_mutex_lock(&q->lock);
    while (!q->closed && queue_full(q, bytes))
        pthread_cond_wait(&q->not_full, &q->lock);
    if (q->closed) {
        pthread_mutex_unlock(&q->lock);
        return -1;
    }
    queue_slot *s = &q->slots[(q->head + q->count) % q->cap];
    s->item = item;
    s->bytes = bytes;
    q->count++;
    q->bytes += bytes;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

int sl_queue_pop(sl_queue *q, int64_t timeout_ms, void **item, size_t *bytes)
{
    struct timespec deadline;
    if (timeout_ms >= 0) {
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&q->lock);
    while (q->count == 0 && !q->closed) {
        if (timeout_ms < 0) {
            pthread_cond_wait(&q->not_empty, &q->lock);
        } else if (pthread_cond_timedwait(&q->not_empty, &q->lock, &deadline) == ETIMEDOUT) {
            if (q->count == 0 && !q->closed) {
                pthread_mutex_unlock(&q->lock);
                return 0;
            }
        }
    }
    if (q->count == 0) {      /* closed and drained */
        pthread_mutex_unlock(&q->lock);
        return -1;
    }
    queue_slot *s = &q->slots[q->head];
    *item = s->item;
    if (bytes) *bytes = s->bytes;
    q->head = (q->head + 1) % q->cap;
    q->count--;
    q->bytes -= s->bytes;
    /* Pushers wait on two bounds (count and bytes), so wake them all. */
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->lock);
    return 1;
}

void sl_queue_close(sl_queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = true;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->lock);
}
