/* test_engine_io.c — the source and sink components, run as real in-process
 * pipelines (config text -> sl_pipeline_build -> sl_pipeline_run) over files
 * in a temporary directory:
 *  - generate: same seed => same bytes, whatever the batch size; other seed
 *    => other bytes;
 *  - file source: JSONL and CSV framing across batch boundaries, positions,
 *    record_too_large (also a CSV row with quoted line breaks), csv_header,
 *    gzip input, a corrupt gzip file (read_error), "no file matches";
 *  - stdin source (text format);
 *  - file sink: path templates and their sanitisation (invalid_path), CSV
 *    header + rows, gzip/zstd output read back through sl_reader, rotation
 *    by size and by age, more paths than open descriptors.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "codec/reader.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/log.h"
#include "runtime/pipeline.h"

static char tmp[256];

static const char *at(const char *name) {
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 512, "%s/%s", tmp, name);
    return p;
}

/* Builds and runs a pipeline from YAML (printf-style); returns the run's
 * result, or -2 when it does not build. err receives the run error. */
static int run_yaml(sl_error *err, const char *fmt, ...) {
    sl_buf text;
    sl_buf_init(&text);
    va_list ap;
    va_start(ap, fmt);
    sl_buf_vprintf(&text, fmt, ap);
    va_end(ap);
    sl_diag diag;
    sl_diag_init(&diag);
    sl_config *cfg = sl_config_parse("test.yaml", text.data, text.len, &diag);
    sl_pipeline *p = cfg && !sl_diag_has_errors(&diag) ? sl_pipeline_build(cfg, &diag) : NULL;
    int rc = -2;
    if (p) {
        sl_error e = {0};
        /* Tests share one data_dir: no run resumes from an earlier one's checkpoint. */
        sl_run_options ro = {.progress = false, .from_start = true};
        rc = sl_pipeline_run(p, &ro, err ? err : &e);
        sl_pipeline_free(p);
    } else {
        sl_buf out;
        sl_buf_init(&out);
        sl_diag_print(&diag, &out);
        fprintf(stderr, "pipeline does not build:\n%s\n%s", text.data, out.data ? out.data : "");
        sl_buf_free(&out);
    }
    if (cfg) sl_config_free(cfg);
    sl_diag_free(&diag);
    sl_buf_free(&text);
    return rc;
}

/* Reads a whole file through sl_reader (decompressing); NULL if it cannot. */
static char *slurp(const char *path, size_t *len) {
    sl_error err;
    sl_reader *r = sl_reader_open(path, &err);
    if (!r) return NULL;
    sl_buf b;
    sl_buf_init(&b);
    ssize_t n;
    do {
        sl_buf_reserve(&b, 65536);
        n = sl_reader_read(r, b.data + b.len, 65536, &err);
        if (n > 0) b.len += (size_t)n;
    } while (n > 0);
    sl_reader_close(r);
    if (n < 0) {
        sl_buf_free(&b);
        return NULL;
    }
    sl_buf_putc(&b, '\0');
    *len = b.len - 1;
    return b.data;
}

static void write_file(const char *path, const char *data, size_t len) {
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, len, f);
    fclose(f);
}

static size_t count_lines(const char *s, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) n += s[i] == '\n';
    return n;
}

static bool same_file(const char *a, const char *b) {
    size_t la, lb;
    char *x = slurp(a, &la), *y = slurp(b, &lb);
    bool same = x && y && la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return same;
}

#define HEADER "log_level: error\ndata_dir: %s\nworkers: 2\n"

/* ---- generate ---- */

static void test_generate_deterministic(void) {
    const char *cfg = HEADER
        "batch: {max_records: %d, max_bytes: %s}\n"
        "sources: {g: {type: generate, count: 3000, seed: %d}}\n"
        "sinks: {out: {type: file, inputs: [g], path: %s}}\n";
    CHECK_INT(run_yaml(NULL, cfg, tmp, 1024, "1MiB", 7, at("gen-a.jsonl")), 0);
    CHECK_INT(run_yaml(NULL, cfg, tmp, 7, "4KiB", 7, at("gen-b.jsonl")), 0);
    CHECK_INT(run_yaml(NULL, cfg, tmp, 1024, "1MiB", 8, at("gen-c.jsonl")), 0);
    size_t len;
    char *a = slurp(at("gen-a.jsonl"), &len);
    CHECK(a != NULL);
    if (!a) return;
    CHECK_INT(count_lines(a, len), 3000);
    CHECK(len / 3000 > 330 && len / 3000 < 450);   /* about 390 bytes an event */
    CHECK(strncmp(a, "{\"ts\":\"2026-01-01T00:00:00.0", 28) == 0);
    CHECK(strstr(a, "\"request_id\":\"") != NULL);
    CHECK(same_file(at("gen-a.jsonl"), at("gen-b.jsonl")));
    CHECK(!same_file(at("gen-a.jsonl"), at("gen-c.jsonl")));
    free(a);
}

