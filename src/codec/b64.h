/* b64.h — base64 for the sketches' and indexes' serialized forms (internal
 * to src/quality; core/util.h has the one-shot encoder): strict decoding,
 * a streaming writer of little-endian images, and little-endian readers.
 *
 * The writer lets a large structure (dedup's index, tens of MB) be written
 * element by element, in a fixed byte order, without first building the
 * whole binary image: bytes collect in a small chunk whose length is a
 * multiple of 3, so each full chunk encodes to base64 on its own.
 */
#ifndef SL_QUALITY_B64_H
#define SL_QUALITY_B64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/buf.h"
#include "../core/error.h"
#include "../core/value.h"

/* Decodes padded base64 (RFC 4648, no whitespace) into a malloc'ed buffer.
 * Returns false on invalid text; *out must then not be freed. */
bool sl_quality_b64_decode(const char *text, size_t len, uint8_t **out, size_t *out_len);

/* Decodes state[key] (checkpoint state parsed into values), a base64 string
 * that must hold exactly n items of `size` bytes, into a malloc'ed buffer;
 * NULL with err naming the key when it is missing, invalid or of another
 * length. */
uint8_t *sl_b64_state_array(const sl_value *state, const char *key, uint64_t n, size_t size, sl_error *err);

typedef struct sl_b64_writer {
    sl_buf *out;
    uint8_t chunk[3 * 1024];
    size_t len;
} sl_b64_writer;

void sl_b64_writer_init(sl_b64_writer *w, sl_buf *out);
/* Appends the base64 of what is still buffered (with padding). */
void sl_b64_writer_finish(sl_b64_writer *w);
void sl_b64_put_u16(sl_b64_writer *w, uint16_t v);   /* little-endian */
void sl_b64_put_u32(sl_b64_writer *w, uint32_t v);   /* little-endian */
void sl_b64_put_u64(sl_b64_writer *w, uint64_t v);   /* little-endian */
/* n bytes as they are (a whole array at once, e.g. of 16-bit values on a
 * little-endian machine). */
void sl_b64_put_bytes(sl_b64_writer *w, const void *p, size_t n);

static inline uint32_t sl_get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t sl_get_le64(const uint8_t *p)
{
    return (uint64_t)sl_get_le32(p) | (uint64_t)sl_get_le32(p + 4) << 32;
}

#endif
