/* part_log.h — two-phase commit for files: output is written to hidden
 * "part" files next to the file it belongs to, and published into that file
 * only once a checkpoint covering it is durable.
 *
 *   out/events.jsonl                  the published file: committed data only
 *   out/.events.jsonl.7.inprogress    a part: data not yet covered by a checkpoint
 *
 * A sink writes a part per published file and checkpoint interval. At the
 * checkpoint's pre-commit it fsyncs and closes its parts and lists them as
 * steps in its checkpoint state; once the checkpoint is durable each step is
 * applied: the part is renamed to the published file when that file starts
 * with it, else appended to it; a step may first rotate the published file
 * away (size or age rotation). Every step is idempotent, because the
 * checkpoint records the size the published file had before the part: after
 * a crash at any point, applying the steps again (restore) gives the same
 * result, and parts that no checkpoint lists are deleted: their records are
 * read again from the sources. Readers of the published file never see data
 * that a crash could take back.
 *
 * The state also records the size of every file published so far, as it
 * is once the steps are applied. Resuming from an older checkpoint than the
 * newest (the newest was damaged) cuts the files back to those sizes, so
 * what was published after it is not written twice; files created or
 * rotated after it are known from the owned-files journal (owned_files.h)
 * and removed or moved back.
 *
 * Step state in the checkpoint:
 *   {"publish":[{"part":"out/.events.jsonl.7.inprogress","file":"out/events.jsonl",
 *                "file_size":1234,"bytes":5678,"rotate_to":"out/events.1.jsonl"}],
 *    "sizes":[{"file":"out/events.jsonl","size":6912}],"owned":345}
 */
#ifndef SL_PART_LOG_H
#define SL_PART_LOG_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "../core/buf.h"
#include "../core/error.h"
#include "owned_files.h"

typedef struct sl_part_step {
    char *part;        /* the closed, fsynced part */
    char *file;        /* the published file it goes into */
    uint64_t file_size;   /* the published file's size before this part */
    uint64_t bytes;    /* the part's size */
    char *rotate_to;   /* move the published file here first, or NULL */
    bool noted;        /* what it creates or rotates is in the owned-files journal */
} sl_part_step;

/* The closed parts waiting for a checkpoint, in the order they were closed.
 * Thread-safe: the sink thread adds and saves, the checkpointing thread
 * commits. */
typedef struct sl_file_size {
    char *file;
    uint64_t size;
} sl_file_size;

typedef struct sl_part_log {
    pthread_mutex_t lock;
    sl_part_step *steps;
    size_t count, cap;
    sl_file_size *sizes;   /* every file's size once the steps are applied */
    size_t n_sizes, cap_sizes;
    sl_owned_files owned;  /* the files publishing creates or rotates (owned_files.h), when kept */
} sl_part_log;

void sl_part_log_init(sl_part_log *log);
void sl_part_log_free(sl_part_log *log);

/* The path of part number n of `file`: ".<name>.<n>.inprogress" in the
 * same directory (a rename never crosses file systems). Caller frees. */
char *sl_part_path(const char *file, uint64_t n);

void sl_part_log_add(sl_part_log *log, const char *part, const char *file, uint64_t file_size,
                     uint64_t bytes, const char *rotate_to);
/* The size `file` will have once the waiting steps are published; false
 * when no step waits for it. */
bool sl_part_log_size_after(sl_part_log *log, const char *file, uint64_t *size);
/* Whether a waiting step will rotate some file to `path`. */
bool sl_part_log_reserves(sl_part_log *log, const char *path);
/* Keeps the journal of owned files at path (sl_owned_path): only when
 * the pipeline takes durable checkpoints. Before sl_parts_recover. */
void sl_part_log_keep_owned(sl_part_log *log, const char *path);
/* The waiting steps as checkpoint state; first notes the files they will
 * create or rotate in the owned-files journal (fsynced), whose length the
 * state records ("owned"). */
int sl_part_log_save(sl_part_log *log, sl_buf *state, sl_error *err);
/* The checkpoint holding `state` is durable: publishes its steps and
 * forgets them. */
int sl_part_log_commit(sl_part_log *log, const char *state, size_t len, sl_error *err);

/* Before a run: undoes what the owned-files journal says was created or
 * rotated after the checkpoint the run resumes from (or, with state NULL
 * and start_over, moves every file it names aside), publishes the steps of
 * that checkpoint,
 * cuts files back to the sizes it recorded, remembers those sizes in log,
 * then deletes every other part matching `parts_glob` (an interrupted run's
 * unpublished output). `who` names the sink in log lines. */
int sl_parts_recover(sl_part_log *log, const char *state, size_t len, bool start_over, const char *parts_glob,
                     const char *who, sl_error *err);

#endif
