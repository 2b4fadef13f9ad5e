/* dlq.c — `sluice dlq summary PATH`: what is in a dead-letter queue before
 * deciding what to replay. Counts entries by reason, component and source,
 * with the oldest and newest entry time, as tables on stdout. Lines that are
 * not DLQ entries are counted as unreadable and the first few are named;
 * they never stop the count.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../core/util.h"
#include "../runtime/dlq_read.h"
#include "cli.h"

#define UNREADABLE_SHOWN 5

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

static void tally_free(tally *t)
{
    for (size_t i = 0; i < t->n; i++) free(t->rows[i].name);
    free(t->rows);
}

typedef struct summary {
    tally reasons, components, sources;
    uint64_t entries, truncated, unreadable;
    char *oldest, *newest;
    int64_t oldest_ns, newest_ns;
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

/* Counts one file's entries; -1 (after printing why) when it cannot be read. */
static int count_file(summary *s, const char *path)
{
    sl_error err = {0};
    sl_dlq_lines *lines = sl_dlq_lines_open(path, &err);
    if (!lines) {
        fprintf(stderr, "sluice: %s\n", err.msg);
        return -1;
    }
    sl_arena arena;
    sl_arena_init(&arena, 16 * 1024);
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
        s->entries++;
        s->truncated += e.raw_truncated;
        tally_add(&s->reasons, e.reason);
        tally_add(&s->components, e.component);
        tally_add(&s->sources, e.source);
        if (e.time) {
            note_time(&s->oldest_ns, &s->oldest, e.time, -1);
            note_time(&s->newest_ns, &s->newest, e.time, 1);
        }
    }
    if (rc < 0) fprintf(stderr, "sluice: %s\n", err.msg);
    sl_arena_free(&arena);
    sl_dlq_lines_close(lines);
    return rc < 0 ? -1 : 0;
}

static int summary_command(const char *path)
{
    sl_error err = {0};
    char **files;
    size_t n;
    if (sl_dlq_find_files(path, &files, &n, &err) < 0) {
        fprintf(stderr, "sluice: %s\n", err.msg);
        return SL_EXIT_USAGE;
    }
    summary s = {0};
    int failed = 0;
    for (size_t i = 0; i < n; i++) failed |= count_file(&s, files[i]) < 0;

    printf("%s: %" PRIu64 " entr%s in %zu file%s\n", path, s.entries, s.entries == 1 ? "y" : "ies", n,
           n == 1 ? "" : "s");
    if (s.oldest) printf("oldest: %s\nnewest: %s\n", s.oldest, s.newest);
    printf("truncated (not replayable): %" PRIu64 "\n", s.truncated);
    printf("unreadable lines: %" PRIu64 "\n", s.unreadable);
    if (s.entries > 0) {
        tally_print(&s.reasons, "reason");
        tally_print(&s.components, "component");
        tally_print(&s.sources, "source");
    }

    tally_free(&s.reasons);
    tally_free(&s.components);
    tally_free(&s.sources);
    free(s.oldest);
    free(s.newest);
    sl_dlq_free_files(files, n);
    return failed ? SL_EXIT_FAILED : SL_EXIT_OK;
}

int sl_cmd_dlq(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        sl_cli_command_help("dlq", stdout);
        return SL_EXIT_OK;
    }
    if (argc != 3 || strcmp(argv[1], "summary") != 0)
        return sl_cli_usage_error("dlq", "expected 'dlq summary DIR_OR_FILE'");
    return summary_command(argv[2]);
}
