/* util.c — small shared helpers (see util.h): strict UTF-8 validation,
 * base64, RFC 3339 time, human sizes and durations, "did you mean", hashing,
 * mkdir -p, directory fsync and atomic file replacement.
 */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

/* ---- UTF-8 ---- */

/* Strict: rejects overlong forms, surrogates (U+D800..U+DFFF) and code points
 * above U+10FFFF, following the table in Unicode 15, section 3.9 (D92). */
size_t sl_utf8_char_len(const char *str, size_t len) {
    const unsigned char *s = (const unsigned char *)str;
    if (len == 0)
        return 0;
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;   /* range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;          /* overlong */
        if (c == 0xED) hi = 0x9F;          /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;          /* overlong */
        if (c == 0xF4) hi = 0x8F;          /* above U+10FFFF */
    } else {
        return 0;                          /* 0x80..0xC1, 0xF5..0xFF */
    }
    if (len < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

bool sl_utf8_valid(const char *str, size_t len) {
    const unsigned char *s = (const unsigned char *)str, *end = s + len;
    while (s < end) {
        /* ASCII fast path: 8 bytes at a time. */
        while (end - s >= 8) {
            uint64_t w;
            memcpy(&w, s, 8);
            if (w & 0x8080808080808080ull)
                break;
            s += 8;
        }
        if (s == end)
            break;
        size_t n = sl_utf8_char_len((const char *)s, (size_t)(end - s));
        if (n == 0)
            return false;
        s += n;
    }
    return true;
}

void sl_utf8_escape_invalid(sl_buf *out, const char *s, size_t len, bool controls) {
    static const char hex[] = "0123456789abcdef";
    size_t i = 0;
    while (i < len) {
        size_t n = sl_utf8_char_len(s + i, len - i);
        unsigned char c = (unsigned char)s[i];
        if (n == 0 || (controls && (c < 0x20 || c == 0x7f))) {
            char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            sl_buf_append(out, esc, sizeof esc);
            i++;
        } else {
            sl_buf_append(out, s + i, n);
            i += n;
        }
    }
}

/* ---- base64 ---- */

void sl_base64_encode(sl_buf *out, const void *p, size_t len) {
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *s = p;
    sl_buf_reserve(out, (len + 2) / 3 * 4);
    char *o = out->data + out->len;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = alphabet[(v >> 6) & 63];
        *o++ = alphabet[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = '=';
        *o++ = '=';
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = alphabet[(v >> 6) & 63];
        *o++ = '=';
    }
    out->len = (size_t)(o - out->data);
    out->data[out->len] = '\0';
}

/* ---- time ---- */

int64_t sl_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t sl_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil), and its inverse. Valid for any year an int64 of
 * nanoseconds can reach. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void sl_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

