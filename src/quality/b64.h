/* b64.h — base64 decoding for the sketches' serialized forms (internal to
 * src/quality; core/util.h has the encoder).
 */
#ifndef SL_QUALITY_B64_H
#define SL_QUALITY_B64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes padded base64 (RFC 4648, no whitespace) into a malloc'ed buffer.
 * Returns false on invalid text; *out must then not be freed. */
bool sl_quality_b64_decode(const char *text, size_t len, uint8_t **out, size_t *out_len);

#endif
