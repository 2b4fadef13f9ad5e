/* describe.h — reading a component's describe JSON in the report (internal to
 * src/report/).
 *
 * Each accessor takes a possibly missing or mistyped value and answers
 * "absent" (false, NULL, or the default) rather than failing: a section
 * shows what a component reports and leaves out what it does not.
 */
#ifndef SL_REPORT_DESCRIBE_H
#define SL_REPORT_DESCRIBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/buf.h"
#include "../core/value.h"

/* Member key of map m, or NULL (also when m is not a map). */
const sl_value *sl_describe_get(const sl_value *m, const char *key);
/* v as a number; false when v is missing or not numeric. */
bool sl_describe_num(const sl_value *v, double *out);
double sl_describe_num_or(const sl_value *m, const char *key, double dflt);
/* A count member: a non-negative integer, 0 when missing. */
uint64_t sl_describe_count(const sl_value *m, const char *key);
/* v as a string (not copied; lives in the state's arena). */
bool sl_describe_str(const sl_value *v, const char **s, size_t *len);

#endif
