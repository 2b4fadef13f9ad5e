/* source.c — the API sources use from their own thread (see pipeline.h):
 * new batches, submitting them under the memory budget, stopping, the DLQ
 * for input that never became a frame, and progress.
 *
 * A batch's cost is charged when it is submitted, as an estimate of
 * everything it will become: its input buffer and frame table, its arena
 * after decoding (about twice the input), and the encoded output for every
 * sink it reaches (about the input size each). The worker settles the
 * estimate against the real payload sizes. Charging up front is what lets
 * only the sources wait on the budget, and the pipeline never deadlock.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pipeline_internal.h"

#define DECODE_FACTOR 2

bool sl_source_should_stop(sl_source_ctx *ctx)
{
    return atomic_load(&ctx->p->stopping);
}

bool sl_source_sleep(sl_source_ctx *ctx, unsigned ms)
{
    sl_pipeline *p = ctx->p;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    for (;;) {
        sl_source_checkpoint_point(ctx);
        pthread_mutex_lock(&p->lock);
        int rc = 0;
        while (!atomic_load(&p->stopping) && !atomic_load(&p->barrier) && rc == 0)
            rc = pthread_cond_timedwait(&p->changed, &p->lock, &deadline);
        pthread_mutex_unlock(&p->lock);
        if (rc != 0 || atomic_load(&p->stopping)) break;   /* slept enough, or stopping */
    }
    return !atomic_load(&p->stopping);
}

size_t sl_source_batch_bytes(sl_source_ctx *ctx)
{
    return ctx->p->batch_bytes;
}

uint32_t sl_source_batch_records(sl_source_ctx *ctx)
{
    return ctx->p->batch_records;
}

sl_batch *sl_source_batch_new(sl_source_ctx *ctx, size_t data_cap)
{
    sl_batch *b = sl_batch_new(data_cap, ctx->p->batch_records);
    b->source = ctx->c->index;
    return b;
}

static uint64_t estimate(const sl_source_ctx *ctx, const sl_batch *b)
{
    uint64_t input = b->input_bytes ? b->input_bytes : b->data_len;
    uint64_t arena = sl_arena_footprint(&b->arena);
    uint64_t output = input ? input : arena;
    return b->data_cap + SL_BUF_PADDING + (uint64_t)b->cap * sizeof(sl_record) + arena
           + DECODE_FACTOR * input + (uint64_t)ctx->sinks_reached * output;
}

int sl_source_submit(sl_source_ctx *ctx, sl_batch *b)
{
    sl_pipeline *p = ctx->p;
    if (b->count == 0) {          /* nothing to do; keeps sequence numbers dense */
        sl_batch_free(b);
        return atomic_load(&p->stopping) ? -1 : 0;
    }
    b->source = ctx->c->index;
    b->seq = ctx->next_seq;
    b->accounted = estimate(ctx, b);
    if (sl_budget_acquire(&p->budget, b->accounted) < 0) {   /* a fatal error stopped the run */
        sl_batch_free(b);
        return -1;
    }
    uint64_t charge = b->accounted;
    sl_inflight_add(p, 1);
    if (sl_queue_push(p->batches, b, charge) < 0) {
        sl_inflight_add(p, -1);
        sl_batch_free(b);
        sl_budget_release(&p->budget, charge);
        return -1;
    }
    ctx->next_seq++;
    sl_source_checkpoint_point(ctx);
    return 0;
}

const char *sl_source_data_dir(sl_source_ctx *ctx)
{
    return ctx->p->data_dir;
}

void sl_source_dlq(sl_source_ctx *ctx, const char *raw, size_t len, sl_position pos,
                   const char *origin, const char *reason, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sl_dlq_entry e = {
        .component = ctx->c->name,
        .metrics = ctx->c->metrics,
        .source = ctx->c->name,
        .origin = origin,
        .pos = pos,
        .reason = reason,
        .message = msg,
        .raw = raw,
        .raw_len = len,
        /* Sources keep only the head of a record over max_record_bytes (and
         * a replay sends such an entry on as dlq_truncated). */
        .raw_partial = strcmp(reason, "record_too_large") == 0 || strcmp(reason, "dlq_truncated") == 0,
    };
    /* The frame counts as read (in = out + DLQ), though it never reached a batch. */
    sl_metrics_received(ctx->c->metrics, 1, 0);
    sl_error err;
    if (sl_dlq_write(ctx->p->dlq, &e, &err) < 0) sl_pipeline_fail(ctx->p, "%s", err.msg);
}

const char *sl_source_dlq_path(sl_source_ctx *ctx)
{
    return sl_dlq_file(ctx->p->dlq);
}

void sl_source_expect_bytes(sl_source_ctx *ctx, uint64_t n)
{
    atomic_fetch_add(&ctx->p->metrics->input_bytes_expected, n);
}

void sl_source_progress(sl_source_ctx *ctx, uint64_t n)
{
    atomic_fetch_add(&ctx->p->metrics->input_bytes_total, n);
}
