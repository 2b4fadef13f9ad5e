/* csv.c — RFC 4180 CSV framing, decoding and encoding.
 *
 * Framing looks for the line feed that ends a record with memchr and only
 * walks byte by byte through the (rare) stretches that contain a quote, to
 * know whether that line feed sits inside a quoted field. A quote opens a
 * quoted field only at the start of a field; a stray quote in the middle of
 * an unquoted field (5'10" is common in real data) is kept as text, so one
 * odd row cannot swallow the rest of a file.
 *
 * Decoding walks a frame cell by cell. A cell without doubled quotes points
 * straight into the frame (zero copy); one with "" escapes is unescaped into
 * the arena. Typed columns convert their text:
 *   int        [-+]?digits, int64 (or uint64 above INT64_MAX); the text is
 *              kept as the raw number text when it is valid JSON
 *   float      [-+]?(digits[.digits]|.digits)([eE][-+]?digits)?; no inf/nan
 *   bool       true/false, yes/no, 1/0 (case-insensitive)
 *   timestamp  RFC 3339 (see sl_parse_rfc3339)
 * Spaces and tabs around a typed cell are ignored. An empty unquoted cell of
 * a typed column is null; everything else that does not convert is
 * csv_type. A UTF-8 byte order mark at the start of a header row is dropped.
 *
 * Encoding quotes a cell only when it must: when it holds the delimiter, the
 * quote, CR or LF, or starts or ends with a space or tab. Each cell is
 * appended first and quoted in place afterwards when needed, so nested values
 * written by the JSON encoder need no scratch buffer.
 */
#include "csv.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/util.h"
#include "json.h"

/* Room for a column name quoted in a message. */
#define NAME_SHOWN 72

/* ---- framing ---- */

size_t sl_csv_frame(const sl_csv_dialect *d, const char *p, size_t len, bool eof)
{
    const char quote = d->quote, delim = d->delimiter;
    size_t pos = 0;
    bool field_start = true;    /* pos is at the start of a field */

    while (pos < len) {
        /* Outside quotes: find the end of the line and the first quote on it. */
        const char *nl = memchr(p + pos, '\n', len - pos);
        size_t line_end = nl ? (size_t)(nl - p) : len;
        const char *q = memchr(p + pos, quote, line_end - pos);
        if (!q)
            return nl ? line_end + 1 : (eof ? len : 0);

        size_t qi = (size_t)(q - p);
        bool opens = qi == pos ? field_start : p[qi - 1] == delim;
        pos = qi + 1;
        field_start = false;
        if (!opens)
            continue;           /* stray quote inside an unquoted field */

        /* Inside a quoted field: skip to its closing quote ("" stays inside). */
        for (;;) {
            const char *close = memchr(p + pos, quote, len - pos);
            if (!close)
                return eof ? len : 0;
            pos = (size_t)(close - p) + 1;
            if (pos == len)
                return eof ? len : 0;   /* cannot tell "" from a close yet */
            if (p[pos] != quote)
                break;
            pos++;
        }
    }
    return eof ? len : 0;
}

/* ---- cell scanning ---- */

typedef struct cell {
    const char *s;      /* text (into the frame, or unescaped into the arena) */
    size_t len;
    size_t offset;      /* where the cell starts in the frame */
    bool quoted;
} cell;

typedef struct cell_scanner {
    const sl_csv_dialect *d;
    const char *p;
    size_t len;         /* frame length without its line break */
    size_t pos;
    bool done;          /* the last cell has been returned */
} cell_scanner;

/* Length of the frame without its line break ("\n" or "\r\n"). */
static size_t strip_line_break(const char *p, size_t len)
{
    if (len > 0 && p[len - 1] == '\n') {
        len--;
        if (len > 0 && p[len - 1] == '\r')
            len--;
    }
    return len;
}

static void scanner_init(cell_scanner *sc, const sl_csv_dialect *d, const char *p, size_t len)
{
    sc->d = d;
    sc->p = p;
    sc->len = strip_line_break(p, len);
    sc->pos = 0;
    sc->done = false;
}