/* ---- file source ---- */

static void test_file_source_framing(void) {
    /* 500 records with lengths that straddle 4 KiB batches, one blank line,
     * one oversized record in the middle, no final line break. */
    sl_buf in;
    sl_buf_init(&in);
    for (int i = 0; i < 500; i++) {
        if (i == 250) {
            sl_buf_puts(&in, "{\"big\":\"");
            for (int k = 0; k < 9000; k++) sl_buf_putc(&in, 'x');
            sl_buf_puts(&in, "\"}\n\n");
        }
        sl_buf_printf(&in, "{\"i\":%d,\"pad\":\"%.*s\"}%s", i, i % 97, "................................................................................................................", i == 499 ? "" : "\n");
    }
    write_file(at("in.jsonl"), in.data, in.len);
    CHECK_INT(run_yaml(NULL, HEADER
                       "batch: {max_records: 33, max_bytes: 4KiB}\n"
                       "dlq: {path: %s}\n"
                       "sources: {f: {type: file, paths: [\"%s\"], max_record_bytes: 2KiB}}\n"
                       "sinks: {out: {type: file, inputs: [f], path: %s}}\n",
                       tmp, at("dlq1"), at("in.json{l,x}"), at("framed.jsonl")), 0);
    size_t len, dlen;
    char *out = slurp(at("framed.jsonl"), &len);
    CHECK(out != NULL);
    /* Everything but the big record and the blank line, in order. */
    sl_buf want;
    sl_buf_init(&want);
    for (int i = 0; i < 500; i++)
        sl_buf_printf(&want, "{\"i\":%d,\"pad\":\"%.*s\"}\n", i, i % 97, "................................................................................................................");
    CHECK(out && len == want.len && memcmp(out, want.data, len) == 0);
    char *dlq = slurp(at("dlq1/dlq.jsonl"), &dlen);
    CHECK(dlq != NULL);
    if (dlq) {
        CHECK_INT(count_lines(dlq, dlen), 1);
        CHECK(strstr(dlq, "\"reason\":\"record_too_large\"") != NULL);
        CHECK(strstr(dlq, "record of 9011 bytes exceeds max_record_bytes (2048); its first 4096 bytes are kept") != NULL);
        /* Its position: the offset of the big record's first byte. */
        const char *big = strstr(in.data, "{\"big\"");
        char expect[64];
        snprintf(expect, sizeof expect, "\"offset\":%zu}", (size_t)(big - in.data));
        CHECK(strstr(dlq, expect) != NULL);
    }
    free(dlq);
    free(out);
    sl_buf_free(&want);
    sl_buf_free(&in);
}

static void test_file_source_gzip_and_csv(void) {
    /* gzip input, recognised by its magic bytes. */
    const char *text = "{\"a\":1}\n{\"a\":2}\n";
    gzFile gz = gzopen(at("z.data"), "wb");
    gzwrite(gz, text, (unsigned)strlen(text));
    gzclose(gz);
    CHECK_INT(run_yaml(NULL, HEADER
                       "sources: {f: {type: file, paths: [\"%s\"]}}\n"
                       "sinks: {out: {type: file, inputs: [f], path: %s}}\n",
                       tmp, at("z.data"), at("z.jsonl")), 0);
    size_t len;
    char *out = slurp(at("z.jsonl"), &len);
    CHECK(out && strcmp(out, text) == 0);
    free(out);

    /* CSV with a header and typed columns; a second file with a bad header is skipped. */
    const char *csv = "id;name;price\n1;\"a;b\";1.5\n2;\"multi\nline\";2\n";
    write_file(at("p1.csv"), csv, strlen(csv));
    write_file(at("p2.csv"), "id;\"broken\n1;2\n", 15);
    CHECK_INT(run_yaml(NULL, HEADER
                       "dlq: {path: %s}\n"
                       "sources: {f: {type: file, paths: [\"%s\"], format: csv,\n"
                       "              csv: {delimiter: \";\", columns: {id: int, price: float}}}}\n"
                       "sinks: {out: {type: file, inputs: [f], path: %s}}\n",
                       tmp, at("dlq2"), at("p*.csv"), at("p.jsonl")), 0);
    out = slurp(at("p.jsonl"), &len);
    CHECK_STR(out, "{\"id\":1,\"name\":\"a;b\",\"price\":1.5}\n{\"id\":2,\"name\":\"multi\\nline\",\"price\":2}\n");
    free(out);
    char *dlq = slurp(at("dlq2/dlq.jsonl"), &len);
    CHECK(dlq && strstr(dlq, "\"reason\":\"csv_header\"") && strstr(dlq, "p2.csv"));
    free(dlq);
}

