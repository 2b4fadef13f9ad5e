/* options.c — validates a component's mapping against its option schema and
 * serves the resolved values to the component.
 *
 * Resolution walks the user's mapping once. A key is either an option name, a
 * group (the "csv" of "csv.delimiter", whose value must be a mapping and is
 * walked with the prefix "csv."), or unknown (reported with a suggestion from
 * the schema's names). Each value is converted by its type right away, so the
 * accessors only read. Defaults go through the same converter (as a plain
 * scalar, or as YAML for LIST and ANY); an invalid default is a bug in the
 * schema and aborts.
 * A null value (`key:` or `key: ~`) counts as not set.
 */
#include "options.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/util.h"

typedef struct opt_value {
    const sl_node *node;     /* what the user wrote, or NULL */
    bool from_user;          /* node converted without error */
    const char *text;        /* scalar types: the text */
    int64_t i;
    double f;
    bool b;
    uint64_t u;              /* SIZE (bytes) and DURATION (ms) */
    const char *enum_value;  /* ENUM: the schema's string */
    const char **items;      /* LIST */
    size_t n_items;
} opt_value;

struct sl_opts {
    const sl_option *schema;
    size_t n;
    opt_value *values;       /* one per schema entry */
    sl_node **defaults;      /* parsed default_value per entry, or NULL */
    sl_pos pos;              /* of the component's mapping */
};

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        abort();
    return p;
}

const char *sl_opt_type_name(sl_opt_type t)
{
    switch (t) {
    case SL_OPT_STRING: return "string";
    case SL_OPT_INT: return "int";
    case SL_OPT_FLOAT: return "float";
    case SL_OPT_BOOL: return "bool";
    case SL_OPT_SIZE: return "size";
    case SL_OPT_DURATION: return "duration";
    case SL_OPT_ENUM: return "enum";
    case SL_OPT_LIST: return "list";
    case SL_OPT_EXPR: return "expr";
    case SL_OPT_ANY: return "any";
    }
    return "?";
}

static bool is_null(const sl_node *n)
{
    if (n->kind != SL_NODE_SCALAR || n->quoted)
        return false;
    return n->len == 0 || strcmp(n->text, "~") == 0 || strcmp(n->text, "null") == 0 ||
           strcmp(n->text, "Null") == 0 || strcmp(n->text, "NULL") == 0;
}

/* The scalar's text when it can be read as a C string (no embedded NUL). */
static const char *scalar_text(const sl_node *n)
{
    if (n->kind != SL_NODE_SCALAR || strlen(n->text) != n->len)
        return NULL;
    return n->text;
}

static bool parse_int(const char *s, int64_t *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s || s[0] == ' ')
        return false;
    *out = v;
    return true;
}

static bool parse_float(const char *s, double *out)
{
    if (!s || !*s || s[0] == ' ')
        return false;
    char *end;
    double v = strtod(s, &end);
    if (*end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

static bool parse_bool(const char *s, bool *out)
{
    if (!s)
        return false;
    if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0)
        *out = true;
    else if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0)
        *out = false;
    else
        return false;
    return true;
}

/* "a, b, c" for an enum's values. */
static void join_enum(const sl_option *o, sl_buf *out, const char *sep, const char *quote)
{
    for (size_t i = 0; o->enum_values && o->enum_values[i]; i++)
        sl_buf_printf(out, "%s%s%s%s", i ? sep : "", quote, o->enum_values[i], quote);
}

static bool convert_enum(const sl_option *o, const sl_node *n, opt_value *v, sl_diag *diag)
{
    const char *s = scalar_text(n);
    size_t count = 0;
    while (o->enum_values && o->enum_values[count])
        count++;
    for (size_t i = 0; s && i < count; i++) {
        if (strcmp(s, o->enum_values[i]) == 0) {
            v->enum_value = o->enum_values[i];
            v->text = o->enum_values[i];
            return true;
        }
    }
    char shown[SL_NODE_SHOW_MAX];
    sl_buf values;
    sl_buf_init(&values);
    join_enum(o, &values, ", ", "");
    const char *guess = s && !n->secret ? sl_did_you_mean(s, o->enum_values, count) : NULL;
    sl_diag_error(diag, n->pos, "option '%s' must be one of %s, found '%s'%s%s%s", o->name,
                  values.data ? values.data : "", sl_node_show(n, shown),
                  guess ? "; did you mean '" : "", guess ? guess : "", guess ? "'?" : "");
    sl_buf_free(&values);
    return false;
}

