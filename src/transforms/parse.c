/* parse.c — the `parse` transform: decodes a JSON string field into data.
 *
 * Logs often carry JSON inside a string ("message": "{\"user\":...}"). This
 * transform decodes that text with the same decoder the sources use
 * (simdjson, codec/json.h) and either merges the resulting object into the
 * record (the default) or stores the decoded value at a target path.
 *
 * simdjson reads up to SL_BUF_PADDING bytes past the end of its input, and a
 * string field may point straight into the middle of the batch's input bytes
 * (zero copy), so the text is first copied into a padded buffer in the batch
 * arena. Decoded strings then point into that copy, which lives exactly as
 * long as the record.
 */
#include <stdlib.h>
#include <string.h>

#include "../codec/json.h"
#include "../expr/expr.h"
#include "../runtime/component.h"

typedef struct parse_state {
    sl_path *field;
    sl_path *target;       /* NULL = merge into the record root */
    bool drop_field;
    unsigned max_depth;
} parse_state;

static const sl_option parse_options[] = {
    {"field", SL_OPT_STRING, false, "message",
     "Path of the string field that holds the JSON text (e.g. `message`, `payload.body`).", NULL},
    {"target", SL_OPT_STRING, false, NULL,
     "Path where the decoded value is stored. When unset, the JSON text must be an object "
     "and its fields are merged into the record.", NULL},
    {"drop_field", SL_OPT_BOOL, false, "true",
     "When merging into the record (no `target`), remove the source string field after a "
     "successful parse.", NULL},
    {"max_depth", SL_OPT_INT, false, "64",
     "Deepest nesting of arrays and objects accepted in the JSON text (1 to 1024).", NULL},
    {NULL, 0, false, NULL, NULL, NULL},
};

static void parse_destroy(sl_component *c) {
    parse_state *s = c->impl;
    if (!s) return;
    sl_path_free(s->field);
    sl_path_free(s->target);
    free(s);
    c->impl = NULL;
}

static int parse_create(sl_component *c, const sl_opts *opts, sl_diag *diag) {
    parse_state *s = calloc(1, sizeof *s);
    if (!s) {
        sl_diag_error(diag, c->pos, "out of memory");
        return -1;
    }
    c->impl = s;
    size_t errors_before = diag->errors;

    s->field = sl_path_parse(sl_opts_string(opts, "field"), sl_opts_pos(opts, "field"), diag);
    if (sl_opts_has(opts, "target"))
        s->target = sl_path_parse(sl_opts_string(opts, "target"), sl_opts_pos(opts, "target"), diag);
    s->drop_field = sl_opts_bool(opts, "drop_field");

    int64_t depth = sl_opts_int(opts, "max_depth");
    if (depth < 1 || depth > 1024)
        sl_diag_error(diag, sl_opts_pos(opts, "max_depth"),
                      "max_depth must be between 1 and 1024, got %lld", (long long)depth);
    else
        s->max_depth = (unsigned)depth;

    if (diag->errors > errors_before) {
        parse_destroy(c);
        return -1;
    }
    return 0;
}

/* Decodes one record's field; returns 0, or -1 after sending it to the DLQ. */
static int parse_one(const parse_state *s, sl_batch *b, sl_record *r, sl_emit *out) {
    const sl_value *text = sl_path_get(s->field, sl_record_value(r));
    if (!text) {
        sl_emit_dlq(out, r, "parse_failed", "field %s is missing", sl_path_source(s->field));
        return -1;
    }
    if (text->type != SL_STRING) {
        sl_emit_dlq(out, r, "parse_failed", "field %s is %s, not a string of JSON text",
                    sl_path_source(s->field), sl_type_name((sl_type)text->type));
        return -1;
    }

    size_t len = text->len;
    char *copy = sl_arena_alloc(&b->arena, len + SL_BUF_PADDING);
    memcpy(copy, text->as.s, len);
    memset(copy + len, 0, SL_BUF_PADDING);

    sl_value parsed;
    sl_decode_error derr;
    if (sl_json_decode(&b->arena, copy, len, s->max_depth, s->target == NULL, &parsed, &derr) != 0) {
        sl_emit_dlq(out, r, "parse_failed", "field %s is not valid JSON: %s",
                    sl_path_source(s->field), derr.msg);
        return -1;
    }

    if (s->target) {
        sl_error err;
        if (sl_path_set(s->target, sl_record_mut(r), &b->arena, parsed, &err) != 0) {
            sl_emit_dlq(out, r, "parse_failed", "cannot store the parsed value at %s: %s",
                        sl_path_source(s->target), err.msg);
            return -1;
        }
        return 0;
    }

    sl_value *record = sl_record_mut(r);
    if (s->drop_field)
        sl_path_delete(s->field, record);
    for (uint32_t i = 0; i < parsed.len; i++) {
        const sl_field *f = &parsed.as.fields[i];
        sl_map_set(&b->arena, record, f->key, f->key_len, f->value);
    }
    return 0;
}

static void parse_process(sl_component *c, void *wstate, sl_batch *b, sl_record **recs, size_t n,
                          sl_emit *out) {
    const parse_state *s = c->impl;
    for (size_t i = 0; i < n; i++) {
        if (parse_one(s, b, recs[i], out) == 0)
            sl_emit_record(out, 0, recs[i]);
    }
}

const sl_component_type sl_transform_parse_type = {
    .name = "parse",
    .kind = SL_TRANSFORM,
    .summary = "Decode a field holding JSON text into structured data",
    .doc =
        "Decodes the JSON text held in a string field (`message` by default). Without a "
        "`target`, the text must be a JSON object and its fields are merged into the "
        "record: a field that already exists is replaced in place, new fields are appended "
        "in the order of the JSON text, and the source field is removed first (unless "
        "`drop_field: false`), so a parsed field with the same name as the source field "
        "ends up at the end of the record. With a `target`, any JSON value (object, array, "
        "string, number, ...) is stored at that path, creating intermediate objects as "
        "needed, and the source field is left alone; set `target` to the source field "
        "itself to parse in place.\n\n"
        "Records whose field is missing, is not a string, or does not hold valid JSON "
        "(syntax, invalid UTF-8, nesting deeper than `max_depth`, numbers out of range, or "
        "a non-object when merging) go to the DLQ with reason `parse_failed` and the "
        "decoder's message. Numbers keep their original text, as with the JSON sources.",
    .example =
        "transforms:\n"
        "  parse_payload:\n"
        "    type: parse\n"
        "    inputs: [raw]\n"
        "    field: message\n"
        "    # target: payload     # store the decoded value here instead of merging\n",
    .options = parse_options,
    .create = parse_create,
    .destroy = parse_destroy,
    .process = parse_process,
};
