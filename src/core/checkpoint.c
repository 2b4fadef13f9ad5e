/* checkpoint.c — atomic, checksummed checkpoint files (checkpoint.h). */
#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"

#define MAX_DOC (256u << 20)

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t k = write(fd, c, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int sl_checkpoint_write(const char *dir, const void *doc, size_t len, sl_error *err)
{
    char tmp[4200], newest[4200], prev[4200];
    if (snprintf(tmp, sizeof tmp, "%s/checkpoint.tmp", dir) >= (int)sizeof tmp)
        return sl_errorf(err, "checkpoint directory path too long: %s", dir);
    snprintf(newest, sizeof newest, "%s/checkpoint", dir);
    snprintf(prev, sizeof prev, "%s/checkpoint.prev", dir);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return sl_errorf(err, "cannot create %s: %s", dir, strerror(errno));

    char header[80];
    int hn = snprintf(header, sizeof header, "sluice-checkpoint 1 %zu %08" PRIx32 "\n", len,
                      sl_crc32c(0, doc, len));
    int fd = open(tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0)
        return sl_errorf(err, "cannot write checkpoint %s: %s", tmp, strerror(errno));
    if (write_all(fd, header, (size_t)hn) < 0 || write_all(fd, doc, len) < 0 || fsync(fd) < 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return sl_errorf(err, "cannot write checkpoint %s: %s", tmp, strerror(e));
    }
    close(fd);
    if (rename(newest, prev) < 0 && errno != ENOENT)
        return sl_errorf(err, "cannot keep the previous checkpoint: %s", strerror(errno));
    if (rename(tmp, newest) < 0)
        return sl_errorf(err, "cannot publish checkpoint %s: %s", newest, strerror(errno));
    if (sync_dir(dir) < 0)
        return sl_errorf(err, "cannot sync %s: %s", dir, strerror(errno));
    return 0;
}

/* Reads one generation; returns NULL on success or what is wrong with it. */
static const char *read_generation(const char *path, sl_buf *doc)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? "missing" : "unreadable";
    char header[80];
    size_t len;
    unsigned crc;
    const char *problem = NULL;
    if (!fgets(header, sizeof header, f) ||
        sscanf(header, "sluice-checkpoint 1 %zu %8x\n", &len, &crc) != 2 || len > MAX_DOC) {
        problem = "not a checkpoint (bad header)";
    } else {
        doc->len = 0;
        sl_buf_reserve(doc, len + 1);
        if (fread(doc->data, 1, len, f) != len)
            problem = "truncated";
        else if (fgetc(f) != EOF)
            problem = "longer than its header says";
        else if (sl_crc32c(0, doc->data, len) != crc)
            problem = "checksum mismatch";
        else
            doc->len = len;
    }
    fclose(f);
    if (problem)
        doc->len = 0;
    return problem;
}

sl_checkpoint_found sl_checkpoint_load(const char *dir, sl_buf *doc, char problem[256])
{
    char newest[4200], prev[4200];
    snprintf(newest, sizeof newest, "%s/checkpoint", dir);
    snprintf(prev, sizeof prev, "%s/checkpoint.prev", dir);
    problem[0] = '\0';
    const char *bad_newest = read_generation(newest, doc);
    if (!bad_newest)
        return SL_CHECKPOINT_NEWEST;
    const char *bad_prev = read_generation(prev, doc);
    if (!bad_prev) {
        snprintf(problem, 256, "checkpoint: %s; using checkpoint.prev", bad_newest);
        return SL_CHECKPOINT_PREVIOUS;
    }
    if (strcmp(bad_newest, "missing") != 0 || strcmp(bad_prev, "missing") != 0)
        snprintf(problem, 256, "checkpoint: %s, checkpoint.prev: %s; starting from the beginning",
                 bad_newest, bad_prev);
    return SL_CHECKPOINT_NONE;
}
