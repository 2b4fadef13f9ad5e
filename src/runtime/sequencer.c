/* sequencer.c — restores per-source order between the workers and the sinks.
 *
 * Workers finish batches out of order. Each finished batch (its payloads for
 * every sink) is deposited here; whoever deposits the batch a source is
 * waiting for becomes that source's releaser and hands that batch, and every
 * later batch already waiting, to the sink queues in sequence order. Other
 * workers deposit and go back to work instead of waiting for their turn, so
 * one slow batch does not idle the pool. Pushing to a full sink queue blocks
 * the releaser: that is the backpressure from a slow sink.
 *
 * Waiting results are few, so they sit in an unsorted list searched
 * linearly. They are bounded: a worker whose batch is not the next to
 * release waits while two per worker (at least four) wait already. Without that, a sink
 * slower than the workers let them fill the whole memory budget with
 * finished batches that could only wait (the releaser blocked on the sink's
 * queue), and the process's memory grow past memory_limit with what the
 * allocator kept of them (a thousand-file exactly-once sink under load:
 * 280-390 MB resident with a 256 MiB limit). The next batch never waits, so
 * a releaser always comes.
 */
#include <stdlib.h>

#include "pipeline_internal.h"

#define PENDING_PER_WORKER 2   /* results that may wait, per worker (at least 4) */

void sl_sequencer_init(sl_source_ctx *src)
{
    pthread_mutex_init(&src->seq_lock, NULL);
    src->next_release = 0;
    src->releasing = false;
    src->pending = NULL;
    src->n_pending = 0;
    pthread_cond_init(&src->drained, NULL);
}

void sl_sequencer_destroy(sl_source_ctx *src)
{
    pthread_mutex_destroy(&src->seq_lock);
    pthread_cond_destroy(&src->drained);
}

static sl_batch_result *take(sl_source_ctx *src, uint64_t seq)
{
    for (sl_batch_result **r = &src->pending; *r; r = &(*r)->next) {
        if ((*r)->seq == seq) {
            sl_batch_result *found = *r;
            *r = found->next;
            return found;
        }
    }
    return NULL;
}

static void release(sl_pipeline *p, sl_batch_result *r)
{
    for (int k = 0; k < p->n_sinks; k++) {
        sl_sink_item *item = r->items[k];
        if (item && sl_queue_push(p->sinks[k].queue, item, item->charge) < 0)
            sl_sink_item_discard(p, item);
    }
    free(r);
}

void sl_sequencer_deliver(sl_pipeline *p, sl_source_ctx *src, sl_batch_result *r)
{
    pthread_mutex_lock(&src->seq_lock);
    size_t most = p->workers > 2 ? (size_t)p->workers * PENDING_PER_WORKER : 4;
    while (r->seq != src->next_release && src->n_pending >= most)
        pthread_cond_wait(&src->drained, &src->seq_lock);
    r->next = src->pending;
    src->pending = r;
    src->n_pending++;
    if (src->releasing) {          /* the current releaser will pick it up */
        pthread_mutex_unlock(&src->seq_lock);
        return;
    }
    src->releasing = true;
    sl_batch_result *ready;
    while ((ready = take(src, src->next_release)) != NULL) {
        src->next_release++;
        src->n_pending--;
        pthread_cond_broadcast(&src->drained);
        pthread_mutex_unlock(&src->seq_lock);
        release(p, ready);
        pthread_mutex_lock(&src->seq_lock);
    }
    src->releasing = false;
    pthread_mutex_unlock(&src->seq_lock);
}
