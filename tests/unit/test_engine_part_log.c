/* test_engine_part_log.c — publishing a checkpoint's parts (sinks/part_log.h)
 * when one checkpoint appends to a file and then rotates it: the append is
 * finished (its part removed) before the rotation, and a replay of what a
 * crash left between the append and the removal of its part publishes the
 * checkpoint exactly once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "sinks/part_log.h"

static char dir[64];

static const char *path(const char *name)
{
    static char p[8][128];
    static int i;
    i = (i + 1) % 8;
    snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
    return p[i];
}

static void put(const char *name, const char *text)
{
    FILE *f = fopen(path(name), "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static const char *get(const char *name)
{
    static char got[64];
    FILE *f = fopen(path(name), "r");
    if (!f)
        return "(none)";
    size_t n = fread(got, 1, sizeof got - 1, f);
    got[n] = '\0';
    fclose(f);
    return got;
}

/* One checkpoint's steps: part p1 appended to f (which held "AAAA"), then f
 * rotated to f.1 and part p2 published as the new f. */
static char *state_json(void)
{
    char *s;
    if (asprintf(&s,
                 "{\"publish\":[{\"file_size\":4,\"bytes\":4,\"part\":\"%s\",\"file\":\"%s\"},"
                 "{\"file_size\":0,\"bytes\":3,\"part\":\"%s\",\"file\":\"%s\",\"rotate_to\":\"%s\"}],"
                 "\"sizes\":[{\"size\":3,\"file\":\"%s\"}]}",
                 path(".f.1.inprogress"), path("f"), path(".f.2.inprogress"), path("f"), path("f.1"),
                 path("f")) < 0)
        abort();
    return s;
}

static void test_append_then_rotate(void)
{
    put("f", "AAAA");
    put(".f.1.inprogress", "BBBB");
    put(".f.2.inprogress", "CCC");
    char *state = state_json();
    sl_part_log log;
    sl_part_log_init(&log);
    sl_error err = {0};
    CHECK_INT(sl_part_log_commit(&log, state, strlen(state), &err), 0);
    CHECK_STR(err.msg, "");
    CHECK_STR(get("f.1"), "AAAABBBB");
    CHECK_STR(get("f"), "CCC");
    CHECK_STR(get(".f.1.inprogress"), "(none)");
    CHECK_STR(get(".f.2.inprogress"), "(none)");
    /* Publishing again (a crash after it, before the checkpoint moved on)
     * changes nothing. */
    CHECK_INT(sl_part_log_commit(&log, state, strlen(state), &err), 0);
    CHECK_STR(get("f.1"), "AAAABBBB");
    CHECK_STR(get("f"), "CCC");
    sl_part_log_free(&log);
    free(state);
}

static void test_replay_after_crash_before_rotation(void)
{
    /* A crash after p1 was appended to f, before its part was removed and
     * so before f was rotated: the replay cuts f back, appends p1 again,
     * then rotates f and publishes p2. */
    put("f", "AAAABBBB");
    unlink(path("f.1"));
    put(".f.1.inprogress", "BBBB");
    put(".f.2.inprogress", "CCC");
    char *state = state_json();
    sl_part_log log;
    sl_part_log_init(&log);
    sl_error err = {0};
    CHECK_INT(sl_parts_recover(&log, state, strlen(state), false, path(".f.*.inprogress"), "test", &err), 0);
    CHECK_STR(err.msg, "");
    CHECK_STR(get("f.1"), "AAAABBBB");
    CHECK_STR(get("f"), "CCC");
    CHECK_STR(get(".f.1.inprogress"), "(none)");
    CHECK_STR(get(".f.2.inprogress"), "(none)");
    sl_part_log_free(&log);
    free(state);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/sl-part-log-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    RUN(test_append_then_rotate);
    RUN(test_replay_after_crash_before_rotation);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
    return check_report();
}
