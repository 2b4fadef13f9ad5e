/* test_engine_part_log.c — publishing a checkpoint's bundle (sinks/bundle.h,
 * sinks/part_log.h): the bytes of many files, interleaved and spread over
 * several frames, land in each file in order (small parts of many files
 * too, across the frame's chunks); and a replay of what a crash
 * left at each point of a commit (after the bundle was sealed but before the
 * checkpoint, in the middle of the copy, after the copy before the bundle was
 * deleted, around a rotation) publishes the checkpoint exactly once.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "temp_files.h"
#include "core/buf.h"
#include "sinks/bundle.h"
#include "sinks/part_log.h"

static void append(sl_bundle *b, uint32_t step, const char *text)
{
    sl_error err = {0};
    CHECK_INT(sl_bundle_append(b, step, text, strlen(text), &err), 0);
}

/* Seals bundle b, frees it, adds it to log and returns the log's state
 * (that of a checkpoint covering it); *size: the bundle's bytes. */
static char *seal_into(sl_part_log *log, sl_bundle *b, uint64_t *size)
{
    sl_error err = {0};
    CHECK_INT(sl_bundle_seal(b, &err), 0);
    CHECK_STR(err.msg, "");
    char *bundle;
    sl_part_step *steps;
    size_t n;
    sl_bundle_take(b, &bundle, size, &steps, &n);
    sl_bundle_free(b);
    sl_part_log_add(log, bundle, *size, false, steps, n);
    sl_buf state;
    sl_buf_init(&state);
    CHECK_INT(sl_part_log_save(log, &state, &err), 0);
    return sl_buf_steal(&state, NULL);
}

/* The state of a checkpoint covering one sealed bundle, "b.inprogress":
 * f (which held "AAAA") gets "BBBB" and g (new) gets "CCC", interleaved;
 * with `rotate`, f then rotates to f.1 and starts anew with "DDD". A frame
 * holds 64 KiB, so the 70,000 bytes of padding in g make three frames. */
static char *seal(sl_part_log *log, bool rotate, const char *pad)
{
    sl_bundle b;
    sl_bundle_init(&b, 0);
    sl_error err = {0};
    CHECK_INT(sl_bundle_open(&b, path("b.inprogress"), false, &err), 0);
    uint32_t f = sl_bundle_step(&b, path("f"), 4, NULL);
    uint32_t g = sl_bundle_step(&b, path("g"), 0, NULL);
    append(&b, f, "BB");
    append(&b, g, "C");
    append(&b, g, pad);
    append(&b, f, "B");
    append(&b, g, "CC");
    append(&b, f, "B");
    if (rotate) {
        uint32_t f2 = sl_bundle_step(&b, path("f"), 0, path("f.1"));
        append(&b, f2, "DDD");
    }
    uint64_t size;
    return seal_into(log, &b, &size);
}

static char *g_text(const char *pad)
{
    char *s;
    if (asprintf(&s, "C%sCC", pad) < 0)
        abort();
    return s;
}

static char pad[70001];

/* Whether file `name` holds exactly `want`. */
static bool holds(const char *name, const char *want)
{
    static char got[80000];
    FILE *f = fopen(path(name), "r");
    size_t n = f ? fread(got, 1, sizeof got - 1, f) : 0;
    got[n] = '\0';
    if (f)
        fclose(f);
    return f && n == strlen(want) && memcmp(got, want, n) == 0;
}

static void test_commit_publishes_each_file_in_order(void)
{
    put("f", "AAAA");
    unlink(path("g"));
    sl_part_log log;
    sl_part_log_init(&log);
    char *state = seal(&log, false, pad);
    CHECK(strstr(state, "\"bundles\":[{") != NULL);
    sl_error err = {0};
    CHECK_INT(sl_part_log_commit(&log, state, strlen(state), &err), 0);
    CHECK_STR(err.msg, "");
    char *want_g = g_text(pad);
    CHECK_STR(get("f"), "AAAABBBB");
    CHECK(holds("g", want_g));
    CHECK_STR(get("b.inprogress"), "(none)");
    CHECK_INT((int)log.count, 0);
    /* Committing again (a crash after it, before the checkpoint moved on)
     * changes nothing: the bundle is gone, so it was applied. */
    CHECK_INT(sl_part_log_commit(&log, state, strlen(state), &err), 0);
    CHECK_STR(get("f"), "AAAABBBB");
    free(want_g);
    free(state);
    sl_part_log_free(&log);
}

