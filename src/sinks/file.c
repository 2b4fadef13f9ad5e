/* file.c — the `file` sink: appends JSON lines or CSV rows to files whose
 * path may be a template rendered per record ("out/{{ .service }}.jsonl").
 *
 * Work is split as the runtime intends: on the workers, encode renders each
 * record's path, encodes the record into the payload part for that path and
 * compresses every part (an independent gzip member or zstd frame), so
 * compression runs in parallel. On the sink thread, write appends each part
 * to its file, rotated by size or age. Files are found by path through a hash
 * index (a template can make thousands).
 *
 * at_least_once keeps at most max_fds files open (1024, or an eighth of
 * the RLIMIT_NOFILE soft limit when that is less) (the least recently
 * written one is closed first) and writes each part at once, so output is
 * visible at once.
 *
 * exactly_once writes every file's records of a checkpoint interval into
 * one hidden bundle (bundle.h), invisible until a checkpoint: each payload
 * part goes into the bundle's frame (one buffer for all files, charged to
 * the memory budget, sl_sink_hold), which is written, sorted by file, when
 * it fills. The pre-commit seals the bundle (one fdatasync) and hands it to
 * the part log (part_log.h), which copies each file's ranges into it once
 * the checkpoint is durable and syncs them all at once. So a file costs a
 * table entry (MAX_FILES at most; one that leaves the table is simply
 * forgotten) and, per checkpoint, one step in the bundle: no descriptor,
 * no buffer, no fsync of its own. A file that starts in the interval with
 * enough bytes gets a side file of the bundle instead of ranges in it, and
 * the commit renames it into place rather than copying it (bundle.h).
 *
 * Path safety: bytes that come from field values cannot add directories:
 * '/' (and control characters) become '_', and a path segment made of field
 * text that is "." or ".." sends the record to the DLQ (invalid_path).
 *
 * Durability: write(2) has completed when write returns, so flush has
 * nothing to push; fsync comes with checkpoints.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../codec/json.h"
#include "../core/log.h"
#include "../core/strindex.h"
#include "../core/util.h"
#include "../runtime/component.h"
#include "bundle.h"
#include "encoder.h"
#include "part_log.h"

#define MAX_FDS 1024                 /* descriptors open at once, at most (max_fds) */
#define MAX_FILES 4096               /* exactly_once: files in the table */
#define WRITEBACK_BYTES (8u << 20)
#define MISSING "_missing_"
#define EMPTY "_empty_"

typedef struct tmpl_part {
    bool field;          /* a {{ .field.path }}, else literal text */
    char *text;          /* literal text, or the field path as written */
    size_t len;
    char **keys;         /* field path segments */
    size_t *key_lens;
    size_t n_keys;
} tmpl_part;

typedef struct open_file {
    char *path;             /* the file records go to */
    int fd;                 /* at_least_once: that file, or -1 */
    long step;              /* exactly_once: its step in the open bundle, or -1 */
    char *rotate_to;        /* exactly_once: the next step starts the file anew; the
                               published file moves here first */
    uint64_t size;          /* bytes in the file (exactly_once: once everything is published) */
    uint64_t header_bytes;  /* CSV header written when it was created */
    int64_t opened_ns;
    uint64_t last_use;
    unsigned next_rotation; /* next rotated-name counter to try */
    uint64_t unsynced;      /* at_least_once: bytes written since writeback was last started */
} open_file;

typedef struct file_sink {
    const char *name;
    sl_record_encoder enc;
    char *path;             /* as configured */
    tmpl_part *parts;
    size_t n_parts;
    bool templated;
    sl_compression compression;
    uint64_t rotate_bytes, rotate_ms;
    bool mkdir;
    bool exactly_once;      /* delivery: bundles published at checkpoints (part_log.h) */
    sl_part_log parts_log;  /* exactly_once: sealed bundles waiting for a checkpoint */
    char *bundle_name;      /* exactly_once: what bundles are named after (sl_part_path) */
    uint64_t part_counter;
    char sync_failed[SL_ERROR_MAX];   /* exactly_once: a bundle could not be synced; every call fails */
    /* sink thread */
    open_file *files;
    size_t n_files, cap_files;
    sl_strindex by_path;    /* files by path */
    size_t n_fds, max_fds;  /* at_least_once: descriptors open, and at most: MAX_FDS or an
                               eighth of RLIMIT_NOFILE */
    sl_bundle bundle;       /* exactly_once: this interval's output */
    uint64_t held;          /* exactly_once: the bundle's frames (charged to the budget), 0 before
                               the first write */
    sl_component *c;        /* for sl_sink_hold */
    uint64_t clock;         /* for least-recently-used */
    sl_compressor header_compressor;
} file_sink;

/* A record encoded into a worker's scratch buffer, for its part. */
typedef struct encoded {
    size_t part;
    size_t start, len;
} encoded;

typedef struct file_worker {
    sl_compressor compressor;
    sl_buf text;            /* a non-string field value as text */
    sl_buf scratch;         /* a templated path: the batch's records, encoded */
    encoded *at;            /* each record's place in scratch */
    size_t cap_at;
    uint64_t *sizes;        /* bytes per part */
    size_t cap_sizes;
} file_worker;

static const char *const compression_names[] = {"none", "gzip", "zstd", NULL};
static const char *const delivery_names[] = {"exactly_once", "at_least_once", NULL};

