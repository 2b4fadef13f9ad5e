/* part_log.h — two-phase commit for files: output is written to hidden
 * bundles (bundle.h) next to the files it belongs to, and published into
 * those files only once a checkpoint covering it is durable.
 *
 *   out/events.jsonl                  a published file: committed data only
 *   out/.events.jsonl.7.inprogress    a bundle: data not yet covered by a checkpoint
 *
 * A sink writes one bundle per checkpoint interval, for all its files (a
 * path template can make thousands). At the checkpoint's pre-commit it seals
 * the bundle (one fdatasync) and lists it, with its steps, in its checkpoint
 * state; once the checkpoint is durable each step is applied: its ranges of
 * the bundle are copied (copy_file_range) into its file at the size the file
 * had before it, after rotating the file away when the step says so. Then
 * every file written is made durable at once (syncfs of each file system;
 * each file's writeback was started as soon as it was copied),
 * and only then is the bundle deleted. A plain bundle (one file's bytes), or
 * a step's side file (bundle.h), that starts its file is renamed into place
 * instead, like a part file; the same syncfs makes the rename durable, and
 * a side file that is gone was renamed before. A bundle of many steps is
 * applied by two threads, each file's steps by one of them, in order. Every step is idempotent, because the
 * checkpoint records the size each file had before it: after a crash at any
 * point, applying the steps again (restore) cuts each file back to that size
 * and copies the same bytes, and a bundle that is gone was applied and made
 * durable before it went. Bundles that no checkpoint lists are deleted:
 * their records are read again from the sources. Readers of the published
 * files never see data that a crash could take back.
 *
 * A step that a later step of the same checkpoint rotated away (its
 * rotate_to exists) was applied: its file was fdatasynced before the
 * rotation, and is not written again.
 *
 * The state also records the size of every file published so far, as it
 * is once the steps are applied. Resuming from an older checkpoint than the
 * newest (the newest was damaged) cuts the files back to those sizes, so
 * what was published after it is not written twice; files created or
 * rotated after it are known from the owned-files journal (owned_files.h)
 * and removed or moved back.
 *
 * State in the checkpoint:
 *   {"bundles":[{"path":"out/.events.jsonl.7.inprogress","bytes":91234,"plain":false,
 *                "steps":[{"file_size":1234,"bytes":5678,"file":"out/events.jsonl",
 *                          "rotate_to":"out/events.1.jsonl"},
 *                         {"file_size":0,"bytes":40960,"file":"out/new.jsonl",
 *                          "side":"out/.events.jsonl.7.s1.inprogress"}]}],
 *    "sizes":[{"file":"out/events.jsonl","size":6912}],"owned":345}
 */
#ifndef SL_PART_LOG_H
#define SL_PART_LOG_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "../core/buf.h"
#include "../core/error.h"
#include "bundle.h"
#include "owned_files.h"

/* A sealed bundle waiting for a checkpoint. */
typedef struct sl_part_bundle {
    char *path;
    uint64_t bytes;
    bool plain;           /* one step, the file's bytes as they are (bundle.h) */
    sl_part_step *steps;
    size_t n_steps;
} sl_part_bundle;

typedef struct sl_file_size {
    char *file;
    uint64_t size;
} sl_file_size;

/* The sealed bundles waiting for a checkpoint, in the order they were
 * sealed. Thread-safe: the sink thread adds and saves, the checkpointing
 * thread commits. */
typedef struct sl_part_log {
    pthread_mutex_t lock;
    sl_part_bundle *bundles;
    size_t count, cap;
    sl_file_size *sizes;   /* every file's size once the steps are applied */
    size_t n_sizes, cap_sizes;
    sl_owned_files owned;  /* the files publishing creates or rotates (owned_files.h), when kept */
} sl_part_log;

void sl_part_log_init(sl_part_log *log);
void sl_part_log_free(sl_part_log *log);

/* The path of bundle number n of the files `name` stands for (a path, or a
 * path template made a name): ".<file name>.<n>.inprogress" in its
 * directory. Caller frees. */
char *sl_part_path(const char *name, uint64_t n);

/* Adds a sealed bundle (sl_bundle_take); takes path and steps. */
void sl_part_log_add(sl_part_log *log, char *path, uint64_t bytes, bool plain, sl_part_step *steps,
                     size_t n_steps);
/* The size `file` will have once the waiting steps are published; false
 * when no step waits for it. */
bool sl_part_log_size_after(sl_part_log *log, const char *file, uint64_t *size);
/* Whether a waiting step will rotate some file to `path`. */
bool sl_part_log_reserves(sl_part_log *log, const char *path);
/* Keeps the journal of owned files at path (sl_owned_path): only when
 * the pipeline takes durable checkpoints. Before sl_parts_recover. */
void sl_part_log_keep_owned(sl_part_log *log, const char *path);
/* The waiting bundles as checkpoint state; first notes the files they will
 * create or rotate in the owned-files journal (fsynced), whose length the
 * state records ("owned"). */
int sl_part_log_save(sl_part_log *log, sl_buf *state, sl_error *err);
/* The checkpoint holding `state` is durable: publishes its bundles and
 * forgets them. */
int sl_part_log_commit(sl_part_log *log, const char *state, size_t len, sl_error *err);

/* Before a run: undoes what the owned-files journal says was created or
 * rotated after the checkpoint the run resumes from (or, with state NULL
 * and start_over, moves every file it names aside), publishes the bundles of
 * that checkpoint, cuts files back to the sizes it recorded, remembers those
 * sizes in log, then deletes every other bundle matching `bundles_glob` (an
 * interrupted run's unpublished output). `who` names the sink in log lines. */
int sl_parts_recover(sl_part_log *log, const char *state, size_t len, bool start_over, const char *bundles_glob,
                     const char *who, sl_error *err);

#endif
