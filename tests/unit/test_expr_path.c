/* test_expr_path.c — field paths: parsing (with and without the leading dot,
 * quoted keys, indexes) and its errors, and get/set/delete on records,
 * including creating intermediate maps and the errors of impossible writes.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "expr/expr.h"

static sl_arena arena;

static sl_path *parse(const char *src)
{
    sl_pos at = { 0 };
    sl_path *p = sl_path_parse(src, at, NULL);
    if (!p) fprintf(stderr, "path did not parse: %s\n", src);
    return p;
}

/* {"name":"Alice","user":{"email":"a@x","tags":["a","b","c"]},"x y":{"z":1},"n":null,"s":"str"} */
static sl_value make_record(void)
{
    sl_value r = sl_map_new(&arena, 4);
    sl_map_set(&arena, &r, "name", 4, sl_cstring("Alice"));
    sl_value user = sl_map_new(&arena, 2);
    sl_map_set(&arena, &user, "email", 5, sl_cstring("a@x"));
    sl_value tags = sl_array_new(&arena, 3);
    sl_array_push(&arena, &tags, sl_cstring("a"));
    sl_array_push(&arena, &tags, sl_cstring("b"));
    sl_array_push(&arena, &tags, sl_cstring("c"));
    sl_map_set(&arena, &user, "tags", 4, tags);
    sl_map_set(&arena, &r, "user", 4, user);
    sl_value xy = sl_map_new(&arena, 1);
    sl_map_set(&arena, &xy, "z", 1, sl_int(1));
    sl_map_set(&arena, &r, "x y", 3, xy);
    sl_map_set(&arena, &r, "n", 1, sl_null());
    sl_map_set(&arena, &r, "s", 1, sl_cstring("str"));
    return r;
}

/* The string at path, or "(missing)" / "(not a string)". */
static const char *get_str(const sl_value *rec, const char *path)
{
    static char out[128];
    sl_path *p = parse(path);
    const sl_value *v = p ? sl_path_get(p, rec) : NULL;
    if (!v) snprintf(out, sizeof out, "(missing)");
    else if (v->type != SL_STRING) snprintf(out, sizeof out, "(%s)", sl_type_name((sl_type)v->type));
    else snprintf(out, sizeof out, "%.*s", (int)v->len, v->as.s);
    sl_path_free(p);
    return out;
}

static void test_get(void)
{
    sl_value r = make_record();
    CHECK_STR(get_str(&r, ".name"), "Alice");
    CHECK_STR(get_str(&r, "name"), "Alice");
    CHECK_STR(get_str(&r, "user.email"), "a@x");
    CHECK_STR(get_str(&r, ".user.tags[0]"), "a");
    CHECK_STR(get_str(&r, "user.tags[2]"), "c");
    CHECK_STR(get_str(&r, "user.tags[-1]"), "c");
    CHECK_STR(get_str(&r, "user.tags[-3]"), "a");
    CHECK_STR(get_str(&r, "user.tags[3]"), "(missing)");
    CHECK_STR(get_str(&r, "user.tags[-4]"), "(missing)");
    CHECK_STR(get_str(&r, ".\"x y\".z"), "(int)");
    CHECK_STR(get_str(&r, "\"x y\""), "(map)");
    CHECK_STR(get_str(&r, ".\"na\\u006de\""), "Alice");
    CHECK_STR(get_str(&r, ".n"), "(null)");
    CHECK_STR(get_str(&r, ".missing.deeper"), "(missing)");
    CHECK_STR(get_str(&r, ".name.first"), "(missing)");
    CHECK_STR(get_str(&r, ".name[0]"), "(missing)");
    CHECK_STR(get_str(&r, "[0]"), "(missing)");
    CHECK_STR(get_str(&r, "."), "(map)");

    sl_path *p = parse(".user.tags[1]");
    CHECK_STR(sl_path_source(p), ".user.tags[1]");
    sl_path_free(p);
}

static const char *parse_error(const char *src)
{
    static char out[512];
    sl_diag diag;
    sl_diag_init(&diag);
    sl_pos at = { sl_diag_file(&diag, "p.yaml"), 3, 10 };
    sl_path *p = sl_path_parse(src, at, &diag);
    sl_buf b;
    sl_buf_init(&b);
    sl_diag_print(&diag, &b);
    snprintf(out, sizeof out, "%s%.*s", p ? "parsed; " : "", (int)b.len, b.data);
    sl_buf_free(&b);
    sl_path_free(p);
    sl_diag_free(&diag);
    return out;
}

static void test_parse_errors(void)
{
    CHECK_STR(parse_error(""), "p.yaml:3:10: error: expected a field path like .name or .a.b[0]\n");
    CHECK_STR(parse_error("a.b."), "p.yaml:3:13: error: expected a field name after '.'\n");
    CHECK_STR(parse_error("a b"), "p.yaml:3:11: error: unexpected ' ' in field path\n");
    CHECK_STR(parse_error("a[x]"), "p.yaml:3:12: error: expected an array index like [0] or [-1]\n");
    CHECK_STR(parse_error(".\"open"), "p.yaml:3:11: error: unterminated string (missing closing '\"')\n");
    CHECK_STR(parse_error("a-b"), "p.yaml:3:11: error: unexpected '-' in field path\n");
    CHECK_STR(parse_error("a.b[0]"), "parsed; ");
}