static const sl_option file_options[] = {
    {"path", SL_OPT_STRING, true, NULL,
     "File to append to. May contain `{{ .field.path }}` templates rendered per record, "
     "e.g. `out/{{ .service }}/{{ .level }}.jsonl`; see the rendering rules above.",
     NULL},
    SL_SINK_FORMAT_OPTIONS,
    {"compression", SL_OPT_ENUM, false, NULL,
     "`none`, `gzip` or `zstd`. Unset: `gzip` when the path ends in `.gz`, `zstd` when it "
     "ends in `.zst`, else `none`.",
     compression_names},
    {"rotate.max_bytes", SL_OPT_SIZE, false, "0",
     "Rotate a file before a write would take it past this size (on-disk, compressed "
     "bytes); 0 never rotates by size. A single batch larger than this still goes into one file.",
     NULL},
    {"rotate.interval", SL_OPT_DURATION, false, "0",
     "Rotate a file this long after it was opened (checked at each write and flush); 0 "
     "never rotates by age.",
     NULL},
    {"mkdir", SL_OPT_BOOL, false, "true", "Create missing parent directories.", NULL},
    {"delivery", SL_OPT_ENUM, false, "exactly_once",
     "`exactly_once`: records are written to a hidden bundle file next to the output and "
     "published into it when a checkpoint covering them is durable, so after any crash the "
     "output holds every record exactly once. `at_least_once`: records are appended to the "
     "output at once (visible sooner, no copy); after a crash, records written since the last "
     "checkpoint are written again. See docs/delivery.md.",
     delivery_names},
    {NULL, 0, false, NULL, NULL, NULL},
};

/* ---- path templates ---- */

static void free_template(file_sink *fs) {
    for (size_t i = 0; i < fs->n_parts; i++) {
        free(fs->parts[i].text);
        for (size_t k = 0; k < fs->parts[i].n_keys; k++) free(fs->parts[i].keys[k]);
        free(fs->parts[i].keys);
        free(fs->parts[i].key_lens);
    }
    free(fs->parts);
    fs->parts = NULL;
    fs->n_parts = 0;
}

static tmpl_part *add_part(file_sink *fs, bool field, const char *text, size_t len) {
    fs->parts = realloc(fs->parts, (fs->n_parts + 1) * sizeof *fs->parts);
    if (!fs->parts) abort();
    tmpl_part *t = &fs->parts[fs->n_parts++];
    memset(t, 0, sizeof *t);
    t->field = field;
    t->text = strndup(text, len);
    if (!t->text) abort();
    t->len = len;
    return t;
}

/* "{{ .a.b }}" -> keys a, b. Returns false on a malformed field path. */
static bool parse_field(tmpl_part *t) {
    const char *p = t->text;
    if (*p != '.' || p[1] == '\0') return false;
    while (*p == '.') {
        const char *key = ++p;
        while (*p && *p != '.') {
            if (*p == ' ' || *p == '\t' || *p == '{' || *p == '}') return false;
            p++;
        }
        if (p == key) return false;
        t->keys = realloc(t->keys, (t->n_keys + 1) * sizeof *t->keys);
        t->key_lens = realloc(t->key_lens, (t->n_keys + 1) * sizeof *t->key_lens);
        if (!t->keys || !t->key_lens) abort();
        t->key_lens[t->n_keys] = (size_t)(p - key);
        t->keys[t->n_keys] = strndup(key, (size_t)(p - key));
        if (!t->keys[t->n_keys++]) abort();
    }
    return *p == '\0';
}

static bool parse_template(file_sink *fs, const char *path, sl_pos pos, sl_diag *diag) {
    const char *p = path;
    while (*p) {
        const char *open = strstr(p, "{{");
        if (!open) {
            add_part(fs, false, p, strlen(p));
            break;
        }
        if (open > p) add_part(fs, false, p, (size_t)(open - p));
        const char *close = strstr(open + 2, "}}");
        if (!close) {
            sl_diag_error(diag, pos, "path: '{{' without a closing '}}'");
            return false;
        }
        const char *a = open + 2, *b = close;
        while (a < b && (*a == ' ' || *a == '\t')) a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
        tmpl_part *t = add_part(fs, true, a, (size_t)(b - a));
        if (!parse_field(t)) {
            sl_diag_error(diag, pos, "path: expected a field path like '{{ .service }}' or "
                          "'{{ .user.id }}', got '{{ %.*s }}'", (int)(b - a), a);
            return false;
        }
        fs->templated = true;
        p = close + 2;
    }
    return true;
}

/* What the bundles are named after: the path up to the directory of the
 * first field, then the rest of the template as one file name, each field
 * as {field} and '/' as '_': "out/{{ .model }}/{{ .date }}.jsonl" gives
 * "out/{model}_{date}.jsonl", so bundles are "out/.{model}_{date}.jsonl.N.inprogress";
 * a path without fields is itself. */
static char *bundle_name(const file_sink *fs) {
    sl_buf name;
    sl_buf_init(&name);
    bool field_seen = false;
    for (size_t i = 0; i < fs->n_parts; i++) {
        const tmpl_part *t = &fs->parts[i];
        if (t->field) {
            sl_buf_printf(&name, "{%s}", t->text + 1);
            field_seen = true;
            continue;
        }
        for (size_t k = 0; k < t->len; k++) {
            sl_buf_putc(&name, t->text[k] == '/' && field_seen ? '_' : t->text[k]);
        }
    }
    return sl_buf_steal(&name, NULL);
}

typedef struct render {
    char *out;           /* PATH_MAX bytes */
    size_t len;
    size_t seg_start;    /* start of the current path segment */
    bool seg_has_value;  /* the segment holds text from a field */
    const char *error;
} render;