size_t sl_format_rfc3339(char out[40], int64_t ns) {
    int64_t secs = ns / 1000000000, frac = ns % 1000000000;
    if (frac < 0) {
        frac += 1000000000;
        secs--;
    }
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int64_t y;
    unsigned m, d;
    sl_civil_from_days(days, &y, &m, &d);
    int n = snprintf(out, 40, "%04lld-%02u-%02uT%02d:%02d:%02d", (long long)y, m, d,
                     (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
    if (frac) {
        char digits[10];
        snprintf(digits, sizeof digits, "%09lld", (long long)frac);
        int k = 9;
        while (digits[k - 1] == '0')
            k--;
        n += snprintf(out + n, (size_t)(40 - n), ".%.*s", k, digits);
    }
    out[n++] = 'Z';
    out[n] = '\0';
    return (size_t)n;
}

/* An ASCII digit, without isdigit's locale table lookup (profiles parse
 * every RFC 3339-looking string, and the lookup was most of the parse). */
static inline bool ascii_digit(char c) {
    return (unsigned char)(c - '0') < 10;
}

/* Reads exactly `width` digits at s[*i]. Inlined: six calls per timestamp,
 * and a contract's `type: timestamp` parses one per record. */
static inline __attribute__((always_inline)) bool read_digits(const char *s, size_t len, size_t *i, int width, int *out) {
    int v = 0;
    for (int k = 0; k < width; k++) {
        if (*i >= len || !ascii_digit(s[*i]))
            return false;
        v = v * 10 + (s[(*i)++] - '0');
    }
    *out = v;
    return true;
}

static bool is_leap(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool sl_parse_rfc3339(const char *s, size_t len, int64_t *ns) {
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    size_t i = 0;
    int year, mon, day, hour, min, sec;
    if (!read_digits(s, len, &i, 4, &year) || i >= len || s[i++] != '-' ||
        !read_digits(s, len, &i, 2, &mon) || i >= len || s[i++] != '-' ||
        !read_digits(s, len, &i, 2, &day))
        return false;
    if (i >= len || (s[i] != 'T' && s[i] != 't' && s[i] != ' '))
        return false;
    i++;
    if (!read_digits(s, len, &i, 2, &hour) || i >= len || s[i++] != ':' ||
        !read_digits(s, len, &i, 2, &min) || i >= len || s[i++] != ':' ||
        !read_digits(s, len, &i, 2, &sec))
        return false;
    if (mon < 1 || mon > 12 || day < 1 ||
        day > mdays[mon - 1] + (mon == 2 && is_leap(year)) ||
        hour > 23 || min > 59 || sec > 60)
        return false;
    int64_t frac = 0;
    if (i < len && s[i] == '.') {
        i++;
        int digits = 0;
        while (i < len && ascii_digit(s[i])) {
            if (digits < 9) {
                frac = frac * 10 + (s[i] - '0');
                digits++;
            }
            i++;
        }
        if (digits == 0)
            return false;
        for (; digits < 9; digits++)
            frac *= 10;
    }
    int64_t offset = 0;   /* seconds east of UTC */
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i++] == '-' ? -1 : 1, oh, om;
        if (!read_digits(s, len, &i, 2, &oh))
            return false;
        if (i < len && s[i] == ':')
            i++;
        if (!read_digits(s, len, &i, 2, &om) || oh > 23 || om > 59)
            return false;
        offset = sign * (oh * 3600 + om * 60);
    } else if (i < len) {
        return false;
    }
    if (i != len)
        return false;
    int64_t secs = days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400 +
                   hour * 3600 + min * 60 + sec - offset;
    /* int64 nanoseconds span 1677-09-21 .. 2262-04-11. */
    if (secs < INT64_MIN / 1000000000 + 1 || secs > INT64_MAX / 1000000000 - 1)
        return false;
    *ns = secs * 1000000000 + frac;
    return true;
}

/* ---- sizes and durations ---- */

/* Parses "<digits>[.<digits>]" at *p as a whole part and a fraction scaled to
 * 10^9; false when there is no number or it overflows. */
static bool parse_decimal(const char **p, uint64_t *whole, uint64_t *frac_e9) {
    const char *s = *p;
    uint64_t w = 0, f = 0;
    int fdigits = 0;
    if (!isdigit((unsigned char)*s))
        return false;
    while (isdigit((unsigned char)*s)) {
        unsigned d = (unsigned)(*s++ - '0');
        if (w > (UINT64_MAX - d) / 10)
            return false;
        w = w * 10 + d;
    }
    if (*s == '.') {
        s++;
        if (!isdigit((unsigned char)*s))
            return false;
        while (isdigit((unsigned char)*s)) {
            if (fdigits < 9) {
                f = f * 10 + (uint64_t)(*s - '0');
                fdigits++;
            }
            s++;
        }
    }
    for (; fdigits < 9; fdigits++)
        f *= 10;
    *p = s;
    *whole = w;
    *frac_e9 = f;
    return true;
}

/* whole.frac * mult, checked for overflow. */
static bool scale(uint64_t whole, uint64_t frac_e9, uint64_t mult, uint64_t *out) {
    if (mult && whole > UINT64_MAX / mult)
        return false;
    uint64_t v = whole * mult;
    /* frac_e9 * mult / 1e9, split so that no product exceeds 64 bits. */
    uint64_t part = (mult / 1000000000) * frac_e9 + (mult % 1000000000) * frac_e9 / 1000000000;
    if (v > UINT64_MAX - part)
        return false;
    *out = v + part;
    return true;
}

static bool unit_is(const char *s, const char *unit) {
    return strcasecmp(s, unit) == 0;
}

/* Units: B; k, m, g, t and KiB, MiB, GiB, TiB are powers of 1024; KB, MB,
 * GB, TB are powers of 1000. Case does not matter. */
bool sl_parse_size(const char *s, uint64_t *out) {
    static const struct { const char *unit; uint64_t mult; } units[] = {
        {"", 1}, {"b", 1},
        {"k", 1ull << 10}, {"kib", 1ull << 10}, {"kb", 1000ull},
        {"m", 1ull << 20}, {"mib", 1ull << 20}, {"mb", 1000000ull},
        {"g", 1ull << 30}, {"gib", 1ull << 30}, {"gb", 1000000000ull},
        {"t", 1ull << 40}, {"tib", 1ull << 40}, {"tb", 1000000000000ull},
    };
    uint64_t whole, frac;
    if (!parse_decimal(&s, &whole, &frac))
        return false;
    while (*s == ' ')
        s++;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (unit_is(s, units[i].unit))
            return scale(whole, frac, units[i].mult, out);
    return false;
}

/* One or more "<number><unit>" parts ("1m30s"); units ms, s, m, h, d. A bare
 * "0" is accepted; any other number needs a unit. */
bool sl_parse_duration_ms(const char *s, uint64_t *out) {
    static const struct { const char *unit; uint64_t ms; } units[] = {
        {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
    };
    if (strcmp(s, "0") == 0) {
        *out = 0;
        return true;
    }
    uint64_t total = 0;
    if (!*s)
        return false;
    while (*s) {
        uint64_t whole, frac, part;
        if (!parse_decimal(&s, &whole, &frac))
            return false;
        size_t ulen = 0;
        while (isalpha((unsigned char)s[ulen]))
            ulen++;
        size_t k = 0, n = sizeof units / sizeof units[0];
        while (k < n && !(strlen(units[k].unit) == ulen && strncmp(s, units[k].unit, ulen) == 0))
            k++;
        if (k == n || !scale(whole, frac, units[k].ms, &part) || total > UINT64_MAX - part)
            return false;
        total += part;
        s += ulen;
    }
    *out = total;
    return true;
}

void sl_format_size(char out[32], uint64_t bytes) {
    static const char *units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes < 1024) {
        snprintf(out, 32, "%llu B", (unsigned long long)bytes);
        return;
    }
    double v = (double)bytes / 1024;
    int u = 0;
    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    snprintf(out, 32, "%.1f %s", v, units[u]);
    size_t n = strlen(out);
    char *dot = strstr(out, ".0 ");
    if (dot)
        memmove(dot, dot + 2, n - (size_t)(dot - out) - 1);
}

/* ---- suggestions ---- */

unsigned sl_levenshtein(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    unsigned *row = malloc((lb + 1) * sizeof *row);
    if (!row)
        return 255;
    for (size_t j = 0; j <= lb; j++)
        row[j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++) {
        unsigned diag = row[0];
        row[0] = (unsigned)i;
        for (size_t j = 1; j <= lb; j++) {
            unsigned up = row[j];
            unsigned best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    unsigned d = row[lb];
    free(row);
    return d > 255 ? 255 : d;
}

const char *sl_did_you_mean(const char *word, const char *const *candidates, size_t n) {
    size_t len = strlen(word);
    unsigned limit = len / 3 > 1 ? (unsigned)(len / 3) : 1;
    const char *best = NULL;
    unsigned best_d = limit + 1;
    for (size_t i = 0; i < n; i++) {
        unsigned d = sl_levenshtein(word, candidates[i]);
        if (d < best_d) {
            best = candidates[i];
            best_d = d;
        }
    }
    return best;
}

uint64_t sl_hash64(const void *p, size_t len, uint64_t seed) {
    return XXH3_64bits_withSeed(p, len, seed);
}

/* ---- files ---- */

/* mkdir that accepts an existing directory (but not an existing file). */
static int make_dir(const char *path, sl_error *err) {
    if (mkdir(path, 0755) == 0) return 0;
    int e = errno;
    struct stat st;
    if (e == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return 0;
    if (e == EEXIST) e = ENOTDIR;
    if (err) err->sys_errno = e;
    return sl_errorf(err, "cannot create the directory %s: %s", path, strerror(e));
}

int sl_mkdirs(const char *path, sl_error *err) {
    char *dir = strdup(path);
    if (!dir) abort();
    int rc = 0;
    /* Each prefix ending before a slash (skipping the root and repeated
     * slashes), then the whole path. */
    for (char *p = dir + 1; *p && rc == 0; p++) {
        if (*p != '/' || p[-1] == '/') continue;
        *p = '\0';
        rc = make_dir(dir, err);
        *p = '/';
    }
    if (rc == 0 && *dir) rc = make_dir(dir, err);
    free(dir);
    return rc;
}

int sl_mkdirs_parent(const char *path, sl_error *err) {
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) return 0;
    char *dir = strndup(path, (size_t)(slash - path));
    if (!dir) abort();
    int rc = sl_mkdirs(dir, err);
    free(dir);
    return rc;
}

int sl_move_aside(const char *path, char *aside, size_t cap, sl_error *err) {
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(aside, cap, "%s.aside-%s", path, stamp);
    struct stat st;
    for (int k = 2; lstat(aside, &st) == 0; k++) snprintf(aside, cap, "%s.aside-%s-%d", path, stamp, k);
    if (rename(path, aside) < 0) return sl_errorf(err, "cannot move %s aside: %s", path, strerror(errno));
    return sl_fsync_parent(path, err);
}

void sl_start_writeback(int fd, uint64_t from, uint64_t to) {
    if (to > from && sync_file_range(fd, (off_t)from, (off_t)(to - from), SYNC_FILE_RANGE_WRITE) < 0) {}
}

int sl_fsync_parent(const char *path, sl_error *err) {
    const char *slash = strrchr(path, '/');
    char dir[4200];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? (slash == path ? "/" : path) : ".");
    return sl_fsync_dir(dir, err);
}

int sl_fsync_dir(const char *dir, sl_error *err) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return sl_errorf(err, "cannot open the directory %s: %s", dir, strerror(errno));
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc < 0 && err) err->sys_errno = e;
    return rc < 0 ? sl_errorf(err, "cannot fsync the directory %s: %s", dir, strerror(e)) : 0;
}

