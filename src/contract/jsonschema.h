/* jsonschema.h — contracts written as JSON Schema, so teams can reuse the
 * schemas they already have.
 *
 * The common subset is supported: type (including lists of types), required,
 * properties (nested), enum (of scalars), minimum, maximum,
 * exclusiveMinimum, exclusiveMaximum (number form, and draft-4 boolean
 * form), minLength, maxLength, pattern, items (one schema for every
 * element) and format (email, uri, uuid, date-time, date, ipv4, ipv6).
 * Annotations that do not constrain data ($schema, $id, title, description,
 * $comment, examples, default, deprecated, readOnly, writeOnly, $defs,
 * definitions) are ignored. Every other keyword is an error at load naming
 * it ("$ref is not supported") — a schema is never half-enforced silently.
 *
 * The root schema must describe an object; its properties are the record's
 * top-level fields.
 */
#ifndef SL_JSONSCHEMA_H
#define SL_JSONSCHEMA_H

#include <stddef.h>

#include "../config/diag.h"
#include "contract.h"

/* Loads a schema file. `at` is where the path was written (for "cannot
 * read" errors); problems inside the schema are reported against the file,
 * naming the JSON pointer of the offending schema. NULL after errors. */
sl_contract *sl_jsonschema_load_file(const char *path, sl_pos at, sl_diag *diag);
/* The same from text in memory; `name` is used in messages. */
sl_contract *sl_jsonschema_parse(const char *name, const char *text, size_t len, sl_diag *diag);

#endif
