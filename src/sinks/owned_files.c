/* owned_files.c — the journal of files a sink's output consists of
 * (owned_files.h). */
#include "owned_files.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../codec/json.h"
#include "../codec/json_state.h"
#include "../core/crc32c.h"
#include "../core/log.h"
#include "../core/util.h"

void sl_owned_init(sl_owned_files *o)
{
    memset(o, 0, sizeof *o);
    sl_buf_init(&o->pending);
}

void sl_owned_free(sl_owned_files *o)
{
    free(o->path);
    sl_buf_free(&o->pending);
}

void sl_owned_keep(sl_owned_files *o, const char *path)
{
    free(o->path);
    o->path = strdup(path);
    if (!o->path) abort();
}

bool sl_owned_kept(const sl_owned_files *o)
{
    return o->path != NULL;
}

char *sl_owned_path(const char *data_dir, const char *name)
{
    size_t cap = strlen(data_dir) + strlen(name) + sizeof "/owned/";
    char *out = malloc(cap);
    if (!out) abort();
    int at = snprintf(out, cap, "%s/owned/", data_dir);
    for (char *p = strcpy(out + at, name); *p; p++)
        if (*p == '/') *p = '_';
    return out;
}

/* One line: the checksum, a space, the JSON, a newline. */
static void note(sl_owned_files *o, const char *op, const char *file, const char *to)
{
    if (!o->path) return;
    sl_buf json;
    sl_buf_init(&json);
    sl_buf_printf(&json, "{\"%s\":", op);
    sl_json_encode_string(&json, file, strlen(file));
    if (to) {
        sl_buf_puts(&json, ",\"to\":");
        sl_json_encode_string(&json, to, strlen(to));
    }
    sl_buf_putc(&json, '}');
    sl_buf_printf(&o->pending, "%08" PRIx32 " ", sl_crc32c(0, json.data, json.len));
    sl_buf_append(&o->pending, json.data, json.len);
    sl_buf_putc(&o->pending, '\n');
    sl_buf_free(&json);
}

void sl_owned_note_create(sl_owned_files *o, const char *file)
{
    note(o, "create", file, NULL);
}

void sl_owned_note_rotate(sl_owned_files *o, const char *file, const char *to)
{
    note(o, "rotate", file, to);
}

static int sys_error(sl_error *err, const char *what, const char *path)
{
    int e = errno;
    sl_errorf(err, "cannot %s %s: %s", what, path, strerror(e));
    err->sys_errno = e;
    return -1;
}

