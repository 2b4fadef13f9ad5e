/* json_kernel.h — which SIMD kernel decodes JSON.
 *
 * simdjson picks a kernel for the CPU at run time (icelake, haswell,
 * westmere, fallback; SIMDJSON_FORCE_IMPLEMENTATION=name in the environment
 * forces one). Its stage 1 lives in libsimdjson; the On-Demand walk is
 * compiled into sluice once per kernel (json_simd.cpp, built by
 * cmake/json_kernels.cmake), and sl_json_decode calls the build that matches
 * the active kernel: icelake and haswell have their own, every other kernel
 * uses the generic build (no -m flags). Results are the same on every kernel.
 */
#ifndef SL_JSON_KERNEL_H
#define SL_JSON_KERNEL_H

#ifdef __cplusplus
extern "C" {
#endif

#include "json.h"

/* The per-kernel builds of sl_json_decode, same contract; a null arena
 * checks only (sl_json_check): out gets the root's type and flags. */
int sl_json_decode_generic(sl_arena *a, const char *p, size_t len, unsigned max_depth,
                           bool require_object, sl_value *out, sl_decode_error *err);
int sl_json_decode_haswell(sl_arena *a, const char *p, size_t len, unsigned max_depth,
                           bool require_object, sl_value *out, sl_decode_error *err);
int sl_json_decode_icelake(sl_arena *a, const char *p, size_t len, unsigned max_depth,
                           bool require_object, sl_value *out, sl_decode_error *err);

/* The active simdjson kernel ("icelake", ...) and the walker build used with
 * it ("icelake", "haswell" or "generic"). */
const char *sl_json_kernel(void);
const char *sl_json_walker(void);

/* Fills names[0..max) with the kernels this CPU can run, best first; returns
 * how many there are. */
size_t sl_json_kernels(const char **names, size_t max);

/* Makes kernel `name` active for the whole process (tests, benchmarks).
 * Returns 0, or -1 if it is unknown or this CPU cannot run it. */
int sl_json_use_kernel(const char *name);

#ifdef __cplusplus
}
#endif

#endif