/* Ends a path segment: one made (partly) of field text must not be "." or
 * "..", nor longer than a file name can be. */
static void end_segment(render *r) {
    size_t n = r->len - r->seg_start;
    const char *s = r->out + r->seg_start;
    if (!r->seg_has_value) return;
    if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
        r->error = "a field value makes a '.' or '..' path segment";
    else if (n > NAME_MAX)
        r->error = "a field value makes a file name longer than NAME_MAX (255 bytes)";
}

/* Appends template text (its '/' end path segments) or a field value's text
 * (whose '/' and control characters become '_'), a run at a time: it runs
 * once per record. */
static void put_text(render *r, const char *p, size_t n, bool value) {
    if (r->len + n >= PATH_MAX) {
        r->error = "the rendered path is longer than PATH_MAX";
        return;
    }
    char *out = r->out + r->len;
    if (value) {
        memcpy(out, p, n);
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)out[i];
            if (c == '/' || c < 0x20 || c == 0x7f) out[i] = '_';
        }
        r->len += n;
        r->seg_has_value |= n > 0;
        return;
    }
    while (n > 0) {
        const char *slash = memchr(p, '/', n);
        size_t run = slash ? (size_t)(slash - p) : n;
        memcpy(r->out + r->len, p, run);
        r->len += run;
        if (!slash) return;
        end_segment(r);
        r->out[r->len++] = '/';
        r->seg_start = r->len;
        r->seg_has_value = false;
        p += run + 1;
        n -= run + 1;
    }
}

static const sl_value *lookup(const sl_value *rec, const tmpl_part *t) {
    const sl_value *v = rec;
    for (size_t k = 0; k < t->n_keys && v; k++)
        v = v->type == SL_MAP ? sl_map_get(v, t->keys[k], t->key_lens[k]) : NULL;
    return v;
}

static void put_value(render *r, const sl_value *v, sl_buf *text) {
    char num[40];
    if (!v || v->type == SL_NULL) {
        put_text(r, MISSING, strlen(MISSING), true);
        return;
    }
    if (v->x.raw && v->raw_len && (v->type == SL_INT || v->type == SL_UINT || v->type == SL_DOUBLE)) {
        put_text(r, v->x.raw, v->raw_len, true);
        return;
    }
    text->len = 0;
    switch ((sl_type)v->type) {
    case SL_STRING:
        if (v->len == 0)
            put_text(r, EMPTY, strlen(EMPTY), true);
        else
            put_text(r, v->as.s, v->len, true);
        return;
    case SL_BOOL:
        put_text(r, v->as.b ? "true" : "false", v->as.b ? 4 : 5, true);
        return;
    case SL_INT:
        put_text(r, num, (size_t)snprintf(num, sizeof num, "%lld", (long long)v->as.i), true);
        return;
    case SL_UINT:
        put_text(r, num, (size_t)snprintf(num, sizeof num, "%llu", (unsigned long long)v->as.u), true);
        return;
    case SL_TIMESTAMP:
        put_text(r, num, sl_format_rfc3339(num, v->as.i), true);
        return;
    case SL_DOUBLE:
        if (!sl_json_format_double(text, v->as.d)) sl_buf_puts(text, MISSING);
        break;
    default:   /* bytes, arrays, maps: their JSON text */
        sl_json_encode(text, v);
        break;
    }
    put_text(r, text->data, text->len, true);
}

/* Renders rec's path into out (PATH_MAX bytes, NUL-terminated); returns its
 * length, or -1 with *why set. */
static long render_path(const file_sink *fs, const sl_value *rec, char *out, sl_buf *text, const char **why) {
    render r = {.out = out};
    for (size_t i = 0; i < fs->n_parts && !r.error; i++) {
        const tmpl_part *t = &fs->parts[i];
        if (t->field)
            put_value(&r, lookup(rec, t), text);
        else
            put_text(&r, t->text, t->len, false);
    }
    if (!r.error) end_segment(&r);
    if (r.error) {
        *why = r.error;
        return -1;
    }
    out[r.len] = '\0';
    return (long)r.len;
}

/* ---- create / destroy ---- */

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static void file_destroy(sl_component *c) {
    file_sink *fs = c->impl;
    if (!fs) return;
    for (size_t i = 0; i < fs->n_files; i++) {
        if (fs->files[i].fd >= 0) close(fs->files[i].fd);
        free(fs->files[i].path);
        free(fs->files[i].rotate_to);
    }
    free(fs->files);
    sl_bundle_free(&fs->bundle);
    free(fs->bundle_name);
    sl_strindex_free(&fs->by_path);
    sl_part_log_free(&fs->parts_log);
    sl_compressor_free(&fs->header_compressor);
    sl_record_encoder_free(&fs->enc);
    free_template(fs);
    free(fs->path);
    free(fs);
    c->impl = NULL;
}

