/* node.c — YAML text into a tree of sl_node with source positions.
 *
 * libyaml's event parser does the syntax; this file builds the tree by
 * recursive descent over the events, which keeps every node's position (libyaml
 * marks are 0-based, ours 1-based) and lets us check what libyaml does not:
 *  - duplicate keys in a mapping (an error at the second key; the later pair
 *    is dropped so that the rest of the loader sees the first one);
 *  - aliases: an alias becomes a deep copy of its anchored node. Copies are
 *    counted against a node and byte budget so that a "billion laughs"
 *    document fails with an error instead of exhausting memory;
 *  - nesting depth, so that recursion stays bounded on hostile input;
 *  - interpolation of scalar values (`${env:NAME}`, `${env:NAME:-default}`,
 *    `${file:PATH}`, `$${` for a literal "${"); keys are never interpolated.
 *    A scalar that received interpolated text is marked secret.
 * Syntax errors end the parse (NULL is returned); the other problems are
 * reported and loading carries on.
 */
#include "node.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "../core/util.h"

#define MAX_DEPTH 100                        /* nested collections */
#define MAX_NODES 100000                     /* nodes in one document, copies included */
#define MAX_COPIED_BYTES (16u << 20)         /* scalar bytes created by aliases */
#define MAX_FILE_SECRET (1u << 20)           /* ${file:} content */

typedef struct anchor {
    char *name;
    const sl_node *node;
} anchor;

typedef struct parser {
    yaml_parser_t yaml;
    sl_diag *diag;
    const char *file;           /* interned in diag */
    const char *text;           /* the input, for positions of encoding errors */
    size_t len;
    anchor *anchors;
    size_t n_anchors, cap_anchors;
    sl_node **dropped;          /* nodes left out of the tree, freed at the end
                                 * (an anchor may still point into them) */
    size_t n_dropped, cap_dropped;
    size_t n_nodes;
    size_t copied_bytes;
} parser;

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        abort();
    return p;
}

static sl_pos mark_pos(const parser *p, yaml_mark_t m)
{
    return (sl_pos){ p->file, (int)m.line + 1, (int)m.column + 1 };
}

const char *sl_node_kind_name(sl_node_kind k)
{
    switch (k) {
    case SL_NODE_SCALAR: return "a scalar";
    case SL_NODE_SEQ: return "a list";
    case SL_NODE_MAP: return "a mapping";
    }
    return "a node";
}

const char *sl_node_show(const sl_node *n, char out[SL_NODE_SHOW_MAX])
{
    if (n->kind != SL_NODE_SCALAR)
        return sl_node_kind_name(n->kind);
    if (n->secret)
        return "<redacted>";
    size_t len = strnlen(n->text, n->len);
    if (len < SL_NODE_SHOW_MAX)
        return n->text;
    snprintf(out, SL_NODE_SHOW_MAX, "%.*s...", SL_NODE_SHOW_MAX - 4, n->text);
    return out;
}

/* ---- node construction ---- */

static sl_node *new_node(parser *p, sl_node_kind kind, sl_pos pos)
{
    if (p->n_nodes >= MAX_NODES) {
        sl_diag_error(p->diag, pos, "the document has more than %d nodes (are aliases expanding "
                      "recursively?)", MAX_NODES);
        return NULL;
    }
    p->n_nodes++;
    sl_node *n = calloc(1, sizeof *n);
    if (!n)
        abort();
    n->kind = kind;
    n->pos = pos;
    return n;
}

void sl_node_free(sl_node *n)
{
    if (!n)
        return;
    free(n->text);
    for (size_t i = 0; i < n->n_items; i++)
        sl_node_free(n->items[i]);
    free(n->items);
    for (size_t i = 0; i < n->n_pairs; i++) {
        sl_node_free(n->pairs[i].key);
        sl_node_free(n->pairs[i].value);
    }
    free(n->pairs);
    free(n);
}

static void drop(parser *p, sl_node *n)
{
    if (!n)
        return;
    if (p->n_dropped == p->cap_dropped) {
        p->cap_dropped = p->cap_dropped ? p->cap_dropped * 2 : 8;
        p->dropped = xrealloc(p->dropped, p->cap_dropped * sizeof *p->dropped);
    }
    p->dropped[p->n_dropped++] = n;
}

