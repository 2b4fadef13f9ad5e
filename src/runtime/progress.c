/* progress.c — the progress bar (see progress.h).
 *
 *   [##########..........]  48%  130.2 MiB / 270.0 MiB  1.2M records  310.5 MB/s  ETA 0:12
 *
 * The thread sleeps on a condition variable so that stopping is immediate.
 */
#include "progress.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/util.h"

#define PROGRESS_INTERVAL_MS 200
#define BAR_WIDTH 20

struct sl_progress {
    const sl_metrics *m;
    FILE *out;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;
    int64_t started;
};

static uint64_t records_read(const sl_metrics *m)
{
    uint64_t n = 0;
    for (int i = 0; i < m->count; i++)
        if (strcmp(m->components[i]->kind, "source") == 0)
            n += atomic_load(&m->components[i]->received_events);
    return n;
}

static void format_count(char out[32], uint64_t n)
{
    if (n >= 1000000) snprintf(out, 32, "%.1fM", (double)n / 1e6);
    else if (n >= 100000) snprintf(out, 32, "%.0fk", (double)n / 1e3);
    else snprintf(out, 32, "%llu", (unsigned long long)n);
}

static void draw(sl_progress *pr)
{
    uint64_t done = atomic_load(&pr->m->input_bytes_total);
    uint64_t expected = atomic_load(&pr->m->input_bytes_expected);
    double secs = (double)(sl_monotonic_ns() - pr->started) / 1e9;
    double rate = secs > 0 ? (double)done / secs : 0;
    char done_s[32], expected_s[32], records_s[32];
    sl_format_size(done_s, done);
    format_count(records_s, records_read(pr->m));

    char line[256];
    int len = 0;
    if (expected > 0) {
        double frac = done >= expected ? 1.0 : (double)done / (double)expected;
        int filled = (int)(frac * BAR_WIDTH);
        char bar[BAR_WIDTH + 1];
        for (int i = 0; i < BAR_WIDTH; i++) bar[i] = i < filled ? '#' : '.';
        bar[BAR_WIDTH] = '\0';
        sl_format_size(expected_s, expected);
        len = snprintf(line, sizeof line, "[%s] %3d%%  %s / %s", bar, (int)(frac * 100), done_s, expected_s);
    } else {
        len = snprintf(line, sizeof line, "%s", done_s);
    }
    len += snprintf(line + len, sizeof line - (size_t)len, "  %s records  %.1f MB/s", records_s, rate / 1e6);
    if (expected > done && rate > 0) {
        uint64_t eta = (uint64_t)((double)(expected - done) / rate);
        snprintf(line + len, sizeof line - (size_t)len, "  ETA %llu:%02llu",
                 (unsigned long long)(eta / 60), (unsigned long long)(eta % 60));
    }
    fprintf(pr->out, "\r%s\033[K", line);
    fflush(pr->out);
}

static void *progress_main(void *arg)
{
    sl_progress *pr = arg;
    pthread_mutex_lock(&pr->lock);
    while (!pr->stop) {
        pthread_mutex_unlock(&pr->lock);
        draw(pr);
        pthread_mutex_lock(&pr->lock);
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_nsec += PROGRESS_INTERVAL_MS * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
        while (!pr->stop && pthread_cond_timedwait(&pr->wake, &pr->lock, &deadline) == 0) {}
    }
    pthread_mutex_unlock(&pr->lock);
    return NULL;
}

sl_progress *sl_progress_start(const sl_metrics *m, FILE *out)
{
    sl_progress *pr = calloc(1, sizeof *pr);
    if (!pr) abort();
    pr->m = m;
    pr->out = out;
    pr->started = sl_monotonic_ns();
    pthread_mutex_init(&pr->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&pr->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&pr->thread, NULL, progress_main, pr) != 0) {
        pthread_mutex_destroy(&pr->lock);
        pthread_cond_destroy(&pr->wake);
        free(pr);
        return NULL;     /* no progress bar; the run goes on without it */
    }
    return pr;
}

void sl_progress_stop(sl_progress *pr)
{
    if (!pr) return;
    pthread_mutex_lock(&pr->lock);
    pr->stop = true;
    pthread_cond_signal(&pr->wake);
    pthread_mutex_unlock(&pr->lock);
    pthread_join(pr->thread, NULL);
    fprintf(pr->out, "\r\033[K");
    fflush(pr->out);
    pthread_mutex_destroy(&pr->lock);
    pthread_cond_destroy(&pr->wake);
    free(pr);
}
