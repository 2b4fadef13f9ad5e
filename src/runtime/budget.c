/* budget.c — the global memory budget (see budget.h).
 *
 * One mutex and one condition variable. It is touched a few times per batch
 * (acquire on submit, release after the worker and after each sink write),
 * never per record.
 */
#include "budget.h"

#include <stdio.h>
#include <stdlib.h>

void sl_budget_init(sl_budget *b, uint64_t limit)
{
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->freed, NULL);
    b->limit = limit;
    b->used = b->peak = 0;
    b->stopped = false;
}

void sl_budget_destroy(sl_budget *b)
{
    pthread_mutex_destroy(&b->lock);
    pthread_cond_destroy(&b->freed);
}

static void charge_locked(sl_budget *b, uint64_t n)
{
    b->used += n;
    if (b->used > b->peak) b->peak = b->used;
}

int sl_budget_acquire(sl_budget *b, uint64_t n)
{
    pthread_mutex_lock(&b->lock);
    while (!b->stopped && b->used > 0 && b->used + n > b->limit)
        pthread_cond_wait(&b->freed, &b->lock);
    int rc = -1;
    if (!b->stopped) {
        charge_locked(b, n);
        rc = 0;
    }
    pthread_mutex_unlock(&b->lock);
    return rc;
}

void sl_budget_force(sl_budget *b, uint64_t n)
{
    pthread_mutex_lock(&b->lock);
    charge_locked(b, n);
    pthread_mutex_unlock(&b->lock);
}

void sl_budget_release(sl_budget *b, uint64_t n)
{
    if (n == 0) return;
    pthread_mutex_lock(&b->lock);
    if (n > b->used) {
        fprintf(stderr, "sluice: internal error: memory budget released more than charged\n");
        abort();
    }
    b->used -= n;
    pthread_cond_broadcast(&b->freed);
    pthread_mutex_unlock(&b->lock);
}

void sl_budget_stop(sl_budget *b)
{
    pthread_mutex_lock(&b->lock);
    b->stopped = true;
    pthread_cond_broadcast(&b->freed);
    pthread_mutex_unlock(&b->lock);
}

uint64_t sl_budget_used(sl_budget *b)
{
    pthread_mutex_lock(&b->lock);
    uint64_t n = b->used;
    pthread_mutex_unlock(&b->lock);
    return n;
}

uint64_t sl_budget_peak(sl_budget *b)
{
    pthread_mutex_lock(&b->lock);
    uint64_t n = b->peak;
    pthread_mutex_unlock(&b->lock);
    return n;
}
