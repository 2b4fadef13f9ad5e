/* dlq.c — `sluice dlq summary|show PATH`: what is in a dead-letter queue
 * before deciding what to replay.
 *
 * summary counts entries by reason, component and source, and by reason,
 * component and message class together (sl_dlq_message_class: the message
 * with numbers and quoted values replaced, so that 700 contract violations
 * split into the rules they broke), with the oldest and newest entry time,
 * as tables on stdout. show prints the entries themselves, selected the
 * same way (--reason, --component, --class), up to --limit, readable or as
 * the JSON lines they are. Lines that are not DLQ entries are counted as
 * unreadable and the first few are named; they never stop either command.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/decode_error.h"
#include "../core/util.h"
#include "../runtime/dlq_read.h"
#include "cli.h"

#define UNREADABLE_SHOWN 5
#define SHOW_DEFAULT_LIMIT 20
#define RAW_SHOWN 240        /* bytes of a record `show` prints */
#define KEY_SEPARATOR '\x1f' /* between the parts of a reason/component/class key */

/* ---- tallies ---- */

typedef struct tally_row {
    char *name;
    uint64_t count;
} tally_row;

typedef struct tally {
    tally_row *rows;
    size_t n, cap;
} tally;

static void tally_add(tally *t, const char *name)
{
    if (!name) name = "(none)";
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->rows[i].name, name) == 0) {
            t->rows[i].count++;
            return;
        }
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 16;
        t->rows = realloc(t->rows, t->cap * sizeof *t->rows);
        if (!t->rows) abort();
    }
    t->rows[t->n].name = strdup(name);
    if (!t->rows[t->n].name) abort();
    t->rows[t->n++].count = 1;
}

/* Most entries first, then by name. */
static int compare_rows(const void *a, const void *b)
{
    const tally_row *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return strcmp(x->name, y->name);
}

static void tally_print(tally *t, const char *title)
{
    qsort(t->rows, t->n, sizeof *t->rows, compare_rows);
    size_t width = strlen(title);
    for (size_t i = 0; i < t->n; i++)
        if (strlen(t->rows[i].name) > width) width = strlen(t->rows[i].name);
    printf("\n%-*s  %10s\n", (int)width, title, "entries");
    for (size_t i = 0; i < t->n; i++) printf("%-*s  %10" PRIu64 "\n", (int)width, t->rows[i].name, t->rows[i].count);
}

/* The reason/component/class table: its keys are the three joined by
 * KEY_SEPARATOR, printed as columns with the class last. */
static void class_table_print(tally *t)
{
    qsort(t->rows, t->n, sizeof *t->rows, compare_rows);
    int wr = (int)strlen("reason"), wc = (int)strlen("component");
    for (size_t i = 0; i < t->n; i++) {
        const char *a = t->rows[i].name, *b = strchr(a, KEY_SEPARATOR), *c = strchr(b + 1, KEY_SEPARATOR);
        if (b - a > wr) wr = (int)(b - a);
        if (c - b - 1 > wc) wc = (int)(c - b - 1);
    }
    printf("\n%10s  %-*s  %-*s  %s\n", "entries", wr, "reason", wc, "component", "class");
    for (size_t i = 0; i < t->n; i++) {
        const char *a = t->rows[i].name, *b = strchr(a, KEY_SEPARATOR), *c = strchr(b + 1, KEY_SEPARATOR);
        printf("%10" PRIu64 "  %-*.*s  %-*.*s  %s\n", t->rows[i].count, wr, (int)(b - a), a, wc, (int)(c - b - 1),
               b + 1, c + 1);
    }
}

static void tally_free(tally *t)
{
    for (size_t i = 0; i < t->n; i++) free(t->rows[i].name);
    free(t->rows);
}

/* ---- reading entries ---- */

/* Which entries a command looks at (NULL: any). */
typedef struct selection {
    const char *reason, *component, *class_part;
} selection;

/* What the commands do with each selected entry: line is the entry as
 * written, class its message class, path the file it is in. */
typedef void (*entry_fn)(void *ctx, const char *path, sl_arena *a, sl_dlq_record *e, const char *line,
                         size_t len, const char *class_text);

typedef struct scan {
    selection sel;
    entry_fn fn;
    void *ctx;
    uint64_t unreadable;
} scan;

static bool same(const char *want, const char *got)
{
    return !want || (got && strcmp(want, got) == 0);
}

/* Hands one file's selected entries to the callback; -1 (after printing
 * why) when it cannot be read to its end. */
