/* dir_lock.h — one process at a time in a directory: an exclusive flock(2)
 * on "<dir>/lock", which holds the owner's pid for the message a second
 * process gets. The kernel releases the lock when the process ends, however
 * it ends (a SIGKILL leaves no stale lock).
 *
 * sluice takes it on data_dir for the whole of a run: two runs sharing a
 * data_dir would resume the same checkpoint, publish into the same output
 * and delete each other's unpublished parts.
 */
#ifndef SL_DIR_LOCK_H
#define SL_DIR_LOCK_H

#include "error.h"

/* Creates dir when missing and locks it; returns the lock's descriptor, or
 * -1 with err saying who holds it ("... is in use by sluice pid 1234 ..."). */
int sl_dir_lock(const char *dir, sl_error *err);
/* Releases a lock sl_dir_lock returned (fd < 0: nothing to do). */
void sl_dir_unlock(int fd);

#endif