static void test_file_source_no_match(void) {
    sl_error err = {0};
    CHECK_INT(run_yaml(&err, HEADER
                       "sources: {f: {type: file, paths: [\"%s\"]}}\n"
                       "sinks: {out: {type: blackhole, inputs: [f]}}\n",
                       tmp, at("nothing-*.jsonl")), -1);
    CHECK(strstr(err.msg, "no file matches") != NULL && strstr(err.msg, "nothing-*.jsonl") != NULL);
}

static void test_file_source_read_error(void) {
    /* A gzip file corrupted in the middle: the records before the damage are
     * kept, the error goes to the DLQ, and the next file is still read. */
    sl_buf in;
    sl_buf_init(&in);
    for (int i = 0; i < 20000; i++) sl_buf_printf(&in, "{\"n\":%d,\"s\":\"%08x\"}\n", i, (unsigned)(i * 2654435761u));
    gzFile gz = gzopen(at("bad.jsonl.gz"), "wb1");
    gzwrite(gz, in.data, (unsigned)in.len);
    gzclose(gz);
    size_t glen;
    FILE *f = fopen(at("bad.jsonl.gz"), "r+b");
    fseek(f, 0, SEEK_END);
    glen = (size_t)ftell(f);
    fseek(f, (long)(glen / 2), SEEK_SET);
    fwrite("\xff\xff\xff\xff\xff\xff\xff\xff", 1, 8, f);
    fclose(f);
    write_file(at("bad.z-next.jsonl"), "{\"n\":-1}\n", 9);
    CHECK_INT(run_yaml(NULL, HEADER
                       "dlq: {path: %s}\n"
                       "sources: {f: {type: file, paths: [\"%s\"]}}\n"
                       "sinks: {out: {type: file, inputs: [f], path: %s}}\n",
                       tmp, at("dlq4"), at("bad.*"), at("bad-out.jsonl")), 0);
    size_t len;
    char *out = slurp(at("bad-out.jsonl"), &len);
    CHECK(out != NULL);
    if (out) {
        size_t lines = count_lines(out, len);
        const char *next = strstr(out, "{\"n\":-1}\n");
        CHECK(lines > 1 && lines < 20000);
        CHECK(next != NULL && (size_t)(next - out) + 9 == len);   /* the next file, last */
        CHECK(memcmp(out, in.data, (size_t)(next - out)) == 0);      /* an exact prefix */
    }
    char *dlq = slurp(at("dlq4/dlq.jsonl"), &len);
    CHECK(dlq && strstr(dlq, "\"reason\":\"read_error\"") && strstr(dlq, "bad.jsonl.gz"));
    free(dlq);
    free(out);
    sl_buf_free(&in);
}

