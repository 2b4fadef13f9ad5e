/* error.h — errors a user can act on.
 *
 * sl_error carries one message from the function that failed to its caller.
 * Every function that can fail takes an sl_error * and returns -1 (or NULL);
 * the message says what failed and, where possible, what to do about it.
 */
#ifndef SL_ERROR_H
#define SL_ERROR_H

#include <stdarg.h>
#include <stdbool.h>

#define SL_ERROR_MAX 512

typedef struct sl_error {
    char msg[SL_ERROR_MAX];
    int sys_errno;   /* the errno behind the failure when it was a system call
                        (ENOSPC lets callers pause instead of giving up), else 0 */
} sl_error;

/* Formats into err (when err is non-NULL) and returns -1, so callers can write
 * `return sl_errorf(err, "cannot open %s: %s", path, strerror(errno));` */
int sl_errorf(sl_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sl_verrorf(sl_error *err, const char *fmt, va_list ap);
/* Prefixes an existing message: "context: old message". */
int sl_error_prefix(sl_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whether the failure was a full disk or an exhausted quota (ENOSPC,
 * EDQUOT): writers pause and retry until space returns instead of giving up. */
bool sl_error_disk_full(const sl_error *err);

#endif