static int file_create(sl_component *c, const sl_opts *opts, sl_diag *diag) {
    file_sink *fs = calloc(1, sizeof *fs);
    if (!fs) abort();
    fs->name = c->name;
    sl_part_log_init(&fs->parts_log);
    sl_bundle_init(&fs->bundle, 0);
    bool ok = sl_record_encoder_init(&fs->enc, opts, diag) == 0;

    const char *path = sl_opts_string(opts, "path");
    fs->path = strdup(path ? path : "");
    if (!fs->path) abort();
    if (path && !*path) {
        sl_diag_error(diag, sl_opts_pos(opts, "path"), "path must not be empty");
        ok = false;
    }
    if (path && *path && !parse_template(fs, path, sl_opts_pos(opts, "path"), diag)) ok = false;
    else if (path && *path) fs->bundle_name = bundle_name(fs);

    const char *comp = sl_opts_has(opts, "compression") ? sl_opts_enum(opts, "compression") : NULL;
    if (comp)
        fs->compression = strcmp(comp, "gzip") == 0 ? SL_COMPRESSION_GZIP
                        : strcmp(comp, "zstd") == 0 ? SL_COMPRESSION_ZSTD : SL_COMPRESSION_NONE;
    else
        fs->compression = ends_with(fs->path, ".gz") ? SL_COMPRESSION_GZIP
                        : ends_with(fs->path, ".zst") ? SL_COMPRESSION_ZSTD : SL_COMPRESSION_NONE;
    sl_compressor_init(&fs->header_compressor, fs->compression);
    fs->rotate_bytes = sl_opts_size(opts, "rotate.max_bytes");
    fs->rotate_ms = sl_opts_duration_ms(opts, "rotate.interval");
    fs->mkdir = sl_opts_bool(opts, "mkdir");
    fs->exactly_once = strcmp(sl_opts_enum(opts, "delivery"), "exactly_once") == 0;
    fs->c = c;
    struct rlimit nofile;
    fs->max_fds = getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur / 8 < MAX_FDS ? nofile.rlim_cur / 8 : MAX_FDS;
    if (fs->max_fds < 16) fs->max_fds = 16;
    c->reads_no_fields = !fs->templated && !fs->enc.csv;   /* sl_json_encode_record_line only */
    c->publishes = fs->exactly_once;
    c->delivery = fs->exactly_once ? SL_DELIVERY_EXACTLY_ONCE : SL_DELIVERY_AT_LEAST_ONCE;
    c->impl = fs;
    if (!ok) {
        file_destroy(c);
        return -1;
    }
    return 0;
}

/* ---- encode (workers) ---- */

static void *file_worker_init(sl_component *c, sl_error *err) {
    file_sink *fs = c->impl;
    file_worker *w = calloc(1, sizeof *w);
    if (!w) abort();
    sl_compressor_init(&w->compressor, fs->compression);
    sl_buf_init(&w->text);
    sl_buf_init(&w->scratch);
    return w;
}

static void file_worker_free(sl_component *c, void *wstate) {
    file_worker *w = wstate;
    sl_compressor_free(&w->compressor);
    sl_buf_free(&w->text);
    sl_buf_free(&w->scratch);
    free(w->at);
    free(w->sizes);
    free(w);
}

/* A templated path: each record is encoded into the worker's scratch
 * buffer, then copied into the part for its path, whose size is known by
 * then: without compression all parts share one block (sl_payload_layout),
 * else one allocation per part, instead of a buffer grown record by record
 * (with a thousand files, a batch has hundreds of parts of a record or two,
 * and growing them was a fifth of the time, in the allocator). */
static void encode_by_path(file_sink *fs, file_worker *w, sl_record **recs, size_t n, sl_payload *out,
                           sl_emit *dlq) {
    char path[PATH_MAX];
    if (w->cap_at < n) {
        w->cap_at = n;
        w->at = realloc(w->at, n * sizeof *w->at);
        if (!w->at) abort();
    }
    w->scratch.len = 0;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        const char *why = NULL;
        long len = render_path(fs, sl_record_value(recs[i]), path, &w->text, &why);
        if (len < 0) {
            sl_emit_dlq(dlq, recs[i], "invalid_path", "cannot build the output path from '%s': %s", fs->path, why);
            continue;
        }
        sl_payload_part *part = sl_payload_part_get(out, path, (size_t)len);
        part->records++;
        size_t start = w->scratch.len;
        sl_record_encoder_put(&fs->enc, &w->scratch, recs[i]);
        w->at[kept++] = (encoded){.part = (size_t)(part - out->parts), .start = start, .len = w->scratch.len - start};
    }
    if (w->cap_sizes < out->count) {
        w->cap_sizes = out->count;
        w->sizes = realloc(w->sizes, out->count * sizeof *w->sizes);
        if (!w->sizes) abort();
    }
    memset(w->sizes, 0, out->count * sizeof *w->sizes);
    for (size_t k = 0; k < kept; k++) w->sizes[w->at[k].part] += w->at[k].len;
    if (fs->compression == SL_COMPRESSION_NONE) {   /* one block for all parts: they are written as they are */
        sl_payload_layout(out, w->sizes);
        for (size_t k = 0; k < kept; k++)
            sl_payload_part_put(&out->parts[w->at[k].part], w->scratch.data + w->at[k].start, w->at[k].len);
        return;
    }
    for (size_t p = 0; p < out->count; p++) sl_buf_reserve(&out->parts[p].data, w->sizes[p]);
    for (size_t k = 0; k < kept; k++)
        sl_buf_append(&out->parts[w->at[k].part].data, w->scratch.data + w->at[k].start, w->at[k].len);
}

static void file_encode(sl_component *c, void *wstate, sl_batch *b, sl_record **recs, size_t n,
                        sl_payload *out, sl_emit *dlq) {
    file_sink *fs = c->impl;
    file_worker *w = wstate;
    if (fs->templated) {
        encode_by_path(fs, w, recs, n, out, dlq);
    } else {
        sl_payload_part *part = sl_payload_part_get(out, NULL, 0);
        sl_record_encoder_put_all(&fs->enc, &part->data, recs, n);
        part->records += n;
    }
    for (size_t i = 0; i < out->count; i++)
        if (!out->parts[i].in_block) sl_compress_buf(&w->compressor, &out->parts[i].data);
}

/* ---- write (sink thread) ---- */