/* Many files, each given small parts of varying sizes in turn (as a batch
 * spread over a thousand files gives them): parts cross chunk and frame
 * boundaries, and a step's chunks are not next to each other in a frame.
 * Half the files exist (their steps share chunks, and are copied at the
 * commit), half start in the bundle (chunks of their own; side files when
 * they bring enough to a frame). Each file holds what it held and then
 * exactly its parts, in order. */
static void test_small_parts_of_many_files_land_in_order(void)
{
    enum { FILES = 40, PARTS = 6000 };
    static char want[FILES][64 * 1024];
    size_t len[FILES];
    char names[FILES][16];
    sl_bundle b;
    sl_bundle_init(&b, 0);   /* frames of 32 KiB: eight chunks */
    sl_error err = {0};
    CHECK_INT(sl_bundle_open(&b, path("b.inprogress"), false, &err), 0);
    uint32_t step[FILES];
    for (int f = 0; f < FILES; f++) {
        snprintf(names[f], sizeof names[f], "m%02d", f);
        len[f] = f % 2;
        if (len[f]) {
            put(names[f], "<");
            want[f][0] = '<';
        } else {
            unlink(path(names[f]));
        }
        step[f] = sl_bundle_step(&b, path(names[f]), len[f], NULL);
    }
    uint32_t seed = 7;
    char part[3000];
    for (int i = 0; i < PARTS; i++) {
        seed = seed * 1103515245u + 12345u;
        int f = (int)(seed >> 8) % FILES;
        size_t n = 1 + (seed >> 16) % (f % 4 == 0 ? sizeof part : 300);
        if (len[f] + n >= sizeof want[f]) continue;
        for (size_t k = 0; k < n; k++) part[k] = (char)('a' + (i + k) % 26);
        memcpy(want[f] + len[f], part, n);
        len[f] += n;
        CHECK_INT(sl_bundle_append(&b, step[f], part, n, &err), 0);
    }
    sl_part_log log;
    sl_part_log_init(&log);
    uint64_t size;
    char *text = seal_into(&log, &b, &size);
    CHECK_INT(sl_part_log_commit(&log, text, strlen(text), &err), 0);
    CHECK_STR(err.msg, "");
    for (int f = 0; f < FILES; f++) {
        want[f][len[f]] = '\0';
        CHECK(holds(names[f], want[f]));
    }
    free(text);
    sl_part_log_free(&log);
}

/* A bundle cut short after its checkpoint (a damaged disk) is reported
 * when published, never published as if it were whole: its frame's data
 * (20 KiB of f, appended to, so in the bundle) ends past what the frame's
 * header read covers, so only the copy finds the end missing. */
static void test_bundle_cut_short_is_reported(void)
{
    put("f", "AAAA");
    sl_bundle b;
    sl_bundle_init(&b, 0);
    sl_error err = {0};
    CHECK_INT(sl_bundle_open(&b, path("b.inprogress"), false, &err), 0);
    uint32_t f = sl_bundle_step(&b, path("f"), 4, NULL);
    for (int i = 0; i < 200; i++) append(&b, f, "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB");
    sl_part_log log;
    sl_part_log_init(&log);
    uint64_t size;
    char *state = seal_into(&log, &b, &size);
    CHECK_INT(truncate(path("b.inprogress"), (off_t)size - 1), 0);
    CHECK_INT(sl_part_log_commit(&log, state, strlen(state), &err), -1);
    CHECK(strstr(err.msg, "publish into") != NULL);
    free(state);
    sl_part_log_free(&log);
    unlink(path("b.inprogress"));
}

/* Recovers from `state` (NULL: no checkpoint covers the bundle). */
static void recover(const char *state)
{
    sl_part_log log;
    sl_part_log_init(&log);
    sl_error err = {0};
    CHECK_INT(sl_parts_recover(&log, state, state ? strlen(state) : 0, false, path("*.inprogress"), "test", &err), 0);
    CHECK_STR(err.msg, "");
    CHECK_STR(get("b.inprogress"), "(none)");
    sl_part_log_free(&log);
}

/* f holds "AAAA", g and f.1 do not exist, and a bundle for both (with
 * `rotate`, f rotating to f.1) is sealed by a run that then crashes:
 * returns the pre-commit's state. */
