/* error.c — formatting of sl_error messages (see error.h). */
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int sl_verrorf(sl_error *err, const char *fmt, va_list ap) {
    if (err)
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    return -1;
}

int sl_errorf(sl_error *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sl_verrorf(err, fmt, ap);
    va_end(ap);
    return -1;
}

int sl_error_prefix(sl_error *err, const char *fmt, ...) {
    if (!err)
        return -1;
    char old[SL_ERROR_MAX];
    memcpy(old, err->msg, sizeof old);
    old[sizeof old - 1] = '\0';
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof err->msg)
        snprintf(err->msg + n, sizeof err->msg - (size_t)n, ": %s", old);
    return -1;
}

bool sl_error_disk_full(const sl_error *err) {
    return err && (err->sys_errno == ENOSPC || err->sys_errno == EDQUOT);
}