/* What a plain (unquoted) scalar is when YAML reads it as something other
 * than a string ("the number", "the boolean", "null"), else NULL. */
static const char *non_string(const sl_node *n)
{
    int64_t i;
    double f;
    bool b;
    if (n->kind != SL_NODE_SCALAR || n->quoted)
        return NULL;
    if (is_null(n))
        return "null";
    const char *s = scalar_text(n);
    if (parse_bool(s, &b))
        return "the boolean";
    if (parse_int(s, &i) || parse_float(s, &f))
        return "the number";
    return NULL;
}

/* A LIST item (or the single scalar standing for a list of one) must be a
 * string: `paths: 5` or `fields: [true]` is a mistake YAML would otherwise
 * turn into the text "5" or "true". */
static bool list_item_ok(const sl_option *o, const sl_node *item, size_t i, bool single, sl_diag *diag)
{
    char shown[SL_NODE_SHOW_MAX];
    const char *what = non_string(item);
    if (item->kind != SL_NODE_SCALAR) {
        sl_diag_error(diag, item->pos, "option '%s' must be a list of strings; item %zu is %s", o->name, i + 1,
                      sl_node_kind_name(item->kind));
        return false;
    }
    if (!what)
        return true;
    const char *text = sl_node_show(item, shown);
    if (single)
        sl_diag_error(diag, item->pos, "option '%s' must be a string or a list of strings, found %s %s "
                      "(quote it to mean the text: \"%s\")", o->name, what, text, text);
    else if (strcmp(what, "null") == 0)
        sl_diag_error(diag, item->pos, "option '%s' must be a list of strings; item %zu is null", o->name, i + 1);
    else
        sl_diag_error(diag, item->pos, "option '%s' must be a list of strings; item %zu is %s %s "
                      "(quote it to mean the text: \"%s\")", o->name, i + 1, what, text, text);
    return false;
}

static bool convert_list(const sl_option *o, const sl_node *n, opt_value *v, sl_diag *diag)
{
    if (n->kind == SL_NODE_MAP) {
        sl_diag_error(diag, n->pos, "option '%s' must be a list, found a mapping", o->name);
        return false;
    }
    if (n->kind == SL_NODE_SCALAR) {
        if (!list_item_ok(o, n, 0, true, diag))
            return false;
        v->items = xcalloc(1, sizeof *v->items);
        v->items[0] = n->text;
        v->n_items = 1;
        return true;
    }
    for (size_t i = 0; i < n->n_items; i++)
        if (!list_item_ok(o, n->items[i], i, false, diag))
            return false;
    v->items = xcalloc(n->n_items, sizeof *v->items);
    for (size_t i = 0; i < n->n_items; i++)
        v->items[i] = n->items[i]->text;
    v->n_items = n->n_items;
    return true;
}

/* Converts node n for option o into v, or reports why it cannot. */
static bool convert(const sl_option *o, const sl_node *n, opt_value *v, sl_diag *diag)
{
    static const char *const wanted[] = {
        [SL_OPT_STRING] = "a string", [SL_OPT_INT] = "an integer", [SL_OPT_FLOAT] = "a number",
        [SL_OPT_BOOL] = "true or false", [SL_OPT_SIZE] = "a size such as 64MiB, 1GB or 512k",
        [SL_OPT_DURATION] = "a duration such as 250ms, 5s or 1m", [SL_OPT_EXPR] = "an expression",
    };
    if (o->type == SL_OPT_ANY)
        return true;
    if (o->type == SL_OPT_LIST)
        return convert_list(o, n, v, diag);
    if (o->type == SL_OPT_ENUM)
        return convert_enum(o, n, v, diag);
    char shown[SL_NODE_SHOW_MAX];
    if (n->kind != SL_NODE_SCALAR) {
        sl_diag_error(diag, n->pos, "option '%s' must be %s, found %s", o->name, wanted[o->type],
                      sl_node_kind_name(n->kind));
        return false;
    }
    const char *s = scalar_text(n);
    bool ok = false;
    switch (o->type) {
    case SL_OPT_STRING:
    case SL_OPT_EXPR:
        ok = true;
        break;
    case SL_OPT_INT:
        ok = !n->quoted && parse_int(s, &v->i);
        break;
    case SL_OPT_FLOAT:
        ok = !n->quoted && parse_float(s, &v->f);
        break;
    case SL_OPT_BOOL:
        ok = !n->quoted && parse_bool(s, &v->b);
        break;
    case SL_OPT_SIZE:
        ok = s && sl_parse_size(s, &v->u);
        break;
    case SL_OPT_DURATION:
        ok = s && sl_parse_duration_ms(s, &v->u);
        break;
    default:
        break;
    }
    if (!ok) {
        sl_diag_error(diag, n->pos, "option '%s' must be %s, found %s'%s'", o->name, wanted[o->type],
                      n->quoted && !n->secret ? "the quoted string " : "", sl_node_show(n, shown));
        return false;
    }
    v->text = n->text;
    return true;
}