static int write_all(int fd, const char *p, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int sl_write_file_atomic(const char *path, const void *data, size_t len, sl_error *err) {
    /* The process id and a counter make the temporary name unique among
     * concurrent writers; O_EXCL makes sure. */
    static _Atomic unsigned counter;
    sl_buf tmp, dir;
    sl_buf_init(&tmp);
    sl_buf_init(&dir);
    sl_buf_printf(&tmp, "%s.tmp-%ld-%u", path, (long)getpid(), atomic_fetch_add(&counter, 1));
    const char *slash = strrchr(path, '/');
    if (!slash) sl_buf_puts(&dir, ".");
    else if (slash == path) sl_buf_puts(&dir, "/");
    else sl_buf_append(&dir, path, (size_t)(slash - path));

    int rc = -1;
    int fd = open(tmp.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (err) err->sys_errno = errno;
        sl_errorf(err, "cannot create %s: %s", tmp.data, strerror(errno));
        goto out;
    }
    bool ok = write_all(fd, data, len) == 0 && fsync(fd) == 0;
    int e = errno;
    if (close(fd) < 0 && ok) {
        ok = false;
        e = errno;
    }
    if (!ok) {
        if (err) err->sys_errno = e;
        sl_errorf(err, "cannot write %s: %s", tmp.data, strerror(e));
        unlink(tmp.data);
        goto out;
    }
    if (rename(tmp.data, path) < 0) {
        if (err) err->sys_errno = errno;
        sl_errorf(err, "cannot rename %s to %s: %s", tmp.data, path, strerror(errno));
        unlink(tmp.data);
        goto out;
    }
    rc = sl_fsync_dir(dir.data, err);
out:
    sl_buf_free(&tmp);
    sl_buf_free(&dir);
    return rc;
}

int sl_read_file(const char *path, sl_buf *out) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    out->len = 0;
    for (;;) {
        sl_buf_reserve(out, 65536);
        ssize_t n = read(fd, out->data + out->len, out->cap - out->len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        if (n == 0) break;
        out->len += (size_t)n;
    }
    close(fd);
    out->data[out->len] = '\0';
    return 0;
}

int sl_parse_integer(const char *s, size_t len, sl_value *out) {
    size_t i = 0;
    bool neg = false;
    if (i < len && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
    if (i == len) return -1;
    for (size_t k = i; k < len; k++)
        if (s[k] < '0' || s[k] > '9') return -1;
    uint64_t u = 0;
    for (; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (u > (UINT64_MAX - d) / 10) return -2;
        u = u * 10 + d;
    }
    if (!neg) {
        *out = sl_uint(u);
        return 0;
    }
    if (u > (uint64_t)INT64_MAX + 1) return -2;
    *out = sl_int(u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u);
    return 0;
}

/* ---- addresses ---- */

int sl_split_host_port(const char *address, char *host, size_t host_cap, char *port, size_t port_cap,
                       sl_error *err) {
    const char *colon, *host_start = address, *host_end;
    if (address[0] == '[') {
        host_start = address + 1;
        host_end = strchr(host_start, ']');
        if (!host_end || host_end[1] != ':')
            return sl_errorf(err, "bad api address '%s': expected \"[v6address]:port\"", address);
        colon = host_end + 1;
    } else {
        colon = strrchr(address, ':');
        if (!colon)
            return sl_errorf(err, "bad api address '%s': expected \"host:port\", e.g. \"127.0.0.1:8686\"",
                             address);
        host_end = colon;
    }
    size_t hlen = (size_t)(host_end - host_start);
    const char *p = colon + 1;
    size_t plen = strlen(p);
    if (hlen == 0 || hlen >= host_cap)
        return sl_errorf(err, "bad api address '%s': missing host (use 0.0.0.0 for every interface)",
                         address);
    if (plen == 0 || plen >= port_cap || strspn(p, "0123456789") != plen || atoi(p) > 65535)
        return sl_errorf(err, "bad api address '%s': the port must be a number from 0 to 65535",
                         address);
    memcpy(host, host_start, hlen);
    host[hlen] = '\0';
    memcpy(port, p, plen + 1);
    return 0;
}

/* ---- fdatasync of many files ---- */

#define SYNC_THREADS 8

typedef struct sync_job {
    const int *fds;
    int *errs;
    size_t n;
    atomic_size_t next;
} sync_job;

static void *sync_worker(void *arg) {
    sync_job *job = arg;
    for (size_t i; (i = atomic_fetch_add(&job->next, 1)) < job->n;)
        job->errs[i] = fdatasync(job->fds[i]) < 0 ? errno : 0;
    return NULL;
}

void sl_fdatasync_many(const int *fds, size_t n, int *errs) {
    sync_job job = {.fds = fds, .errs = errs, .n = n};
    atomic_init(&job.next, 0);
    pthread_t threads[SYNC_THREADS];
    size_t started = 0;
    while (started + 1 < SYNC_THREADS && started + 1 < n &&
           pthread_create(&threads[started], NULL, sync_worker, &job) == 0)
        started++;
    sync_worker(&job);   /* this thread too (alone when threads cannot start) */
    for (size_t t = 0; t < started; t++) pthread_join(threads[t], NULL);
}

void sl_format_shortest(char out[32], double v) {
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(out, 32, "%.0f", v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, 32, "%.*g", prec, v);
        if (strtod(out, NULL) == v) return;
    }
}