static int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int sys_error(sl_error *err, const char *what, const char *path) {
    int e = errno;
    sl_errorf(err, "cannot %s %s: %s", what, path, strerror(e));
    err->sys_errno = e;
    return -1;
}

/* Opens path for writing (creating its directories with `mkdir`). */
static int open_for_write(file_sink *fs, const char *path, int flags, sl_error *err) {
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);
    if (fd < 0 && errno == ENOENT && fs->mkdir) {
        if (sl_mkdirs_parent(path, err) < 0) return sl_error_prefix(err, "cannot open %s", path);
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);
    }
    if (fd < 0) return sys_error(err, "open", path);
    return fd;
}

/* Writes the CSV header row (if the format has one) at the start of a new
 * file; returns its size, or -1 with err. */
static long write_header(file_sink *fs, int fd, const char *path, sl_error *err) {
    sl_buf h;
    sl_buf_init(&h);
    long n = 0;
    if (sl_record_encoder_header(&fs->enc, &h)) {
        sl_compress_buf(&fs->header_compressor, &h);
        n = write_all(fd, h.data, h.len) < 0 ? sys_error(err, "write", path) : (long)h.len;
    }
    sl_buf_free(&h);
    return n;
}

/* Starts writing the last WRITEBACK_BYTES written to disk without waiting
 * (sync_file_range), so that the fsync of a checkpoint or of the end of the
 * run finds little left to write, instead of all of it. `end` is the offset
 * in the descriptor's file just past what was written. */
static void start_writeback(open_file *of, uint64_t end, uint64_t written) {
    of->unsynced += written;
    if (of->unsynced < WRITEBACK_BYTES) return;
    uint64_t from = end > of->unsynced ? end - of->unsynced : 0;
    sl_start_writeback(of->fd, from, end);
    of->unsynced = 0;
}

/* Appends n bytes at offset `at` of the file's descriptor (`target` names it
 * in errors). A failed write is truncated back, so that a retry does not
 * leave half a record. */
static int append_bytes(file_sink *fs, open_file *of, const char *target, uint64_t at, const char *p, size_t n,
                        sl_error *err) {
    if (write_all(of->fd, p, n) < 0) {
        sys_error(err, "write", target);
        if (ftruncate(of->fd, (off_t)at) < 0)
            sl_warn(fs->name, "cannot truncate %s after a failed write: %s", target, strerror(errno));
        return -1;
    }
    start_writeback(of, at + n, n);
    return 0;
}

static void close_fd(file_sink *fs, open_file *of) {
    if (of->fd < 0) return;
    close(of->fd);
    of->fd = -1;
    fs->n_fds--;
}

static const char *path_of(const void *sink, size_t i) {
    return ((const file_sink *)sink)->files[i].path;
}

static void forget_file(file_sink *fs, size_t i) {
    free(fs->files[i].path);
    free(fs->files[i].rotate_to);
    fs->files[i] = fs->files[--fs->n_files];
    sl_strindex_clear(&fs->by_path);   /* positions moved */
    for (size_t k = 0; k < fs->n_files; k++) sl_strindex_add(&fs->by_path, k, path_of, fs);
}

/* Closes a file and takes it out of the table (exactly_once: its step
 * stays in the bundle; a step for the same file starts when it comes back). */
static void close_file(file_sink *fs, size_t i) {
    close_fd(fs, &fs->files[i]);
    forget_file(fs, i);
}

/* The last step of bundle b for path, or NULL. */
static const sl_part_step *last_step(const sl_bundle *b, const char *path) {
    for (size_t i = b->n_steps; i-- > 0;)
        if (strcmp(b->steps[i].file, path) == 0) return &b->steps[i];
    return NULL;
}

/* The size the published file has once everything written to it so far
 * is published. */
static uint64_t published_size(file_sink *fs, const char *path) {
    uint64_t size;
    struct stat st;
    const sl_part_step *s = last_step(&fs->bundle, path);
    if (s) return s->file_size + s->bytes;
    if (fs->exactly_once && sl_part_log_size_after(&fs->parts_log, path, &size)) return size;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Whether the directory path would be created in is missing. */
static bool parent_missing(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) return false;
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    struct stat st;
    return stat(dir, &st) < 0 && errno == ENOENT;
}

/* Whether a step of the open bundle will rotate some file to `path`. */
static bool bundle_reserves(const sl_bundle *b, const char *path) {
    for (size_t i = 0; i < b->n_steps; i++)
        if (b->steps[i].rotate_to && strcmp(b->steps[i].rotate_to, path) == 0) return true;
    return false;
}

/* Adds a file to the table, closing the least recently used one when the
 * table is full. at_least_once opens the file for appending (writing the
 * CSV header when it is new); exactly_once opens nothing (its data goes
 * into the bundle, take_part), but makes the file's directory. */
