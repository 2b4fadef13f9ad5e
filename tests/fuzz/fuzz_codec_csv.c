/* fuzz_codec_csv.c — libFuzzer target for the CSV codec (codec/csv.h).
 *
 * Cuts arbitrary input into frames, takes the first frame as a header row
 * (its columns typed string, int, float, bool, timestamp in turn) and decodes
 * the rest both with that header and without one (c1, c2, ...).
 * Every row that decodes is encoded again, and the encoded row must frame as
 * exactly one record and decode to the same cell strings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/csv.h"

static const sl_csv_dialect comma = { ',', '"' };

/* Encodes row (cells named c1..cN), decodes it again and compares. */
static void check_round_trip(sl_arena *a, const sl_value *row)
{
    const char **names = malloc((row->len ? row->len : 1) * sizeof *names);
    for (uint32_t i = 0; i < row->len; i++)
        names[i] = sl_arena_strndup(a, row->as.fields[i].key, row->as.fields[i].key_len);
    sl_buf out;
    sl_buf_init(&out);
    sl_csv_encode_row(&comma, &out, row, names, row->len);

    if (sl_csv_frame(&comma, out.data, out.len, false) != out.len)
        abort();    /* the encoded row must be one complete record */
    sl_value again;
    sl_decode_error err;
    if (sl_csv_decode(&comma, NULL, a, out.data, out.len, &again, &err) != 0)
        abort();
    if (again.len != row->len)
        abort();
    for (uint32_t i = 0; i < row->len; i++) {
        const sl_value *x = &row->as.fields[i].value, *y = &again.as.fields[i].value;
        if (x->type != SL_STRING || y->type != SL_STRING || x->len != y->len ||
            memcmp(x->as.s, y->as.s, x->len) != 0)
            abort();
    }
    sl_buf_free(&out);
    free(names);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Decoders may assume SL_BUF_PADDING readable bytes after the input. */
    char *p = malloc(size + SL_BUF_PADDING);
    memcpy(p, data, size);
    memset(p + size, 0, SL_BUF_PADDING);

    sl_arena a;
    sl_arena_init(&a, 4096);
    sl_csv_header *h = NULL;
    size_t pos = 0;
    while (pos < size) {
        size_t n = sl_csv_frame(&comma, p + pos, size - pos, true);
        if (n == 0 || n > size - pos)
            abort();    /* framing must make progress at eof */
        size_t m = sl_csv_frame(&comma, p + pos, size - pos, false);
        if (m != 0 && m != n)
            abort();    /* eof may only end a record that had no line break */
        sl_decode_error err;
        if (pos == 0) {
            h = sl_csv_header_parse(&comma, p, n, NULL, 0, &err);
            /* Give the columns every type in turn to exercise conversions. */
            for (size_t i = 0; h && i < h->count; i++)
                h->columns[i].type = (sl_csv_type)(i % 5);
        } else {
            sl_value row;
            if (h)
                sl_csv_decode(&comma, h, &a, p + pos, n, &row, &err);
            if (sl_csv_decode(&comma, NULL, &a, p + pos, n, &row, &err) == 0)
                check_round_trip(&a, &row);
        }
        pos += n;
        sl_arena_reset(&a);
    }
    sl_csv_header_free(h);
    sl_arena_free(&a);
    free(p);
    return 0;
}
