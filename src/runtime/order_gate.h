/* order_gate.h — lets a stateful transform apply its batches in each
 * source's sequence order although workers process batches in parallel, so
 * that its result (which duplicate is "first") never depends on timing or on
 * the number of workers.
 *
 * The transform must be `ordered` (component.h): the runtime then calls it
 * for every batch of every source, even one none of whose records reached
 * it, so no batch number is ever missing and the gate cannot stay shut.
 * Batches leave the worker queue in order, so the batch a waiting worker
 * needs is always already being processed by another worker.
 *
 * Between enter and leave the caller holds the gate's lock: keep that
 * section to the order-dependent work (lookups and inserts into shared
 * state). The same lock may guard reads of that state elsewhere.
 */
#ifndef SL_ORDER_GATE_H
#define SL_ORDER_GATE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/batch.h"

typedef struct sl_order_gate {
    pthread_mutex_t lock;
    pthread_cond_t turn;
    uint64_t *next_seq;      /* per source component index */
    size_t n_sources;
} sl_order_gate;

void sl_order_gate_init(sl_order_gate *g);
void sl_order_gate_destroy(sl_order_gate *g);
/* Waits until every earlier batch of b's source has left the gate. */
void sl_order_gate_enter(sl_order_gate *g, const sl_batch *b);
void sl_order_gate_leave(sl_order_gate *g, const sl_batch *b);

#endif