/* Deep copy for an alias; the copy takes the alias's position. */
static sl_node *copy_node(parser *p, const sl_node *src, sl_pos pos, int depth)
{
    if (depth > MAX_DEPTH) {
        sl_diag_error(p->diag, pos, "nesting is deeper than %d levels", MAX_DEPTH);
        return NULL;
    }
    sl_node *n = new_node(p, src->kind, pos);
    if (!n)
        return NULL;
    n->quoted = src->quoted;
    n->secret = src->secret;
    if (src->kind == SL_NODE_SCALAR) {
        p->copied_bytes += src->len;
        if (p->copied_bytes > MAX_COPIED_BYTES) {
            sl_diag_error(p->diag, pos, "aliases expand to more than %u MiB of text",
                          MAX_COPIED_BYTES >> 20);
            free(n);
            return NULL;
        }
        n->text = xrealloc(NULL, src->len + 1);
        memcpy(n->text, src->text, src->len + 1);
        n->len = src->len;
        return n;
    }
    if (src->n_items) {
        n->items = xrealloc(NULL, src->n_items * sizeof *n->items);
        for (; n->n_items < src->n_items; n->n_items++) {
            sl_node *item = copy_node(p, src->items[n->n_items], src->items[n->n_items]->pos, depth + 1);
            if (!item)
                goto fail;
            n->items[n->n_items] = item;
        }
    }
    if (src->n_pairs) {
        n->pairs = xrealloc(NULL, src->n_pairs * sizeof *n->pairs);
        for (; n->n_pairs < src->n_pairs; n->n_pairs++) {
            const sl_node_pair *sp = &src->pairs[n->n_pairs];
            sl_node *key = copy_node(p, sp->key, sp->key->pos, depth + 1);
            sl_node *value = key ? copy_node(p, sp->value, sp->value->pos, depth + 1) : NULL;
            if (!value) {
                sl_node_free(key);
                goto fail;
            }
            n->pairs[n->n_pairs] = (sl_node_pair){ key, value };
        }
    }
    return n;
fail:
    sl_node_free(n);
    return NULL;
}

/* ---- interpolation ---- */

