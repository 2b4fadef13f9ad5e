/* util.h — small helpers shared by every module: UTF-8, base64, time,
 * human sizes and durations, levenshtein distance for "did you mean", and
 * the file-system steps of durable output (mkdir -p, directory fsync,
 * atomic file replacement).
 */
#ifndef SL_UTIL_H
#define SL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "value.h"
#include "error.h"

bool sl_utf8_valid(const char *s, size_t len);
/* Length of the valid UTF-8 character s[0..len) starts with (1 to 4), 0 when
 * it does not start with one (the rules of sl_utf8_valid). */
size_t sl_utf8_char_len(const char *s, size_t len);
/* Appends s with each byte that is not part of valid UTF-8 (and, when
 * controls, each ASCII control character and DEL) written as the four
 * characters \xNN: valid UTF-8 text whatever s holds, safe to quote in a
 * message or a JSON document. */
void sl_utf8_escape_invalid(sl_buf *out, const char *s, size_t len, bool controls);
/* Appends the base64 (RFC 4648, padded) encoding of p. */
void sl_base64_encode(sl_buf *out, const void *p, size_t len);

int64_t sl_now_ns(void);            /* CLOCK_REALTIME, ns since epoch */
int64_t sl_monotonic_ns(void);      /* CLOCK_MONOTONIC */
/* Writes an RFC 3339 UTC timestamp with nanoseconds trimmed of trailing zeros,
 * e.g. "2026-11-24T01:02:03.5Z"; returns its length (< 40). */
size_t sl_format_rfc3339(char out[40], int64_t ns);
/* Parses RFC 3339 / ISO-8601 date-times ("2026-11-24T01:02:03.123+01:00",
 * "2026-11-24 01:02:03Z"); returns false when s is not one. */
bool sl_parse_rfc3339(const char *s, size_t len, int64_t *ns);
/* Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
 * algorithm), for code that formats dates itself on a hot path. */
void sl_civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day);

/* A whole decimal integer ("-12", "+7", "18446744073709551615", nothing
 * around it) as SL_INT, or SL_UINT above INT64_MAX. Returns 0, -1 when the
 * text is not an integer, -2 when it is one outside [INT64_MIN, UINT64_MAX]. */
int sl_parse_integer(const char *s, size_t len, sl_value *out);

/* "64MiB", "1.5GB", "512k", "100" (bytes) -> bytes. Returns false on bad input. */
bool sl_parse_size(const char *s, uint64_t *out);
/* "250ms", "5s", "1m", "2h", "1.5s" -> milliseconds. Returns false on bad input. */
bool sl_parse_duration_ms(const char *s, uint64_t *out);
/* Formats bytes as "1.5 MiB". */
void sl_format_size(char out[32], uint64_t bytes);
/* The shortest text that reads back as v: integers without an exponent
 * ("300", not "3e+02"), other numbers in the shortest %g. */
void sl_format_shortest(char out[32], double v);

/* Edit distance (for suggestions), capped at 255. */
unsigned sl_levenshtein(const char *a, const char *b);
/* Returns the candidate closest to word when close enough to be a plausible
 * typo (distance <= max(1, len/3)), else NULL. */
const char *sl_did_you_mean(const char *word, const char *const *candidates, size_t n);

/* Splits a listening address, "host:port" or "[v6address]:port", into host
 * (at most host_cap - 1 bytes) and port (a number from 0 to 65535) strings.
 * Returns 0, or -1 with err saying what is wrong ("bad api address ...").
 * Checks the form only: the host is not looked up. */
int sl_split_host_port(const char *address, char *host, size_t host_cap, char *port, size_t port_cap,
                       sl_error *err);

/* 64-bit hash of bytes (XXH3), stable across runs. */
uint64_t sl_hash64(const void *p, size_t len, uint64_t seed);

/* Creates the directory path and its missing parents ("mkdir -p", mode 0755
 * before umask). Succeeds when path already is a directory. */
int sl_mkdirs(const char *path, sl_error *err);
/* sl_mkdirs of the directory holding the file path ("a/b/c.json" -> "a/b");
 * nothing to do when path has no directory part. */
int sl_mkdirs_parent(const char *path, sl_error *err);
/* fsyncs a directory, so that creations, renames and deletions in it are
 * durable. */
int sl_fsync_dir(const char *dir, sl_error *err);
/* fdatasyncs n descriptors, several at once (on up to 8 threads), so that a
 * device with a queue works on them together instead of one file after the
 * other; errs[i] is 0 or the errno of fds[i]'s fdatasync. */
void sl_fdatasync_many(const int *fds, size_t n, int *errs);
/* Starts writing bytes [from, to) of fd to disk without waiting
 * (sync_file_range), so that a later fsync or syncfs finds little left to
 * write. A hint: errors are ignored. */
void sl_start_writeback(int fd, uint64_t from, uint64_t to);
/* sl_fsync_dir of the directory holding the file path ("." when none). */
int sl_fsync_parent(const char *path, sl_error *err);
/* Replaces the file path with data, atomically and durably: writes a
 * temporary file in the same directory (mode 0644 before umask), fsyncs it,
 * renames it over path and fsyncs the directory. Readers see the old file or
 * the new one, never a mix; after a crash, path holds one of them. On
 * failure path is untouched and the temporary file is removed. */
/* Reads the whole file at path into out (replacing what it held; data[len]
 * is '\0'). Returns 0, or -1 with errno set, so that callers can word the
 * message for their context. */
int sl_read_file(const char *path, sl_buf *out);
/* Moves earlier output out of the way instead of appending to it: renames
 * path to "<path>.aside-<UTC time>" (with "-2", "-3"... when that is taken)
 * and fsyncs the directory. aside receives the new name. */
int sl_move_aside(const char *path, char *aside, size_t cap, sl_error *err);
int sl_write_file_atomic(const char *path, const void *data, size_t len, sl_error *err);

#endif