int sl_owned_sync(sl_owned_files *o, sl_error *err)
{
    if (!o->path || o->pending.len == 0) return 0;
    if (sl_mkdirs_parent(o->path, err) < 0) return -1;
    int fd = open(o->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return sys_error(err, "open", o->path);
    int rc = 0;
    size_t done = 0;
    /* At the end of the whole entries: a torn entry a crash left is overwritten. */
    while (rc == 0 && done < o->pending.len) {
        ssize_t n = pwrite(fd, o->pending.data + done, o->pending.len - done, (off_t)(o->length + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) rc = sys_error(err, "write", o->path);
        else done += (size_t)n;
    }
    if (rc == 0 && (ftruncate(fd, (off_t)(o->length + done)) < 0 || fdatasync(fd) < 0))
        rc = sys_error(err, "sync", o->path);
    bool created = o->length == 0;
    close(fd);
    if (rc == 0 && created) rc = sl_fsync_parent(o->path, err);
    if (rc < 0) return rc;
    o->length += done;
    o->pending.len = 0;
    return 0;
}

uint64_t sl_owned_length(const sl_owned_files *o)
{
    return o->length;
}

/* One entry of the journal. */
typedef struct entry {
    const char *file, *to;   /* to: a rotation's target, else NULL (a creation) */
    uint64_t end;            /* offset just past its line */
} entry;

/* Reads the whole entries of the journal in text (parsed into a). */
static size_t read_entries(sl_arena *a, const sl_buf *text, entry **out)
{
    size_t n = 0, cap = 0, at = 0;
    *out = NULL;
    while (at < text->len) {
        const char *line = text->data + at, *nl = memchr(line, '\n', text->len - at);
        if (!nl || nl - line < 10 || line[8] != ' ') break;
        const char *json = line + 9;
        size_t len = (size_t)(nl - json);
        char hex[9];
        memcpy(hex, line, 8);
        hex[8] = '\0';
        char *end;
        unsigned long crc = strtoul(hex, &end, 16);
        if (*end || crc != sl_crc32c(0, json, len)) break;
        sl_value doc;
        sl_error err;
        if (sl_state_parse(a, json, len, "an entry", &doc, &err) < 0) break;
        const char *create = sl_state_string(a, &doc, "create"), *rotate = sl_state_string(a, &doc, "rotate");
        const char *to = sl_state_string(a, &doc, "to");
        if (!create && !(rotate && to)) break;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            *out = realloc(*out, cap * sizeof **out);
            if (!*out) abort();
        }
        at = (size_t)(nl - text->data) + 1;
        (*out)[n++] = (entry){.file = create ? create : rotate, .to = create ? NULL : to, .end = at};
    }
    return n;
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Undoes entries [from, n), newest first. */
static int undo(const entry *e, size_t from, size_t n, const char *who, sl_error *err)
{
    size_t removed = 0, moved = 0;
    for (size_t i = n; i-- > from;) {
        if (!e[i].to) {
            if (unlink(e[i].file) < 0) {
                if (errno != ENOENT) return sys_error(err, "remove", e[i].file);
                continue;
            }
            if (sl_fsync_parent(e[i].file, err) < 0) return -1;
            removed++;
            continue;
        }
        if (!exists(e[i].to)) continue;   /* that rotation was never done */
        if (unlink(e[i].file) < 0 && errno != ENOENT) return sys_error(err, "remove", e[i].file);
        if (rename(e[i].to, e[i].file) < 0) return sys_error(err, "move back", e[i].to);
        if (sl_fsync_parent(e[i].file, err) < 0) return -1;
        moved++;
    }
    if (removed)
        sl_warn(who, "removed %zu file%s created after the checkpoint this run resumes from (their records are "
                "written again)", removed, removed == 1 ? "" : "s");
    if (moved) sl_warn(who, "moved %zu file%s rotated after the checkpoint this run resumes from back into place",
                       moved, moved == 1 ? "" : "s");
    return 0;
}

/* Moves every existing file the entries name aside (sl_move_aside). */
static int set_aside(const entry *e, size_t n, const char *who, sl_error *err)
{
    size_t moved = 0;
    char first[2 * 4300 + 8] = "", aside[4300];
    for (size_t i = 0; i < 2 * n; i++) {
        const char *file = i % 2 ? e[i / 2].to : e[i / 2].file;
        if (!file || !exists(file)) continue;
        if (sl_move_aside(file, aside, sizeof aside, err) < 0) return -1;
        if (!moved++) snprintf(first, sizeof first, "%s to %s", file, aside);
    }
    if (moved)
        sl_warn(who, "no usable checkpoint to resume from: moved the %zu file%s of earlier output aside, so "
                "that this run does not append to %s (%s%s)", moved, moved == 1 ? "" : "s",
                moved == 1 ? "it" : "them", first, moved == 1 ? "" : ", and the others alike");
    return 0;
}

int sl_owned_reconcile(sl_owned_files *o, sl_owned_start how, uint64_t length, const char *who, sl_error *err)
{
    if (!o->path) return 0;
    o->pending.len = 0;
    sl_buf text;
    sl_buf_init(&text);
    /* No journal, or not even its directory (the sink has not written yet): nothing to reconcile. */
    if (sl_read_file(o->path, &text) < 0 && errno != ENOENT && errno != ENOTDIR) {
        sys_error(err, "read", o->path);
        sl_buf_free(&text);
        return -1;
    }
    sl_arena a;
    sl_arena_init(&a, 4096);
    entry *e;
    size_t n = read_entries(&a, &text, &e);
    size_t keep = 0;   /* entries that still hold */
    if (how == SL_OWNED_RESUME)
        while (keep < n && e[keep].end <= length) keep++;
    else if (how == SL_OWNED_KEEP)
        keep = n;
    int rc = how == SL_OWNED_RESUME ? undo(e, keep, n, who, err)
           : how == SL_OWNED_SET_ASIDE ? set_aside(e, n, who, err) : 0;
    o->length = keep ? e[keep - 1].end : 0;
    if (rc == 0 && (uint64_t)text.len != o->length && truncate(o->path, (off_t)o->length) < 0 &&
        errno != ENOENT && errno != ENOTDIR)
        rc = sys_error(err, "cut back", o->path);
    free(e);
    sl_arena_free(&a);
    sl_buf_free(&text);
    return rc;
}
