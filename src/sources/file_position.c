/* file_position.c — per-file read positions that survive restarts (see
 * file_position.h). */
#include "file_position.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../codec/json.h"
#include "../codec/json_state.h"
#include "../core/util.h"

#define FINGERPRINT_SEED 0x736c75696365ull   /* "sluice" */

void sl_file_positions_clear(sl_file_positions *t)
{
    for (size_t i = 0; i < t->count; i++) free(t->items[i].path);
    t->count = 0;
}

void sl_file_positions_free(sl_file_positions *t)
{
    sl_file_positions_clear(t);
    free(t->items);
    t->items = NULL;
    t->cap = 0;
}

uint64_t sl_fingerprint_bytes(const void *head, size_t len)
{
    return sl_hash64(head, len, FINGERPRINT_SEED);
}

int sl_file_fingerprint(int fd, uint64_t *fingerprint, uint32_t *fp_len, sl_error *err)
{
    char head[SL_FINGERPRINT_BYTES];
    size_t got = 0;
    while (got < sizeof head) {
        ssize_t n = pread(fd, head + got, sizeof head - got, (off_t)got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return sl_errorf(err, "cannot read the first bytes: %s", strerror(errno));
        if (n == 0) break;
        got += (size_t)n;
    }
    *fingerprint = sl_fingerprint_bytes(head, got);
    *fp_len = (uint32_t)got;
    return 0;
}

bool sl_file_starts_with(int fd, uint64_t fingerprint, uint32_t fp_len)
{
    char head[SL_FINGERPRINT_BYTES];
    if (fp_len > sizeof head) return false;
    size_t got = 0;
    while (got < fp_len) {
        ssize_t n = pread(fd, head + got, fp_len - got, (off_t)got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        got += (size_t)n;
    }
    return sl_fingerprint_bytes(head, fp_len) == fingerprint;
}

sl_file_position *sl_file_positions_find(sl_file_positions *t, uint64_t dev, uint64_t ino)
{
    for (size_t i = 0; i < t->count; i++)
        if (t->items[i].dev == dev && t->items[i].ino == ino) return &t->items[i];
    return NULL;
}

sl_file_position *sl_file_positions_put(sl_file_positions *t, const char *path, const struct stat *st,
                                         uint64_t fingerprint, uint32_t fp_len, uint64_t offset)
{
    sl_file_position *e = sl_file_positions_find(t, (uint64_t)st->st_dev, (uint64_t)st->st_ino);
    if (!e) {
        if (t->count == t->cap) {
            t->cap = t->cap ? 2 * t->cap : 8;
            t->items = realloc(t->items, t->cap * sizeof *t->items);
            if (!t->items) abort();
        }
        e = &t->items[t->count++];
        e->path = NULL;
    }
    free(e->path);
    e->path = strdup(path);
    if (!e->path) abort();
    e->dev = (uint64_t)st->st_dev;
    e->ino = (uint64_t)st->st_ino;
    e->fingerprint = fingerprint;
    e->fp_len = fp_len;
    e->offset = offset;
    e->prefix_chain = e->prefix_len = 0;
    return e;
}

uint64_t sl_file_positions_resume(sl_file_positions *saved, int fd, const struct stat *st, const char **why)
{
    *why = NULL;
    sl_file_position *e = sl_file_positions_find(saved, (uint64_t)st->st_dev, (uint64_t)st->st_ino);
    if (!e) return 0;
    uint64_t fp = 0;
    uint32_t len = 0;
    sl_error err;
    if (sl_file_fingerprint(fd, &fp, &len, &err) < 0) return 0;   /* reading it will report the error */
    if (len < e->fp_len) {
        *why = "truncated";
        return 0;
    }
    /* When the file grew past the bytes fingerprinted then, as many are compared. */
    if (len > e->fp_len ? !sl_file_starts_with(fd, e->fingerprint, e->fp_len) : fp != e->fingerprint) {
        *why = "replaced";
        return 0;
    }
    /* Shorter than where reading stopped: truncated and written again with
     * the same first bytes. (Offsets of compressed files count
     * decompressed bytes, so only plain files can be checked.) */
    unsigned char magic[4] = {0};
    bool compressed = pread(fd, magic, sizeof magic, 0) >= 2 &&
                      ((magic[0] == 0x1f && magic[1] == 0x8b) ||
                       (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd));
    if (!compressed && (uint64_t)st->st_size < e->offset) {
        *why = "truncated";
        return 0;
    }
    return e->offset;
}

void sl_file_positions_save(const sl_file_positions *t, sl_buf *json)
{
    sl_buf_puts(json, "{\"files\":[");
    for (size_t i = 0; i < t->count; i++) {
        const sl_file_position *e = &t->items[i];
        sl_buf_puts(json, i ? ",{\"path\":" : "{\"path\":");
        sl_json_encode_string(json, e->path, strlen(e->path));
        sl_buf_printf(json, ",\"dev\":%llu,\"ino\":%llu,\"fp\":\"%016llx\",\"fp_len\":%u,\"offset\":%llu",
                      (unsigned long long)e->dev, (unsigned long long)e->ino,
                      (unsigned long long)e->fingerprint, e->fp_len, (unsigned long long)e->offset);
        if (e->prefix_len)
            sl_buf_printf(json, ",\"ph\":\"%016llx\",\"ph_len\":%llu", (unsigned long long)e->prefix_chain,
                          (unsigned long long)e->prefix_len);
        sl_buf_puts(json, "}");
    }
    sl_buf_puts(json, "]}");
}

/* A 64-bit number in hex, as save writes it. */
static bool parse_hex(const char *hex, uint64_t *out)
{
    if (!hex || *hex == '\0') return false;
    char *end = NULL;
    errno = 0;
    *out = strtoull(hex, &end, 16);
    return *end == '\0' && errno == 0;
}

int sl_file_positions_load(sl_file_positions *t, const char *json, size_t len, sl_error *err)
{
    sl_arena a;
    sl_arena_init(&a, 4096);
    sl_value doc;
    int rc = sl_state_parse(&a, json, len, "the saved file positions", &doc, err);
    const sl_value *files = rc == 0 ? sl_state_get(&doc, "files") : NULL;
    if (rc == 0 && (!files || files->type != SL_ARRAY))
        rc = sl_errorf(err, "the saved file positions have no \"files\" list");
    for (uint32_t i = 0; rc == 0 && i < files->len; i++) {
        const sl_value *f = &files->as.items[i];
        uint64_t dev, ino, fp_len, offset, fp, ph = 0, ph_len = 0;
        const char *path = sl_state_string(&a, f, "path");
        bool has_ph = sl_state_get(f, "ph") != NULL;
        if (!path || !parse_hex(sl_state_string(&a, f, "fp"), &fp) || !sl_state_uint(f, "dev", &dev) ||
            !sl_state_uint(f, "ino", &ino) || !sl_state_uint(f, "fp_len", &fp_len) ||
            fp_len > SL_FINGERPRINT_BYTES || !sl_state_uint(f, "offset", &offset) ||
            (has_ph && (!parse_hex(sl_state_string(&a, f, "ph"), &ph) || !sl_state_uint(f, "ph_len", &ph_len)))) {
            rc = sl_errorf(err, "saved file position %u is malformed", i + 1);
            break;
        }
        struct stat st = {.st_dev = (dev_t)dev, .st_ino = (ino_t)ino};
        sl_file_position *e = sl_file_positions_put(t, path, &st, fp, (uint32_t)fp_len, offset);
        e->prefix_chain = ph;
        e->prefix_len = ph_len;
    }
    sl_arena_free(&a);
    return rc;
}
