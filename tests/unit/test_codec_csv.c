/* test_codec_csv.c — CSV framing, header parsing, typed decoding, errors and
 * encoding (codec/csv.h), checked against tables of RFC 4180 cases and by an
 * encode -> frame -> decode round trip.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "codec/csv.h"

static const sl_csv_dialect comma = { ',', '"' };

/* ---- framing ---- */

static void test_frame_table(void)
{
    static const struct {
        const char *in;
        bool eof;
        size_t want;
    } cases[] = {
        { "a,b\nc", false, 4 },
        { "a,b\r\nc", false, 5 },
        { "c", false, 0 },
        { "c", true, 1 },
        { "", true, 0 },
        { "\n", false, 1 },
        { "\"a\nb\",c\nx", false, 8 },          /* newline inside quotes */
        { "\"a\r\nb\"\r\nx", false, 8 },
        { "\"a\"\"\nb\"\nx", false, 8 },        /* doubled quote stays inside */
        { "x,\"y\nz\"\n", false, 8 },           /* quote after a delimiter opens */
        { "5'10\",x\nnext", false, 8 },         /* stray quote is text */
        { "a\"b\nc\"\n", false, 4 },
        { "\"abc", false, 0 },                  /* unterminated: need more */
        { "\"abc", true, 4 },                   /* ... or the whole rest at eof */
        { "\"abc\"", false, 0 },                /* "" or end? cannot tell yet */
        { "\"abc\"", true, 5 },
        { "\"abc\"\n", false, 6 },
        { "\"a\"\"", false, 0 },
        { "\"\"\n", false, 3 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t got = sl_csv_frame(&comma, cases[i].in, strlen(cases[i].in), cases[i].eof);
        if (got != cases[i].want)
            fprintf(stderr, "  frame case %zu\n", i);
        CHECK_INT(got, cases[i].want);
    }
}

static void test_frame_dialect(void)
{
    const sl_csv_dialect semi = { ';', '\'' };
    const char *in = "a;'x\ny';b\nz";
    CHECK_INT(sl_csv_frame(&semi, in, strlen(in), false), 10);
}

/* ---- decoding without a header ---- */

/* Checks that row has exactly the cells c1..cn with the given texts. */
static void check_cells(const sl_value *row, const char *const *want, size_t n)
{
    CHECK_INT(row->type, SL_MAP);
    CHECK_INT(row->len, n);
    for (size_t i = 0; i < n && i < row->len; i++) {
        char key[16];
        snprintf(key, sizeof key, "c%zu", i + 1);
        CHECK_MEM(row->as.fields[i].key, row->as.fields[i].key_len, key);
        CHECK_INT(row->as.fields[i].value.type, SL_STRING);
        CHECK_MEM(row->as.fields[i].value.as.s, row->as.fields[i].value.len, want[i]);
    }
}

static void test_decode_table(void)
{
    static const struct {
        const char *in;
        size_t n;
        const char *cells[4];
    } cases[] = {
        { "a,b,c", 3, { "a", "b", "c" } },
        { "a,b,c\n", 3, { "a", "b", "c" } },
        { "a,b,c\r\n", 3, { "a", "b", "c" } },
        { "\"a,b\",c", 2, { "a,b", "c" } },
        { "\"a\"\"b\"", 1, { "a\"b" } },
        { "\"\"\"\"", 1, { "\"" } },
        { "\"line1\nline2\",x\n", 2, { "line1\nline2", "x" } },
        { "\"x\r\ny\"\r\n", 1, { "x\r\ny" } },
        { ",,", 3, { "", "", "" } },
        { "", 1, { "" } },
        { "a,\"\",b", 3, { "a", "", "b" } },
        { "5'10\",x", 2, { "5'10\"", "x" } },
        { " a , b ", 2, { " a ", " b " } },
        { "a\rb", 1, { "a\rb" } },
        { "\"\"", 1, { "" } },
    };
    sl_arena a;
    sl_arena_init(&a, 4096);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_value row;
        sl_decode_error err;
        int rc = sl_csv_decode(&comma, NULL, &a, cases[i].in, strlen(cases[i].in), &row, &err);
        if (rc != 0)
            fprintf(stderr, "  decode case %zu: %s\n", i, err.msg);
        CHECK_INT(rc, 0);
        if (rc == 0)
            check_cells(&row, cases[i].cells, cases[i].n);
    }
    sl_arena_free(&a);
}

