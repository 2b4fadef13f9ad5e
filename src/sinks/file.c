/* file.c — the `file` sink: appends JSON lines or CSV rows to files whose
 * path may be a template rendered per record ("out/{{ .service }}.jsonl").
 *
 * Work is split as the runtime intends: on the workers, encode renders each
 * record's path, encodes the record into the payload part for that path and
 * compresses every part (an independent gzip member or zstd frame), so
 * compression runs in parallel. On the sink thread, write appends each part
 * to its file. Open files are kept in a small table (at most MAX_OPEN,
 * least recently used closed first), rotated by size or age.
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
#include <sys/stat.h>
#include <unistd.h>

#include "../codec/json.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../runtime/component.h"
#include "encoder.h"

#define MAX_OPEN 128
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
    char *path;
    int fd;
    uint64_t size;          /* bytes in the file */
    uint64_t header_bytes;  /* CSV header written when it was created */
    int64_t opened_ns;
    uint64_t last_use;
    unsigned next_rotation; /* next rotated-name counter to try */
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
    /* sink thread */
    open_file files[MAX_OPEN];
    size_t n_files;
    uint64_t clock;         /* for least-recently-used */
    sl_compressor header_compressor;
} file_sink;

typedef struct file_worker {
    sl_compressor compressor;
    sl_buf text;            /* a non-string field value as text */
} file_worker;

static const char *const compression_names[] = {"none", "gzip", "zstd", NULL};

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

static void put_text(render *r, const char *p, size_t n, bool value) {
    if (r->len + n >= PATH_MAX) {
        r->error = "the rendered path is longer than PATH_MAX";
        return;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (value) {
            if (c == '/' || c < 0x20 || c == 0x7f) c = '_';
            r->seg_has_value = true;
        } else if (c == '/') {
            end_segment(r);
            r->out[r->len++] = '/';
            r->seg_start = r->len;
            r->seg_has_value = false;
            continue;
        }
        r->out[r->len++] = (char)c;
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
        close(fs->files[i].fd);
        free(fs->files[i].path);
    }
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
    bool ok = sl_record_encoder_init(&fs->enc, opts, diag) == 0;

    const char *path = sl_opts_string(opts, "path");
    fs->path = strdup(path ? path : "");
    if (!fs->path) abort();
    if (path && !*path) {
        sl_diag_error(diag, sl_opts_pos(opts, "path"), "path must not be empty");
        ok = false;
    }
    if (path && *path && !parse_template(fs, path, sl_opts_pos(opts, "path"), diag)) ok = false;

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
    return w;
}

static void file_worker_free(sl_component *c, void *wstate) {
    file_worker *w = wstate;
    sl_compressor_free(&w->compressor);
    sl_buf_free(&w->text);
    free(w);
}

static void file_encode(sl_component *c, void *wstate, sl_batch *b, sl_record **recs, size_t n,
                        sl_payload *out, sl_emit *dlq) {
    file_sink *fs = c->impl;
    file_worker *w = wstate;
    char path[PATH_MAX];
    sl_payload_part *part = fs->templated ? NULL : sl_payload_part_get(out, NULL, 0);
    for (size_t i = 0; i < n; i++) {
        sl_record *r = recs[i];
        if (fs->templated) {
            const char *why = NULL;
            long len = render_path(fs, &r->value, path, &w->text, &why);
            if (len < 0) {
                sl_emit_dlq(dlq, r, "invalid_path", "cannot build the output path from '%s': %s",
                            fs->path, why);
                continue;
            }
            part = sl_payload_part_get(out, path, (size_t)len);
        }
        sl_record_encoder_put(&fs->enc, &part->data, &r->value);
        part->records++;
    }
    for (size_t i = 0; i < out->count; i++) sl_compress_buf(&w->compressor, &out->parts[i].data);
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

static void close_file(file_sink *fs, size_t i) {
    close(fs->files[i].fd);
    free(fs->files[i].path);
    fs->files[i] = fs->files[--fs->n_files];
}

/* Opens path for appending (creating it, its directories and, for CSV, its
 * header row) and adds it to the table, closing the least recently used
 * file when the table is full. */
static open_file *open_path(file_sink *fs, const char *path, sl_error *err) {
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0 && errno == ENOENT && fs->mkdir) {
        if (sl_mkdirs_parent(path, err) < 0) return sl_error_prefix(err, "cannot open %s", path), NULL;
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    }
    if (fd < 0) return sl_errorf(err, "cannot open %s: %s", path, strerror(errno)), NULL;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        sl_errorf(err, "cannot stat %s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    uint64_t header = 0;
    if (st.st_size == 0) {
        sl_buf h;
        sl_buf_init(&h);
        if (sl_record_encoder_header(&fs->enc, &h)) {
            sl_compress_buf(&fs->header_compressor, &h);
            if (write_all(fd, h.data, h.len) < 0) {
                sl_errorf(err, "cannot write %s: %s", path, strerror(errno));
                sl_buf_free(&h);
                close(fd);
                return NULL;
            }
            header = h.len;
        }
        sl_buf_free(&h);
    }
    if (fs->n_files == MAX_OPEN) {
        size_t lru = 0;
        for (size_t i = 1; i < fs->n_files; i++)
            if (fs->files[i].last_use < fs->files[lru].last_use) lru = i;
        close_file(fs, lru);
    }
    open_file *of = &fs->files[fs->n_files++];
    *of = (open_file){.path = strdup(path), .fd = fd, .size = (uint64_t)st.st_size + header,
                      .header_bytes = header, .opened_ns = sl_monotonic_ns(), .next_rotation = 1};
    if (!of->path) abort();
    return of;
}

static open_file *get_file(file_sink *fs, const char *path, sl_error *err) {
    for (size_t i = 0; i < fs->n_files; i++)
        if (strcmp(fs->files[i].path, path) == 0) return &fs->files[i];
    return open_path(fs, path, err);
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

/* Closes the file and renames it to the first free rotated name. */
static int rotate(file_sink *fs, size_t i, sl_error *err) {
    open_file *of = &fs->files[i];
    char target[PATH_MAX + 16];
    unsigned n = of->next_rotation;
    for (;; n++) {
        rotated_name(of->path, n, target, sizeof target);
        if (access(target, F_OK) < 0 && errno == ENOENT) break;
    }
    if (rename(of->path, target) < 0) {
        sl_errorf(err, "cannot rotate %s to %s: %s", of->path, target, strerror(errno));
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

static int file_write(sl_component *c, sl_payload *p, sl_error *err) {
    file_sink *fs = c->impl;
    int64_t now = sl_monotonic_ns();
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
        if (write_all(of->fd, part->data.data, part->data.len) < 0) {
            int e = errno;
            /* Take back a partial write, so that a retry does not leave half a record. */
            if (ftruncate(of->fd, (off_t)of->size) < 0)
                sl_warn(fs->name, "cannot truncate %s after a failed write: %s", path, strerror(errno));
            return sl_errorf(err, "cannot write %s: %s", path, strerror(e));
        }
        of->size += part->data.len;
        of->last_use = ++fs->clock;
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
        "than PATH_MAX). At most 128 files "
        "are kept open at once; the least recently written one is closed (and reopened for "
        "appending when needed).\n\n"
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
        "**Delivery.** A write has completed (write(2)) when the batch is acknowledged; "
        "there is no fsync yet (durability comes with checkpoints). A failed write is "
        "truncated back so that no partial record stays in the file.",
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
};
