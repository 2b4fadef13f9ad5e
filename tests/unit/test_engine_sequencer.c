/* test_engine_sequencer.c — finished batches wait for their turn in the
 * sequencer (runtime/sequencer.c), and only a few of them: a worker whose
 * batch is not the next one waits while two per worker (at least four)
 * wait already, so a slow sink cannot make finished batches fill the
 * memory budget. The next batch never waits.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "runtime/pipeline_internal.h"

static sl_pipeline pipeline = {.workers = 2};   /* no sinks: a released result is just freed */
static sl_source_ctx src;
static atomic_int delivered;

static sl_batch_result *result(uint64_t seq)
{
    sl_batch_result *r = calloc(1, sizeof *r);
    r->seq = seq;
    return r;
}

static void *deliver_1_to_5(void *arg)
{
    (void)arg;
    for (uint64_t seq = 1; seq <= 5; seq++) {
        sl_sequencer_deliver(&pipeline, &src, result(seq));
        atomic_fetch_add(&delivered, 1);
    }
    return NULL;
}

static void test_waiting_results_are_bounded(void)
{
    sl_sequencer_init(&src);
    pthread_t worker;
    CHECK_INT(pthread_create(&worker, NULL, deliver_1_to_5, NULL), 0);
    /* Batches 1-4 wait for batch 0; batch 5 must wait for room. */
    for (int i = 0; i < 200 && atomic_load(&delivered) < 4; i++) usleep(10000);
    CHECK_INT(atomic_load(&delivered), 4);
    usleep(100000);
    CHECK_INT(atomic_load(&delivered), 4);
    CHECK_INT((int)src.n_pending, 4);
    /* Batch 0 never waits: it releases 0-4, and then 5 comes. */
    sl_sequencer_deliver(&pipeline, &src, result(0));
    CHECK_INT(pthread_join(worker, NULL), 0);
    CHECK_INT(atomic_load(&delivered), 5);
    CHECK_INT((int)src.next_release, 6);
    CHECK_INT((int)src.n_pending, 0);
    CHECK(src.pending == NULL);
    sl_sequencer_destroy(&src);
}

int main(void)
{
    RUN(test_waiting_results_are_bounded);
    return check_report();
}
