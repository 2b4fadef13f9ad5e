/* budget.h — the global memory budget (memory_limit): bytes of in-flight
 * data (batches being read or transformed, payloads waiting for a sink).
 *
 * Sources acquire a batch's estimated cost before handing it over and block
 * while the budget is full: that is where backpressure finally stops reading.
 * Downstream stages never block on the budget (they are what frees it); they
 * only transfer, true up (force) or release charges. An acquire on an empty
 * budget always succeeds, so one item larger than the limit cannot wedge the
 * pipeline. Stopping wakes every waiter and makes acquire fail.
 */
#ifndef SL_BUDGET_H
#define SL_BUDGET_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct sl_budget {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    uint64_t limit, used, peak;
    bool stopped;
} sl_budget;

void sl_budget_init(sl_budget *b, uint64_t limit);
void sl_budget_destroy(sl_budget *b);
/* Blocks while used + n > limit (unless used == 0). Returns 0, or -1 once
 * the budget is stopped (nothing charged). */
int sl_budget_acquire(sl_budget *b, uint64_t n);
/* Charges n without waiting (corrections to an estimate). */
void sl_budget_force(sl_budget *b, uint64_t n);
void sl_budget_release(sl_budget *b, uint64_t n);
void sl_budget_stop(sl_budget *b);
uint64_t sl_budget_used(sl_budget *b);
uint64_t sl_budget_peak(sl_budget *b);

#endif
