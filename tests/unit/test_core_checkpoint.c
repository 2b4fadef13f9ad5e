/* test_core_checkpoint.c — checkpoint files: round trip, generations, and
 * every kind of damage (zeroed, truncated, bit flip, deleted) falls back to
 * the previous generation or to none, never to a wrong document.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/checkpoint.h"

static char dir[64];

static void damage(const char *name, const char *how)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL);
    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    if (strcmp(how, "zero") == 0) {
        fseek(f, 0, SEEK_SET);
        for (long i = 0; i < n; i++)
            fputc(0, f);
    } else if (strcmp(how, "flip") == 0) {
        fseek(f, n - 3, SEEK_SET);
        int c = fgetc(f);
        fseek(f, n - 3, SEEK_SET);
        fputc(c ^ 0x20, f);
    }
    fclose(f);
    if (strcmp(how, "truncate") == 0)
        CHECK(truncate(path, n - 5) == 0);
    if (strcmp(how, "delete") == 0)
        CHECK(unlink(path) == 0);
}

static void test_generations(void)
{
    sl_error err;
    sl_buf doc;
    sl_buf_init(&doc);
    char problem[256];
    CHECK(sl_checkpoint_load(dir, &doc, NULL, NULL, problem) == SL_CHECKPOINT_NONE);
    CHECK_STR(problem, "");                        /* a first start is not a problem */
    CHECK(sl_checkpoint_write(dir, "{\"n\":1}", 7, &err) == 0);
    CHECK(sl_checkpoint_load(dir, &doc, NULL, NULL, problem) == SL_CHECKPOINT_NEWEST);
    CHECK_MEM(doc.data, doc.len, "{\"n\":1}");
    CHECK(sl_checkpoint_write(dir, "{\"n\":2}", 7, &err) == 0);
    CHECK(sl_checkpoint_load(dir, &doc, NULL, NULL, problem) == SL_CHECKPOINT_NEWEST);
    CHECK_MEM(doc.data, doc.len, "{\"n\":2}");
    sl_buf_free(&doc);
}

static void test_damage_falls_back(void)
{
    const char *hows[] = {"zero", "truncate", "flip", "delete"};
    const char *says[] = {"bad header", "truncated", "checksum mismatch", "missing"};
    for (int i = 0; i < 4; i++) {
        sl_error err;
        sl_buf doc;
        sl_buf_init(&doc);
        char problem[256];
        CHECK(sl_checkpoint_write(dir, "{\"gen\":\"old\"}", 13, &err) == 0);
        CHECK(sl_checkpoint_write(dir, "{\"gen\":\"new\"}", 13, &err) == 0);
        damage("checkpoint", hows[i]);
        CHECK(sl_checkpoint_load(dir, &doc, NULL, NULL, problem) == SL_CHECKPOINT_PREVIOUS);
        CHECK_MEM(doc.data, doc.len, "{\"gen\":\"old\"}");
        CHECK(strstr(problem, says[i]) != NULL);
        /* Both generations damaged: none, and it says so. */
        damage("checkpoint.prev", "zero");
        CHECK(sl_checkpoint_load(dir, &doc, NULL, NULL, problem) == SL_CHECKPOINT_NONE);
        CHECK_INT(doc.len, 0);
        CHECK(strstr(problem, "starting from the beginning") != NULL);
        sl_buf_free(&doc);
    }
}

static bool reject_new(const sl_buf *doc, void *arg, char *why, size_t cap)
{
    (void)arg;
    if (doc->len && memmem(doc->data, doc->len, "new", 3)) {
        snprintf(why, cap, "malformed body");
        return false;
    }
    return true;
}

/* A directory where the newest generation belongs, or a body the caller
 * cannot use (its checksum matches), falls back to the previous one; the
 * next write moves the directory aside instead of failing. */
static void test_not_a_file_and_bad_body_fall_back(void)
{
    sl_error err;
    sl_buf doc;
    sl_buf_init(&doc);
    char problem[256], path[128];
    CHECK(sl_checkpoint_write(dir, "{\"gen\":\"old\"}", 13, &err) == 0);
    CHECK(sl_checkpoint_write(dir, "{\"gen\":\"new\"}", 13, &err) == 0);
    CHECK(sl_checkpoint_load(dir, &doc, reject_new, NULL, problem) == SL_CHECKPOINT_PREVIOUS);
    CHECK_MEM(doc.data, doc.len, "{\"gen\":\"old\"}");
    CHECK(strstr(problem, "malformed body") != NULL);

    snprintf(path, sizeof path, "%s/checkpoint", dir);
    CHECK(unlink(path) == 0);
    CHECK(mkdir(path, 0755) == 0);
    CHECK(sl_checkpoint_load(dir, &doc, NULL, NULL, problem) == SL_CHECKPOINT_PREVIOUS);
    CHECK(strstr(problem, "not a file") != NULL);
    CHECK(sl_checkpoint_write(dir, "{\"gen\":\"3rd\"}", 13, &err) == 0);
    CHECK(sl_checkpoint_load(dir, &doc, NULL, NULL, problem) == SL_CHECKPOINT_NEWEST);
    CHECK_MEM(doc.data, doc.len, "{\"gen\":\"3rd\"}");
    /* checkpoint.prev a directory too */
    snprintf(path, sizeof path, "%s/checkpoint.prev", dir);
    CHECK(unlink(path) == 0);
    CHECK(mkdir(path, 0755) == 0);
    CHECK(sl_checkpoint_write(dir, "{\"gen\":\"4th\"}", 13, &err) == 0);
    CHECK(sl_checkpoint_load(dir, &doc, NULL, NULL, problem) == SL_CHECKPOINT_NEWEST);
    CHECK_MEM(doc.data, doc.len, "{\"gen\":\"4th\"}");
    sl_buf_free(&doc);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/sluice-ckpt-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    RUN(test_generations);
    RUN(test_damage_falls_back);
    RUN(test_not_a_file_and_bad_body_fall_back);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return check_report();
}
