/* node.h — the configuration as a tree of YAML nodes that remember where they
 * came from (file, line, column), so every error can point at its source.
 *
 * Interpolation (`${env:NAME}`, `${env:NAME:-default}`, `${file:PATH}`) is
 * applied to scalar values (not keys) while loading; a scalar that received a value from
 * interpolation is marked `secret` and is printed as "<redacted>" by
 * sl_node_print and never appears in log lines or error messages.
 * `$${` escapes a literal "${".
 */
#ifndef SL_NODE_H
#define SL_NODE_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/buf.h"
#include "diag.h"

typedef enum { SL_NODE_SCALAR, SL_NODE_SEQ, SL_NODE_MAP } sl_node_kind;

typedef struct sl_node sl_node;

typedef struct sl_node_pair {
    sl_node *key;      /* always a scalar */
    sl_node *value;
} sl_node_pair;

struct sl_node {
    sl_node_kind kind;
    sl_pos pos;            /* where the node starts */
    /* scalar */
    char *text;            /* NUL-terminated (may also contain NULs: use len) */
    size_t len;
    bool quoted;           /* written with quotes: never a null/bool/number */
    bool secret;           /* holds interpolated text */
    /* sequence */
    sl_node **items;
    size_t n_items;
    /* mapping */
    sl_node_pair *pairs;
    size_t n_pairs;
};

/* Parses YAML text (one document; anchors and aliases are resolved;
 * duplicate keys are an error). `file` is used in positions. Errors go to
 * diag; returns NULL when the text is not valid YAML. */
sl_node *sl_node_parse(const char *file, const char *text, size_t len, sl_diag *diag);
sl_node *sl_node_load_file(const char *path, sl_diag *diag);
void sl_node_free(sl_node *n);

/* Mapping lookup by key; NULL when absent or n is not a map. */
sl_node *sl_node_get(const sl_node *n, const char *key);
const char *sl_node_kind_name(sl_node_kind k);   /* "a scalar", "a list", "a mapping" */
/* A scalar's text as it may appear in a message: "<redacted>" when secret,
 * shortened with "..." when long; `out` is the storage. */
#define SL_NODE_SHOW_MAX 72
const char *sl_node_show(const sl_node *n, char out[SL_NODE_SHOW_MAX]);
/* Writes the tree back as YAML, with secret scalars as <redacted>. */
void sl_node_print(const sl_node *n, sl_buf *out);

#endif