/* ---- resolution ---- */

static long find_option(const sl_option *schema, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strncmp(schema[i].name, name, len) == 0 && schema[i].name[len] == '\0')
            return (long)i;
    return -1;
}

/* Whether name[0..len) is a group: some option is named "name.<something>". */
static bool is_group(const sl_option *schema, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strncmp(schema[i].name, name, len) == 0 && schema[i].name[len] == '.')
            return true;
    return false;
}

typedef struct walk_ctx {
    sl_opts *opts;
    sl_diag *diag;
    char **names;            /* candidates for suggestions: options and groups */
    size_t n_names;
} walk_ctx;

static void walk(walk_ctx *w, const sl_node *map, const char *prefix)
{
    const sl_option *schema = w->opts->schema;
    size_t n = w->opts->n;
    sl_buf full;
    sl_buf_init(&full);
    for (size_t i = 0; i < map->n_pairs; i++) {
        const sl_node *key = map->pairs[i].key, *value = map->pairs[i].value;
        if (!*prefix && (strcmp(key->text, "type") == 0 || strcmp(key->text, "inputs") == 0))
            continue;
        full.len = 0;
        sl_buf_puts(&full, prefix);
        sl_buf_append(&full, key->text, key->len);
        sl_buf_putc(&full, '\0');
        const char *name = full.data;
        size_t len = full.len - 1;
        long idx = strlen(name) == len ? find_option(schema, n, name, len) : -1;
        if (idx >= 0) {
            opt_value *v = &w->opts->values[idx];
            if (v->node) {
                sl_diag_error(w->diag, key->pos, "option '%s' is set twice (first at line %d, column %d)",
                              name, v->node->pos.line, v->node->pos.col);
            } else if (!is_null(value)) {
                v->node = value;
                v->from_user = convert(&schema[idx], value, v, w->diag);
            }
        } else if (strlen(name) == len && is_group(schema, n, name, len)) {
            if (value->kind == SL_NODE_MAP) {
                char *nested_prefix;
                if (asprintf(&nested_prefix, "%s.", name) < 0)
                    abort();
                walk(w, value, nested_prefix);
                free(nested_prefix);
            } else if (!is_null(value)) {
                sl_diag_error(w->diag, value->pos, "'%s' must be a mapping of options (%s.*), found %s",
                              name, name, sl_node_kind_name(value->kind));
            }
        } else {
            char shown[SL_NODE_SHOW_MAX];
            sl_node fake = *key;     /* the full dotted name, shortened like a value */
            fake.text = (char *)name;
            fake.len = len;
            const char *guess = sl_did_you_mean(name, (const char *const *)w->names, w->n_names);
            sl_diag_error(w->diag, key->pos, "unknown option '%s'%s%s%s", sl_node_show(&fake, shown),
                          guess ? "; did you mean '" : "", guess ? guess : "", guess ? "'?" : "");
        }
    }
    sl_buf_free(&full);
}

/* Collects every option name and every group ("csv" of "csv.delimiter")
 * once, as the candidates for "did you mean". */