static void test_decode_zero_copy(void)
{
    sl_arena a;
    sl_arena_init(&a, 4096);
    const char *in = "plain,\"quoted\",\"dou\"\"bled\"\n";
    sl_value row;
    sl_decode_error err;
    CHECK_INT(sl_csv_decode(&comma, NULL, &a, in, strlen(in), &row, &err), 0);
    CHECK(row.as.fields[0].value.as.s == in);
    CHECK(row.as.fields[1].value.as.s == in + 7);
    const char *copy = row.as.fields[2].value.as.s;
    CHECK(copy < in || copy >= in + strlen(in));
    CHECK_MEM(copy, row.as.fields[2].value.len, "dou\"bled");
    sl_arena_free(&a);
}

static void test_many_columns(void)
{
    sl_arena a;
    sl_arena_init(&a, 4096);
    char in[2000] = "";
    for (int i = 0; i < 300; i++)
        strcat(in, i ? ",x" : "x");
    sl_value row;
    sl_decode_error err;
    CHECK_INT(sl_csv_decode(&comma, NULL, &a, in, strlen(in), &row, &err), 0);
    CHECK_INT(row.len, 300);
    CHECK_MEM(row.as.fields[255].key, row.as.fields[255].key_len, "c256");
    CHECK_MEM(row.as.fields[299].key, row.as.fields[299].key_len, "c300");
    sl_arena_free(&a);
}

/* Decodes in with header h (may be NULL), expecting an error. */
static void check_error(const sl_csv_header *h, const char *in, const char *reason,
                        const char *msg, size_t offset)
{
    sl_arena a;
    sl_arena_init(&a, 4096);
    sl_value row;
    sl_decode_error err;
    CHECK_INT(sl_csv_decode(&comma, h, &a, in, strlen(in), &row, &err), -1);
    CHECK_STR(err.reason, reason);
    CHECK_STR(err.msg, msg);
    CHECK_INT(err.offset, offset);
    sl_arena_free(&a);
}

static void test_syntax_errors(void)
{
    check_error(NULL, "\"abc", "csv_syntax", "column \"c1\": unterminated quoted field", 0);
    check_error(NULL, "x,\"abc\n", "csv_syntax", "column \"c2\": unterminated quoted field", 2);
    check_error(NULL, "\"a\"b,c", "csv_syntax",
                "column \"c1\": unexpected 'b' after the closing quote (a quote inside a "
                "quoted field must be doubled)", 3);
    check_error(NULL, "\"a\" ,c", "csv_syntax",
                "column \"c1\": unexpected byte 0x20 after the closing quote (a quote inside a "
                "quoted field must be doubled)", 3);
    check_error(NULL, "ok,\xff\xfe", "csv_utf8", "column \"c2\": invalid UTF-8", 3);
    check_error(NULL, "ok,\"a\"\"b\xe2\x82\"", "csv_utf8", "column \"c2\": invalid UTF-8", 3);
    check_error(NULL, "\"a\"b,\xff", "csv_utf8", "row is not valid UTF-8", 0);
}

/* ---- headers and typed columns ---- */

static void test_header_parse(void)
{
    sl_decode_error err;
    const char *row = "\xEF\xBB\xBFid,\"full name\",id,,score\r\n";
    sl_csv_header *h = sl_csv_header_parse(&comma, row, strlen(row), NULL, 0, &err);
    CHECK(h != NULL);
    if (!h)
        return;
    CHECK_INT(h->count, 5);
    CHECK_STR(h->columns[0].name, "id");
    CHECK_STR(h->columns[1].name, "full name");
    CHECK_STR(h->columns[2].name, "id_2");
    CHECK_STR(h->columns[3].name, "c4");
    CHECK_STR(h->columns[4].name, "score");
    CHECK_INT(h->columns[4].type, SL_CSV_STRING);
    sl_csv_header_free(h);

    row = "a,\"b\n";
    CHECK(sl_csv_header_parse(&comma, row, strlen(row), NULL, 0, &err) == NULL);
    CHECK_STR(err.reason, "csv_syntax");
    CHECK_STR(err.msg, "header row, column 2: unterminated quoted field");

    sl_csv_column missing[] = { { "b", SL_CSV_INT }, { "nope", SL_CSV_INT } };
    row = "a,b\n";
    CHECK(sl_csv_header_parse(&comma, row, strlen(row), missing, 2, &err) == NULL);
    CHECK_STR(err.reason, "csv_columns");
    CHECK_STR(err.msg, "configured column \"nope\" is not in the header row (a,b)");
}

static sl_csv_header *typed_header(void)
{
    sl_csv_column cols[] = {
        { "id", SL_CSV_INT }, { "score", SL_CSV_FLOAT }, { "ok", SL_CSV_BOOL },
        { "ts", SL_CSV_TIMESTAMP },
    };
    sl_decode_error err;
    const char *row = "id,name,score,ok,ts\n";
    sl_csv_header *h = sl_csv_header_parse(&comma, row, strlen(row), cols, 4, &err);
    if (!h)
        fprintf(stderr, "typed header: %s\n", err.msg);
    return h;
}