static open_file *open_path(file_sink *fs, const char *path, sl_error *err) {
    if (fs->n_files == (fs->exactly_once ? MAX_FILES : fs->max_fds)) {
        size_t lru = 0;
        for (size_t i = 1; i < fs->n_files; i++)
            if (fs->files[i].last_use < fs->files[lru].last_use) lru = i;
        close_file(fs, lru);
    }
    open_file of = {.fd = -1, .step = -1, .opened_ns = sl_monotonic_ns(), .next_rotation = 1};
    if (!fs->exactly_once) {
        of.fd = open_for_write(fs, path, O_APPEND, err);
        if (of.fd < 0) return NULL;
        struct stat st;
        if (fstat(of.fd, &st) < 0) {
            sys_error(err, "stat", path);
            close(of.fd);
            return NULL;
        }
        of.size = (uint64_t)st.st_size;
        long header = of.size == 0 ? write_header(fs, of.fd, path, err) : 0;
        if (header < 0) {
            if (ftruncate(of.fd, 0) < 0) {}   /* no half header: the retry writes it whole */
            close(of.fd);
            return NULL;
        }
        of.size += (uint64_t)header;
        of.header_bytes = (uint64_t)header;
        fs->n_fds++;
    } else {
        struct stat st;
        if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
            sl_errorf(err, "%s is not a regular file (a FIFO or a device): delivery: exactly_once publishes "
                      "at checkpoints into regular files; use delivery: at_least_once to write to it", path);
            return NULL;
        }
        if (parent_missing(path) && (!fs->mkdir || sl_mkdirs_parent(path, err) < 0)) {
            if (!fs->mkdir) sl_errorf(err, "cannot open %s: its directory does not exist (mkdir: false)", path);
            return NULL;
        }
        of.size = published_size(fs, path);
    }
    of.path = strdup(path);
    if (!of.path) abort();
    if (fs->n_files == fs->cap_files) {
        fs->cap_files = fs->cap_files ? 2 * fs->cap_files : 16;
        fs->files = realloc(fs->files, fs->cap_files * sizeof *fs->files);
        if (!fs->files) abort();
    }
    fs->files[fs->n_files] = of;
    sl_strindex_add(&fs->by_path, fs->n_files, path_of, fs);
    return &fs->files[fs->n_files++];
}

static open_file *get_file(file_sink *fs, const char *path, sl_error *err) {
    long i = sl_strindex_find(&fs->by_path, path, strlen(path), path_of, fs);
    return i >= 0 ? &fs->files[i] : open_path(fs, path, err);
}

/* "out/events.jsonl.gz", 3 -> "out/events.3.jsonl.gz": the counter goes
 * before the last extension (a .gz/.zst suffix does not count), or at the
 * end when there is none. */
static void rotated_name(const char *path, unsigned n, char *out, size_t cap) {
    size_t len = strlen(path), suffix = 0;
    if (ends_with(path, ".gz")) suffix = 3;
    else if (ends_with(path, ".zst")) suffix = 4;
    const char *base = strrchr(path, '/');
    size_t base_at = base ? (size_t)(base - path) + 1 : 0, cut = len - suffix;
    for (size_t i = len - suffix; i > base_at + 1; i--) {
        if (path[i - 1] == '.') {
            cut = i - 1;
            break;
        }
    }
    snprintf(out, cap, "%.*s.%u%s", (int)cut, path, n, path + cut);
}

/* The first rotated name of the file that is free (on disk, and not taken
 * by a rotation waiting in the open bundle or the part log). */
static void free_rotated_name(file_sink *fs, open_file *of, char *out, size_t cap) {
    for (unsigned n = of->next_rotation;; n++) {
        rotated_name(of->path, n, out, cap);
        if (access(out, F_OK) < 0 && errno == ENOENT &&
            !(fs->exactly_once && (bundle_reserves(&fs->bundle, out) || sl_part_log_reserves(&fs->parts_log, out)))) {
            of->next_rotation = n + 1;
            return;
        }
    }
}

/* Rotates a file that is due. at_least_once: closes it and renames it to the
 * first free rotated name. exactly_once: ends its step; the next step will
 * move the published file away when it is published, and start it anew. */
static int rotate(file_sink *fs, size_t i, sl_error *err) {
    open_file *of = &fs->files[i];
    char target[PATH_MAX + 16];
    free_rotated_name(fs, of, target, sizeof target);
    if (fs->exactly_once) {
        of->step = -1;
        free(of->rotate_to);
        of->rotate_to = strdup(target);
        if (!of->rotate_to) abort();
        of->size = of->header_bytes = 0;
        of->opened_ns = sl_monotonic_ns();
        return 0;
    }
    if (rename(of->path, target) < 0) {
        sys_error(err, "rotate", of->path);
        close_file(fs, i);
        return -1;
    }
    sl_debug(fs->name, "rotated %s to %s", of->path, target);
    close_file(fs, i);
    return 0;
}

static bool due_by_age(const file_sink *fs, const open_file *of, int64_t now) {
    return fs->rotate_ms && of->size > of->header_bytes &&
           now - of->opened_ns >= (int64_t)fs->rotate_ms * 1000000;
}

/* exactly_once: seals bundle b (written and fdatasynced) into the part
 * log, if it is open. */
static int seal_one(file_sink *fs, sl_bundle *b, sl_error *err) {
    if (!sl_bundle_is_open(b)) return 0;
    if (sl_bundle_flush(b, err) < 0) return -1;
    if (sl_bundle_seal(b, err) < 0) {
        /* The data may not be on disk, and a second fsync would not say so
         * (the kernel reports a writeback error once): never publish it,
         * and fail from now on, so that a restart writes it again. */
        snprintf(fs->sync_failed, sizeof fs->sync_failed, "%s", err->msg);
        return -1;
    }
    char *path;
    uint64_t size;
    sl_part_step *steps;
    size_t n;
    sl_bundle_take(b, &path, &size, &steps, &n);
    sl_part_log_add(&fs->parts_log, path, size, b->plain, steps, n);
    return 0;
}

/* exactly_once, the pre-commit: seals the bundle into the part log. The
 * next write starts a new bundle, with a new step for every file. */
static int seal_bundle(file_sink *fs, sl_error *err) {
    if (seal_one(fs, &fs->bundle, err) < 0) return -1;
    for (size_t i = 0; i < fs->n_files; i++) fs->files[i].step = -1;
    return 0;
}