static void test_set(void)
{
    sl_value r = make_record();
    sl_error err;
    sl_path *p = parse("user.address.city");
    CHECK_INT(sl_path_set(p, &r, &arena, sl_cstring("Paris"), &err), 0);
    sl_path_free(p);   /* the record must not point into the freed path */
    CHECK_STR(get_str(&r, "user.address.city"), "Paris");
    const sl_value *user = sl_map_get(&r, "user", 4);
    CHECK_INT(user->len, 3);
    CHECK_MEM(user->as.fields[2].key, user->as.fields[2].key_len, "address");

    /* replacing keeps the field's position */
    p = parse(".name");
    CHECK_INT(sl_path_set(p, &r, &arena, sl_cstring("Bob"), &err), 0);
    sl_path_free(p);
    CHECK_MEM(r.as.fields[0].key, r.as.fields[0].key_len, "name");
    CHECK_STR(get_str(&r, "name"), "Bob");

    p = parse(".user.tags[-1]");
    CHECK_INT(sl_path_set(p, &r, &arena, sl_cstring("z"), &err), 0);
    sl_path_free(p);
    CHECK_STR(get_str(&r, "user.tags[2]"), "z");

    /* a null on the way becomes a map */
    p = parse(".n.inner");
    CHECK_INT(sl_path_set(p, &r, &arena, sl_cstring("v"), &err), 0);
    sl_path_free(p);
    CHECK_STR(get_str(&r, "n.inner"), "v");

    p = parse(".\"new key\".\"a.b\"");
    CHECK_INT(sl_path_set(p, &r, &arena, sl_int(7), &err), 0);
    sl_path_free(p);
    CHECK_STR(get_str(&r, ".\"new key\".\"a.b\""), "(int)");

    p = parse(".user.tags[5]");
    CHECK_INT(sl_path_set(p, &r, &arena, sl_null(), &err), -1);
    CHECK_STR(err.msg, "cannot set .user.tags[5]: index 5 is out of range (.user.tags has 3 items)");
    sl_path_free(p);

    p = parse("s.x");
    CHECK_INT(sl_path_set(p, &r, &arena, sl_null(), &err), -1);
    CHECK_STR(err.msg, "cannot set s.x: .s is a string, not a map");
    sl_path_free(p);

    p = parse("name[0]");
    CHECK_INT(sl_path_set(p, &r, &arena, sl_null(), &err), -1);
    CHECK_STR(err.msg, "cannot set name[0]: .name is a string, not an array");
    sl_path_free(p);

    p = parse("fresh[0]");
    CHECK_INT(sl_path_set(p, &r, &arena, sl_null(), &err), -1);
    CHECK_STR(err.msg, "cannot set fresh[0]: .fresh does not exist (arrays are not created)");
    sl_path_free(p);
    CHECK_STR(get_str(&r, "fresh"), "(missing)");

    p = parse(".");
    CHECK_INT(sl_path_set(p, &r, &arena, sl_int(1), &err), -1);
    CHECK_STR(err.msg, "cannot replace the whole record with a value of type int (it must be a map)");
    sl_value empty = sl_map_new(&arena, 1);
    CHECK_INT(sl_path_set(p, &r, &arena, empty, &err), 0);
    CHECK_INT(r.type, SL_MAP);
    CHECK_INT(r.len, 0);
    sl_path_free(p);
}

static void test_delete(void)
{
    sl_value r = make_record();
    sl_path *p = parse("user.email");
    CHECK(sl_path_delete(p, &r));
    CHECK(!sl_path_delete(p, &r));
    sl_path_free(p);
    CHECK_STR(get_str(&r, "user.email"), "(missing)");
    CHECK_STR(get_str(&r, "user.tags[0]"), "a");

    p = parse("user.tags[0]");
    CHECK(sl_path_delete(p, &r));
    sl_path_free(p);
    CHECK_STR(get_str(&r, "user.tags[0]"), "b");
    CHECK_STR(get_str(&r, "user.tags[1]"), "c");
    CHECK_STR(get_str(&r, "user.tags[2]"), "(missing)");

    p = parse("user.tags[-1]");
    CHECK(sl_path_delete(p, &r));
    sl_path_free(p);
    CHECK_STR(get_str(&r, "user.tags[-1]"), "b");

    p = parse("name");
    CHECK(sl_path_delete(p, &r));
    sl_path_free(p);
    CHECK_MEM(r.as.fields[0].key, r.as.fields[0].key_len, "user");   /* order kept */

    p = parse("missing.x");
    CHECK(!sl_path_delete(p, &r));
    sl_path_free(p);
    p = parse("s[0]");
    CHECK(!sl_path_delete(p, &r));
    sl_path_free(p);
    p = parse(".");
    CHECK(!sl_path_delete(p, &r));
    sl_path_free(p);
}

int main(void)
{
    sl_arena_init(&arena, 4096);
    RUN(test_get);
    RUN(test_parse_errors);
    RUN(test_set);
    RUN(test_delete);
    sl_arena_free(&arena);
    return check_report();
}