static void test_csv_oversized_row(void) {
    /* A quoted field with line breaks, longer than max_record_bytes, is
     * skipped whole (quote-aware) across several batches. */
    sl_buf in;
    sl_buf_init(&in);
    sl_buf_puts(&in, "a,b\n1,x\n2,\"");
    for (int i = 0; i < 3000; i++) sl_buf_puts(&in, "line\n");
    sl_buf_puts(&in, "\"\n3,y\n");
    write_file(at("big.csv"), in.data, in.len);
    CHECK_INT(run_yaml(NULL, HEADER
                       "batch: {max_records: 1000, max_bytes: 4KiB}\n"
                       "dlq: {path: %s}\n"
                       "sources: {f: {type: file, paths: [\"%s\"], format: csv, max_record_bytes: 1KiB}}\n"
                       "sinks: {out: {type: file, inputs: [f], path: %s}}\n",
                       tmp, at("dlq5"), at("big.csv"), at("big.jsonl")), 0);
    size_t len;
    char *out = slurp(at("big.jsonl"), &len);
    CHECK_STR(out, "{\"a\":\"1\",\"b\":\"x\"}\n{\"a\":\"3\",\"b\":\"y\"}\n");
    free(out);
    char *dlq = slurp(at("dlq5/dlq.jsonl"), &len);
    CHECK(dlq && strstr(dlq, "record of 15005 bytes exceeds max_record_bytes (1024)") && strstr(dlq, "\"offset\":8}"));
    free(dlq);
    sl_buf_free(&in);
}

static void test_stdin_source(void) {
    const char *text = "one\ntwo\n\nthree";
    write_file(at("stdin.txt"), text, strlen(text));
    int saved = dup(0);
    FILE *f = freopen(at("stdin.txt"), "rb", stdin);
    CHECK(f != NULL);
    CHECK_INT(run_yaml(NULL, HEADER
                       "sources: {in: {type: stdin, format: text}}\n"
                       "sinks: {out: {type: file, inputs: [in], path: %s}}\n",
                       tmp, at("stdin.jsonl")), 0);
    dup2(saved, 0);
    close(saved);
    size_t len;
    char *out = slurp(at("stdin.jsonl"), &len);
    CHECK_STR(out, "{\"message\":\"one\"}\n{\"message\":\"two\"}\n{\"message\":\"\"}\n{\"message\":\"three\"}\n");
    free(out);
}

/* ---- file sink ---- */

static void test_file_sink_templates(void) {
    const char *in =
        "{\"svc\":\"api\",\"user\":{\"id\":1}}\n"
        "{\"svc\":\"a/b\",\"user\":{\"id\":2}}\n"
        "{\"svc\":\"..\",\"user\":{\"id\":3}}\n"
        "{\"svc\":\"\",\"user\":{\"id\":4}}\n"
        "{\"user\":{\"id\":5}}\n"
        "{\"svc\":\"api\",\"user\":{\"id\":1.50}}\n"
        "{\"svc\":\".\",\"user\":{\"id\":true}}\n"
        "{\"svc\":\"...\",\"user\":{\"id\":null}}\n";
    sl_buf lines;
    sl_buf_init(&lines);
    sl_buf_puts(&lines, in);
    sl_buf_puts(&lines, "{\"svc\":\"");   /* a name longer than NAME_MAX */
    for (int i = 0; i < 300; i++) sl_buf_putc(&lines, 'n');
    sl_buf_puts(&lines, "\"}\n");
    write_file(at("t.jsonl"), lines.data, lines.len);
    sl_buf_free(&lines);
    CHECK_INT(run_yaml(NULL, HEADER
                       "dlq: {path: %s}\n"
                       "sources: {f: {type: file, paths: [\"%s\"]}}\n"
                       "sinks: {out: {type: file, inputs: [f], path: \"%s/{{ .svc }}/u-{{.user.id}}.jsonl\"}}\n",
                       tmp, at("dlq3"), at("t.jsonl"), at("tpl")), 0);
    size_t len;
    char *s;
    s = slurp(at("tpl/api/u-1.jsonl"), &len);
    CHECK_STR(s, "{\"svc\":\"api\",\"user\":{\"id\":1}}\n");
    free(s);
    s = slurp(at("tpl/a_b/u-2.jsonl"), &len);
    CHECK_STR(s, "{\"svc\":\"a/b\",\"user\":{\"id\":2}}\n");
    free(s);
    s = slurp(at("tpl/_empty_/u-4.jsonl"), &len);
    CHECK(s != NULL);
    free(s);
    s = slurp(at("tpl/_missing_/u-5.jsonl"), &len);
    CHECK(s != NULL);
    free(s);
    s = slurp(at("tpl/api/u-1.50.jsonl"), &len);   /* numbers as written */
    CHECK(s != NULL);
    free(s);
    s = slurp(at("tpl/.../u-_missing_.jsonl"), &len);   /* "..." is a plain name */
    CHECK(s != NULL);
    free(s);
    struct stat st;
    CHECK(stat(at("u-3.jsonl"), &st) < 0);          /* ".." did not escape */
    char *dlq = slurp(at("dlq3/dlq.jsonl"), &len);
    CHECK(dlq != NULL);
    if (dlq) {
        CHECK_INT(count_lines(dlq, len), 3);        /* "..", "." and the long name */
        CHECK(strstr(dlq, "longer than NAME_MAX") != NULL);
        CHECK(strstr(dlq, "\"reason\":\"invalid_path\"") != NULL);
    }
    free(dlq);
}

