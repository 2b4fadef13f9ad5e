/* checkpoint.c — atomic, checksummed checkpoint files (checkpoint.h). */
#include "checkpoint.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crc32c.h"
#include "log.h"
#include "util.h"

#define MAX_DOC (256u << 20)

/* Moves a generation aside to "<path>.damaged-<ms>", logging why (`what`
 * it is); nothing to do when it is missing. */
static int move_aside(const char *path, const char *what, sl_error *err)
{
    char aside[4300];
    snprintf(aside, sizeof aside, "%s.damaged-%lld", path, (long long)(sl_now_ns() / 1000000));
    if (rename(path, aside) < 0)
        return errno == ENOENT ? 0 : sl_errorf(err, "%s %s and cannot be moved aside: %s", path, what, strerror(errno));
    sl_warn("checkpoint", "%s %s; moved it aside to %s", path, what, aside);
    return 0;
}

/* Something that is not a regular file where a generation belongs (a
 * directory, say) would make every write fail: it is moved aside, once. */
static int move_aside_if_not_file(const char *path, sl_error *err)
{
    struct stat st;
    if (lstat(path, &st) < 0 || S_ISREG(st.st_mode)) return 0;
    return move_aside(path, "is not a file", err);
}

int sl_checkpoint_set_aside_newest(const char *dir, sl_error *err)
{
    char newest[4200];
    snprintf(newest, sizeof newest, "%s/checkpoint", dir);
    return move_aside(newest, "could not be resumed from", err) < 0 ? -1 : sl_fsync_dir(dir, err);
}

int sl_checkpoint_write(const char *dir, const void *doc, size_t len, sl_error *err)
{
    if (sl_mkdirs(dir, err) < 0)
        return sl_error_prefix(err, "cannot write the checkpoint");
    sl_buf file, newest, prev;
    sl_buf_init(&file);
    sl_buf_init(&newest);
    sl_buf_init(&prev);
    sl_buf_printf(&file, "sluice-checkpoint 1 %zu %08" PRIx32 "\n", len, sl_crc32c(0, doc, len));
    sl_buf_append(&file, doc, len);
    sl_buf_printf(&newest, "%s/checkpoint", dir);
    sl_buf_printf(&prev, "%s/checkpoint.prev", dir);
    int rc;
    if (move_aside_if_not_file(newest.data, err) < 0 || move_aside_if_not_file(prev.data, err) < 0)
        rc = sl_error_prefix(err, "cannot write the checkpoint");
    else if (rename(newest.data, prev.data) < 0 && errno != ENOENT)
        rc = sl_errorf(err, "cannot keep the previous checkpoint: %s", strerror(errno));
    else if ((rc = sl_write_file_atomic(newest.data, file.data, file.len, err)) < 0)
        sl_error_prefix(err, "cannot write the checkpoint");
    sl_buf_free(&file);
    sl_buf_free(&newest);
    sl_buf_free(&prev);
    return rc;
}

#define MAX_HEADER 80   /* "sluice-checkpoint 1 <length> <crc>\n" */

const char *sl_checkpoint_decode(const char *file, size_t len, size_t *doc_at, size_t *doc_len)
{
    const char *nl = memchr(file, '\n', len < MAX_HEADER ? len : MAX_HEADER);
    char header[MAX_HEADER + 1];
    size_t n;
    unsigned crc;
    if (!nl) return "not a checkpoint (bad header)";
    memcpy(header, file, (size_t)(nl - file));
    header[nl - file] = '\0';
    if (sscanf(header, "sluice-checkpoint 1 %zu %8x", &n, &crc) != 2 || n > MAX_DOC)
        return "not a checkpoint (bad header)";
    size_t at = (size_t)(nl - file) + 1;
    if (len - at < n) return "truncated";
    if (len - at > n) return "longer than its header says";
    if (sl_crc32c(0, file + at, n) != crc) return "checksum mismatch";
    *doc_at = at;
    *doc_len = n;
    return NULL;
}

/* Reads one generation and checks its document; returns NULL on success or
 * what is wrong with it (in why, or a constant). */
static const char *read_generation(const char *path, sl_buf *doc, sl_checkpoint_check check, void *arg,
                                   char *why, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? "missing" : "unreadable";
    struct stat st;
    if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return "not a file";
    }
    /* One byte more than the largest checkpoint tells a longer file. */
    size_t most = MAX_HEADER + MAX_DOC + 1, want = (uint64_t)st.st_size < most ? (size_t)st.st_size + 1 : most;
    doc->len = 0;
    sl_buf_reserve(doc, want);
    size_t len = fread(doc->data, 1, want, f), at = 0, n = 0;
    const char *problem = ferror(f) ? "unreadable" : sl_checkpoint_decode(doc->data, len, &at, &n);
    fclose(f);
    if (!problem) {
        memmove(doc->data, doc->data + at, n);
        doc->len = n;
        if (check && !check(doc, arg, why, cap)) problem = why;
    }
    if (problem)
        doc->len = 0;
    return problem;
}

sl_checkpoint_found sl_checkpoint_load(const char *dir, sl_buf *doc, sl_checkpoint_check check, void *arg,
                                       char problem[256])
{
    char why_newest[160] = "", why_prev[160] = "";
    char newest[4200], prev[4200];
    snprintf(newest, sizeof newest, "%s/checkpoint", dir);
    snprintf(prev, sizeof prev, "%s/checkpoint.prev", dir);
    problem[0] = '\0';
    const char *bad_newest = read_generation(newest, doc, check, arg, why_newest, sizeof why_newest);
    if (!bad_newest)
        return SL_CHECKPOINT_NEWEST;
    const char *bad_prev = read_generation(prev, doc, check, arg, why_prev, sizeof why_prev);
    if (!bad_prev) {
        snprintf(problem, 256, "checkpoint: %s; using checkpoint.prev", bad_newest);
        return SL_CHECKPOINT_PREVIOUS;
    }
    if (strcmp(bad_newest, "missing") != 0 || strcmp(bad_prev, "missing") != 0)
        snprintf(problem, 256, "checkpoint: %s, checkpoint.prev: %s; starting from the beginning",
                 bad_newest, bad_prev);
    return SL_CHECKPOINT_NONE;
}
