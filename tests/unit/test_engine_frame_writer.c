/* test_engine_frame_writer.c — a bundle's frames written on a thread of
 * their own (sinks/frame_writer.h): a job's writes land at their offsets,
 * and a job that fails part-way is cut back whole, so that running it again
 * writes each byte once.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "temp_files.h"
#include "sinks/frame_writer.h"

/* A job writing "HEAD" + "body" at byte 2 of the file open as fd, then
 * "side" at byte 0 of the file at side_path. */
static sl_write_job *job_of(int fd, const char *side_path, char *side_name_copy)
{
    sl_write_job *job = calloc(1, sizeof *job);
    job->iov = calloc(3, sizeof *job->iov);
    job->writes = calloc(2, sizeof *job->writes);
    job->iov[0] = (struct iovec){.iov_base = "HEAD", .iov_len = 4};
    job->iov[1] = (struct iovec){.iov_base = "body", .iov_len = 4};
    job->iov[2] = (struct iovec){.iov_base = "side", .iov_len = 4};
    job->n_iov = 3;
    strcpy(side_name_copy, side_path);
    job->writes[0] = (sl_file_write){.fd = fd, .path = "the bundle", .at = 2, .first_iov = 0, .n_iov = 2,
                                      .writeback_from = UINT64_MAX};
    job->writes[1] = (sl_file_write){.fd = -1, .path = side_name_copy, .at = 0, .first_iov = 2, .n_iov = 1,
                                      .writeback_from = 0};   /* and its writeback started */
    job->n_writes = job->cap_writes = 2;
    return job;
}

/* A bundle file `bundle` holding "..", open as *fd, and job_of it and
 * side_path handed to writer w (started here) and waited for: returns the
 * job with *rc and err as the wait gave them. side: the path's copy. */
static sl_write_job *run_on_thread(const char *bundle, const char *side_path, char *side, sl_frame_writer *w,
                                   int *fd, int *rc, sl_error *err)
{
    *fd = open(path(bundle), O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(*fd >= 0);
    CHECK_INT((int)write(*fd, "..", 2), 2);
    sl_frame_writer_init(w);
    sl_frame_writer_start(w, job_of(*fd, side_path, side));
    sl_write_job *job = sl_frame_writer_wait(w, rc, err);
    CHECK(job != NULL);
    return job;
}

static void test_job_written_on_the_thread(void)
{
    char side[128];
    sl_frame_writer w;
    int fd, rc = 1;
    sl_error err = {0};
    sl_write_job *job = run_on_thread("bundle", path("side"), side, &w, &fd, &rc, &err);
    CHECK_INT(rc, 0);
    CHECK_STR(get("bundle"), "..HEADbody");
    CHECK_STR(get("side"), "side");
    sl_write_job_free(job);
    CHECK(sl_frame_writer_wait(&w, &rc, &err) == NULL);   /* none in flight */
    sl_frame_writer_free(&w);
    close(fd);
}

static void test_failed_job_is_cut_back_then_run_again(void)
{
    char side[128];
    sl_frame_writer w;
    int fd, rc = 0;
    sl_error err = {0};
    /* The side file's directory is missing: the bundle's write is undone. */
    sl_write_job *job = run_on_thread("bundle2", path("missing/side"), side, &w, &fd, &rc, &err);
    CHECK_INT(rc, -1);
    CHECK(strstr(err.msg, "cannot open") != NULL && strstr(err.msg, "missing/side") != NULL);
    CHECK_STR(get("bundle2"), "..");
    /* Once the directory is there, running it again writes each byte once. */
    char missing[128];
    snprintf(missing, sizeof missing, "%s", path("missing"));
    CHECK_INT(mkdir(missing, 0755), 0);
    memset(&err, 0, sizeof err);
    CHECK_INT(sl_write_job_run(job, &err), 0);
    CHECK_INT(sl_write_job_run(job, &err), 0);   /* the same offsets: still once */
    CHECK_STR(get("bundle2"), "..HEADbody");
    CHECK_STR(get("missing/side"), "side");
    sl_write_job_free(job);
    sl_frame_writer_free(&w);
    close(fd);
}

int main(void)
{
    CHECK_INT(temp_dir_make("sl-frame-writer"), 0);
    RUN(test_job_written_on_the_thread);
    RUN(test_failed_job_is_cut_back_then_run_again);
    CHECK_INT(temp_dir_remove(), 0);
    return check_report();
}