static int scan_file(scan *s, const char *path)
{
    sl_error err = {0};
    sl_dlq_lines *lines = sl_dlq_lines_open(path, &err);
    if (!lines) {
        fprintf(stderr, "sluice: %s\n", err.msg);
        return -1;
    }
    sl_arena arena;
    sl_arena_init(&arena, 16 * 1024);
    sl_buf class_text;
    sl_buf_init(&class_text);
    const char *line;
    size_t len;
    uint64_t offset;
    int rc;
    while ((rc = sl_dlq_lines_next(lines, &line, &len, &offset, &err)) > 0) {
        sl_arena_reset(&arena);
        sl_dlq_record e;
        if (sl_dlq_parse(&arena, line, len, &e, &err) < 0) {
            if (s->unreadable++ < UNREADABLE_SHOWN)
                fprintf(stderr, "sluice: %s: unreadable line at byte %" PRIu64 ": %s\n", path, offset, err.msg);
            continue;
        }
        class_text.len = 0;
        sl_dlq_message_class(e.message, &class_text);
        sl_buf_putc(&class_text, '\0');
        if (!same(s->sel.reason, e.reason) || !same(s->sel.component, e.component) ||
            (s->sel.class_part && !strstr(class_text.data, s->sel.class_part)))
            continue;
        s->fn(s->ctx, path, &arena, &e, line, len, class_text.data);
    }
    if (rc < 0) fprintf(stderr, "sluice: %s\n", err.msg);
    sl_buf_free(&class_text);
    sl_arena_free(&arena);
    sl_dlq_lines_close(lines);
    return rc < 0 ? -1 : 0;
}

/* Scans every file path stands for. Returns SL_EXIT_OK, SL_EXIT_FAILED when
 * a file could not be read to its end, SL_EXIT_USAGE (after printing why)
 * when path cannot be listed; *n_files is how many files it stands for. */
static int scan_path(scan *s, const char *path, size_t *n_files)
{
    sl_error err = {0};
    char **files;
    if (sl_dlq_find_files(path, &files, n_files, &err) < 0) {
        fprintf(stderr, "sluice: %s\n", err.msg);
        return SL_EXIT_USAGE;
    }
    int failed = 0;
    for (size_t i = 0; i < *n_files; i++) failed |= scan_file(s, files[i]) < 0;
    sl_dlq_free_files(files, *n_files);
    return failed ? SL_EXIT_FAILED : SL_EXIT_OK;
}

/* ---- summary ---- */

typedef struct summary {
    tally reasons, components, sources, classes;
    uint64_t entries, truncated;
    char *oldest, *newest;
    int64_t oldest_ns, newest_ns;
    sl_buf key;
} summary;

/* Keeps the earliest (want < 0) or the latest (want > 0) entry time, as
 * parsed nanoseconds with the text as written. Times that do not parse are
 * left out. */
static void note_time(int64_t *best, char **text, const char *time, int want)
{
    int64_t ns;
    if (!sl_parse_rfc3339(time, strlen(time), &ns)) return;
    if (*text && (ns > *best ? 1 : ns < *best ? -1 : 0) * want <= 0) return;
    *best = ns;
    free(*text);
    *text = strdup(time);
    if (!*text) abort();
}

static void count_entry(void *ctx, const char *path, sl_arena *a, sl_dlq_record *e, const char *line, size_t len,
                        const char *class_text)
{
    (void)path, (void)a, (void)line, (void)len;
    summary *s = ctx;
    s->entries++;
    s->truncated += e->raw_truncated;
    tally_add(&s->reasons, e->reason);
    tally_add(&s->components, e->component);
    tally_add(&s->sources, e->source);
    s->key.len = 0;
    sl_buf_printf(&s->key, "%s%c%s%c%s", e->reason, KEY_SEPARATOR, e->component ? e->component : "(none)",
                  KEY_SEPARATOR, class_text);
    tally_add(&s->classes, s->key.data);
    if (e->time) {
        note_time(&s->oldest_ns, &s->oldest, e->time, -1);
        note_time(&s->newest_ns, &s->newest, e->time, 1);
    }
}

static int summary_command(const char *path, const selection *sel)
{
    summary s = {0};
    sl_buf_init(&s.key);
    scan sc = {.sel = *sel, .fn = count_entry, .ctx = &s};
    size_t n;
    int rc = scan_path(&sc, path, &n);
    if (rc != SL_EXIT_USAGE) {
        printf("%s: %" PRIu64 " entr%s in %zu file%s\n", path, s.entries, s.entries == 1 ? "y" : "ies", n,
               n == 1 ? "" : "s");
        if (s.oldest) printf("oldest: %s\nnewest: %s\n", s.oldest, s.newest);
        printf("truncated (not replayable): %" PRIu64 "\n", s.truncated);
        printf("unreadable lines: %" PRIu64 "\n", sc.unreadable);
        if (s.entries > 0) {
            tally_print(&s.reasons, "reason");
            tally_print(&s.components, "component");
            tally_print(&s.sources, "source");
            class_table_print(&s.classes);
        }
    }
    tally_free(&s.reasons);
    tally_free(&s.components);
    tally_free(&s.sources);
    tally_free(&s.classes);
    sl_buf_free(&s.key);
    free(s.oldest);
    free(s.newest);
    return rc;
}

/* ---- show ---- */

typedef struct show {
    uint64_t limit, shown, matched;
    bool json;
} show;