/* Reads the next cell. Returns 1 for a cell, 0 when there are no more, -1 on
 * a syntax error (err filled with what is wrong; the caller adds which column).
 * A quoted cell with "" escapes is unescaped into arena a; with a NULL arena
 * its text is left escaped, which is enough to count cells or check UTF-8. */
static int scan_cell(cell_scanner *sc, sl_arena *a, cell *c, sl_decode_error *err)
{
    if (sc->done)
        return 0;
    const char *p = sc->p, quote = sc->d->quote, delim = sc->d->delimiter;
    size_t len = sc->len, pos = sc->pos;
    c->offset = pos;

    if (pos < len && p[pos] == quote) {
        size_t start = pos + 1, escapes = 0;
        pos = start;
        for (;;) {
            const char *close = pos < len ? memchr(p + pos, quote, len - pos) : NULL;
            if (!close) {
                err->reason = "csv_syntax";
                err->offset = c->offset;
                snprintf(err->msg, sizeof err->msg, "unterminated quoted field");
                return -1;
            }
            pos = (size_t)(close - p) + 1;
            if (pos < len && p[pos] == quote) {
                escapes++;
                pos++;
                continue;
            }
            break;
        }
        size_t inner = pos - 1 - start;
        if (pos < len && p[pos] != delim) {
            unsigned char ch = (unsigned char)p[pos];
            char shown[16];
            if (ch > 0x20 && ch < 0x7f)
                snprintf(shown, sizeof shown, "'%c'", ch);
            else
                snprintf(shown, sizeof shown, "byte 0x%02x", ch);
            err->reason = "csv_syntax";
            err->offset = pos;
            snprintf(err->msg, sizeof err->msg,
                     "unexpected %s after the closing quote (a quote inside a quoted "
                     "field must be doubled)", shown);
            return -1;
        }
        c->quoted = true;
        if (escapes == 0 || !a) {
            c->s = p + start;
            c->len = inner;
        } else {
            c->len = inner - escapes;
            char *out = sl_arena_alloc(a, c->len + 1);
            size_t o = 0;
            for (size_t i = start; i < start + inner; i++) {
                out[o++] = p[i];
                if (p[i] == quote)
                    i++;        /* skip the second quote of a "" pair */
            }
            out[o] = '\0';
            c->s = out;
        }
    } else {
        const char *end = pos < len ? memchr(p + pos, delim, len - pos) : NULL;
        size_t stop = end ? (size_t)(end - p) : len;
        c->s = p + pos;
        c->len = stop - pos;
        c->quoted = false;
        pos = stop;
    }

    /* pos is at a delimiter or at the end of the frame. */
    if (pos < len)
        sc->pos = pos + 1;
    else
        sc->done = true;
    return 1;
}

/* ---- column names c1, c2, ... ---- */

#define DEFAULT_NAMES 256

static char default_name_text[DEFAULT_NAMES][8];
static uint8_t default_name_len[DEFAULT_NAMES];
static pthread_once_t default_names_once = PTHREAD_ONCE_INIT;

static void default_names_init(void)
{
    for (int i = 0; i < DEFAULT_NAMES; i++)
        default_name_len[i] = (uint8_t)snprintf(default_name_text[i], 8, "c%d", i + 1);
}

/* Name of the column at 0-based index i when there is no header. */
static const char *default_name(sl_arena *a, size_t i, size_t *len)
{
    if (i < DEFAULT_NAMES) {
        pthread_once(&default_names_once, default_names_init);
        *len = default_name_len[i];
        return default_name_text[i];
    }
    char tmp[32];
    *len = (size_t)snprintf(tmp, sizeof tmp, "c%zu", i + 1);
    return sl_arena_strndup(a, tmp, *len);
}

/* Name of the column at 0-based index i: from the header, else cN. */
static const char *column_name(const sl_csv_header *h, sl_arena *a, size_t i, size_t *len)
{
    if (h && i < h->count) {
        *len = strlen(h->columns[i].name);
        return h->columns[i].name;
    }
    return default_name(a, i, len);
}