/* exactly_once: the CSV header a new file starts with (compressed), or
 * none. */
static void header_bytes(file_sink *fs, sl_buf *h) {
    if (sl_record_encoder_header(&fs->enc, h)) sl_compress_buf(&fs->header_compressor, h);
}

/* exactly_once: takes a part's bytes into the bundle, as the file's step
 * (started now when the file has none in this bundle, with the CSV header
 * when it starts the file). A failure leaves the bytes not taken, so that
 * the runtime's retry does not take them twice. */
static int take_part(file_sink *fs, open_file *of, const char *p, size_t n, sl_error *err) {
    if (!fs->held) {
        uint64_t share = sl_sink_hold_max(fs->c);
        sl_bundle_set_memory(&fs->bundle, share < SL_BUNDLE_FRAME ? (size_t)share : SL_BUNDLE_FRAME);
        fs->bundle.plain = !fs->templated;   /* renamed into place when it starts the file */
        fs->held = 2 * fs->bundle.cap;   /* the frame being filled and the one being written */
        sl_sink_hold(fs->c, (int64_t)fs->held);
    }
    /* A plain bundle holds one step: a rotation seals it (an fdatasync, as
     * rare as rotations) and starts another. */
    if (fs->bundle.plain && of->step < 0 && fs->bundle.n_steps > 0 && seal_bundle(fs, err) < 0) return -1;
    sl_bundle *b = &fs->bundle;
    if (of->step < 0) {
        if (!sl_bundle_is_open(b)) {
            char *path = sl_part_path(fs->bundle_name, ++fs->part_counter);
            int rc = sl_bundle_open(b, path, fs->mkdir, err);
            free(path);
            if (rc < 0) return -1;
        }
        of->step = sl_bundle_step(b, of->path, of->size, of->rotate_to);
        free(of->rotate_to);
        of->rotate_to = NULL;
    }
    if (of->size == 0) {
        sl_buf h;
        sl_buf_init(&h);
        header_bytes(fs, &h);
        int rc = sl_bundle_append(b, (uint32_t)of->step, h.data, h.len, err);
        of->size = of->header_bytes = rc == 0 ? h.len : 0;
        sl_buf_free(&h);
        if (rc < 0) return -1;
    }
    if (sl_bundle_append(b, (uint32_t)of->step, p, n, err) < 0) return -1;
    of->size += n;
    return 0;
}

static int file_write(sl_component *c, sl_payload *p, sl_error *err) {
    file_sink *fs = c->impl;
    if (fs->sync_failed[0]) return sl_errorf(err, "%s (earlier; restart to write again from the last checkpoint)", fs->sync_failed);
    int64_t now = fs->rotate_ms ? sl_monotonic_ns() : 0;   /* called once per file of a payload */
    for (size_t k = 0; k < p->count; k++) {
        const sl_payload_part *part = &p->parts[k];
        if (part->data.len == 0) continue;
        const char *path = part->key ? part->key : fs->path;
        open_file *of = get_file(fs, path, err);
        if (!of) return -1;
        bool full = fs->rotate_bytes && of->size > of->header_bytes &&
                    of->size + part->data.len > fs->rotate_bytes;
        if (full || due_by_age(fs, of, now)) {
            if (rotate(fs, (size_t)(of - fs->files), err) < 0) return -1;
            if (!(of = get_file(fs, path, err))) return -1;
        }
        of->last_use = ++fs->clock;
        if (fs->exactly_once) {
            if (take_part(fs, of, part->data.data, part->data.len, err) < 0) return -1;
            continue;
        }
        if (append_bytes(fs, of, path, of->size, part->data.data, part->data.len, err) < 0) return -1;
        of->size += part->data.len;
    }
    return 0;
}

static int file_flush(sl_component *c, sl_error *err) {
    file_sink *fs = c->impl;
    int64_t now = sl_monotonic_ns();
    for (size_t i = fs->n_files; i-- > 0;)
        if (due_by_age(fs, &fs->files[i], now) && rotate(fs, i, err) < 0) return -1;
    return 0;
}

/* ---- checkpoints ---- */

/* Pre-commit: the bundle is sealed into the part log, and the log is the
 * state. at_least_once: the files are fsynced; no state. */
static int file_save(sl_component *c, sl_buf *state, sl_error *err) {
    file_sink *fs = c->impl;
    if (fs->sync_failed[0]) return sl_errorf(err, "%s", fs->sync_failed);
    if (fs->exactly_once && seal_bundle(fs, err) < 0) return -1;
    for (size_t i = 0; i < fs->n_files && !fs->exactly_once; i++)
        if (fdatasync(fs->files[i].fd) < 0 && errno != EINVAL)   /* EINVAL: a FIFO or device */
            return sys_error(err, "sync", fs->files[i].path);
    if (!fs->exactly_once) sl_buf_puts(state, "{}");
    else if (sl_part_log_save(&fs->parts_log, state, err) < 0) return -1;
    return 0;
}

static int file_commit(sl_component *c, const char *state, size_t len, sl_error *err) {
    file_sink *fs = c->impl;
    return fs->exactly_once ? sl_part_log_commit(&fs->parts_log, state, len, err) : 0;
}

/* Appends path to a glob pattern with glob's special characters escaped. */
static void glob_escape(sl_buf *b, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (strchr("*?[\\", s[i])) sl_buf_putc(b, '\\');
        sl_buf_putc(b, s[i]);
    }
}

