/* format.c — the input format dispatcher: frames and decodes jsonl, csv and
 * text input for the sources and workers.
 *
 * jsonl and text frames end at '\n' and are found with memchr; csv framing is
 * quote-aware (csv.c). A frame is decoded without its line break ("\n" or
 * "\r\n"). Blank jsonl lines and blank csv rows are skipped (decode returns
 * 1); a blank text line is a record with an empty message. A jsonl frame
 * nothing will read can be checked instead, with the same result, and
 * decoded later (sl_format_check).
 *
 * The per-stream context is the CSV column set (from the header row, or from
 * the configured columns); formats without one, and CSV without any column
 * names (columns c1, c2, ...), get a static dummy that is never freed.
 */
#include "format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/util.h"
#include "json.h"

/* The stream context of formats that have none. */
static const char no_stream;

bool sl_format_kind_parse(const char *s, sl_format_kind *out)
{
    if (strcmp(s, "jsonl") == 0 || strcmp(s, "json") == 0 || strcmp(s, "ndjson") == 0)
        *out = SL_FORMAT_JSONL;
    else if (strcmp(s, "csv") == 0)
        *out = SL_FORMAT_CSV;
    else if (strcmp(s, "text") == 0)
        *out = SL_FORMAT_TEXT;
    else
        return false;
    return true;
}

void sl_format_init(sl_format *f, sl_format_kind kind)
{
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->max_record_bytes = 1024 * 1024;
    f->max_depth = SL_JSON_DEFAULT_MAX_DEPTH;
    f->csv.delimiter = ',';
    f->csv.quote = '"';
    f->csv_header = true;
}

void sl_format_free(sl_format *f)
{
    for (size_t i = 0; i < f->csv_column_count; i++)
        free(f->csv_columns[i].name);
    free(f->csv_columns);
    f->csv_columns = NULL;
    f->csv_column_count = 0;
}

size_t sl_format_frame(const sl_format *f, const char *p, size_t len, bool eof)
{
    if (f->kind == SL_FORMAT_CSV)
        return sl_csv_frame(&f->csv, p, len, eof);
    const char *nl = memchr(p, '\n', len);
    if (nl)
        return (size_t)(nl - p) + 1;
    return eof ? len : 0;
}

bool sl_format_has_header(const sl_format *f)
{
    return f->kind == SL_FORMAT_CSV && f->csv_header;
}

void *sl_format_stream_new(const sl_format *f, const char *header, size_t len, sl_decode_error *err)
{
    if (f->kind != SL_FORMAT_CSV)
        return (void *)&no_stream;
    if (header)
        return sl_csv_header_parse(&f->csv, header, len, f->csv_columns, f->csv_column_count, err);
    if (f->csv_column_count > 0)
        return sl_csv_header_from_columns(f->csv_columns, f->csv_column_count);
    return (void *)&no_stream;
}

void sl_format_stream_free(const sl_format *f, void *stream)
{
    if (stream && stream != &no_stream && f->kind == SL_FORMAT_CSV)
        sl_csv_header_free(stream);
}

/* Length of a line without its "\n" or "\r\n". */
static size_t line_length(const char *p, size_t len)
{
    if (len > 0 && p[len - 1] == '\n') {
        len--;
        if (len > 0 && p[len - 1] == '\r')
            len--;
    }
    return len;
}

static bool all_whitespace(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
            return false;
    return true;
}

int sl_format_decode(const sl_format *f, const void *stream, sl_arena *a,
                     const char *p, size_t len, sl_value *out, sl_decode_error *err)
{
    len = line_length(p, len);
    if (f->kind == SL_FORMAT_JSONL) {
        if (all_whitespace(p, len))
            return 1;
        return sl_json_decode(a, p, len, f->max_depth, true, out, err);
    }
    if (f->kind == SL_FORMAT_CSV) {
        if (len == 0)
            return 1;
        return sl_csv_decode(&f->csv, stream == &no_stream ? NULL : stream, a, p, len, out, err);
    }
    if (!sl_utf8_valid(p, len)) {
        err->reason = "text_utf8";
        err->offset = 0;
        snprintf(err->msg, sizeof err->msg, "line is not valid UTF-8");
        return -1;
    }
    *out = sl_map_new(a, 1);
    sl_map_append(a, out, "message", 7, sl_string(p, len));
    return 0;
}

bool sl_format_checks(const sl_format *f)
{
    return f->kind == SL_FORMAT_JSONL;
}

int sl_format_check(const sl_format *f, const char *p, size_t len, uint8_t *flags,
                    sl_decode_error *err)
{
    len = line_length(p, len);
    if (all_whitespace(p, len))
        return 1;
    return sl_json_check(p, len, f->max_depth, true, flags, err);
}
