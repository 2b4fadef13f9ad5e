/* frame_writer.h — writes a bundle's frames (bundle.h) on a thread of its
 * own, so that the sink thread fills the next frame meanwhile. With a
 * thousand files the writes into the bundle and its side files cost the
 * sink thread more than everything else it does, while the workers wait.
 *
 * A job is a list of writes, each some iovecs at an offset of one file (the
 * bundle, by its descriptor, or a side file, by its path: a thousand side
 * files keep no descriptors open). One job is in flight at a time. A job
 * that fails is cut back whole (every file back to where its write
 * started), so that running it again writes each byte once; its buffers
 * stay the caller's until it has succeeded, so nothing of it is lost.
 */
#ifndef SL_FRAME_WRITER_H
#define SL_FRAME_WRITER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "../core/error.h"
#include "writeback.h"

/* One write of a job: iov[first_iov, first_iov + n_iov) at `at` of a file. */
typedef struct sl_file_write {
    int fd;             /* the file, or -1: open `path` (created when missing) */
    const char *path;   /* for opening it and for errors; must outlive the job */
    uint64_t at;
    size_t first_iov, n_iov;
    uint64_t writeback_from;   /* once written, start writing the file to disk from here
                                  (sync_file_range), or UINT64_MAX: not yet */
} sl_file_write;

typedef struct sl_write_job {
    struct iovec *iov;      /* as built; each run works on a copy */
    size_t n_iov;
    sl_file_write *writes;
    size_t n_writes, cap_writes;
    char *buffer;           /* what the iovecs point into (a frame): the owner's again once done */
    void *index;            /* freed with the job */
    char *header;           /* freed with the job */
    sl_writeback *writeback;   /* where writeback of its writes to open descriptors is started, or NULL: inline */
} sl_write_job;

/* Runs the job here; on failure cuts every file back and returns -1 with err. */
int sl_write_job_run(sl_write_job *job, sl_error *err);
/* Frees the job and its index and header, not its buffer. */
void sl_write_job_free(sl_write_job *job);

typedef struct sl_frame_writer {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool started, stopping;
    sl_write_job *job;      /* in flight, or done and not yet waited for */
    bool done;
    int rc;
    sl_error err;
} sl_frame_writer;

void sl_frame_writer_init(sl_frame_writer *w);
/* Waits for the job in flight (the caller must have taken it back with
 * sl_frame_writer_wait first) and stops the thread. */
void sl_frame_writer_free(sl_frame_writer *w);
/* Hands a job to the thread (started at the first job). None may be in flight. */
void sl_frame_writer_start(sl_frame_writer *w, sl_write_job *job);
/* Waits for the job in flight and takes it back, or NULL when there is
 * none. *rc is 0 when it succeeded, else -1 with err (then it was cut back,
 * to be run again). */
sl_write_job *sl_frame_writer_wait(sl_frame_writer *w, int *rc, sl_error *err);

#endif
