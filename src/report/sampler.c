/* sampler.c — the throughput sampler (see sampler.h).
 *
 * The thread sleeps on a condition variable (so a stop wakes it at once),
 * reads the sources' counters — atomics, bumped once per batch by the
 * runtime — and appends the difference since the previous tick. Nothing here
 * touches the hot path.
 */
#include "sampler.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/metrics.h"
#include "../core/util.h"

struct sl_sampler {
    sl_pipeline *pipeline;
    unsigned interval_ms;
    pthread_t thread;
    bool running;              /* the thread exists and has not been joined */
    pthread_mutex_t lock;      /* guards everything below */
    pthread_cond_t wake;
    bool stop;
    int64_t t0_ns, last_ns;    /* monotonic: start and previous tick */
    uint64_t last_records, last_bytes;
    sl_sample points[SL_SAMPLER_MAX_POINTS];
    size_t n;
};

/* Records and bytes read by every source so far. */
static void source_totals(sl_pipeline *p, uint64_t *records, uint64_t *bytes)
{
    sl_metrics *m = sl_pipeline_metrics(p);
    *records = *bytes = 0;
    for (int i = 0; i < m->count; i++) {
        sl_component_metrics *c = m->components[i];
        if (strcmp(c->kind, "source") != 0)
            continue;
        *records += atomic_load(&c->received_events);
        *bytes += atomic_load(&c->received_bytes);
    }
}

/* Halves the number of points by merging neighbours (an odd last point
 * stays as it is). */
static void downsample(sl_sampler *s)
{
    size_t out = 0;
    for (size_t i = 0; i < s->n; i += 2, out++) {
        sl_sample merged = s->points[i];
        if (i + 1 < s->n) {
            const sl_sample *b = &s->points[i + 1];
            merged.end_s = b->end_s;
            merged.span_s += b->span_s;
            merged.records += b->records;
            merged.bytes += b->bytes;
        }
        s->points[out] = merged;
    }
    s->n = out;
}

/* Appends the interval since the previous tick (lock held). */
static void take(sl_sampler *s, int64_t now_ns)
{
    uint64_t records, bytes;
    source_totals(s->pipeline, &records, &bytes);
    if (s->n == SL_SAMPLER_MAX_POINTS)
        downsample(s);
    s->points[s->n++] = (sl_sample){
        .end_s = (double)(now_ns - s->t0_ns) / 1e9,
        .span_s = (double)(now_ns - s->last_ns) / 1e9,
        .records = records - s->last_records,
        .bytes = bytes - s->last_bytes,
    };
    s->last_ns = now_ns;
    s->last_records = records;
    s->last_bytes = bytes;
}

static void *sampler_main(void *arg)
{
    sl_sampler *s = arg;
    pthread_mutex_lock(&s->lock);
    int64_t next_ns = s->t0_ns + (int64_t)s->interval_ms * 1000000;
    while (!s->stop) {
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        int64_t wait_ns = next_ns - sl_monotonic_ns();
        if (wait_ns > 0) {
            deadline.tv_sec += wait_ns / 1000000000;
            deadline.tv_nsec += wait_ns % 1000000000;
            if (deadline.tv_nsec >= 1000000000) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&s->wake, &s->lock, &deadline);
            continue;   /* woken, timed out or spurious: re-check stop and time */
        }
        take(s, sl_monotonic_ns());
        next_ns += (int64_t)s->interval_ms * 1000000;
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

sl_sampler *sl_sampler_start(sl_pipeline *p, unsigned interval_ms, sl_error *err)
{
    sl_sampler *s = calloc(1, sizeof *s);
    if (!s) {
        sl_errorf(err, "cannot start the throughput sampler: out of memory");
        return NULL;
    }
    s->pipeline = p;
    s->interval_ms = interval_ms ? interval_ms : 1000;
    s->t0_ns = s->last_ns = sl_monotonic_ns();
    source_totals(p, &s->last_records, &s->last_bytes);
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &attr);
    pthread_condattr_destroy(&attr);
    int rc = pthread_create(&s->thread, NULL, sampler_main, s);
    if (rc != 0) {
        sl_errorf(err, "cannot start the throughput sampler: %s", strerror(rc));
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
    }
    s->running = true;
    return s;
}

void sl_sampler_stop(sl_sampler *s)
{
    if (!s->running)
        return;
    pthread_mutex_lock(&s->lock);
    s->stop = true;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    s->running = false;
    /* The last partial interval: a point of its own, or, when too short to
     * give a meaningful rate, added to the previous point. */
    pthread_mutex_lock(&s->lock);
    int64_t now = sl_monotonic_ns();
    if (now - s->last_ns >= 20000000 || s->n == 0) {
        take(s, now);
    } else {
        sl_sample *last = &s->points[s->n - 1];
        s->n--;
        int64_t last_start = s->last_ns - (int64_t)(last->span_s * 1e9);
        uint64_t records = s->last_records - last->records, bytes = s->last_bytes - last->bytes;
        s->last_ns = last_start;
        s->last_records = records;
        s->last_bytes = bytes;
        take(s, now);
    }
    pthread_mutex_unlock(&s->lock);
}

void sl_sampler_free(sl_sampler *s)
{
    if (!s)
        return;
    sl_sampler_stop(s);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

size_t sl_sampler_points(sl_sampler *s, sl_sample *out, size_t cap)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->n < cap ? s->n : cap;
    memcpy(out, s->points, n * sizeof *out);
    pthread_mutex_unlock(&s->lock);
    return n;
}