static void collect_names(walk_ctx *w)
{
    const sl_option *schema = w->opts->schema;
    size_t cap = 0;
    for (size_t i = 0; i < w->opts->n; i++)
        for (const char *s = schema[i].name; *s; s++)
            cap += *s == '.';
    cap += w->opts->n;
    w->names = xcalloc(cap, sizeof *w->names);
    for (size_t i = 0; i < w->opts->n; i++) {
        const char *name = schema[i].name;
        for (size_t len = 1; len <= strlen(name); len++) {
            if (name[len] != '.' && name[len] != '\0')
                continue;
            bool seen = false;
            for (size_t j = 0; j < w->n_names && !seen; j++)
                seen = strncmp(w->names[j], name, len) == 0 && w->names[j][len] == '\0';
            if (!seen) {
                w->names[w->n_names] = strndup(name, len);
                if (!w->names[w->n_names++])
                    abort();
            }
        }
    }
}

static void free_names(walk_ctx *w)
{
    for (size_t i = 0; i < w->n_names; i++)
        free(w->names[i]);
    free(w->names);
}

/* A default is the text the user would write: a scalar, except for LIST and
 * ANY options where it is YAML ("[a, b]"). */
static sl_node *parse_default(const sl_option *o)
{
    sl_diag d;
    sl_diag_init(&d);
    sl_node *n;
    if (o->type == SL_OPT_LIST || o->type == SL_OPT_ANY) {
        n = sl_node_parse(NULL, o->default_value, strlen(o->default_value), &d);
    } else {
        n = xcalloc(1, sizeof *n);
        n->kind = SL_NODE_SCALAR;
        n->text = strdup(o->default_value);
        if (!n->text)
            abort();
        n->len = strlen(n->text);
    }
    opt_value v = { 0 };
    if (!n || sl_diag_has_errors(&d) || !convert(o, n, &v, &d)) {
        fprintf(stderr, "sluice: bug: the default '%s' of option '%s' is invalid: %s\n",
                o->default_value, o->name, d.count ? d.entries[0].msg : "not valid YAML");
        abort();
    }
    free(v.items);
    sl_diag_free(&d);
    return n;
}

sl_opts *sl_opts_resolve(const sl_option *schema, const sl_node *map, sl_diag *diag)
{
    sl_opts *o = xcalloc(1, sizeof *o);
    o->schema = schema;
    while (schema[o->n].name)
        o->n++;
    o->values = xcalloc(o->n, sizeof *o->values);
    o->defaults = xcalloc(o->n, sizeof *o->defaults);
    if (map)
        o->pos = map->pos;

    /* defaults first: a value that fails to convert reads as its default */
    for (size_t i = 0; i < o->n; i++) {
        if (!schema[i].default_value)
            continue;
        o->defaults[i] = parse_default(&schema[i]);
        convert(&schema[i], o->defaults[i], &o->values[i], diag);
    }

    if (map && map->kind != SL_NODE_MAP) {
        sl_diag_error(diag, map->pos, "a component must be a mapping of options, found %s",
                      sl_node_kind_name(map->kind));
    } else if (map) {
        walk_ctx w = { .opts = o, .diag = diag };
        collect_names(&w);
        /* user values are converted into a scratch copy so that a failed
         * conversion leaves the default in place */
        opt_value *defaults = o->values;
        o->values = xcalloc(o->n, sizeof *o->values);
        walk(&w, map, "");
        for (size_t i = 0; i < o->n; i++) {
            if (o->values[i].from_user) {
                free(defaults[i].items);
                defaults[i] = o->values[i];
            } else {
                free(o->values[i].items);
                defaults[i].node = o->values[i].node;
            }
        }
        free(o->values);
        o->values = defaults;
        free_names(&w);
    }

    for (size_t i = 0; i < o->n; i++)
        if (schema[i].required && !o->values[i].node)
            sl_diag_error(diag, o->pos, "missing required option '%s'", schema[i].name);
    return o;
}

void sl_opts_free(sl_opts *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n; i++) {
        free(o->values[i].items);
        sl_node_free(o->defaults[i]);
    }
    free(o->values);
    free(o->defaults);
    free(o);
}

/* ---- accessors ---- */

