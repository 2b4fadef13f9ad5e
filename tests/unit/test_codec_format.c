/* test_codec_format.c — the format dispatcher (codec/format.h): jsonl, csv
 * and text framing and decoding, blank lines, CRLF, per-stream CSV headers.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "codec/format.h"

/* Decodes text as one frame. The frame is copied into the arena (records
 * point into their frame, so it must live as long as they do), followed by
 * the SL_BUF_PADDING bytes that simdjson may read. */
static int decode(const sl_format *f, const void *stream, sl_arena *a, const char *text,
                  sl_value *out, sl_decode_error *err)
{
    size_t len = strlen(text);
    char *p = sl_arena_alloc(a, len + SL_BUF_PADDING);
    memcpy(p, text, len);
    memset(p + len, 0, SL_BUF_PADDING);
    return sl_format_decode(f, stream, a, p, len, out, err);
}

static void check_string_field(const sl_value *rec, const char *key, const char *want)
{
    const sl_value *v = sl_map_get(rec, key, strlen(key));
    CHECK(v != NULL && v->type == SL_STRING);
    if (v && v->type == SL_STRING)
        CHECK_MEM(v->as.s, v->len, want);
}

static void test_kind_parse_and_defaults(void)
{
    sl_format_kind k;
    CHECK(sl_format_kind_parse("jsonl", &k) && k == SL_FORMAT_JSONL);
    CHECK(sl_format_kind_parse("json", &k) && k == SL_FORMAT_JSONL);
    CHECK(sl_format_kind_parse("ndjson", &k) && k == SL_FORMAT_JSONL);
    CHECK(sl_format_kind_parse("csv", &k) && k == SL_FORMAT_CSV);
    CHECK(sl_format_kind_parse("text", &k) && k == SL_FORMAT_TEXT);
    CHECK(!sl_format_kind_parse("xml", &k));
    CHECK(!sl_format_kind_parse("JSONL", &k));

    sl_format f;
    sl_format_init(&f, SL_FORMAT_CSV);
    CHECK_INT(f.kind, SL_FORMAT_CSV);
    CHECK_INT(f.max_record_bytes, 1024 * 1024);
    CHECK_INT(f.max_depth, 64);
    CHECK_INT(f.csv.delimiter, ',');
    CHECK_INT(f.csv.quote, '"');
    CHECK(f.csv_header);
    CHECK(sl_format_has_header(&f));
    sl_format_free(&f);
    sl_format_init(&f, SL_FORMAT_JSONL);
    CHECK(!sl_format_has_header(&f));
    sl_format_free(&f);
}

static void test_line_framing(void)
{
    static const sl_format_kind kinds[] = { SL_FORMAT_JSONL, SL_FORMAT_TEXT };
    sl_format f;
    for (size_t k = 0; k < 2; k++) {
        sl_format_init(&f, kinds[k]);
        const char *in = "{\"a\":1}\r\n\n{\"b\":2}";
        size_t len = strlen(in);
        CHECK_INT(sl_format_frame(&f, in, len, false), 9);
        CHECK_INT(sl_format_frame(&f, in + 9, len - 9, false), 1);
        CHECK_INT(sl_format_frame(&f, in + 10, len - 10, false), 0);
        CHECK_INT(sl_format_frame(&f, in + 10, len - 10, true), 7);
        CHECK_INT(sl_format_frame(&f, in, 0, true), 0);
        /* A quote does not matter to line formats. */
        CHECK_INT(sl_format_frame(&f, "\"a\nb\"\n", 6, false), 3);
        sl_format_free(&f);
    }
}

/* Whatever the input, a frame is never empty at eof while input remains. */
static void test_frame_progress_at_eof(void)
{
    static const char *const inputs[] = { "x", "\"open", "a,\"b\nc", "\r", "\"\"\"", "a\"" };
    for (int kind = SL_FORMAT_JSONL; kind <= SL_FORMAT_TEXT; kind++) {
        sl_format f;
        sl_format_init(&f, (sl_format_kind)kind);
        for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
            size_t len = strlen(inputs[i]);
            size_t pos = 0;
            while (pos < len) {
                size_t n = sl_format_frame(&f, inputs[i] + pos, len - pos, true);
                CHECK(n > 0 && n <= len - pos);
                if (n == 0)
                    break;
                pos += n;
            }
        }
        sl_format_free(&f);
    }
}

