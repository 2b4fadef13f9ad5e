/* log.c — log lines on stderr (see log.h).
 *
 * Each line is formatted into a local buffer first and written with one
 * fwrite under a mutex, so lines from different threads never interleave.
 * On a terminal each line first clears the current line, so that a progress
 * bar being drawn there is not left glued to the front of the message (the
 * bar redraws itself on its next tick).
 */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static _Atomic int current_level = SL_LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

void sl_log_set_level(sl_log_level level) {
    current_level = (int)level;
}

sl_log_level sl_log_get_level(void) {
    return (sl_log_level)current_level;
}

int sl_log_parse_level(const char *s, sl_log_level *out) {
    for (int i = SL_LOG_DEBUG; i <= SL_LOG_OFF; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (sl_log_level)i;
            return 0;
        }
    }
    return -1;
}

void sl_log(sl_log_level level, const char *component, const char *fmt, ...) {
    if (level >= SL_LOG_OFF || (int)level < current_level)
        return;
    char line[2048];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    size_t n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%SZ ", &tm);
    int k = snprintf(line + n, sizeof line - n, "%s %s: ", level_names[level], component);
    if (k > 0)
        n += (size_t)k < sizeof line - n ? (size_t)k : sizeof line - n - 1;
    va_list ap;
    va_start(ap, fmt);
    k = vsnprintf(line + n, sizeof line - n, fmt, ap);
    va_end(ap);
    if (k > 0)
        n += (size_t)k < sizeof line - n ? (size_t)k : sizeof line - n - 1;
    /* A message never ends its own line: drop a trailing newline, add ours. */
    while (n > 0 && line[n - 1] == '\n')
        n--;
    line[n++] = '\n';
    static const char clear_line[] = "\r\033[K";
    pthread_mutex_lock(&log_lock);
    if (isatty(STDERR_FILENO))
        fwrite(clear_line, 1, sizeof clear_line - 1, stderr);
    fwrite(line, 1, n, stderr);
    fflush(stderr);
    pthread_mutex_unlock(&log_lock);
}
