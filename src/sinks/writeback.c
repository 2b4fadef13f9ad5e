/* writeback.c — writeback started on a thread of its own (writeback.h). */
#include "writeback.h"

#include <stdlib.h>
#include <string.h>

#include "../core/util.h"

static void *writeback_main(void *arg)
{
    sl_writeback *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->stopping && w->tail == w->head) pthread_cond_wait(&w->cond, &w->lock);
        if (w->tail == w->head) break;   /* stopping, and nothing queued */
        sl_writeback_hint h = w->queue[w->tail % SL_WRITEBACK_QUEUE];
        w->busy = true;
        pthread_mutex_unlock(&w->lock);
        sl_start_writeback(h.fd, h.from, h.to);
        pthread_mutex_lock(&w->lock);
        w->busy = false;
        w->tail++;
        pthread_cond_broadcast(&w->cond);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

void sl_writeback_init(sl_writeback *w)
{
    memset(w, 0, sizeof *w);
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
}

void sl_writeback_free(sl_writeback *w)
{
    if (w->started) {
        pthread_mutex_lock(&w->lock);
        w->stopping = true;
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->lock);
        pthread_join(w->thread, NULL);
    }
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    w->started = false;
}

void sl_writeback_hint_add(sl_writeback *w, int fd, uint64_t from, uint64_t to)
{
    pthread_mutex_lock(&w->lock);
    if (!w->started) {
        if (pthread_create(&w->thread, NULL, writeback_main, w) != 0) abort();
        w->started = true;
    }
    if (w->head - w->tail < SL_WRITEBACK_QUEUE) {
        w->queue[w->head++ % SL_WRITEBACK_QUEUE] = (sl_writeback_hint){.fd = fd, .from = from, .to = to};
        pthread_cond_signal(&w->cond);
    }
    pthread_mutex_unlock(&w->lock);
}

void sl_writeback_drain(sl_writeback *w)
{
    pthread_mutex_lock(&w->lock);
    while (w->tail != w->head || w->busy) pthread_cond_wait(&w->cond, &w->lock);
    pthread_mutex_unlock(&w->lock);
}