/* ---- typed cells ---- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* True when s is an integer in JSON's grammar (no '+', no leading zeros). */
static bool json_integer_text(const char *s, size_t len)
{
    if (len > 0 && s[0] == '+')
        return false;
    size_t i = (len > 0 && s[0] == '-') ? 1 : 0;
    return len > i && (s[i] != '0' || len == i + 1);
}

/* True when s is a number in JSON's grammar (s already matches the float grammar). */
static bool json_number_text(const char *s, size_t len)
{
    size_t i = (len > 0 && s[0] == '-') ? 1 : 0;
    if (i >= len || !is_digit(s[i]))
        return false;                   /* "+1", ".5" */
    if (s[i] == '0' && i + 1 < len && is_digit(s[i + 1]))
        return false;                   /* "01" */
    for (; i < len; i++)
        if (s[i] == '.' && (i + 1 == len || !is_digit(s[i + 1])))
            return false;               /* "1." , "1.e5" */
    return true;
}

static int parse_int(const char *s, size_t len, sl_value *out)
{
    int rc = sl_parse_integer(s, len, out);
    if (rc < 0)
        return rc;
    if (json_integer_text(s, len) && len <= UINT16_MAX) {
        out->x.raw = s;
        out->raw_len = (uint16_t)len;
    }
    return 0;
}

static bool float_text(const char *s, size_t len)
{
    size_t i = 0, digits = 0;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        i++;
    for (; i < len && is_digit(s[i]); i++)
        digits++;
    if (i < len && s[i] == '.')
        for (i++; i < len && is_digit(s[i]); i++)
            digits++;
    if (digits == 0)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '-' || s[i] == '+'))
            i++;
        if (i == len || !is_digit(s[i]))
            return false;
        while (i < len && is_digit(s[i]))
            i++;
    }
    return i == len;
}

static int parse_float(sl_arena *a, const char *s, size_t len, sl_value *out)
{
    if (!float_text(s, len))
        return -1;
    char small[64];
    char *z = len < sizeof small ? small : sl_arena_alloc(a, len + 1);
    memcpy(z, s, len);
    z[len] = '\0';
    double v = strtod(z, NULL);     /* underflow to 0 or a subnormal is fine */
    if (isinf(v))
        return -2;
    *out = sl_double(v);
    if (json_number_text(s, len) && len <= UINT16_MAX) {
        out->x.raw = s;
        out->raw_len = (uint16_t)len;
    }
    return 0;
}

static bool word_is(const char *s, size_t len, const char *word)
{
    return strlen(word) == len && strncasecmp(s, word, len) == 0;
}

static int parse_bool(const char *s, size_t len, sl_value *out)
{
    if (word_is(s, len, "true") || word_is(s, len, "yes") || word_is(s, len, "1"))
        *out = sl_bool(true);
    else if (word_is(s, len, "false") || word_is(s, len, "no") || word_is(s, len, "0"))
        *out = sl_bool(false);
    else
        return -1;
    return 0;
}

static const char *type_name(sl_csv_type t)
{
    switch (t) {
    case SL_CSV_INT: return "int";
    case SL_CSV_FLOAT: return "float";
    case SL_CSV_BOOL: return "bool";
    case SL_CSV_TIMESTAMP: return "timestamp";
    default: return "string";
    }
}

