/* crc32c.h — CRC-32C (Castagnoli), the checksum of write-ahead log records.
 *
 * Debian 12 packages no C library for CRC-32C, so it is here: the SSE 4.2
 * crc32 instruction when the CPU has it (checked once at run time), else a
 * slice-by-8 table. Both give the same result; the test checks the RFC 3720
 * vectors on both paths.
 */
#ifndef SL_CRC32C_H
#define SL_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Continues crc over p[0..n): start with crc = 0. */
uint32_t sl_crc32c(uint32_t crc, const void *p, size_t n);
/* The portable path, for tests. */
uint32_t sl_crc32c_portable(uint32_t crc, const void *p, size_t n);
bool sl_crc32c_hardware(void);

#endif