static void print_raw(const char *path, sl_arena *a, sl_dlq_record *e)
{
    sl_error err = {0};
    if (sl_dlq_load_raw(a, path, e, &err) < 0) {
        printf("  raw:       (%s)\n", err.msg);
        return;
    }
    if (!e->raw) {
        printf("  raw:       (none)\n");
        return;
    }
    char text[RAW_SHOWN];
    sl_decode_error_excerpt(text, sizeof text, e->raw, e->raw_len);
    printf("  raw:       %s\n  raw bytes: %zu%s%s\n", text, e->raw_len,
           e->raw_file ? " (in the side file)" : "",
           e->raw_truncated ? " (only the head of the record: not replayable)" : "");
}

static void show_entry(void *ctx, const char *path, sl_arena *a, sl_dlq_record *e, const char *line, size_t len,
                       const char *class_text)
{
    show *sh = ctx;
    sh->matched++;
    if (sh->limit && sh->shown >= sh->limit) return;
    sh->shown++;
    if (sh->json) {
        fwrite(line, 1, len, stdout);
        putchar('\n');
        return;
    }
    printf("%s%s  %s  from %s (source %s)\n", sh->shown > 1 ? "\n" : "", e->time ? e->time : "(no time)",
           e->reason, e->component ? e->component : "(none)", e->source ? e->source : "(none)");
    printf("  origin:    %s, position %" PRIu64 ":%" PRIu64 "\n", e->origin ? e->origin : "(none)", e->pos.file_id,
           e->pos.offset);
    if (e->replay_origin)
        printf("  replayed:  from %s, position %" PRIu64 ":%" PRIu64 "\n", e->replay_origin, e->replay_pos.file_id,
               e->replay_pos.offset);
    printf("  message:   %s\n  class:     %s\n", e->message ? e->message : "", class_text);
    print_raw(path, a, e);
}

static int show_command(const char *path, const selection *sel, uint64_t limit, bool json)
{
    show sh = {.limit = limit, .json = json};
    scan sc = {.sel = *sel, .fn = show_entry, .ctx = &sh};
    size_t n;
    int rc = scan_path(&sc, path, &n);
    if (rc != SL_EXIT_USAGE && !json)
        printf("%s%" PRIu64 " of %" PRIu64 " matching entr%s shown%s\n", sh.shown ? "\n" : "", sh.shown,
               sh.matched, sh.matched == 1 ? "y" : "ies",
               sh.shown < sh.matched ? " (--limit N shows more, --limit 0 all)" : "");
    return rc;
}

/* ---- the command line ---- */

/* The value of `--name V` or `--name=V` at argv[*i] (moving *i past it);
 * NULL when argv[*i] is not that flag. *missing is set when V is absent. */
static const char *flag_value(const char *name, int argc, char **argv, int *i, bool *missing)
{
    size_t n = strlen(name);
    const char *arg = argv[*i];
    if (strncmp(arg, name, n) != 0) return NULL;
    if (arg[n] == '=') return arg + n + 1;
    if (arg[n] != '\0') return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

int sl_cmd_dlq(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        sl_cli_command_help("dlq", stdout);
        return SL_EXIT_OK;
    }
    if (argc < 2 || (strcmp(argv[1], "summary") != 0 && strcmp(argv[1], "show") != 0))
        return sl_cli_usage_error("dlq", "expected 'dlq summary DIR_OR_FILE' or 'dlq show DIR_OR_FILE'");
    bool is_show = strcmp(argv[1], "show") == 0, json = false;
    selection sel = {0};
    uint64_t limit = SHOW_DEFAULT_LIMIT;
    const char *path = NULL;
    for (int i = 2; i < argc; i++) {
        bool missing = false;
        const char *v;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            sl_cli_command_help("dlq", stdout);
            return SL_EXIT_OK;
        } else if ((v = flag_value("--reason", argc, argv, &i, &missing))) {
            sel.reason = v;
        } else if ((v = flag_value("--component", argc, argv, &i, &missing))) {
            sel.component = v;
        } else if ((v = flag_value("--class", argc, argv, &i, &missing))) {
            sel.class_part = v;
        } else if (is_show && (v = flag_value("--limit", argc, argv, &i, &missing))) {
            char *end;
            limit = strtoull(v, &end, 10);
            if (!*v || *end || v[0] == '-')
                return sl_cli_usage_error("dlq", "--limit takes a number of entries (0 for all), got '%s'", v);
        } else if (is_show && strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (missing) {
            return sl_cli_usage_error("dlq", "%s needs a value", argv[i]);
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return sl_cli_usage_error("dlq", "unknown option '%s' for 'dlq %s'", argv[i], argv[1]);
        } else if (path) {
            return sl_cli_usage_error("dlq", "'dlq %s' takes one DLQ file or directory, got '%s' and '%s'",
                                      argv[1], path, argv[i]);
        } else {
            path = argv[i];
        }
    }
    if (!path) return sl_cli_usage_error("dlq", "'dlq %s' needs a DLQ file or directory", argv[1]);
    return is_show ? show_command(path, &sel, limit, json) : summary_command(path, &sel);
}
