/* dlq_read.c — reading dead-letter files back (see dlq_read.h).
 *
 * Lines are cut in an sl_buf filled from an sl_reader (so rotated DLQ files
 * may be gzip or zstd compressed); a line is handed out in place, followed by
 * the rest of the buffer and its padding, which is what the JSON decoder
 * needs. Entries are decoded with the ordinary JSON decoder and their fields
 * copied into the caller's arena.
 */
#include "dlq_read.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../codec/json.h"
#include "../codec/reader.h"
#include "../core/buf.h"
#include "../core/crc32c.h"

#define READ_CHUNK (64 * 1024)
#define LINE_MAX_BYTES (64u * 1024 * 1024)

/* ---- files ---- */

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int sl_dlq_find_files(const char *path, char ***files, size_t *n, sl_error *err)
{
    *files = NULL;
    *n = 0;
    struct stat st;
    if (stat(path, &st) < 0) return sl_errorf(err, "cannot read DLQ path %s: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode)) {
        *files = malloc(sizeof **files);
        if (!*files || !((*files)[0] = strdup(path))) abort();
        *n = 1;
        return 0;
    }
    DIR *dir = opendir(path);
    if (!dir) return sl_errorf(err, "cannot list DLQ directory %s: %s", path, strerror(errno));
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        size_t name_len = strlen(de->d_name);
        if (de->d_name[0] == '.') continue;
        if (name_len >= 4 && strcmp(de->d_name + name_len - 4, ".raw") == 0) continue;   /* a side file */
        size_t len = strlen(path) + 1 + strlen(de->d_name) + 1;
        char *full = malloc(len);
        if (!full) abort();
        snprintf(full, len, "%s/%s", path, de->d_name);
        if (stat(full, &st) < 0 || !S_ISREG(st.st_mode)) {
            free(full);
            continue;
        }
        if (*n == cap) {
            cap = cap ? 2 * cap : 8;
            *files = realloc(*files, cap * sizeof **files);
            if (!*files) abort();
        }
        (*files)[(*n)++] = full;
    }
    closedir(dir);
    if (*n > 1) qsort(*files, *n, sizeof **files, compare_names);
    return 0;
}

void sl_dlq_free_files(char **files, size_t n)
{
    for (size_t i = 0; i < n; i++) free(files[i]);
    free(files);
}

/* ---- lines ---- */

struct sl_dlq_lines {
    sl_reader *r;
    char *path;
    sl_buf buf;
    size_t start;       /* first byte of buf not handed out yet */
    uint64_t base;      /* file offset of buf.data[0] */
    bool eof;
};

static sl_dlq_lines *lines_from_reader(sl_reader *r, const char *path)
{
    sl_dlq_lines *l = calloc(1, sizeof *l);
    if (!l || !(l->path = strdup(path))) abort();
    l->r = r;
    sl_buf_init(&l->buf);
    return l;
}

sl_dlq_lines *sl_dlq_lines_open(const char *path, sl_error *err)
{
    sl_reader *r = sl_reader_open(path, err);
    return r ? lines_from_reader(r, path) : NULL;
}

sl_dlq_lines *sl_dlq_lines_from_fd(int fd, const char *path, sl_error *err)
{
    sl_reader *r = sl_reader_from_fd(fd, 1, path, err);   /* closes fd when it fails */
    return r ? lines_from_reader(r, path) : NULL;
}

int sl_dlq_lines_next(sl_dlq_lines *l, const char **line, size_t *len, uint64_t *offset, sl_error *err)
{
    for (;;) {
        size_t avail = l->buf.len - l->start;
        char *p = avail ? l->buf.data + l->start : NULL;
        char *nl = avail ? memchr(p, '\n', avail) : NULL;
        if (nl || (l->eof && avail > 0)) {
            size_t n = nl ? (size_t)(nl - p) : avail;
            *offset = l->base + l->start;
            l->start += nl ? n + 1 : n;
            while (n > 0 && p[n - 1] == '\r') n--;
            if (n == 0) continue;           /* blank line */
            *line = p;
            *len = n;
            return 1;
        }
        if (l->eof) return 0;
        if (avail > LINE_MAX_BYTES)
            return sl_errorf(err, "%s: line at byte %llu is longer than 64 MiB; this is not a DLQ file",
                             l->path, (unsigned long long)(l->base + l->start));
        sl_buf_consume(&l->buf, l->start);
        l->base += l->start;
        l->start = 0;
        sl_buf_reserve(&l->buf, READ_CHUNK);
        ssize_t got = sl_reader_read(l->r, l->buf.data + l->buf.len, READ_CHUNK, err);
        if (got < 0) return -1;
        if (got == 0) l->eof = true;
        l->buf.len += (size_t)got;
    }
}

