/* encoder.c — record encoding and part compression shared by the file and
 * stdout sinks (see encoder.h).
 */
#include "encoder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/json.h"

#define ZSTD_LEVEL 3

const char *const sl_sink_format_names[] = {"jsonl", "csv", NULL};

static void out_of_memory(const char *what) {
    fprintf(stderr, "sluice: out of memory (%s)\n", what);
    abort();
}

static char *xstrndup(const char *s, size_t n) {
    char *d = strndup(s, n);
    if (!d) out_of_memory("strndup");
    return d;
}

int sl_record_encoder_init(sl_record_encoder *e, const sl_opts *o, sl_diag *diag) {
    memset(e, 0, sizeof *e);
    pthread_mutex_init(&e->lock, NULL);
    size_t errors = diag->errors;
    e->csv = strcmp(sl_opts_enum(o, "format"), "csv") == 0;
    e->dialect.quote = '"';
    const char *delim = sl_opts_string(o, "csv.delimiter");
    if (!delim || strlen(delim) != 1 || delim[0] == '"' || delim[0] == '\n' || delim[0] == '\r')
        sl_diag_error(diag, sl_opts_pos(o, "csv.delimiter"),
                      "csv.delimiter must be exactly one character other than '\"' and a line break");
    else
        e->dialect.delimiter = delim[0];

    size_t n = sl_opts_list_len(o, "csv.columns");
    if (sl_opts_has(o, "csv.columns") && n == 0)
        sl_diag_error(diag, sl_opts_pos(o, "csv.columns"), "csv.columns must name at least one column");
    if (n > 0) {
        e->columns = calloc(n, sizeof *e->columns);
        if (!e->columns) out_of_memory("csv columns");
        for (size_t i = 0; i < n; i++) {
            const char *name = sl_opts_list_item(o, "csv.columns", i);
            e->columns[i] = xstrndup(name, strlen(name));
        }
        e->n_columns = n;
        atomic_store(&e->columns_ready, true);
    }
    if (!e->csv) {
        static const char *const csv_options[] = {"csv.columns", "csv.delimiter"};
        for (size_t i = 0; i < 2; i++)
            if (sl_opts_has(o, csv_options[i]))
                sl_diag_warning(diag, sl_opts_pos(o, csv_options[i]),
                                "%s has no effect unless format is csv", csv_options[i]);
    }
    return diag->errors == errors ? 0 : -1;
}

void sl_record_encoder_free(sl_record_encoder *e) {
    for (size_t i = 0; i < e->n_columns; i++) free(e->columns[i]);
    free(e->columns);
    pthread_mutex_destroy(&e->lock);
    memset(e, 0, sizeof *e);
}

/* Fixes the columns to the fields of `record` unless they are known. */
static void learn_columns(sl_record_encoder *e, const sl_value *record) {
    pthread_mutex_lock(&e->lock);
    if (!atomic_load(&e->columns_ready) && record->type == SL_MAP) {
        e->columns = calloc(record->len ? record->len : 1, sizeof *e->columns);
        if (!e->columns) out_of_memory("csv columns");
        for (uint32_t i = 0; i < record->len; i++)
            e->columns[i] = xstrndup(record->as.fields[i].key, record->as.fields[i].key_len);
        e->n_columns = record->len;
        atomic_store(&e->columns_ready, true);
    }
    pthread_mutex_unlock(&e->lock);
}

void sl_record_encoder_put(sl_record_encoder *e, sl_buf *out, const sl_record *r) {
    if (!e->csv) {
        sl_json_encode_record_line(out, r);
        return;
    }
    const sl_value *record = sl_record_value(r);
    if (!atomic_load_explicit(&e->columns_ready, memory_order_acquire)) learn_columns(e, record);
    sl_csv_encode_row(&e->dialect, out, record, (const char *const *)e->columns, e->n_columns);
}

void sl_record_encoder_put_all(sl_record_encoder *e, sl_buf *out, sl_record **recs, size_t n) {
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) bytes += recs[i]->raw_len + 1;
    sl_buf_reserve(out, bytes);
    for (size_t i = 0; i < n; i++) sl_record_encoder_put(e, out, recs[i]);
}

bool sl_record_encoder_header(sl_record_encoder *e, sl_buf *out) {
    if (!e->csv || !atomic_load_explicit(&e->columns_ready, memory_order_acquire)) return false;
    sl_csv_encode_header(&e->dialect, out, (const char *const *)e->columns, e->n_columns);
    return true;
}

/* ---- compression ---- */

void sl_compressor_init(sl_compressor *c, sl_compression kind) {
    memset(c, 0, sizeof *c);
    c->kind = kind;
    sl_buf_init(&c->scratch);
}

void sl_compressor_free(sl_compressor *c) {
    if (c->gzip_ready) deflateEnd(&c->gzip);
    ZSTD_freeCCtx(c->zstd);
    sl_buf_free(&c->scratch);
    memset(c, 0, sizeof *c);
}

/* In-memory compression with a large enough output buffer fails only when
 * memory runs out. */
static void compress_gzip(sl_compressor *c, const sl_buf *in) {
    if (!c->gzip_ready) {
        if (deflateInit2(&c->gzip, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            out_of_memory("gzip");
        c->gzip_ready = true;
    } else {
        deflateReset(&c->gzip);
    }
    sl_buf_reserve(&c->scratch, deflateBound(&c->gzip, in->len));
    c->gzip.next_in = (Bytef *)in->data;
    c->gzip.avail_in = (uInt)in->len;
    c->gzip.next_out = (Bytef *)c->scratch.data;
    c->gzip.avail_out = (uInt)c->scratch.cap;
    if (deflate(&c->gzip, Z_FINISH) != Z_STREAM_END) out_of_memory("gzip");
    c->scratch.len = c->scratch.cap - c->gzip.avail_out;
}

static void compress_zstd(sl_compressor *c, const sl_buf *in) {
    if (!c->zstd && !(c->zstd = ZSTD_createCCtx())) out_of_memory("zstd");
    sl_buf_reserve(&c->scratch, ZSTD_compressBound(in->len));
    size_t n = ZSTD_compressCCtx(c->zstd, c->scratch.data, c->scratch.cap, in->data, in->len, ZSTD_LEVEL);
    if (ZSTD_isError(n)) out_of_memory("zstd");
    c->scratch.len = n;
}

void sl_compress_buf(sl_compressor *c, sl_buf *buf) {
    if (c->kind == SL_COMPRESSION_NONE || buf->len == 0) {
        sl_buf_shrink(buf);   /* queued payloads are charged by capacity */
        return;
    }
    c->scratch.len = 0;
    if (c->kind == SL_COMPRESSION_GZIP)
        compress_gzip(c, buf);
    else
        compress_zstd(c, buf);
    /* A right-sized copy: queued payloads are charged by capacity. */
    sl_buf packed;
    sl_buf_init(&packed);
    sl_buf_append(&packed, c->scratch.data, c->scratch.len);
    sl_buf_free(buf);
    *buf = packed;
}