/* Converts a cell of a typed column. Returns 0, or -1 with err filled. */
static int convert_cell(sl_arena *a, const cell *c, sl_csv_type type, const char *column,
                        size_t column_len, sl_value *out, sl_decode_error *err)
{
    if (type == SL_CSV_STRING) {
        *out = sl_string(c->s, c->len);
        return 0;
    }
    if (c->len == 0 && !c->quoted) {
        *out = sl_null();
        return 0;
    }
    const char *s = c->s;
    size_t len = c->len;
    while (len > 0 && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;

    int rc;
    int64_t ns;
    switch (type) {
    case SL_CSV_INT:
        rc = parse_int(s, len, out);
        break;
    case SL_CSV_FLOAT:
        rc = parse_float(a, s, len, out);
        break;
    case SL_CSV_BOOL:
        rc = parse_bool(s, len, out);
        break;
    default:
        rc = sl_parse_rfc3339(s, len, &ns) ? 0 : -1;
        if (rc == 0)
            *out = sl_timestamp(ns);
        break;
    }
    if (rc == 0)
        return 0;

    char text[64], name[NAME_SHOWN];
    sl_decode_error_excerpt(text, sizeof text, c->s, c->len);
    sl_decode_error_excerpt(name, sizeof name, column, column_len);
    err->reason = "csv_type";
    err->offset = c->offset;
    if (rc == -2)
        snprintf(err->msg, sizeof err->msg, "column \"%s\": \"%s\" is out of range for %s",
                 name, text, type_name(type));
    else
        snprintf(err->msg, sizeof err->msg, "column \"%s\": cannot parse \"%s\" as %s",
                 name, text, type_name(type));
    return -1;
}

/* ---- decoding ---- */

/* Replaces a csv_syntax message naming a cell by index with one naming the column. */
static void name_column_in_error(sl_decode_error *err, const char *name, size_t name_len)
{
    char detail[sizeof err->msg], shown[NAME_SHOWN];
    snprintf(detail, sizeof detail, "%s", err->msg);
    snprintf(err->msg, sizeof err->msg, "column \"%s\": %.150s",
             sl_decode_error_excerpt(shown, sizeof shown, name, name_len), detail);
}

static int columns_error(sl_decode_error *err, size_t cells, size_t columns)
{
    err->reason = "csv_columns";
    err->offset = 0;
    snprintf(err->msg, sizeof err->msg, "row has %zu cell%s but the header has %zu column%s",
             cells, cells == 1 ? "" : "s", columns, columns == 1 ? "" : "s");
    return -1;
}

/* Finds the cell holding invalid UTF-8 to name it in the error. */
static int utf8_error(const sl_csv_dialect *d, const sl_csv_header *h, sl_arena *a,
                      const char *p, size_t len, sl_decode_error *err)
{
    cell_scanner sc;
    cell c;
    scanner_init(&sc, d, p, len);
    err->reason = "csv_utf8";
    for (size_t i = 0; scan_cell(&sc, NULL, &c, err) == 1; i++) {
        if (sl_utf8_valid(c.s, c.len))
            continue;
        size_t name_len;
        const char *name = column_name(h, a, i, &name_len);
        err->reason = "csv_utf8";
        err->offset = c.offset;
        char shown[NAME_SHOWN];
        snprintf(err->msg, sizeof err->msg, "column \"%s\": invalid UTF-8",
                 sl_decode_error_excerpt(shown, sizeof shown, name, name_len));
        return -1;
    }
    err->reason = "csv_utf8";
    err->offset = 0;
    snprintf(err->msg, sizeof err->msg, "row is not valid UTF-8");
    return -1;
}

int sl_csv_decode(const sl_csv_dialect *d, const sl_csv_header *h, sl_arena *a,
                  const char *p, size_t len, sl_value *out, sl_decode_error *err)
{
    if (!sl_utf8_valid(p, len))
        return utf8_error(d, h, a, p, len, err);

    cell_scanner sc;
    cell c;
    scanner_init(&sc, d, p, len);
    sl_value row = sl_map_new(a, h ? h->count : 8);
    size_t i = 0;
    int rc;
    while ((rc = scan_cell(&sc, a, &c, err)) == 1) {
        const char *name;
        size_t name_len;
        sl_value v;
        if (h) {
            if (i >= h->count) {
                size_t cells = i + 1;
                while (scan_cell(&sc, NULL, &c, err) == 1)
                    cells++;
                return columns_error(err, cells, h->count);
            }
            name = h->columns[i].name;
            name_len = strlen(name);
            if (convert_cell(a, &c, h->columns[i].type, name, name_len, &v, err) < 0) {
                /* A row with the wrong number of cells puts values under the
                 * wrong columns: that, not the type, is what to report. */
                sl_decode_error count_err;
                size_t cells = i + 1;
                while (scan_cell(&sc, NULL, &c, &count_err) == 1)
                    cells++;
                return cells != h->count ? columns_error(err, cells, h->count) : -1;
            }
        } else {
            name = default_name(a, i, &name_len);
            v = sl_string(c.s, c.len);
        }
        sl_map_append(a, &row, name, name_len, v);
        i++;
    }
    if (rc < 0) {
        size_t name_len;
        const char *name = column_name(h, a, i, &name_len);
        name_column_in_error(err, name, name_len);
        return -1;
    }
    if (h && i != h->count)
        return columns_error(err, i, h->count);
    *out = row;
    return 0;
}

/* ---- headers ---- */

static bool name_taken(const sl_csv_column *cols, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(cols[i].name, name) == 0)
            return true;
    return false;
}