static void test_file_sink_csv(void) {
    const char *in = "{\"a\":1,\"b\":\"x\"}\n{\"a\":2,\"b\":\"y,z\",\"c\":3}\n{\"b\":\"q\"}\n";
    write_file(at("c.jsonl"), in, strlen(in));
    CHECK_INT(run_yaml(NULL, HEADER
                       "sources: {f: {type: file, paths: [\"%s\"]}}\n"
                       "sinks:\n"
                       "  learned: {type: file, inputs: [f], path: %s, format: csv}\n"
                       "  fixed: {type: file, inputs: [f], path: %s, format: csv, csv: {columns: [b, c], delimiter: \";\"}}\n",
                       tmp, at("c.jsonl"), at("learned.csv"), at("fixed.csv")), 0);
    size_t len;
    char *s = slurp(at("learned.csv"), &len);
    CHECK_STR(s, "a,b\n1,x\n2,\"y,z\"\n,q\n");
    free(s);
    s = slurp(at("fixed.csv"), &len);
    CHECK_STR(s, "b;c\nx;\ny,z;3\nq;\n");
    free(s);
    /* A second run appends without a second header. */
    CHECK_INT(run_yaml(NULL, HEADER
                       "sources: {f: {type: file, paths: [\"%s\"]}}\n"
                       "sinks: {fixed: {type: file, inputs: [f], path: %s, format: csv, csv: {columns: [b]}}}\n",
                       tmp, at("c.jsonl"), at("fixed.csv")), 0);
    s = slurp(at("fixed.csv"), &len);
    CHECK_STR(s, "b;c\nx;\ny,z;3\nq;\nx\n\"y,z\"\nq\n");
    free(s);
}

static void test_file_sink_compressed(void) {
    const char *cfg = HEADER
        "batch: {max_records: 100, max_bytes: 64KiB}\n"
        "sources: {g: {type: generate, count: 2000, seed: 3}}\n"
        "sinks:\n"
        "  plain: {type: file, inputs: [g], path: %s}\n"
        "  gz: {type: file, inputs: [g], path: %s}\n"
        "  zst: {type: file, inputs: [g], path: %s, compression: zstd}\n";
    CHECK_INT(run_yaml(NULL, cfg, tmp, at("g.jsonl"), at("g.jsonl.gz"), at("g.out")), 0);
    size_t plain_len, gz_len;
    FILE *f = fopen(at("g.jsonl.gz"), "rb");
    unsigned char magic[4] = {0};
    if (f) {
        CHECK(fread(magic, 1, 4, f) == 4);
        fclose(f);
    }
    CHECK(magic[0] == 0x1f && magic[1] == 0x8b);                   /* gzip, from the extension */
    f = fopen(at("g.out"), "rb");
    if (f) {
        CHECK(fread(magic, 1, 4, f) == 4);
        fclose(f);
    }
    CHECK(magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd);   /* zstd */
    char *plain = slurp(at("g.jsonl"), &plain_len), *gz = slurp(at("g.jsonl.gz"), &gz_len);
    CHECK(plain && gz && plain_len == gz_len && memcmp(plain, gz, plain_len) == 0);
    CHECK_INT(plain ? count_lines(plain, plain_len) : 0, 2000);
    CHECK(same_file(at("g.jsonl"), at("g.out")));
    free(plain);
    free(gz);
}

static int count_entries(const char *dir, const char *prefix) {
    DIR *d = opendir(dir);
    int n = 0;
    if (!d) return -1;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) n++;
    closedir(d);
    return n;
}