static char *sealed_then_crashed(bool rotate)
{
    put("f", "AAAA");
    unlink(path("g"));
    unlink(path("f.1"));
    sl_part_log log;
    sl_part_log_init(&log);
    char *state = seal(&log, rotate, "x");
    sl_part_log_free(&log);
    return state;
}

static void test_crash_after_seal_before_checkpoint(void)
{
    /* The bundle is sealed, but no checkpoint lists it: its records are
     * read again, so it is deleted and the files stay as they were. */
    free(sealed_then_crashed(false));
    recover(NULL);
    CHECK_STR(get("f"), "AAAA");
    CHECK_STR(get("g"), "(none)");
}

static void test_crash_mid_copy(void)
{
    /* f got part of its bytes, g none: the replay cuts f back and copies
     * both whole. */
    char *state = sealed_then_crashed(false);
    put("f", "AAAABB");
    recover(state);
    CHECK_STR(get("f"), "AAAABBBB");
    CHECK_STR(get("g"), "CxCC");
    free(state);
}

static void test_crash_after_copy_before_delete(void)
{
    /* Every byte was copied (and maybe synced), the bundle is still there:
     * the replay copies the same bytes to the same places, nothing twice. */
    char *state = sealed_then_crashed(false);
    put("f", "AAAABBBB");
    put("g", "CxCC");
    recover(state);
    CHECK_STR(get("f"), "AAAABBBB");
    CHECK_STR(get("g"), "CxCC");
    free(state);
}

static void test_rotation_and_its_replays(void)
{
    put("f", "AAAA");
    unlink(path("g"));
    unlink(path("f.1"));
    sl_part_log log;
    sl_part_log_init(&log);
    char *state = seal(&log, true, "x");
    sl_error err = {0};
    CHECK_INT(sl_part_log_commit(&log, state, strlen(state), &err), 0);
    CHECK_STR(err.msg, "");
    CHECK_STR(get("f.1"), "AAAABBBB");
    CHECK_STR(get("f"), "DDD");
    sl_part_log_free(&log);
    free(state);

    /* A crash after the rotation, in the middle of the new f: the step
     * before the rotation is not applied again (f.1 exists: it was synced
     * before it moved), the new f is cut back and copied whole. */
    state = sealed_then_crashed(true);
    put("f.1", "AAAABBBB");
    put("f", "D");
    recover(state);
    CHECK_STR(get("f.1"), "AAAABBBB");
    CHECK_STR(get("f"), "DDD");
    free(state);

    /* A crash before the rotation, in the middle of the append to f. */
    state = sealed_then_crashed(true);
    put("f", "AAAAB");
    recover(state);
    CHECK_STR(get("f.1"), "AAAABBBB");
    CHECK_STR(get("f"), "DDD");
    CHECK_STR(get("g"), "CxCC");
    free(state);
}

/* A plain bundle (a path without a template): the file's bytes as they
 * are. */
static char *seal_plain(sl_part_log *log, const char *file, uint64_t file_size, const char *text)
{
    sl_bundle b;
    sl_bundle_init(&b, 0);
    b.plain = true;
    sl_error err = {0};
    CHECK_INT(sl_bundle_open(&b, path("p.inprogress"), false, &err), 0);
    append(&b, sl_bundle_step(&b, path(file), file_size, NULL), text);
    CHECK_INT(sl_bundle_seal(&b, &err), 0);
    char *bundle;
    uint64_t size;
    sl_part_step *steps;
    size_t n;
    sl_bundle_take(&b, &bundle, &size, &steps, &n);
    sl_bundle_free(&b);
    CHECK_STR(get("p.inprogress"), text);   /* no frames: the file's bytes */
    sl_part_log_add(log, bundle, size, true, steps, n);
    sl_buf state;
    sl_buf_init(&state);
    CHECK_INT(sl_part_log_save(log, &state, &err), 0);
    return sl_buf_steal(&state, NULL);
}

