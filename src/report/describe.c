/* describe.c — reading the components' describe JSON (see describe.h): typed
 * accessors that answer "absent" instead of failing, because a section shows
 * what a component reports and leaves out what it does not.
 */
#include "describe.h"

#include <string.h>


const sl_value *sl_describe_get(const sl_value *m, const char *key)
{
    if (!m || m->type != SL_MAP)
        return NULL;
    return sl_map_get(m, key, strlen(key));
}

bool sl_describe_num(const sl_value *v, double *out)
{
    return v && sl_value_as_double(v, out);
}

double sl_describe_num_or(const sl_value *m, const char *key, double dflt)
{
    double d;
    return sl_describe_num(sl_describe_get(m, key), &d) ? d : dflt;
}

uint64_t sl_describe_count(const sl_value *m, const char *key)
{
    double d = sl_describe_num_or(m, key, 0);
    return d > 0 ? (uint64_t)d : 0;
}

bool sl_describe_str(const sl_value *v, const char **s, size_t *len)
{
    if (!v || v->type != SL_STRING)
        return false;
    *s = v->as.s;
    *len = v->len;
    return true;
}


