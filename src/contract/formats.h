/* formats.h — string formats a contract can require: email, uri, uuid,
 * date-time, date, ip (v4 or v6), ipv4, ipv6.
 *
 * The checks are deliberately pragmatic, not full RFC grammars: they accept
 * what real systems emit and reject what is clearly not the format (an email
 * without a domain, a uuid of the wrong length, a date of February 30th).
 * Each check is a pure function of the bytes, allocates nothing and is safe
 * to call from any thread. What each accepts exactly is documented in
 * docs/contracts.md.
 */
#ifndef SL_FORMATS_H
#define SL_FORMATS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum sl_strfmt {
    SL_STRFMT_EMAIL,
    SL_STRFMT_URI,
    SL_STRFMT_UUID,
    SL_STRFMT_DATE_TIME,
    SL_STRFMT_DATE,
    SL_STRFMT_IP,
    SL_STRFMT_IPV4,
    SL_STRFMT_IPV6,
    SL_STRFMT_COUNT
} sl_strfmt;

/* The format's name as written in a contract ("date-time"). */
const char *sl_strfmt_name(sl_strfmt f);
/* The names of every format, in enum order (for "did you mean"). */
const char *const *sl_strfmt_names(void);
/* Looks a name up; returns false when there is no such format. */
bool sl_strfmt_parse(const char *name, sl_strfmt *out);
/* True when s[0..len) is in format f. */
bool sl_strfmt_check(sl_strfmt f, const char *s, size_t len);

#endif