static void test_jsonl_decode(void)
{
    sl_format f;
    sl_format_init(&f, SL_FORMAT_JSONL);
    void *stream = sl_format_stream_new(&f, NULL, 0, NULL);
    CHECK(stream != NULL);
    sl_arena a;
    sl_arena_init(&a, 4096);
    sl_value v;
    sl_decode_error err;

    CHECK_INT(decode(&f, stream, &a, "{\"a\":\"x\",\"n\":1}\r\n", &v, &err), 0);
    CHECK_INT(v.type, SL_MAP);
    CHECK_INT(v.len, 2);
    check_string_field(&v, "a", "x");
    CHECK_INT(sl_map_get(&v, "n", 1)->as.i, 1);

    CHECK_INT(decode(&f, stream, &a, "{\"a\":1}", &v, &err), 0);
    CHECK_INT(decode(&f, stream, &a, "\n", &v, &err), 1);
    CHECK_INT(decode(&f, stream, &a, "\r\n", &v, &err), 1);
    CHECK_INT(decode(&f, stream, &a, " \t \r\n", &v, &err), 1);
    CHECK_INT(decode(&f, stream, &a, "", &v, &err), 1);

    CHECK_INT(decode(&f, stream, &a, "[1,2]\n", &v, &err), -1);
    CHECK_STR(err.reason, "json_not_object");
    CHECK_INT(decode(&f, stream, &a, "{\"a\":\n", &v, &err), -1);
    CHECK_STR(err.reason, "json_syntax");

    f.max_depth = 2;
    CHECK_INT(decode(&f, stream, &a, "{\"a\":{\"b\":1}}\n", &v, &err), 0);
    CHECK_INT(decode(&f, stream, &a, "{\"a\":{\"b\":{\"c\":1}}}\n", &v, &err), -1);
    CHECK_STR(err.reason, "json_depth");

    sl_format_stream_free(&f, stream);
    sl_arena_free(&a);
    sl_format_free(&f);
}

static void test_text_decode(void)
{
    sl_format f;
    sl_format_init(&f, SL_FORMAT_TEXT);
    void *stream = sl_format_stream_new(&f, NULL, 0, NULL);
    sl_arena a;
    sl_arena_init(&a, 4096);
    sl_value v;
    sl_decode_error err;

    CHECK_INT(decode(&f, stream, &a, "hello, world\r\n", &v, &err), 0);
    CHECK_INT(v.type, SL_MAP);
    CHECK_INT(v.len, 1);
    check_string_field(&v, "message", "hello, world");
    CHECK_INT(decode(&f, stream, &a, "no newline", &v, &err), 0);
    check_string_field(&v, "message", "no newline");
    CHECK_INT(decode(&f, stream, &a, "\n", &v, &err), 0);
    check_string_field(&v, "message", "");
    CHECK_INT(decode(&f, stream, &a, "  {\"not\": \"json\"}\n", &v, &err), 0);
    check_string_field(&v, "message", "  {\"not\": \"json\"}");

    CHECK_INT(decode(&f, stream, &a, "bad \xff byte\n", &v, &err), -1);
    CHECK_STR(err.reason, "text_utf8");
    CHECK_STR(err.msg, "line is not valid UTF-8");

    sl_format_stream_free(&f, stream);
    sl_arena_free(&a);
    sl_format_free(&f);
}

