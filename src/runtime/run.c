/* run.c — runs a built pipeline: starts the threads, supervises them, and
 * drains everything in order at the end.
 *
 *   source threads ──batches queue──▶ worker pool ──sequencer──▶ sink queues ──▶ sink threads
 *
 * Shutdown is the same for every cause (all sources finished, sl_pipeline_stop,
 * a fatal error; only a fatal error also refuses batches a source has read
 * but not yet submitted): once the sources have returned, the batch queue is closed
 * and the workers finish what is queued; then the transforms' finish hooks
 * run (end-of-data work: last windows, profile files); then the sink queues are closed and
 * the sinks write what is queued and flush. Nothing that a source managed to
 * submit is thrown away, except the output of a sink that failed.
 *
 * The main thread supervises: it waits for the sources and flushes the DLQ
 * every second meanwhile.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/log.h"
#include "../core/util.h"
#include "pipeline_internal.h"
#include "progress.h"

#define FLUSH_INTERVAL_MS 1000

static void start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
    int rc = pthread_create(t, NULL, fn, arg);
    if (rc != 0) {
        fprintf(stderr, "sluice: cannot start a thread: %s\n", strerror(rc));
        abort();
    }
}

void sl_pipeline_fail(sl_pipeline *p, const char *fmt, ...)
{
    char msg[SL_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&p->lock);
    bool first = !p->failed;
    if (first) {
        p->failed = true;
        memcpy(p->fatal, msg, sizeof msg);
    }
    pthread_mutex_unlock(&p->lock);
    if (first) sl_err("pipeline", "%s; stopping", msg);
    /* A fatal error also stops accepting batches: sources blocked on the
     * budget or the queue return at once. */
    sl_pipeline_stop(p);
    sl_budget_stop(&p->budget);
    sl_queue_close(p->batches);
}

/* A graceful stop only asks the sources to stop reading: a batch a source
 * has already read is still submitted and delivered (for stdin, it could not
 * be read again). */
void sl_pipeline_stop(sl_pipeline *p)
{
    atomic_store(&p->stopping, true);
    pthread_mutex_lock(&p->lock);
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
}

bool sl_pipeline_ready(sl_pipeline *p)
{
    return atomic_load(&p->ready);
}

void sl_sink_item_discard(sl_pipeline *p, sl_sink_item *item)
{
    uint64_t charge = item->charge;
    sl_payload_free(&item->payload);
    free(item);
    sl_budget_release(&p->budget, charge);
    sl_inflight_add(p, -1);
}