static void test_typed_decode(void)
{
    sl_csv_header *h = typed_header();
    CHECK(h != NULL);
    if (!h)
        return;
    sl_arena a;
    sl_arena_init(&a, 4096);
    sl_value row;
    sl_decode_error err;

    const char *in = "42,\"alice, a.\",2.50,TRUE,2026-11-24T01:02:03Z\n";
    CHECK_INT(sl_csv_decode(&comma, h, &a, in, strlen(in), &row, &err), 0);
    CHECK_INT(row.len, 5);
    sl_value *v = sl_map_get(&row, "id", 2);
    CHECK(v && v->type == SL_INT && v->as.i == 42);
    CHECK(v && v->x.raw && v->raw_len == 2 && memcmp(v->x.raw, "42", 2) == 0);
    v = sl_map_get(&row, "name", 4);
    CHECK(v && v->type == SL_STRING);
    CHECK_MEM(v->as.s, v->len, "alice, a.");
    v = sl_map_get(&row, "score", 5);
    CHECK(v && v->type == SL_DOUBLE && v->as.d == 2.5);
    CHECK(v && v->x.raw && v->raw_len == 4 && memcmp(v->x.raw, "2.50", 4) == 0);
    v = sl_map_get(&row, "ok", 2);
    CHECK(v && v->type == SL_BOOL && v->as.b);
    v = sl_map_get(&row, "ts", 2);
    CHECK(v && v->type == SL_TIMESTAMP && v->as.i == 1795482123000000000LL);

    /* Empty unquoted typed cells are null; an empty string cell stays "". */
    in = ",,,,\n";
    CHECK_INT(sl_csv_decode(&comma, h, &a, in, strlen(in), &row, &err), 0);
    CHECK_INT(row.as.fields[0].value.type, SL_NULL);
    CHECK_INT(row.as.fields[1].value.type, SL_STRING);
    CHECK_INT(row.as.fields[1].value.len, 0);
    CHECK_INT(row.as.fields[2].value.type, SL_NULL);
    CHECK_INT(row.as.fields[3].value.type, SL_NULL);
    CHECK_INT(row.as.fields[4].value.type, SL_NULL);

    /* Spaces around typed cells, non-JSON number text, big and negative ints. */
    in = " 7 ,x, -1e3 ,no,2026-11-24 01:02:03.5+01:00\n";
    CHECK_INT(sl_csv_decode(&comma, h, &a, in, strlen(in), &row, &err), 0);
    v = &row.as.fields[0].value;
    CHECK(v->type == SL_INT && v->as.i == 7 && v->raw_len == 1 && v->x.raw[0] == '7');
    v = &row.as.fields[2].value;
    CHECK(v->type == SL_DOUBLE && v->as.d == -1000.0 && v->raw_len == 4);
    CHECK(!row.as.fields[3].value.as.b && row.as.fields[3].value.type == SL_BOOL);
    CHECK_INT(row.as.fields[4].value.as.i, 1795478523500000000LL);

    in = "+7,x,.5,0,\n";
    CHECK_INT(sl_csv_decode(&comma, h, &a, in, strlen(in), &row, &err), 0);
    CHECK(row.as.fields[0].value.as.i == 7 && row.as.fields[0].value.x.raw == NULL);
    CHECK(row.as.fields[2].value.as.d == 0.5 && row.as.fields[2].value.x.raw == NULL);

    in = "18446744073709551615,x,1e-400,1,\n";
    CHECK_INT(sl_csv_decode(&comma, h, &a, in, strlen(in), &row, &err), 0);
    CHECK(row.as.fields[0].value.type == SL_UINT && row.as.fields[0].value.as.u == UINT64_MAX);
    CHECK(row.as.fields[2].value.type == SL_DOUBLE && row.as.fields[2].value.as.d == 0.0);

    in = "-9223372036854775808,x,1,1,\n";
    CHECK_INT(sl_csv_decode(&comma, h, &a, in, strlen(in), &row, &err), 0);
    CHECK(row.as.fields[0].value.type == SL_INT && row.as.fields[0].value.as.i == INT64_MIN);

    sl_arena_free(&a);
    sl_csv_header_free(h);
}

