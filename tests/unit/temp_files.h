/* temp_files.h — a unit test's files in a temporary directory of its own:
 * names made into paths, small files written and read back as strings.
 * Header-only, like check.h; a test calls temp_dir_make first and
 * temp_dir_remove last.
 */
#ifndef SL_TEST_TEMP_FILES_H
#define SL_TEST_TEMP_FILES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char temp_dir[64];

static inline int temp_dir_make(const char *prefix)
{
    snprintf(temp_dir, sizeof temp_dir, "/tmp/%s-XXXXXX", prefix);
    return mkdtemp(temp_dir) ? 0 : -1;
}

static inline int temp_dir_remove(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", temp_dir);
    return system(cmd);
}

/* The path of `name` in the directory (eight results live at once). */
static inline const char *path(const char *name)
{
    static char p[8][128];
    static int i;
    i = (i + 1) % 8;
    snprintf(p[i], sizeof p[i], "%s/%s", temp_dir, name);
    return p[i];
}

/* Writes text to file `name` (a test that cannot is stopped there). */
static inline void put(const char *name, const char *text)
{
    FILE *f = fopen(path(name), "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(path(name));
        abort();
    }
}

/* The contents of file `name` (up to 127 bytes; eight results live at
 * once), or "(none)" when it does not exist. */
static inline const char *get(const char *name)
{
    static char got[8][128];
    static int i;
    i = (i + 1) % 8;
    FILE *f = fopen(path(name), "r");
    if (!f)
        return "(none)";
    size_t n = fread(got[i], 1, sizeof got[i] - 1, f);
    got[i][n] = '\0';
    fclose(f);
    return got[i];
}

#endif
