/* test_engine_owned_files.c — the journal of files a sink created and
 * rotated (sinks/owned_files.h): resuming from an older checkpoint removes
 * the files created after it and moves rotated ones back; a torn last entry
 * is ignored; with no usable checkpoint the files are moved aside, not
 * removed; a first run keeps them.
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "temp_files.h"
#include "sinks/owned_files.h"

static void test_undo_and_set_aside(void)
{
    char journal[128], a[128], a1[128], b[128];
    snprintf(journal, sizeof journal, "%s", path(".journal"));
    snprintf(a, sizeof a, "%s", path("a"));
    snprintf(a1, sizeof a1, "%s", path("a.1"));
    snprintf(b, sizeof b, "%s", path("b"));
    sl_error err = {0};
    sl_owned_files o;
    sl_owned_init(&o);
    sl_owned_keep(&o, journal);

    /* checkpoint 1 creates a; checkpoint 2 rotates a to a.1 and creates b */
    sl_owned_note_create(&o, a);
    CHECK(sl_owned_sync(&o, &err) == 0);
    uint64_t at_1 = sl_owned_length(&o);
    put("a", "old a\n");
    sl_owned_note_rotate(&o, a, a1);
    sl_owned_note_create(&o, b);
    CHECK(sl_owned_sync(&o, &err) == 0);
    CHECK(rename(a, a1) == 0);
    put("a", "new a\n");
    put("b", "b\n");
    /* a crash tore the next entry */
    FILE *f = fopen(journal, "a");
    CHECK(f != NULL);
    if (f) {
        fputs("0badc0de {\"create\":\"x", f);
        fclose(f);
    }

    /* Resuming from checkpoint 1: b goes, a.1 is a again. */
    CHECK(sl_owned_reconcile(&o, SL_OWNED_RESUME, at_1, "test", &err) == 0);
    CHECK_STR(get("a"), "old a\n");
    CHECK_STR(get("a.1"), "(none)");
    CHECK_STR(get("b"), "(none)");
    struct stat st;
    CHECK(stat(journal, &st) == 0 && (uint64_t)st.st_size == at_1);

    /* A first run keeps the files (and the journal). */
    CHECK(sl_owned_reconcile(&o, SL_OWNED_KEEP, 0, "test", &err) == 0);
    CHECK_STR(get("a"), "old a\n");
    CHECK(stat(journal, &st) == 0 && (uint64_t)st.st_size == at_1);

    /* Checkpoints, none usable: a is moved aside, whole. */
    CHECK(sl_owned_reconcile(&o, SL_OWNED_SET_ASIDE, 0, "test", &err) == 0);
    CHECK_STR(get("a"), "(none)");
    char pattern[160];
    snprintf(pattern, sizeof pattern, "%s", path("a.aside-*"));
    glob_t g;
    CHECK(glob(pattern, 0, NULL, &g) == 0 && g.gl_pathc == 1);
    if (g.gl_pathc == 1) {
        f = fopen(g.gl_pathv[0], "r");
        char line[32] = "";
        CHECK(f && fgets(line, sizeof line, f));
        CHECK_STR(line, "old a\n");
        if (f)
            fclose(f);
    }
    globfree(&g);
    CHECK(stat(journal, &st) == 0 && st.st_size == 0);
    sl_owned_free(&o);
}

int main(void)
{
    if (temp_dir_make("sluice-owned") < 0)
        return 1;
    RUN(test_undo_and_set_aside);
    if (temp_dir_remove() != 0)
        return 1;
    return check_report();
}