uint64_t sl_dlq_lines_raw_offset(const sl_dlq_lines *l)
{
    return sl_reader_raw_offset(l->r);
}

uint64_t sl_dlq_lines_offset(const sl_dlq_lines *l)
{
    return l->base + l->start;
}

void sl_dlq_lines_close(sl_dlq_lines *l)
{
    if (!l) return;
    sl_reader_close(l->r);
    sl_buf_free(&l->buf);
    free(l->path);
    free(l);
}

/* ---- entries ---- */

static int base64_digit(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decodes padded base64 into the arena; false when s is not valid base64. */
static bool base64_decode(sl_arena *a, const char *s, size_t len, const char **out, size_t *out_len)
{
    if (len % 4 != 0) return false;
    size_t pad = 0;
    if (len > 0 && s[len - 1] == '=') pad++;
    if (len > 1 && s[len - 2] == '=') pad++;
    char *dst = sl_arena_alloc(a, len / 4 * 3 + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i += 4) {
        bool last = i + 4 == len;
        uint32_t v = 0;
        for (size_t k = 0; k < 4; k++) {
            int d = base64_digit((unsigned char)s[i + k]);
            if (d < 0) {
                if (!(last && s[i + k] == '=' && k >= 4 - pad)) return false;
                d = 0;
            }
            v = v << 6 | (uint32_t)d;
        }
        dst[n++] = (char)(v >> 16);
        if (!last || pad < 2) dst[n++] = (char)(v >> 8 & 0xFF);
        if (!last || pad < 1) dst[n++] = (char)(v & 0xFF);
    }
    *out = dst;
    *out_len = n;
    return true;
}

/* The string field `key` as a NUL-terminated arena copy; NULL when absent or
 * null, and -1 when it has another type. */
static int string_field(sl_arena *a, const sl_value *entry, const char *key, const char **out, sl_error *err)
{
    *out = NULL;
    const sl_value *v = sl_map_get(entry, key, strlen(key));
    if (!v || v->type == SL_NULL) return 0;
    if (v->type != SL_STRING) return sl_errorf(err, "\"%s\" is a %s, not a string", key, sl_type_name(v->type));
    *out = sl_arena_strndup(a, v->as.s, v->len);
    return 0;
}

static bool unsigned_field(const sl_value *obj, const char *key, uint64_t *out)
{
    const sl_value *v = obj ? sl_map_get(obj, key, strlen(key)) : NULL;
    if (!v) return false;
    if (v->type == SL_INT && v->as.i >= 0) *out = (uint64_t)v->as.i;
    else if (v->type == SL_UINT) *out = v->as.u;
    else return false;
    return true;
}

int sl_dlq_parse(sl_arena *a, const char *line, size_t len, sl_dlq_record *out, sl_error *err)
{
    memset(out, 0, sizeof *out);
    sl_value entry;
    sl_decode_error derr = {0};
    if (sl_json_decode(a, line, len, 0, true, &entry, &derr) < 0)
        return sl_errorf(err, "not a JSON object (%s: %s)", derr.reason, derr.msg);
    if (string_field(a, &entry, "reason", &out->reason, err) < 0) return -1;
    if (!out->reason) return sl_errorf(err, "no \"reason\" field; not a DLQ entry");
    if (string_field(a, &entry, "time", &out->time, err) < 0 ||
        string_field(a, &entry, "component", &out->component, err) < 0 ||
        string_field(a, &entry, "source", &out->source, err) < 0 ||
        string_field(a, &entry, "origin", &out->origin, err) < 0 ||
        string_field(a, &entry, "message", &out->message, err) < 0)
        return -1;

    const sl_value *pos = sl_map_get(&entry, "position", 8);
    if (pos && pos->type == SL_MAP) {
        unsigned_field(pos, "file_id", &out->pos.file_id);
        unsigned_field(pos, "offset", &out->pos.offset);
    }
    const sl_value *replay = sl_map_get(&entry, "replay", 6);
    if (replay && replay->type == SL_MAP) {
        if (string_field(a, replay, "origin", &out->replay_origin, err) < 0) return -1;
        const sl_value *rpos = sl_map_get(replay, "position", 8);
        if (rpos && rpos->type == SL_MAP) {
            unsigned_field(rpos, "file_id", &out->replay_pos.file_id);
            unsigned_field(rpos, "offset", &out->replay_pos.offset);
        }
    }

    const sl_value *raw = sl_map_get(&entry, "raw", 3);
    const sl_value *b64 = sl_map_get(&entry, "raw_base64", 10);
    if (raw && raw->type == SL_STRING) {
        out->raw = sl_arena_strndup(a, raw->as.s, raw->len);
        out->raw_len = raw->len;
    } else if (raw && raw->type != SL_NULL) {
        return sl_errorf(err, "\"raw\" is a %s, not a string", sl_type_name(raw->type));
    } else if (b64 && b64->type == SL_STRING) {
        if (!base64_decode(a, b64->as.s, b64->len, &out->raw, &out->raw_len))
            return sl_errorf(err, "\"raw_base64\" is not valid base64");
    } else if (b64 && b64->type != SL_NULL) {
        return sl_errorf(err, "\"raw_base64\" is a %s, not a string", sl_type_name(b64->type));
    }
    const sl_value *truncated = sl_map_get(&entry, "raw_truncated", 13);
    out->raw_truncated = truncated && truncated->type == SL_BOOL && truncated->as.b;

    if (string_field(a, &entry, "raw_file", &out->raw_file, err) < 0) return -1;
    if (out->raw_file) {
        uint64_t crc = 0;
        if (!unsigned_field(&entry, "raw_offset", &out->raw_offset) ||
            !unsigned_field(&entry, "raw_length", &out->raw_length) || !unsigned_field(&entry, "raw_crc32c", &crc) ||
            crc > UINT32_MAX || out->raw_length > SIZE_MAX / 2)
            return sl_errorf(err, "\"raw_file\" without a valid raw_offset, raw_length and raw_crc32c");
        out->raw_crc32c = (uint32_t)crc;
    }
    return 0;
}

/* Reads the entry's bytes from path into *dst (allocated in the arena on
 * first use, once the file is known to hold them: an entry's length is not
 * trusted); 1 when they are there and match, 0 (with why) when the file is
 * missing, shorter or different. */
static int read_side_file(sl_arena *a, const char *path, const sl_dlq_record *e, char **dst, char *why,
                          size_t why_cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(why, why_cap, "%s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return 0;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (e->raw_offset > size || e->raw_length > size - e->raw_offset) {
        close(fd);
        snprintf(why, why_cap, "%s: shorter (%llu bytes) than the entry says", path, (unsigned long long)size);
        return 0;
    }
    if (!*dst) *dst = sl_arena_alloc(a, (size_t)e->raw_length + 1);
    size_t got = 0;
    int read_errno = 0;
    while (got < e->raw_length) {
        ssize_t n = pread(fd, *dst + got, (size_t)e->raw_length - got, (off_t)(e->raw_offset + got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) read_errno = errno;
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(fd);
    if (got < e->raw_length) {
        snprintf(why, why_cap, "%s: %s", path, read_errno ? strerror(read_errno) : "shorter than the entry says");
        return 0;
    }
    if (sl_crc32c(0, *dst, got) != e->raw_crc32c) {
        snprintf(why, why_cap, "%s: the bytes there do not match the entry (CRC-32C)", path);
        return 0;
    }
    return 1;
}

int sl_dlq_load_raw(sl_arena *a, const char *dlq_path, sl_dlq_record *e, sl_error *err)
{
    if (!e->raw_file) return 0;
    char *dst = NULL;
    const char *base = strrchr(e->raw_file, '/');
    base = base ? base + 1 : e->raw_file;
    const char *slash = strrchr(dlq_path, '/');
    int dir_len = slash ? (int)(slash - dlq_path) : 1;
    char *beside;
    if (asprintf(&beside, "%.*s/%s", dir_len, slash ? dlq_path : ".", base) < 0) abort();
    char why_beside[512], why_named[512] = "";
    int found = read_side_file(a, beside, e, &dst, why_beside, sizeof why_beside);
    if (!found && strcmp(beside, e->raw_file) != 0)
        found = read_side_file(a, e->raw_file, e, &dst, why_named, sizeof why_named);
    free(beside);
    if (!found)
        return sl_errorf(err, "the record (%llu bytes at byte %llu of side file %s) cannot be read: %s%s%s; "
                         "keep the side file next to the DLQ file",
                         (unsigned long long)e->raw_length, (unsigned long long)e->raw_offset, base, why_beside,
                         why_named[0] ? "; " : "", why_named);
    dst[e->raw_length] = '\0';
    e->raw = dst;
    e->raw_len = (size_t)e->raw_length;
    return 0;
}

/* ---- message classes ---- */

#define CLASS_MAX 160

static bool word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           (unsigned char)c >= 0x80;
}

static bool digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The end of the number at p (hex 0x.., or decimal with sign, fraction and
 * exponent), or p when there is none. */
static const char *number_end(const char *p)
{
    const char *q = p;
    if (*q == '-' || *q == '+') q++;
    if (!digit(*q)) return p;
    if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X') && isxdigit((unsigned char)q[2])) {
        q += 2;
        while (isxdigit((unsigned char)*q)) q++;
        return q;
    }
    while (digit(*q)) q++;
    if (*q == '.' && digit(q[1]))
        for (q++; digit(*q); q++) {}
    if ((*q == 'e' || *q == 'E') && (digit(q[1]) || ((q[1] == '-' || q[1] == '+') && digit(q[2]))))
        for (q += 2; digit(*q); q++) {}
    return q;
}

/* The closing quote of the quoted value opened at p, or NULL. */
static const char *closing_quote(const char *p)
{
    for (const char *q = p + 1; *q; q++) {
        if (*q == '\\' && q[1]) q++;
        else if (*q == *p) return q;
    }
    return NULL;
}

void sl_dlq_message_class(const char *message, sl_buf *out)
{
    size_t start = out->len;
    const char *p = message ? message : "";
    char prev = ' ';
    while (*p && out->len - start < CLASS_MAX) {
        /* A quote opens a value only after a space or punctuation, so an
         * apostrophe ("can't") does not. */
        const char *close = (*p == '\'' || *p == '"') && !word_char(prev) ? closing_quote(p) : NULL;
        /* Nor does a number inside a word or a name ("UTF-8", "v1.2"). */
        const char *num = !word_char(prev) && prev != '.' && prev != '-' ? number_end(p) : p;
        const char *code_end = *p == '`' ? strchr(p + 1, '`') : NULL;
        if (code_end) {   /* code (an expression) names the rule */
            sl_buf_append(out, p, (size_t)(code_end + 1 - p));
            p = code_end + 1;
        } else if (close && close[1] != ':') {
            sl_buf_putc(out, *p);
            sl_buf_puts(out, "\xe2\x80\xa6");
            sl_buf_putc(out, *p);
            p = close + 1;
        } else if (close) {
            sl_buf_append(out, p, (size_t)(close + 1 - p));
            p = close + 1;
        } else if (num > p && !word_char(*num)) {
            sl_buf_putc(out, 'N');
            p = num;
        } else if (num > p) {   /* digits starting a word: "5gram" */
            sl_buf_append(out, p, (size_t)(num - p));
            p = num;
        } else {
            sl_buf_putc(out, *p++);
        }
        prev = p[-1];
    }
    if (*p || out->len - start > CLASS_MAX) {
        /* Code and quoted names are copied whole, so the class can pass the
         * bound by one long piece: cut it back too, at a character boundary. */
        if (out->len - start > CLASS_MAX) out->len = start + CLASS_MAX;
        while (out->len > start && ((unsigned char)out->data[out->len - 1] & 0xC0) == 0x80) out->len--;
        if (out->len > start && (unsigned char)out->data[out->len - 1] >= 0xC0) out->len--;
        sl_buf_puts(out, "...");
    }
}