static void test_csv_with_header(void)
{
    sl_format f;
    sl_format_init(&f, SL_FORMAT_CSV);
    f.csv_columns = calloc(1, sizeof *f.csv_columns);
    f.csv_columns[0].name = strdup("n");
    f.csv_columns[0].type = SL_CSV_INT;
    f.csv_column_count = 1;

    const char *input = "name,n\r\n\"a\nb\",1\r\n\r\nc,\n";
    size_t len = strlen(input);
    size_t hl = sl_format_frame(&f, input, len, false);
    CHECK_INT(hl, 8);
    sl_decode_error err;
    void *stream = sl_format_stream_new(&f, input, hl, &err);
    CHECK(stream != NULL);
    if (!stream) {
        sl_format_free(&f);
        return;
    }

    sl_arena a;
    sl_arena_init(&a, 4096);
    sl_value v;
    size_t pos = hl;
    size_t n = sl_format_frame(&f, input + pos, len - pos, false);
    CHECK_INT(n, 9);
    char frame[64] = "";
    memcpy(frame, input + pos, n);
    CHECK_INT(decode(&f, stream, &a, frame, &v, &err), 0);
    check_string_field(&v, "name", "a\nb");
    CHECK_INT(sl_map_get(&v, "n", 1)->type, SL_INT);
    CHECK_INT(sl_map_get(&v, "n", 1)->as.i, 1);
    pos += n;

    n = sl_format_frame(&f, input + pos, len - pos, false);
    CHECK_INT(n, 2);
    CHECK_INT(decode(&f, stream, &a, "\r\n", &v, &err), 1);   /* blank row: skipped */
    pos += n;

    n = sl_format_frame(&f, input + pos, len - pos, false);
    CHECK_INT(n, 3);
    CHECK_INT(decode(&f, stream, &a, "c,\n", &v, &err), 0);
    CHECK_INT(sl_map_get(&v, "n", 1)->type, SL_NULL);
    pos += n;
    CHECK_INT(pos, len);

    CHECK_INT(decode(&f, stream, &a, "x,y\n", &v, &err), -1);
    CHECK_STR(err.reason, "csv_type");
    CHECK_STR(err.msg, "column \"n\": cannot parse \"y\" as int");
    CHECK_INT(decode(&f, stream, &a, "x\n", &v, &err), -1);
    CHECK_STR(err.reason, "csv_columns");

    sl_format_stream_free(&f, stream);

    /* A header row that the configured columns do not match. */
    CHECK(sl_format_stream_new(&f, "a,b\n", 4, &err) == NULL);
    CHECK_STR(err.reason, "csv_columns");

    sl_arena_free(&a);
    sl_format_free(&f);
    CHECK(f.csv_columns == NULL);
}

static void test_csv_without_header(void)
{
    sl_format f;
    sl_format_init(&f, SL_FORMAT_CSV);
    f.csv_header = false;
    f.csv.delimiter = ';';
    CHECK(!sl_format_has_header(&f));
    sl_arena a;
    sl_arena_init(&a, 4096);
    sl_value v;
    sl_decode_error err;

    /* No header and no columns: c1, c2, ... */
    void *stream = sl_format_stream_new(&f, NULL, 0, &err);
    CHECK(stream != NULL);
    CHECK_INT(decode(&f, stream, &a, "x;y;z\n", &v, &err), 0);
    CHECK_INT(v.len, 3);
    check_string_field(&v, "c1", "x");
    check_string_field(&v, "c3", "z");
    sl_format_stream_free(&f, stream);

    /* Configured columns name (and type) the cells. */
    f.csv_columns = calloc(2, sizeof *f.csv_columns);
    f.csv_columns[0].name = strdup("ok");
    f.csv_columns[0].type = SL_CSV_BOOL;
    f.csv_columns[1].name = strdup("word");
    f.csv_column_count = 2;
    stream = sl_format_stream_new(&f, NULL, 0, &err);
    CHECK(stream != NULL);
    CHECK_INT(decode(&f, stream, &a, "yes;hi\n", &v, &err), 0);
    CHECK(sl_map_get(&v, "ok", 2)->type == SL_BOOL && sl_map_get(&v, "ok", 2)->as.b);
    check_string_field(&v, "word", "hi");
    CHECK_INT(decode(&f, stream, &a, "yes;hi;extra\n", &v, &err), -1);
    CHECK_STR(err.msg, "row has 3 cells but the header has 2 columns");
    sl_format_stream_free(&f, stream);

    sl_arena_free(&a);
    sl_format_free(&f);
}

int main(void)
{
    RUN(test_kind_parse_and_defaults);
    RUN(test_line_framing);
    RUN(test_frame_progress_at_eof);
    RUN(test_jsonl_decode);
    RUN(test_text_decode);
    RUN(test_csv_with_header);
    RUN(test_csv_without_header);
    return check_report();
}