/* The glob matching every bundle this sink can have written. */
static void bundles_glob(const file_sink *fs, sl_buf *out) {
    char *any = sl_part_path(fs->bundle_name, 0);
    size_t len = strlen(any) - strlen("0.inprogress");
    glob_escape(out, any, len);
    sl_buf_puts(out, "*.inprogress");
    free(any);
}

static int file_restore(sl_component *c, const char *state, size_t len, sl_error *err) {
    file_sink *fs = c->impl;
    if (!fs->exactly_once) return 0;
    /* Part numbers never repeat across runs: a checkpoint resumed twice
     * (the newest was lost after a run resumed from the one before) must not
     * find a later run's part under the name of one of its own. */
    fs->part_counter = (uint64_t)sl_now_ns();
    if (c->durable) {   /* the journal of the files it publishes (owned_files.h) */
        char *journal = sl_owned_path(c->data_dir, c->name);
        sl_part_log_keep_owned(&fs->parts_log, journal);
        free(journal);
    }
    sl_buf glob_pattern;
    sl_buf_init(&glob_pattern);
    bundles_glob(fs, &glob_pattern);
    int rc = sl_parts_recover(&fs->parts_log, state, len, c->start_over, glob_pattern.data, fs->name, err);
    sl_buf_free(&glob_pattern);
    return rc;
}

const sl_component_type sl_sink_file_type = {
    .name = "file",
    .kind = SL_SINK,
    .summary = "Appends JSON lines or CSV rows to files, with per-record path templates, compression and rotation",
    .doc =
        "Appends records to `path`, creating it (and, with `mkdir`, its directories). An "
        "existing file is appended to; a CSV header row is written only at the start of a "
        "new (empty) file.\n\n"
        "**Path templates.** `{{ .field }}` or `{{ .a.b }}` in `path` is replaced by the "
        "record's field: strings as they are, numbers as written in the input, booleans as "
        "`true`/`false`, timestamps in RFC 3339, arrays and maps as JSON text. A missing or "
        "null field renders as `_missing_` and an empty string as `_empty_`. Field text can "
        "never change the directory: `/` and control characters in it become `_`, and a "
        "record whose field text makes a whole path segment `.` or `..` goes to the DLQ "
        "with reason `invalid_path` (as does a file name longer than 255 bytes or a path longer "
        "than PATH_MAX). With `at_least_once`, at most 1024 descriptors (or an eighth of the "
        "open-files limit, `ulimit -n`, when that is less) are open at once; the least recently "
        "written file's is closed (and reopened for appending when needed). With "
        "`exactly_once`, thousands of files cost little more than a few: the records of every "
        "file go into one hidden bundle per checkpoint interval, through two buffers (together at "
        "most 32 MiB and an eighth of `memory_limit`, counted in the memory budget; one is written "
        "on a thread of its own while the other fills); the bundle is fsynced once at the "
        "checkpoint, then copied into the files, which are synced together (`syncfs`). A file "
        "costs no descriptor, buffer or fsync of its own. A file that starts in the interval with "
        "8 KiB or more in a buffer, or whose records come in large parts (few files), gets a side "
        "file of the bundle instead, renamed into place at the checkpoint when it starts the file "
        "(so that its records are not copied), else copied in one piece. Past 4096 files, the "
        "least recently written one leaves the sink's table (and comes back when written to "
        "again).\n\n"
        "**Compression.** Records are encoded and compressed on the worker threads, each "
        "batch as an independent gzip member or zstd frame appended to the file; the result "
        "is a valid multi-member/multi-frame stream that `gzip -d`, `zstd -d` and the file "
        "source read whole. gzip uses zlib's default level (6), zstd level 3; zstd is several "
        "times faster for a similar size.\n\n"
        "**Rotation.** With `rotate.max_bytes` or `rotate.interval`, a file that is due is "
        "closed and renamed with a counter before its extension: `out/events.jsonl.gz` "
        "becomes `out/events.1.jsonl.gz`, then `out/events.2.jsonl.gz` (the first counter "
        "whose name is free; higher is newer), and writing continues in a new "
        "`out/events.jsonl.gz`. Only files holding records rotate.\n\n"
        "**Delivery.** With `at_least_once`, a write has completed (write(2)) when the batch "
        "is acknowledged; with `exactly_once` it may still be in the sink's buffer, as the "
        "bundle is invisible until the checkpoint that writes and fsyncs it. A failed write is "
        "truncated back so that no partial record stays in the file. With `exactly_once`, "
        "a run that resumes from an older checkpoint than the newest removes the files "
        "created and moves back the files rotated after it, and a run that finds checkpoints "
        "but none it can use (both damaged) moves the files it created earlier aside "
        "(`<file>.aside-<UTC time>`) instead of appending to them; see docs/delivery.md.",
    .example =
        "sinks:\n"
        "  by_service:\n"
        "    type: file\n"
        "    inputs: [clean]\n"
        "    path: \"out/{{ .service }}/events.jsonl.zst\"\n"
        "    rotate: {max_bytes: 256MiB, interval: 1h}\n"
        "  table:\n"
        "    type: file\n"
        "    inputs: [clean]\n"
        "    path: out/latency.csv\n"
        "    format: csv\n"
        "    csv: {columns: [ts, service, latency_ms]}\n",
    .options = file_options,
    .create = file_create,
    .destroy = file_destroy,
    .worker_init = file_worker_init,
    .worker_free = file_worker_free,
    .encode = file_encode,
    .write = file_write,
    .flush = file_flush,
    .save = file_save,
    .restore = file_restore,
    .commit = file_commit,
};