/* A column name for cell text s at 0-based index i: empty names become cN,
 * and a name seen before gets a _2, _3, ... suffix so that keys stay unique. */
static char *unique_name(const sl_csv_column *cols, size_t i, const char *s, size_t len)
{
    char *base;
    if (len == 0) {
        if (asprintf(&base, "c%zu", i + 1) < 0)
            base = NULL;
    } else {
        base = strndup(s, len);
    }
    if (!base)
        abort();    /* out of memory */
    if (!name_taken(cols, i, base))
        return base;
    for (unsigned k = 2;; k++) {
        char *candidate;
        if (asprintf(&candidate, "%s_%u", base, k) < 0)
            abort();
        if (!name_taken(cols, i, candidate)) {
            free(base);
            return candidate;
        }
        free(candidate);
    }
}

static sl_csv_header *header_new(size_t n)
{
    sl_csv_header *h = calloc(1, sizeof *h);
    if (!h || !(h->columns = calloc(n ? n : 1, sizeof *h->columns)))
        abort();    /* out of memory */
    return h;
}

sl_csv_header *sl_csv_header_parse(const sl_csv_dialect *d, const char *p, size_t len,
                                   const sl_csv_column *configured, size_t n_configured,
                                   sl_decode_error *err)
{
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3;
        len -= 3;
    }
    if (!sl_utf8_valid(p, len)) {
        err->reason = "csv_utf8";
        err->offset = 0;
        snprintf(err->msg, sizeof err->msg, "header row is not valid UTF-8");
        return NULL;
    }

    /* Count the cells first so the column array is allocated once. */
    cell_scanner sc;
    cell c;
    size_t n = 0;
    int rc;
    scanner_init(&sc, d, p, len);
    while ((rc = scan_cell(&sc, NULL, &c, err)) == 1)
        n++;
    if (rc < 0) {
        char detail[sizeof err->msg];
        snprintf(detail, sizeof detail, "%s", err->msg);
        snprintf(err->msg, sizeof err->msg, "header row, column %zu: %.150s", n + 1, detail);
        return NULL;
    }

    sl_csv_header *h = header_new(n);
    sl_arena scratch;
    sl_arena_init(&scratch, 1024);
    scanner_init(&sc, d, p, len);
    while (scan_cell(&sc, &scratch, &c, err) == 1) {
        h->columns[h->count].name = unique_name(h->columns, h->count, c.s, c.len);
        h->columns[h->count].type = SL_CSV_STRING;
        h->count++;
    }
    sl_arena_free(&scratch);

    for (size_t k = 0; k < n_configured; k++) {
        size_t i = 0;
        while (i < h->count && strcmp(h->columns[i].name, configured[k].name) != 0)
            i++;
        if (i == h->count) {
            err->reason = "csv_columns";
            err->offset = 0;
            char shown[120];
            sl_decode_error_excerpt(shown, sizeof shown, p, strip_line_break(p, len));
            snprintf(err->msg, sizeof err->msg,
                     "configured column \"%s\" is not in the header row (%s)",
                     configured[k].name, shown);
            sl_csv_header_free(h);
            return NULL;
        }
        h->columns[i].type = configured[k].type;
    }
    return h;
}