static void test_typed_errors(void)
{
    sl_csv_header *h = typed_header();
    CHECK(h != NULL);
    if (!h)
        return;
    check_error(h, "abc,x,1,true,\n", "csv_type", "column \"id\": cannot parse \"abc\" as int", 0);
    check_error(h, "\"\",x,1,true,\n", "csv_type", "column \"id\": cannot parse \"\" as int", 0);
    check_error(h, "99999999999999999999,x,1,true,\n", "csv_type",
                "column \"id\": \"99999999999999999999\" is out of range for int", 0);
    check_error(h, "-9223372036854775809,x,1,true,\n", "csv_type",
                "column \"id\": \"-9223372036854775809\" is out of range for int", 0);
    check_error(h, "1,x,nan,true,\n", "csv_type", "column \"score\": cannot parse \"nan\" as float", 4);
    check_error(h, "1,x,1e999,true,\n", "csv_type",
                "column \"score\": \"1e999\" is out of range for float", 4);
    check_error(h, "1,x,1.5e,true,\n", "csv_type", "column \"score\": cannot parse \"1.5e\" as float", 4);
    check_error(h, "1,x,2,maybe,\n", "csv_type", "column \"ok\": cannot parse \"maybe\" as bool", 6);
    check_error(h, "1,x,2,true,yesterday\n", "csv_type",
                "column \"ts\": cannot parse \"yesterday\" as timestamp", 11);
    check_error(h, "1,x,2,true,\"a\nb\"\n", "csv_type",
                "column \"ts\": cannot parse \"a\\x0ab\" as timestamp", 11);
    check_error(h, "1,x\n", "csv_columns", "row has 2 cells but the header has 5 columns", 0);
    check_error(h, "1,x,2,true,,\"a,b\",c\n", "csv_columns",
                "row has 7 cells but the header has 5 columns", 0);
    check_error(h, "1,\"x\"y,2,true,\n", "csv_syntax",
                "column \"name\": unexpected 'y' after the closing quote (a quote inside a "
                "quoted field must be doubled)", 5);
    check_error(h, "1,\xc3\x28,2,true,\n", "csv_utf8", "column \"name\": invalid UTF-8", 2);

    /* Long offending text is cut to 60 bytes in the message. */
    char long_cell[200], want[200];
    memset(long_cell, 'z', 150);
    strcpy(long_cell + 150, ",x,1,true,\n");
    snprintf(want, sizeof want, "column \"id\": cannot parse \"%.60s...\" as int", long_cell);
    check_error(h, long_cell, "csv_type", want, 0);
    sl_csv_header_free(h);
}

static void test_header_from_columns(void)
{
    sl_csv_column cols[] = { { "n", SL_CSV_INT }, { "s", SL_CSV_STRING } };
    sl_csv_header *h = sl_csv_header_from_columns(cols, 2);
    CHECK_INT(h->count, 2);
    CHECK(h->columns[0].name != cols[0].name);
    CHECK_STR(h->columns[0].name, "n");
    CHECK_INT(h->columns[0].type, SL_CSV_INT);
    sl_arena a;
    sl_arena_init(&a, 1024);
    sl_value row;
    sl_decode_error err;
    CHECK_INT(sl_csv_decode(&comma, h, &a, "5,five", 6, &row, &err), 0);
    CHECK_INT(sl_map_get(&row, "n", 1)->as.i, 5);
    sl_arena_free(&a);
    sl_csv_header_free(h);
}

/* ---- encoding ---- */

static void test_encode_header(void)
{
    sl_buf out;
    sl_buf_init(&out);
    const char *names[] = { "a", "b c", "x,y", "say \"hi\"", " pad" };
    sl_csv_encode_header(&comma, &out, names, 5);
    CHECK_MEM(out.data, out.len, "a,b c,\"x,y\",\"say \"\"hi\"\"\",\" pad\"\n");
    out.len = 0;
    const char *empty[] = { "" };
    sl_csv_encode_header(&comma, &out, empty, 1);
    CHECK_MEM(out.data, out.len, "\"\"\n");
    sl_buf_free(&out);
}