static void test_plain_bundle_renamed_or_appended(void)
{
    unlink(path("h"));
    sl_part_log log;
    sl_part_log_init(&log);
    char *state = seal_plain(&log, "h", 0, "HH");
    sl_error err = {0};
    CHECK_INT(sl_part_log_commit(&log, state, strlen(state), &err), 0);
    CHECK_STR(get("h"), "HH");   /* renamed into place */
    CHECK_STR(get("p.inprogress"), "(none)");
    recover(state);              /* after the rename: nothing to do */
    CHECK_STR(get("h"), "HH");
    free(state);
    sl_part_log_free(&log);

    /* Appended to h: a crash mid-copy is repaired by the replay. */
    sl_part_log_init(&log);
    state = seal_plain(&log, "h", 2, "XY");
    sl_part_log_free(&log);
    put("h", "HHX");
    recover(state);
    CHECK_STR(get("h"), "HHXY");
    free(state);

    /* A crash before the rename: the replay renames. */
    unlink(path("h"));
    sl_part_log_init(&log);
    state = seal_plain(&log, "h", 0, "HH");
    sl_part_log_free(&log);
    recover(state);
    CHECK_STR(get("h"), "HH");
    free(state);
}

/* g starts in the checkpoint with more than SL_BUNDLE_SIDE bytes, so its
 * bytes are a side file of the bundle ("b.s1.inprogress"), renamed into
 * place at the commit, while f is appended to from the bundle's frames:
 * every crash point replays to the same files, and leaves no side file. */
static void test_side_file_and_its_replays(void)
{
    char *want_g = g_text(pad);
    for (int crash = 0; crash < 4; crash++) {
        put("f", "AAAA");
        unlink(path("g"));
        sl_part_log log;
        sl_part_log_init(&log);
        char *state = seal(&log, false, pad);
        CHECK(strstr(state, "\"side\":") != NULL);
        CHECK(holds("b.s1.inprogress", want_g));
        sl_error err = {0};
        if (crash == 0) {
            CHECK_INT(sl_part_log_commit(&log, state, strlen(state), &err), 0);
            CHECK_STR(err.msg, "");
        }
        sl_part_log_free(&log);
        if (crash == 1) {   /* after f's append and g's rename, before the sync */
            put("f", "AAAABBBB");
            CHECK_INT(rename(path("b.s1.inprogress"), path("g")), 0);
        }
        if (crash == 2)     /* in the middle of f's append, before g's rename */
            put("f", "AAAAB");
        if (crash > 0) recover(state);   /* crash 3: before anything was published */
        CHECK_STR(get("f"), "AAAABBBB");
        CHECK(holds("g", want_g));
        CHECK_STR(get("b.s1.inprogress"), "(none)");
        free(state);
    }
    free(want_g);

    /* Sealed, but no checkpoint lists it: the side file goes with the bundle. */
    put("f", "AAAA");
    unlink(path("g"));
    sl_part_log log;
    sl_part_log_init(&log);
    free(seal(&log, false, pad));
    sl_part_log_free(&log);
    recover(NULL);
    CHECK_STR(get("b.s1.inprogress"), "(none)");
    CHECK_STR(get("g"), "(none)");
    CHECK_STR(get("f"), "AAAA");
}

static void test_state_of_per_file_parts_is_refused(void)
{
    /* A checkpoint written by a sluice that published one part per file. */
    const char *old = "{\"publish\":[{\"file_size\":0,\"bytes\":3,\"part\":\"p\",\"file\":\"f\"}],\"sizes\":[]}";
    sl_part_log log;
    sl_part_log_init(&log);
    sl_error err = {0};
    CHECK_INT(sl_parts_recover(&log, old, strlen(old), false, path("*.inprogress"), "test", &err), -1);
    CHECK(strstr(err.msg, "--from-start") != NULL);
    sl_part_log_free(&log);
}

int main(void)
{
    memset(pad, 'x', sizeof pad - 1);
    CHECK_INT(temp_dir_make("sl-part-log"), 0);
    RUN(test_commit_publishes_each_file_in_order);
    RUN(test_small_parts_of_many_files_land_in_order);
    RUN(test_bundle_cut_short_is_reported);
    RUN(test_crash_after_seal_before_checkpoint);
    RUN(test_crash_mid_copy);
    RUN(test_crash_after_copy_before_delete);
    RUN(test_rotation_and_its_replays);
    RUN(test_plain_bundle_renamed_or_appended);
    RUN(test_side_file_and_its_replays);
    RUN(test_state_of_per_file_parts_is_refused);
    CHECK_INT(temp_dir_remove(), 0);
    return check_report();
}