static bool valid_env_name(const char *s, size_t len)
{
    if (len == 0 || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

/* Appends the content of a secret file, without its trailing newline. */
static int read_secret_file(parser *p, sl_pos pos, const char *path, sl_buf *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        sl_diag_error(p->diag, pos, "cannot read '%s' for ${file:}: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        sl_diag_error(p->diag, pos, "cannot read '%s' for ${file:}: not a regular file", path);
        close(fd);
        return -1;
    }
    size_t start = out->len;
    for (;;) {
        sl_buf_reserve(out, 4096);
        ssize_t r = read(fd, out->data + out->len, 4096);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            sl_diag_error(p->diag, pos, "cannot read '%s' for ${file:}: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        out->len += (size_t)r;
        if (out->len - start > MAX_FILE_SECRET) {
            sl_diag_error(p->diag, pos, "'%s' is larger than %u MiB; ${file:} is meant for secrets",
                          path, MAX_FILE_SECRET >> 20);
            close(fd);
            return -1;
        }
    }
    close(fd);
    if (out->len > start && out->data[out->len - 1] == '\n') {
        out->len--;
        if (out->len > start && out->data[out->len - 1] == '\r')
            out->len--;
    }
    return 0;
}

/* Expands one "${...}" whose inner text is s[0..len). */
static int expand(parser *p, sl_pos pos, const char *s, size_t len, sl_buf *out)
{
    const char *colon = memchr(s, ':', len);
    size_t kind_len = colon ? (size_t)(colon - s) : len;
    if (!colon || !((kind_len == 3 && memcmp(s, "env", 3) == 0) ||
                    (kind_len == 4 && memcmp(s, "file", 4) == 0))) {
        sl_diag_error(p->diag, pos, "unknown interpolation '${%.*s%s}': use ${env:NAME}, "
                      "${env:NAME:-default} or ${file:PATH} ($${ writes a literal ${)",
                      (int)(kind_len > 32 ? 32 : kind_len), s, colon ? ":..." : "");
        return -1;
    }
    const char *arg = colon + 1;
    size_t arg_len = len - kind_len - 1;
    if (kind_len == 4) {
        if (arg_len == 0) {
            sl_diag_error(p->diag, pos, "${file:} needs a path, as in ${file:/run/secrets/token}");
            return -1;
        }
        char *path = strndup(arg, arg_len);
        if (!path)
            abort();
        int rc = read_secret_file(p, pos, path, out);
        free(path);
        return rc;
    }
    const char *dflt = NULL;
    size_t name_len = arg_len, dflt_len = 0;
    for (size_t i = 0; i + 1 < arg_len; i++) {
        if (arg[i] == ':' && arg[i + 1] == '-') {
            name_len = i;
            dflt = arg + i + 2;
            dflt_len = arg_len - i - 2;
            break;
        }
    }
    if (!valid_env_name(arg, name_len)) {
        sl_diag_error(p->diag, pos, "invalid environment variable name '%.*s' in ${env:}: use "
                      "letters, digits and '_'", (int)(name_len > 64 ? 64 : name_len), arg);
        return -1;
    }
    char *name = strndup(arg, name_len);
    if (!name)
        abort();
    const char *value = getenv(name);
    int rc = 0;
    if (dflt && (!value || !*value)) {
        sl_buf_append(out, dflt, dflt_len);
    } else if (!value) {
        sl_diag_error(p->diag, pos, "environment variable %s is not set", name);
        rc = -1;
    } else {
        sl_buf_puts(out, value);
    }
    free(name);
    return rc;
}

/* Applies interpolation to a scalar value in place. */
static void interpolate(parser *p, sl_node *n)
{
    if (!memchr(n->text, '$', n->len))
        return;
    sl_buf out;
    sl_buf_init(&out);
    bool expanded = false, failed = false;
    const char *s = n->text;
    size_t len = n->len, i = 0;
    while (i < len && !failed) {
        if (s[i] == '$' && i + 2 < len && s[i + 1] == '$' && s[i + 2] == '{') {
            sl_buf_append(&out, "${", 2);
            i += 3;
        } else if (s[i] == '$' && i + 1 < len && s[i + 1] == '{') {
            const char *close = memchr(s + i + 2, '}', len - i - 2);
            if (!close) {
                sl_diag_error(p->diag, n->pos, "'${' is not closed by '}' (write $${ for a literal ${)");
                failed = true;
                break;
            }
            failed = expand(p, n->pos, s + i + 2, (size_t)(close - s - i - 2), &out) != 0;
            expanded = true;
            i = (size_t)(close - s) + 1;
        } else {
            sl_buf_putc(&out, s[i]);
            i++;
        }
    }
    if (failed) {
        sl_buf_free(&out);
        return;
    }
    free(n->text);
    n->len = out.len;
    sl_buf_putc(&out, '\0');
    n->text = sl_buf_steal(&out, NULL);
    n->secret = expanded;
}

/* ---- the event parser ---- */

/* Reads the next event; on a syntax error reports it and returns -1. */
static int next_event(parser *p, yaml_event_t *ev)
{
    if (yaml_parser_parse(&p->yaml, ev))
        return 0;
    const yaml_parser_t *y = &p->yaml;
    if (y->error == YAML_MEMORY_ERROR)
        abort();
    sl_pos pos = mark_pos(p, y->problem_mark);
    if (y->error == YAML_READER_ERROR) {
        /* encoding problems carry a byte offset instead of a mark */
        pos = (sl_pos){ p->file, 1, 1 };
        for (size_t i = 0; i < y->problem_offset && i < p->len; i++) {
            if (p->text[i] == '\n') {
                pos.line++;
                pos.col = 1;
            } else {
                pos.col++;
            }
        }
    }
    if (y->context)
        sl_diag_error(p->diag, pos, "invalid YAML: %s %s at line %zu, column %zu", y->problem,
                      y->context, y->context_mark.line + 1, y->context_mark.column + 1);
    else
        sl_diag_error(p->diag, pos, "invalid YAML: %s", y->problem ? y->problem : "syntax error");
    return -1;
}

static void add_anchor(parser *p, const yaml_char_t *name, const sl_node *n)
{
    if (!name)
        return;
    for (size_t i = 0; i < p->n_anchors; i++) {
        if (strcmp(p->anchors[i].name, (const char *)name) == 0) {
            p->anchors[i].node = n;    /* YAML allows redefining an anchor */
            return;
        }
    }
    if (p->n_anchors == p->cap_anchors) {
        p->cap_anchors = p->cap_anchors ? p->cap_anchors * 2 : 8;
        p->anchors = xrealloc(p->anchors, p->cap_anchors * sizeof *p->anchors);
    }
    char *copy = strdup((const char *)name);
    if (!copy)
        abort();
    p->anchors[p->n_anchors++] = (anchor){ copy, n };
}

static sl_node *parse_node(parser *p, yaml_event_t *ev, int depth, bool is_key);

static sl_node *parse_scalar(parser *p, yaml_event_t *ev, bool is_key)
{
    sl_node *n = new_node(p, SL_NODE_SCALAR, mark_pos(p, ev->start_mark));
    if (!n)
        return NULL;
    size_t len = ev->data.scalar.length;
    n->text = xrealloc(NULL, len + 1);
    memcpy(n->text, ev->data.scalar.value, len);
    n->text[len] = '\0';
    n->len = len;
    const char *tag = (const char *)ev->data.scalar.tag;
    n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
                (tag && strcmp(tag, YAML_STR_TAG) == 0);
    if (!is_key)
        interpolate(p, n);
    add_anchor(p, ev->data.scalar.anchor, n);
    return n;
}

static sl_node *parse_seq(parser *p, yaml_event_t *start, int depth)
{
    sl_node *n = new_node(p, SL_NODE_SEQ, mark_pos(p, start->start_mark));
    if (!n)
        return NULL;
    size_t cap = 0;
    for (;;) {
        yaml_event_t ev;
        if (next_event(p, &ev) != 0)
            goto fail;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        sl_node *item = parse_node(p, &ev, depth + 1, false);
        yaml_event_delete(&ev);
        if (!item)
            goto fail;
        if (n->n_items == cap) {
            cap = cap ? cap * 2 : 4;
            n->items = xrealloc(n->items, cap * sizeof *n->items);
        }
        n->items[n->n_items++] = item;
    }
    add_anchor(p, start->data.sequence_start.anchor, n);
    return n;
fail:
    sl_node_free(n);
    return NULL;
}

static const sl_node_pair *find_pair(const sl_node *map, const sl_node *key)
{
    for (size_t i = 0; i < map->n_pairs; i++) {
        const sl_node *k = map->pairs[i].key;
        if (k->len == key->len && memcmp(k->text, key->text, k->len) == 0)
            return &map->pairs[i];
    }
    return NULL;
}

static sl_node *parse_map(parser *p, yaml_event_t *start, int depth)
{
    sl_node *n = new_node(p, SL_NODE_MAP, mark_pos(p, start->start_mark));
    if (!n)
        return NULL;
    size_t cap = 0;
    for (;;) {
        yaml_event_t ev;
        if (next_event(p, &ev) != 0)
            goto fail;
        if (ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        sl_node *key = parse_node(p, &ev, depth + 1, true);
        yaml_event_delete(&ev);
        if (!key)
            goto fail;
        if (next_event(p, &ev) != 0) {
            sl_node_free(key);
            goto fail;
        }
        sl_node *value = parse_node(p, &ev, depth + 1, false);
        yaml_event_delete(&ev);
        if (!value) {
            sl_node_free(key);
            goto fail;
        }
        char shown[SL_NODE_SHOW_MAX];
        const sl_node_pair *first = key->kind == SL_NODE_SCALAR ? find_pair(n, key) : NULL;
        if (key->kind != SL_NODE_SCALAR) {
            sl_diag_error(p->diag, key->pos, "a mapping key must be a scalar, not %s",
                          sl_node_kind_name(key->kind));
        } else if (first) {
            sl_diag_error(p->diag, key->pos, "duplicate key '%s' (first defined at line %d, column %d)",
                          sl_node_show(key, shown), first->key->pos.line, first->key->pos.col);
        } else {
            if (n->n_pairs == cap) {
                cap = cap ? cap * 2 : 4;
                n->pairs = xrealloc(n->pairs, cap * sizeof *n->pairs);
            }
            n->pairs[n->n_pairs++] = (sl_node_pair){ key, value };
            continue;
        }
        drop(p, key);
        drop(p, value);
    }
    add_anchor(p, start->data.mapping_start.anchor, n);
    return n;
fail:
    sl_node_free(n);
    return NULL;
}

/* Builds the node that starts with event ev (which the caller deletes). */
static sl_node *parse_node(parser *p, yaml_event_t *ev, int depth, bool is_key)
{
    sl_pos pos = mark_pos(p, ev->start_mark);
    if (depth > MAX_DEPTH) {
        sl_diag_error(p->diag, pos, "nesting is deeper than %d levels", MAX_DEPTH);
        return NULL;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        return parse_scalar(p, ev, is_key);
    case YAML_SEQUENCE_START_EVENT:
        return parse_seq(p, ev, depth);
    case YAML_MAPPING_START_EVENT:
        return parse_map(p, ev, depth);
    case YAML_ALIAS_EVENT: {
        const char *name = (const char *)ev->data.alias.anchor;
        for (size_t i = p->n_anchors; i-- > 0;)
            if (strcmp(p->anchors[i].name, name) == 0)
                return copy_node(p, p->anchors[i].node, pos, depth);
        sl_diag_error(p->diag, pos, "unknown alias '*%s' (an anchor '&%s' must come before it "
                      "and be complete)", name, name);
        return NULL;
    }
    default:
        sl_diag_error(p->diag, pos, "invalid YAML: unexpected event");
        return NULL;
    }
}

/* Parses the whole stream; returns the root of the first document. */
static sl_node *parse_stream(parser *p)
{
    yaml_event_t ev;
    if (next_event(p, &ev) != 0)          /* STREAM-START */
        return NULL;
    yaml_event_delete(&ev);
    if (next_event(p, &ev) != 0)
        return NULL;
    if (ev.type == YAML_STREAM_END_EVENT) {  /* an empty file is an empty mapping */
        yaml_event_delete(&ev);
        return new_node(p, SL_NODE_MAP, (sl_pos){ p->file, 1, 1 });
    }
    yaml_event_delete(&ev);                 /* DOCUMENT-START */
    if (next_event(p, &ev) != 0)
        return NULL;
    sl_node *root = parse_node(p, &ev, 0, false);
    yaml_event_delete(&ev);
    if (!root)
        return NULL;
    if (next_event(p, &ev) != 0) {          /* DOCUMENT-END */
        sl_node_free(root);
        return NULL;
    }
    yaml_event_delete(&ev);
    if (next_event(p, &ev) != 0) {
        sl_node_free(root);
        return NULL;
    }
    if (ev.type == YAML_DOCUMENT_START_EVENT)
        sl_diag_error(p->diag, mark_pos(p, ev.start_mark),
                      "a configuration file holds one YAML document; remove this '---' and what follows");
    yaml_event_delete(&ev);
    return root;
}

sl_node *sl_node_parse(const char *file, const char *text, size_t len, sl_diag *diag)
{
    parser p = { .diag = diag, .file = sl_diag_file(diag, file), .text = text, .len = len };
    if (!yaml_parser_initialize(&p.yaml))
        abort();
    yaml_parser_set_input_string(&p.yaml, (const unsigned char *)text, len);
    sl_node *root = parse_stream(&p);
    yaml_parser_delete(&p.yaml);
    for (size_t i = 0; i < p.n_anchors; i++)
        free(p.anchors[i].name);
    free(p.anchors);
    for (size_t i = 0; i < p.n_dropped; i++)
        sl_node_free(p.dropped[i]);
    free(p.dropped);
    return root;
}

sl_node *sl_node_load_file(const char *path, sl_diag *diag)
{
    sl_pos pos = { sl_diag_file(diag, path), 0, 0 };
    sl_buf text;
    sl_buf_init(&text);
    sl_node *root = NULL;
    if (sl_read_file(path, &text) < 0)
        sl_diag_error(diag, pos, "cannot open the configuration: %s", strerror(errno));
    else
        root = sl_node_parse(path, text.data, text.len, diag);
    sl_buf_free(&text);
    return root;
}

/* ---- lookup ---- */

sl_node *sl_node_get(const sl_node *n, const char *key)
{
    if (!n || n->kind != SL_NODE_MAP)
        return NULL;
    size_t len = strlen(key);
    for (size_t i = 0; i < n->n_pairs; i++) {
        const sl_node *k = n->pairs[i].key;
        if (k->len == len && memcmp(k->text, key, len) == 0)
            return n->pairs[i].value;
    }
    return NULL;
}

/* ---- printing ---- */

static bool plain_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("_-./+@=~%()$", c) != NULL || (unsigned char)c >= 0x80;
}

/* Whether text can be written without quotes (in block context, where the
 * printer writes everything but empty collections) and read back the same. */
static bool can_be_plain(const char *s, size_t len)
{
    if (len == 0 || s[0] == ' ' || s[len - 1] == ' ' || s[len - 1] == ':')
        return false;
    if (strchr("%@:", s[0]) || (s[0] == '-' && (len == 1 || s[1] == ' ')))
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == ' ' && (s[i + 1] == '#' || s[i + 1] == ' '))
            return false;
        if (c == ':' && s[i + 1] == ' ')
            return false;
        if (!plain_char(c) && c != ' ' && c != ':' && !(i > 0 && strchr("{}[],", c)))
            return false;
    }
    return true;
}

/* Values are written with "${" escaped as "$${", so that what is printed
 * loads back to the same text; keys are never interpolated. */
static void print_scalar(const sl_node *n, bool is_key, sl_buf *out)
{
    if (n->secret) {
        sl_buf_puts(out, "<redacted>");
        return;
    }
    sl_buf text;
    sl_buf_init(&text);
    for (size_t i = 0; i < n->len; i++) {
        if (!is_key && n->text[i] == '$' && i + 1 < n->len && n->text[i + 1] == '{')
            sl_buf_putc(&text, '$');
        sl_buf_putc(&text, n->text[i]);
    }
    sl_buf_putc(&text, '\0');
    if (!n->quoted && can_be_plain(text.data, text.len - 1)) {
        sl_buf_append(out, text.data, text.len - 1);
        sl_buf_free(&text);
        return;
    }
    sl_buf_putc(out, '"');
    for (size_t i = 0; i + 1 < text.len; i++) {
        unsigned char c = (unsigned char)text.data[i];
        switch (c) {
        case '"': sl_buf_puts(out, "\\\""); break;
        case '\\': sl_buf_puts(out, "\\\\"); break;
        case '\n': sl_buf_puts(out, "\\n"); break;
        case '\t': sl_buf_puts(out, "\\t"); break;
        case '\r': sl_buf_puts(out, "\\r"); break;
        default:
            if (c < 0x20 || c == 0x7f)
                sl_buf_printf(out, "\\x%02x", c);
            else
                sl_buf_putc(out, (char)c);
        }
    }
    sl_buf_putc(out, '"');
    sl_buf_free(&text);
}

static bool is_block(const sl_node *n)
{
    return (n->kind == SL_NODE_MAP && n->n_pairs > 0) || (n->kind == SL_NODE_SEQ && n->n_items > 0);
}

static void print_block(const sl_node *n, int indent, bool first_inline, sl_buf *out);

/* Writes a value that follows "key:" or "-". */
static void print_value(const sl_node *v, int indent, bool after_dash, sl_buf *out)
{
    if (!is_block(v)) {
        sl_buf_putc(out, ' ');
        if (v->kind == SL_NODE_MAP)
            sl_buf_puts(out, "{}");
        else if (v->kind == SL_NODE_SEQ)
            sl_buf_puts(out, "[]");
        else
            print_scalar(v, false, out);
        sl_buf_putc(out, '\n');
    } else if (after_dash) {
        sl_buf_putc(out, ' ');
        print_block(v, indent + 2, true, out);
    } else {
        sl_buf_putc(out, '\n');
        print_block(v, indent + 2, false, out);
    }
}

static void print_block(const sl_node *n, int indent, bool first_inline, sl_buf *out)
{
    size_t count = n->kind == SL_NODE_MAP ? n->n_pairs : n->n_items;
    for (size_t i = 0; i < count; i++) {
        if (i > 0 || !first_inline)
            sl_buf_printf(out, "%*s", indent, "");
        if (n->kind == SL_NODE_MAP) {
            print_scalar(n->pairs[i].key, true, out);
            sl_buf_putc(out, ':');
            print_value(n->pairs[i].value, indent, false, out);
        } else {
            sl_buf_putc(out, '-');
            print_value(n->items[i], indent, true, out);
        }
    }
}

void sl_node_print(const sl_node *n, sl_buf *out)
{
    if (is_block(n)) {
        print_block(n, 0, false, out);
        return;
    }
    if (n->kind == SL_NODE_MAP)
        sl_buf_puts(out, "{}");
    else if (n->kind == SL_NODE_SEQ)
        sl_buf_puts(out, "[]");
    else
        print_scalar(n, false, out);
    sl_buf_putc(out, '\n');
}