static void test_encode_row(void)
{
    sl_arena a;
    sl_arena_init(&a, 4096);
    sl_value rec = sl_map_new(&a, 16);
    sl_map_append(&a, &rec, "plain", 5, sl_cstring("hello world"));
    sl_map_append(&a, &rec, "comma", 5, sl_cstring("a,b"));
    sl_map_append(&a, &rec, "quote", 5, sl_cstring("say \"hi\""));
    sl_map_append(&a, &rec, "nl", 2, sl_cstring("1\n2"));
    sl_map_append(&a, &rec, "cr", 2, sl_cstring("1\r2"));
    sl_map_append(&a, &rec, "lead", 4, sl_cstring(" x"));
    sl_map_append(&a, &rec, "trail", 5, sl_cstring("x "));
    sl_map_append(&a, &rec, "null", 4, sl_null());
    sl_map_append(&a, &rec, "bool", 4, sl_bool(false));
    sl_value raw_num = sl_double(1.5);
    raw_num.x.raw = "1.50";
    raw_num.raw_len = 4;
    sl_map_append(&a, &rec, "raw", 3, raw_num);
    sl_map_append(&a, &rec, "int", 3, sl_int(-12));
    sl_map_append(&a, &rec, "uint", 4, sl_uint(UINT64_MAX));
    sl_map_append(&a, &rec, "dbl", 3, sl_double(61.17));
    sl_map_append(&a, &rec, "ts", 2, sl_timestamp(1795482123500000000LL));
    sl_value nested = sl_map_new(&a, 2);
    sl_map_append(&a, &nested, "k", 1, sl_int(1));
    sl_value arr = sl_array_new(&a, 2);
    sl_array_push(&a, &arr, sl_cstring("v"));
    sl_array_push(&a, &arr, sl_int(2));
    sl_map_append(&a, &nested, "list", 4, arr);
    sl_map_append(&a, &rec, "map", 3, nested);

    const char *names[] = { "plain", "comma", "quote", "nl", "cr", "lead", "trail", "null",
                            "absent", "bool", "raw", "int", "uint", "dbl", "ts", "map" };
    sl_buf out;
    sl_buf_init(&out);
    sl_csv_encode_row(&comma, &out, &rec, names, 16);
    CHECK_MEM(out.data, out.len,
              "hello world,\"a,b\",\"say \"\"hi\"\"\",\"1\n2\",\"1\r2\",\" x\",\"x \",,,false,"
              "1.50,-12,18446744073709551615,61.17,2026-11-24T01:02:03.5Z,"
              "\"{\"\"k\"\":1,\"\"list\"\":[\"\"v\"\",2]}\"\n");

    /* Another dialect quotes by its own characters. */
    const sl_csv_dialect semi = { ';', '\'' };
    out.len = 0;
    sl_csv_encode_row(&semi, &out, &rec, names, 3);
    CHECK_MEM(out.data, out.len, "hello world;a,b;say \"hi\"\n");

    /* A single empty cell is written as "" so the row is not a blank line. */
    out.len = 0;
    const char *one[] = { "null" };
    sl_csv_encode_row(&comma, &out, &rec, one, 1);
    CHECK_MEM(out.data, out.len, "\"\"\n");
    sl_buf_free(&out);
    sl_arena_free(&a);
}

static void test_round_trip(void)
{
    static const char *const texts[] = {
        "", " ", "plain", "a,b", "\"", "\"\"", "x\ny", "x\r\ny", "\r", " lead", "trail ",
        "5'10\"", "ünïcødé, ✓", ",,,", "\n\n",
    };
    const size_t n = sizeof texts / sizeof texts[0];
    sl_arena a;
    sl_arena_init(&a, 4096);
    sl_value rec = sl_map_new(&a, n);
    char *names[sizeof texts / sizeof texts[0]];
    for (size_t i = 0; i < n; i++) {
        names[i] = malloc(16);
        snprintf(names[i], 16, "c%zu", i + 1);
        sl_map_append(&a, &rec, names[i], strlen(names[i]), sl_cstring(texts[i]));
    }
    sl_buf out;
    sl_buf_init(&out);
    sl_csv_encode_row(&comma, &out, &rec, (const char *const *)names, n);
    sl_csv_encode_row(&comma, &out, &rec, (const char *const *)names, n);

    size_t pos = 0;
    for (int row_no = 0; row_no < 2; row_no++) {
        size_t len = sl_csv_frame(&comma, out.data + pos, out.len - pos, false);
        CHECK(len > 0);
        sl_value row;
        sl_decode_error err;
        CHECK_INT(sl_csv_decode(&comma, NULL, &a, out.data + pos, len, &row, &err), 0);
        check_cells(&row, texts, n);
        pos += len;
    }
    CHECK_INT(pos, out.len);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    sl_buf_free(&out);
    sl_arena_free(&a);
}

int main(void)
{
    RUN(test_frame_table);
    RUN(test_frame_dialect);
    RUN(test_decode_table);
    RUN(test_decode_zero_copy);
    RUN(test_many_columns);
    RUN(test_syntax_errors);
    RUN(test_header_parse);
    RUN(test_typed_decode);
    RUN(test_typed_errors);
    RUN(test_header_from_columns);
    RUN(test_encode_header);
    RUN(test_encode_row);
    RUN(test_round_trip);
    return check_report();
}
