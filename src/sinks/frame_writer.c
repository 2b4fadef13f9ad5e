/* frame_writer.c — a bundle's frames written on a thread of their own
 * (frame_writer.h). */
#include "frame_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/util.h"

#define IOVECS 1024u

/* Writes iov[0..n) to fd at `at`, IOVECS at a time (iov is consumed).
 * Returns 0, or -1 with errno. */
static int pwrite_all(int fd, struct iovec *iov, size_t n, uint64_t at)
{
    for (size_t i = 0; i < n;) {
        size_t k = n - i < IOVECS ? n - i : IOVECS;
        ssize_t w = pwritev(fd, iov + i, (int)k, (off_t)at);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (w == 0) errno = EIO;
            return -1;
        }
        at += (uint64_t)w;
        while (w > 0 && (size_t)w >= iov[i].iov_len) w -= (ssize_t)iov[i++].iov_len;
        if (w > 0) {
            iov[i].iov_base = (char *)iov[i].iov_base + w;
            iov[i].iov_len -= (size_t)w;
        }
    }
    return 0;
}

static void cut_back(const sl_file_write *w)
{
    if (w->fd >= 0) {
        if (ftruncate(w->fd, (off_t)w->at) < 0) {}   /* a retry writes over it anyway */
    } else if (truncate(w->path, (off_t)w->at) < 0) {
    }
}

int sl_write_job_run(sl_write_job *job, sl_error *err)
{
    struct iovec *iov = malloc((job->n_iov ? job->n_iov : 1) * sizeof *iov);
    if (!iov) abort();
    memcpy(iov, job->iov, job->n_iov * sizeof *iov);
    size_t i = 0;
    for (; i < job->n_writes; i++) {
        const sl_file_write *w = &job->writes[i];
        int fd = w->fd >= 0 ? w->fd : open(w->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        int rc = fd < 0 ? -1 : pwrite_all(fd, iov + w->first_iov, w->n_iov, w->at);
        int e = errno;
        if (rc == 0 && w->writeback_from != UINT64_MAX) {   /* a hint, so that the seal's sync finds little to do */
            uint64_t end = w->at;
            for (size_t k = 0; k < w->n_iov; k++) end += job->iov[w->first_iov + k].iov_len;
            if (job->writeback && w->fd >= 0) sl_writeback_hint_add(job->writeback, fd, w->writeback_from, end);
            else sl_start_writeback(fd, w->writeback_from, end);
        }
        if (fd >= 0 && w->fd < 0) close(fd);
        if (rc < 0) {
            sl_errorf(err, "cannot %s %s: %s", fd < 0 ? "open" : "write", w->path, strerror(e));
            err->sys_errno = e;
            break;
        }
    }
    free(iov);
    if (i == job->n_writes) return 0;
    for (size_t k = 0; k <= i && k < job->n_writes; k++) cut_back(&job->writes[k]);
    return -1;
}

void sl_write_job_free(sl_write_job *job)
{
    if (!job) return;
    free(job->iov);
    free(job->writes);
    free(job->index);
    free(job->header);
    free(job);
}

static void *writer_main(void *arg)
{
    sl_frame_writer *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->stopping && (!w->job || w->done)) pthread_cond_wait(&w->cond, &w->lock);
        if (w->stopping) break;
        sl_write_job *job = w->job;
        pthread_mutex_unlock(&w->lock);
        sl_error err = {0};
        int rc = sl_write_job_run(job, &err);
        pthread_mutex_lock(&w->lock);
        w->rc = rc;
        w->err = err;
        w->done = true;
        pthread_cond_broadcast(&w->cond);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

void sl_frame_writer_init(sl_frame_writer *w)
{
    memset(w, 0, sizeof *w);
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
}

void sl_frame_writer_free(sl_frame_writer *w)
{
    if (w->started) {
        pthread_mutex_lock(&w->lock);
        while (w->job && !w->done) pthread_cond_wait(&w->cond, &w->lock);
        w->stopping = true;
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->lock);
        pthread_join(w->thread, NULL);
    }
    sl_write_job_free(w->job);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    w->started = false;
    w->job = NULL;
}

void sl_frame_writer_start(sl_frame_writer *w, sl_write_job *job)
{
    if (!w->started) {
        if (pthread_create(&w->thread, NULL, writer_main, w) != 0) abort();
        w->started = true;
    }
    pthread_mutex_lock(&w->lock);
    w->job = job;
    w->done = false;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

sl_write_job *sl_frame_writer_wait(sl_frame_writer *w, int *rc, sl_error *err)
{
    *rc = 0;
    if (!w->started) return NULL;
    pthread_mutex_lock(&w->lock);
    while (w->job && !w->done) pthread_cond_wait(&w->cond, &w->lock);
    sl_write_job *job = w->job;
    if (job && w->rc < 0) {
        *rc = -1;
        *err = w->err;
    }
    w->job = NULL;
    pthread_mutex_unlock(&w->lock);
    return job;
}
