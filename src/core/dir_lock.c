/* dir_lock.c — one process at a time in a directory (dir_lock.h). */
#include "dir_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "util.h"

int sl_dir_lock(const char *dir, const sl_dir_lock_use *use, sl_error *err)
{
    if (sl_mkdirs(dir, err) < 0) return sl_error_prefix(err, "cannot create %s %s", use->what, dir);
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, use->file);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        err->sys_errno = errno;
        return sl_errorf(err, "cannot open %s: %s", path, strerror(errno));
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        /* The holder writes its pid just after locking: wait for it a little. */
        char holder[32] = "";
        for (int tries = 0; tries < 50 && !holder[0]; tries++) {
            if (tries) usleep(10000);
            ssize_t n = pread(fd, holder, sizeof holder - 1, 0);
            holder[n > 0 ? n : 0] = '\0';
            holder[strcspn(holder, "\n")] = '\0';
        }
        close(fd);
        err->sys_errno = e;
        if (e != EWOULDBLOCK) return sl_errorf(err, "cannot lock %s: %s", path, strerror(e));
        return sl_errorf(err, "%s %s is in use by another sluice run (pid %s): %s", use->what, dir,
                         holder[0] ? holder : "unknown", use->advice);
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    /* Written over the last holder's, then cut: never empty for a reader. */
    if (pwrite(fd, pid, (size_t)len, 0) != len || ftruncate(fd, len) < 0) {}   /* only for the message */
    return fd;
}

void sl_dir_unlock(int fd)
{
    if (fd >= 0) close(fd);
}
