/* dir_lock.h — one process at a time in a directory: an exclusive flock(2)
 * on a lock file in it, which holds the owner's pid for the message a second
 * process gets. The kernel releases the lock when the process ends, however
 * it ends (a SIGKILL leaves no stale lock). The file stays: deleting it
 * would let two processes lock two different files of the same name.
 *
 * sluice takes it on data_dir ("lock") for the whole of a run: two runs
 * sharing a data_dir would resume the same checkpoint, publish into the same
 * output and delete each other's unpublished parts. The dataset sink takes
 * it on its directory (".lock"): a run continues or discards an unfinished
 * dataset, which must not be one another run is writing.
 */
#ifndef SL_DIR_LOCK_H
#define SL_DIR_LOCK_H

#include "error.h"

/* What a lock is for, in the messages. */
typedef struct sl_dir_lock_use {
    const char *file;     /* the lock file's name in the directory: "lock" */
    const char *what;     /* the directory: "data_dir" */
    const char *advice;   /* why one run at a time, and what to do */
} sl_dir_lock_use;

/* Creates dir when missing and locks it; returns the lock's descriptor, or
 * -1 with err saying who holds it ("data_dir d is in use by another sluice
 * run (pid 1234): <advice>"). */
int sl_dir_lock(const char *dir, const sl_dir_lock_use *use, sl_error *err);
/* Releases a lock sl_dir_lock returned (fd < 0: nothing to do). */
void sl_dir_unlock(int fd);

#endif
