/* text_field.c — the shared `non_string` policy of the text transforms (see
 * text_field.h). */
#include <string.h>

#include "text_field.h"

const char *const sl_non_string_values[] = {"dlq", "pass", NULL};

bool sl_non_string_to_dlq(const sl_opts *opts)
{
    return strcmp(sl_opts_enum(opts, "non_string"), "dlq") == 0;
}

bool sl_is_non_string(const sl_value *v, bool bytes_ok)
{
    if (!v || v->type == SL_NULL || v->type == SL_STRING) return false;
    return !(bytes_ok && v->type == SL_BYTES);
}

void sl_emit_non_string(sl_emit *out, sl_record *r, const sl_path *path, const sl_value *v)
{
    sl_emit_dlq(out, r, "non_string", "field %s is of type %s, not a string (non_string: pass lets such records through)",
                sl_path_source(path), sl_type_name(v->type));
}