static void test_file_sink_rotation(void) {
    CHECK_INT(run_yaml(NULL, HEADER
                       "batch: {max_records: 10, max_bytes: 64KiB}\n"
                       "sources: {g: {type: generate, count: 100, seed: 5}}\n"
                       "sinks: {r: {type: file, inputs: [g], path: %s, rotate: {max_bytes: 10KiB}}}\n",
                       tmp, at("rot/ev.jsonl")), 0);
    /* ~39 KB in ~3.9 KB batches: two batches a file, 5 files of <= 10 KiB:
     * ev.1 ... ev.4 and ev.jsonl. */
    CHECK_INT(count_entries(at("rot"), "ev."), 5);
    struct stat st;
    CHECK(stat(at("rot/ev.1.jsonl"), &st) == 0 && st.st_size <= 10240 && st.st_size > 6000);
    CHECK(stat(at("rot/ev.4.jsonl"), &st) == 0 && st.st_size <= 10240 && st.st_size > 6000);
    CHECK(stat(at("rot/ev.jsonl"), &st) == 0);
    /* All of them together are the whole output, in order. */
    CHECK_INT(run_yaml(NULL, HEADER
                       "sources: {g: {type: generate, count: 100, seed: 5}}\n"
                       "sinks: {r: {type: file, inputs: [g], path: %s}}\n",
                       tmp, at("rot-all.jsonl")), 0);
    sl_buf cat;
    sl_buf_init(&cat);
    const char *parts[] = {"rot/ev.1.jsonl", "rot/ev.2.jsonl", "rot/ev.3.jsonl", "rot/ev.4.jsonl",
                           "rot/ev.jsonl"};
    for (int i = 0; i < 5; i++) {
        size_t len;
        char *s = slurp(at(parts[i]), &len);
        if (s) sl_buf_append(&cat, s, len);
        free(s);
    }
    size_t all_len;
    char *all = slurp(at("rot-all.jsonl"), &all_len);
    CHECK(all && all_len == cat.len && memcmp(all, cat.data, all_len) == 0);
    free(all);
    sl_buf_free(&cat);
}

static size_t lines_in_dir(const char *dir, int *files) {
    DIR *d = opendir(dir);
    size_t lines = 0;
    *files = 0;
    if (!d) return 0;
    struct dirent *e;
    char path[1024];
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len;
        char *s = slurp(path, &len);
        if (s) lines += count_lines(s, len);
        free(s);
        (*files)++;
    }
    closedir(d);
    return lines;
}

static void test_file_sink_many_files(void) {
    /* More distinct paths than open descriptors (128): the least recently
     * used files are closed and reopened for appending, nothing is lost. */
    CHECK_INT(run_yaml(NULL, HEADER
                       "batch: {max_records: 50, max_bytes: 1MiB}\n"
                       "sources: {g: {type: generate, count: 3000, seed: 9}}\n"
                       "sinks: {out: {type: file, inputs: [g], path: \"%s/{{ .user.id }}.jsonl\"}}\n",
                       tmp, at("many")), 0);
    int files;
    CHECK_INT(lines_in_dir(at("many"), &files), 3000);
    CHECK(files > 2900 && files <= 3000);   /* ids are drawn from 100000 */
}

static void test_file_sink_rotation_by_age(void) {
    CHECK_INT(run_yaml(NULL, HEADER
                       "sources: {g: {type: generate, count: 40, seed: 5, rate: 100}}\n"
                       "sinks: {r: {type: file, inputs: [g], path: %s, rotate: {interval: 100ms}}}\n",
                       tmp, at("age/ev.jsonl")), 0);
    int files;
    CHECK_INT(lines_in_dir(at("age"), &files), 40);
    CHECK(files >= 2);
}

int main(void) {
    snprintf(tmp, sizeof tmp, "/tmp/sluice-test-io-XXXXXX");
    if (!mkdtemp(tmp)) return 1;
    sl_log_set_level(SL_LOG_WARN);
    RUN(test_generate_deterministic);
    RUN(test_file_source_framing);
    RUN(test_file_source_gzip_and_csv);
    RUN(test_file_source_no_match);
    RUN(test_file_source_read_error);
    RUN(test_csv_oversized_row);
    RUN(test_stdin_source);
    RUN(test_file_sink_templates);
    RUN(test_file_sink_csv);
    RUN(test_file_sink_compressed);
    RUN(test_file_sink_rotation);
    RUN(test_file_sink_many_files);
    RUN(test_file_sink_rotation_by_age);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (!check_failures && getenv("KEEP") == NULL && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    return check_report();
}