static void *source_main(void *arg)
{
    sl_source_ctx *ctx = arg;
    sl_pipeline *p = ctx->p;
    sl_error err = {0};
    if (ctx->c->type->run(ctx->c, ctx, &err) < 0)
        sl_pipeline_fail(p, "source '%s': %s", ctx->c->name, err.msg);
    pthread_mutex_lock(&p->lock);
    p->sources_running--;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static bool sink_flush(sl_sink_rt *s)
{
    sl_component *c = s->c;
    sl_error err = {0};
    if (c->type->flush && c->type->flush(c, &err) < 0) {
        sl_pipeline_fail(s->p, "sink '%s': %s", c->name, err.msg);
        return false;
    }
    return true;
}

/* A sink's thread: delivers payloads in queue order (a failed write is
 * retried, or the payload given up to the fallback or the DLQ: see
 * sink_retry.h) and flushes when it has written something and a second has
 * passed, and at the end. After a failure that fails the run it keeps
 * draining its queue (discarding) so that workers never block on it. */
static void *sink_main(void *arg)
{
    sl_sink_rt *s = arg;
    bool ok = true, dirty = false;
    int64_t last_flush = sl_monotonic_ns();
    for (;;) {
        int64_t timeout = -1;
        if (ok && dirty) {
            timeout = FLUSH_INTERVAL_MS - (sl_monotonic_ns() - last_flush) / 1000000;
            if (timeout < 0) timeout = 0;
        }
        void *item;
        int rc = sl_queue_pop(s->queue, timeout, &item, NULL);
        if (rc < 0) break;
        if (rc == 1 && item == sl_checkpoint_marker) {
            ok = sl_checkpoint_sink_marker(s, ok);
            dirty = false;
            last_flush = sl_monotonic_ns();
        } else if (rc == 1) {
            if (ok) {
                ok = sl_sink_deliver(s, item);
                dirty = true;
            } else {
                sl_sink_item_discard(s->p, item);
            }
        }
        if (ok && dirty && sl_monotonic_ns() - last_flush >= FLUSH_INTERVAL_MS * 1000000LL) {
            ok = sink_flush(s);
            dirty = false;
            last_flush = sl_monotonic_ns();
        }
    }
    if (ok) ok = sink_flush(s);
    sl_error err = {0};
    if (ok && s->c->type->close && s->c->type->close(s->c, &err) < 0)
        sl_pipeline_fail(s->p, "sink '%s': %s", s->c->name, err.msg);
    return NULL;
}

/* Waits for every source to return, flushing the DLQ every second and
 * taking checkpoints when they are due. */
static void supervise_sources(sl_pipeline *p)
{
    int64_t next_flush = sl_monotonic_ns() + FLUSH_INTERVAL_MS * 1000000LL;
    pthread_mutex_lock(&p->lock);
    while (p->sources_running > 0) {
        int64_t wait_ms = sl_checkpoints_wait_ms(p, (next_flush - sl_monotonic_ns()) / 1000000);
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        int64_t ns = deadline.tv_nsec + (wait_ms > 0 ? wait_ms : 0) * 1000000LL;
        deadline.tv_sec += ns / 1000000000LL;
        deadline.tv_nsec = ns % 1000000000LL;
        pthread_cond_timedwait(&p->changed, &p->lock, &deadline);
        if (p->sources_running == 0) break;
        pthread_mutex_unlock(&p->lock);
        if (sl_monotonic_ns() >= next_flush) {
            sl_error err;
            if (sl_dlq_flush(p->dlq, &err) < 0) sl_pipeline_fail(p, "%s", err.msg);
            next_flush = sl_monotonic_ns() + FLUSH_INTERVAL_MS * 1000000LL;
        }
        if (!atomic_load(&p->stopping)) sl_checkpoints_tick(p);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
}

/* Runs the components' finish hooks, once the workers are done. */
static void finish_components(sl_pipeline *p)
{
    for (int i = 0; i < p->n_comps; i++) {
        sl_component *c = &p->comps[i];
        sl_error err = {0};
        if (c->type->finish && c->type->finish(c, &err) < 0)
            sl_pipeline_fail(p, "%s '%s': %s", sl_kind_name(c->kind), c->name, err.msg);
    }
}

int sl_pipeline_resume(sl_pipeline *p, bool from_start, sl_refused_checkpoints *refused, sl_error *err)
{
    if (p->resumed) return sl_errorf(err, "internal error: a pipeline can only resume once");
    p->resumed = true;
    return sl_checkpoints_start(p, from_start, refused, err);
}

int sl_pipeline_run(sl_pipeline *p, const sl_run_options *ro, sl_error *err)
{
    if (p->ran) return sl_errorf(err, "internal error: a pipeline can only run once");
    if (!p->resumed && sl_pipeline_resume(p, ro && ro->from_start, NULL, err) < 0) return -1;
    p->ran = true;

    sl_worker **workers = calloc((size_t)p->workers, sizeof *workers);
    if (!workers) abort();
    for (int i = 0; i < p->workers; i++) {
        workers[i] = sl_worker_new(p, err);
        if (!workers[i]) {
            while (i-- > 0) sl_worker_free(workers[i]);
            free(workers);
            return -1;
        }
    }

    int64_t t0 = sl_monotonic_ns();
    p->metrics->started_ns = sl_now_ns();
    sl_progress *progress = ro && ro->progress ? sl_progress_start(p->metrics, stderr) : NULL;

    pthread_t *worker_threads = calloc((size_t)p->workers, sizeof *worker_threads);
    if (!worker_threads) abort();
    for (int i = 0; i < p->n_sinks; i++) start_thread(&p->sinks[i].thread, sink_main, &p->sinks[i]);
    for (int i = 0; i < p->workers; i++) start_thread(&worker_threads[i], sl_worker_main, workers[i]);
    pthread_mutex_lock(&p->lock);
    p->sources_running = p->n_sources;
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->n_sources; i++) start_thread(&p->sources[i].thread, source_main, &p->sources[i]);
    atomic_store(&p->ready, true);

    supervise_sources(p);
    for (int i = 0; i < p->n_sources; i++) pthread_join(p->sources[i].thread, NULL);
    atomic_store(&p->ready, false);

    sl_queue_close(p->batches);
    for (int i = 0; i < p->workers; i++) pthread_join(worker_threads[i], NULL);
    finish_components(p);
    sl_sinks_close_and_join(p);
    sl_checkpoints_finish(p);

    sl_error dlq_err;
    if (sl_dlq_flush(p->dlq, &dlq_err) < 0) sl_pipeline_fail(p, "%s", dlq_err.msg);
    sl_progress_stop(progress);
    p->wall_ns = sl_monotonic_ns() - t0;

    for (int i = 0; i < p->workers; i++) sl_worker_free(workers[i]);
    free(workers);
    free(worker_threads);

    pthread_mutex_lock(&p->lock);
    bool failed = p->failed;
    pthread_mutex_unlock(&p->lock);
    if (failed) return sl_errorf(err, "%s", p->fatal);
    return 0;
}
