/* log.h — the process's log lines, on stderr.
 *
 * One line per event: "2026-11-24T01:02:03Z level component: message".
 * Thread-safe. The level is set once at start (--log-level / SLUICE_LOG).
 * Secrets never reach here: configuration values marked secret are printed
 * as "<redacted>" by the config module before anything is logged.
 */
#ifndef SL_LOG_H
#define SL_LOG_H

typedef enum { SL_LOG_DEBUG, SL_LOG_INFO, SL_LOG_WARN, SL_LOG_ERROR, SL_LOG_OFF } sl_log_level;

void sl_log_set_level(sl_log_level level);
sl_log_level sl_log_get_level(void);
/* Parses "debug" | "info" | "warn" | "error" | "off"; returns -1 if unknown. */
int sl_log_parse_level(const char *s, sl_log_level *out);
void sl_log(sl_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define sl_debug(comp, ...) sl_log(SL_LOG_DEBUG, comp, __VA_ARGS__)
#define sl_info(comp, ...)  sl_log(SL_LOG_INFO, comp, __VA_ARGS__)
#define sl_warn(comp, ...)  sl_log(SL_LOG_WARN, comp, __VA_ARGS__)
#define sl_err(comp, ...)   sl_log(SL_LOG_ERROR, comp, __VA_ARGS__)

#endif
