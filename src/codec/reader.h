/* reader.h — reads a file or descriptor, transparently decompressing gzip
 * and zstd input (detected by magic bytes, not by file name).
 *
 * Positions: sl_reader_offset is the offset in the decompressed stream
 * (what record positions use); sl_reader_raw_offset is how far into the
 * underlying file it has read (what progress bars use).
 */
#ifndef SL_READER_H
#define SL_READER_H

#include <stdint.h>
#include <sys/types.h>

#include "../core/error.h"

typedef enum { SL_COMPRESSION_NONE = 0, SL_COMPRESSION_GZIP, SL_COMPRESSION_ZSTD } sl_compression;

typedef struct sl_reader sl_reader;

sl_reader *sl_reader_open(const char *path, sl_error *err);
/* Takes a descriptor (not closed by sl_reader_close when own_fd is 0). */
sl_reader *sl_reader_from_fd(int fd, int own_fd, const char *name, sl_error *err);
/* Reads plain (already decompressed) bytes from a function instead of a
 * descriptor: fn fills up to n bytes of buf and returns how many (0 at the
 * end, -1 with err on a failure). For bytes a thread hands over in memory. */
typedef ssize_t (*sl_reader_fn)(void *arg, void *buf, size_t n, sl_error *err);
sl_reader *sl_reader_from_fn(sl_reader_fn fn, void *arg, const char *name);
/* Reads up to n decompressed bytes; returns 0 at end of input, -1 on error
 * (corrupt compressed data, I/O error) with err filled. */
ssize_t sl_reader_read(sl_reader *r, void *buf, size_t n, sl_error *err);
sl_compression sl_reader_compression(const sl_reader *r);
uint64_t sl_reader_offset(const sl_reader *r);
uint64_t sl_reader_raw_offset(const sl_reader *r);
void sl_reader_close(sl_reader *r);

#endif