sl_csv_header *sl_csv_header_from_columns(const sl_csv_column *configured, size_t n)
{
    sl_csv_header *h = header_new(n);
    for (size_t i = 0; i < n; i++) {
        if (!(h->columns[i].name = strdup(configured[i].name)))
            abort();    /* out of memory */
        h->columns[i].type = configured[i].type;
    }
    h->count = n;
    return h;
}

void sl_csv_header_free(sl_csv_header *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->count; i++)
        free(h->columns[i].name);
    free(h->columns);
    free(h);
}

/* ---- encoding ---- */

/* Quotes the cell out->data[start..len) in place when it needs quoting. */
static void quote_cell_in_place(const sl_csv_dialect *d, sl_buf *out, size_t start)
{
    char *s = out->data + start;
    size_t n = out->len - start, quotes = 0;
    bool needed = n > 0 && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t');
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == d->quote)
            quotes++;
        if (ch == d->quote || ch == d->delimiter || ch == '\n' || ch == '\r')
            needed = true;
    }
    if (!needed)
        return;

    size_t grow = quotes + 2;
    sl_buf_reserve(out, grow);
    s = out->data + start;
    /* Walk backwards, moving each byte to its final place. */
    size_t src = n, dst = n + grow;
    s[--dst] = d->quote;
    while (src > 0) {
        char ch = s[--src];
        s[--dst] = ch;
        if (ch == d->quote)
            s[--dst] = ch;
    }
    s[0] = d->quote;
    out->len += grow;
}

static void encode_value(sl_buf *out, const sl_value *v)
{
    char tmp[40];
    switch ((sl_type)v->type) {
    case SL_NULL:
        break;
    case SL_BOOL:
        sl_buf_puts(out, v->as.b ? "true" : "false");
        break;
    case SL_INT:
    case SL_UINT:
    case SL_DOUBLE:
        if (v->x.raw)
            sl_buf_append(out, v->x.raw, v->raw_len);
        else if (v->type == SL_INT)
            sl_buf_printf(out, "%" PRId64, v->as.i);
        else if (v->type == SL_UINT)
            sl_buf_printf(out, "%" PRIu64, v->as.u);
        else
            sl_json_format_double(out, v->as.d);    /* NaN/Inf: empty cell */
        break;
    case SL_STRING:
        sl_buf_append(out, v->as.s, v->len);
        break;
    case SL_BYTES:
        sl_base64_encode(out, v->as.s, v->len);
        break;
    case SL_TIMESTAMP:
        sl_buf_append(out, tmp, sl_format_rfc3339(tmp, v->as.i));
        break;
    case SL_ARRAY:
    case SL_MAP:
        sl_json_encode(out, v);
        break;
    }
}

void sl_csv_encode_header(const sl_csv_dialect *d, sl_buf *out, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            sl_buf_putc(out, d->delimiter);
        size_t start = out->len;
        sl_buf_puts(out, names[i]);
        quote_cell_in_place(d, out, start);
    }
    if (n == 1 && names[0][0] == '\0') {
        sl_buf_putc(out, d->quote);     /* a blank line would read as no row */
        sl_buf_putc(out, d->quote);
    }
    sl_buf_putc(out, '\n');
}

void sl_csv_encode_row(const sl_csv_dialect *d, sl_buf *out, const sl_value *record,
                       const char *const *names, size_t n)
{
    size_t row_start = out->len;
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            sl_buf_putc(out, d->delimiter);
        const sl_value *v = record->type == SL_MAP ? sl_map_get(record, names[i], strlen(names[i])) : NULL;
        if (!v)
            continue;
        size_t start = out->len;
        encode_value(out, v);
        quote_cell_in_place(d, out, start);
    }
    if (n == 1 && out->len == row_start) {
        sl_buf_putc(out, d->quote);     /* a blank line would read as no row */
        sl_buf_putc(out, d->quote);
    }
    sl_buf_putc(out, '\n');
}