static const opt_value *lookup(const sl_opts *o, const char *name, int type_a, int type_b)
{
    long idx = find_option(o->schema, o->n, name, strlen(name));
    if (idx < 0) {
        fprintf(stderr, "sluice: bug: option '%s' is not in the component's schema\n", name);
        abort();
    }
    int t = (int)o->schema[idx].type;
    if (type_a >= 0 && t != type_a && t != type_b) {
        fprintf(stderr, "sluice: bug: option '%s' is a %s, read as a %s\n", name,
                sl_opt_type_name(o->schema[idx].type), sl_opt_type_name((sl_opt_type)type_a));
        abort();
    }
    return &o->values[idx];
}

bool sl_opts_has(const sl_opts *o, const char *name)
{
    return lookup(o, name, -1, -1)->node != NULL;
}

const char *sl_opts_string(const sl_opts *o, const char *name)
{
    return lookup(o, name, SL_OPT_STRING, SL_OPT_EXPR)->text;
}

int64_t sl_opts_int(const sl_opts *o, const char *name)
{
    return lookup(o, name, SL_OPT_INT, SL_OPT_INT)->i;
}

double sl_opts_float(const sl_opts *o, const char *name)
{
    return lookup(o, name, SL_OPT_FLOAT, SL_OPT_FLOAT)->f;
}

bool sl_opts_bool(const sl_opts *o, const char *name)
{
    return lookup(o, name, SL_OPT_BOOL, SL_OPT_BOOL)->b;
}

uint64_t sl_opts_size(const sl_opts *o, const char *name)
{
    return lookup(o, name, SL_OPT_SIZE, SL_OPT_SIZE)->u;
}

uint64_t sl_opts_duration_ms(const sl_opts *o, const char *name)
{
    return lookup(o, name, SL_OPT_DURATION, SL_OPT_DURATION)->u;
}

const char *sl_opts_enum(const sl_opts *o, const char *name)
{
    return lookup(o, name, SL_OPT_ENUM, SL_OPT_ENUM)->enum_value;
}

size_t sl_opts_list_len(const sl_opts *o, const char *name)
{
    return lookup(o, name, SL_OPT_LIST, SL_OPT_LIST)->n_items;
}

const char *sl_opts_list_item(const sl_opts *o, const char *name, size_t i)
{
    const opt_value *v = lookup(o, name, SL_OPT_LIST, SL_OPT_LIST);
    return i < v->n_items ? v->items[i] : NULL;
}

const sl_node *sl_opts_node(const sl_opts *o, const char *name)
{
    return lookup(o, name, -1, -1)->node;
}

sl_pos sl_opts_pos(const sl_opts *o, const char *name)
{
    const opt_value *v = lookup(o, name, -1, -1);
    return v->node ? v->node->pos : o->pos;
}

/* ---- documentation ---- */

/* Appends text for a table cell: '|' escaped, newlines as spaces. */
static void cell(sl_buf *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|')
            sl_buf_puts(out, "\\|");
        else if (*s == '\n')
            sl_buf_putc(out, ' ');
        else
            sl_buf_putc(out, *s);
    }
}

void sl_options_doc_markdown(const sl_option *schema, sl_buf *out)
{
    sl_buf_puts(out, "| option | type | required | default | description |\n");
    sl_buf_puts(out, "|---|---|---|---|---|\n");
    for (const sl_option *o = schema; o->name; o++) {
        sl_buf_puts(out, "| `");
        cell(out, o->name);
        sl_buf_printf(out, "` | %s | %s | ", sl_opt_type_name(o->type), o->required ? "yes" : "no");
        if (o->default_value) {
            sl_buf_putc(out, '`');
            cell(out, o->default_value);
            sl_buf_puts(out, "` ");
        }
        sl_buf_puts(out, "| ");
        cell(out, o->doc);
        if (o->type == SL_OPT_ENUM) {
            sl_buf_puts(out, o->doc ? " One of: " : "One of: ");
            sl_buf tmp;
            sl_buf_init(&tmp);
            join_enum(o, &tmp, ", ", "`");
            if (tmp.len)
                cell(out, tmp.data);
            sl_buf_free(&tmp);
            sl_buf_putc(out, '.');
        }
        sl_buf_puts(out, " |\n");
    }
}
