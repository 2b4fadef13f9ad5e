/* json_kernel.cpp — sl_json_decode: the walker build for the active kernel.
 *
 * simdjson chooses its kernel on first use (the best this CPU runs, or
 * SIMDJSON_FORCE_IMPLEMENTATION) and runs stage 1 with it inside
 * libsimdjson; here each call goes to the build of json_simd.cpp compiled
 * for that kernel, so the On-Demand walk runs with the same instruction set.
 * The walker is chosen on the first call and again whenever the kernel is
 * changed through sl_json_use_kernel; a call costs one relaxed atomic load
 * and an indirect call. sl_json_check (json_check.cpp) calls it with no
 * arena.
 */
#include <atomic>
#include <cstring>

#include <simdjson.h>

#include "json_kernel.h"

typedef int (*decode_fn)(sl_arena *, const char *, size_t, unsigned, bool, sl_value *,
                         sl_decode_error *);

namespace {

struct walker {
    const char *name;
    decode_fn fn;
};

/* The build for a simdjson kernel: the same name if there is one (and the
 * kernel is active, so the CPU runs it), else the generic build. */
walker walker_for(const simdjson::implementation *impl)
{
#ifdef SL_JSON_X86_KERNELS
    const std::string &name = impl->name();
    if (name == "icelake")
        return { "icelake", sl_json_decode_icelake };
    if (name == "haswell")
        return { "haswell", sl_json_decode_haswell };
#endif
    (void)impl;
    return { "generic", sl_json_decode_generic };
}

const simdjson::implementation *active()
{
    return simdjson::get_active_implementation();
}

/* The walker for the active kernel; null until the first call. */
std::atomic<decode_fn> g_decode{nullptr};

int decode_first(sl_arena *a, const char *p, size_t len, unsigned max_depth,
                 bool require_object, sl_value *out, sl_decode_error *err)
{
    decode_fn fn = walker_for(active()).fn;
    g_decode.store(fn, std::memory_order_relaxed);
    return fn(a, p, len, max_depth, require_object, out, err);
}

} // namespace

extern "C" int sl_json_decode(sl_arena *a, const char *p, size_t len, unsigned max_depth,
                              bool require_object, sl_value *out, sl_decode_error *err)
{
    decode_fn fn = g_decode.load(std::memory_order_relaxed);
    return (fn ? fn : decode_first)(a, p, len, max_depth, require_object, out, err);
}

extern "C" const char *sl_json_kernel(void)
{
    return active()->name().c_str();
}

extern "C" const char *sl_json_walker(void)
{
    return walker_for(active()).name;
}

extern "C" size_t sl_json_kernels(const char **names, size_t max)
{
    size_t n = 0;
    for (const simdjson::implementation *impl : simdjson::get_available_implementations()) {
        if (!impl->supported_by_runtime_system())
            continue;
        if (n < max)
            names[n] = impl->name().c_str();
        n++;
    }
    return n;
}

extern "C" int sl_json_use_kernel(const char *name)
{
    const simdjson::implementation *impl = simdjson::get_available_implementations()[name];
    if (!impl || !impl->supported_by_runtime_system())
        return -1;
    simdjson::get_active_implementation() = impl;
    g_decode.store(walker_for(impl).fn, std::memory_order_relaxed);
    return 0;
}
