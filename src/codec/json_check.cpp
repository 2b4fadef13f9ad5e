/* json_check.cpp — sl_json_check: is a JSON text one sl_json_decode accepts,
 * and does a key repeat in it, without building its value.
 *
 * For records nothing reads (runtime/lazy_decode.h) the text must be checked
 * exactly as the decoder would, because a line the decoder rejects goes to
 * the DLQ, but no value is wanted. Two ways were measured on the 1,000,000
 * events of bench/events.py (385 MB, one line at a time, CPU seconds, best
 * of 3): the decoder's own walk without storing anything (json_simd.cpp with
 * a null arena) 0.29–0.31 s against 0.36 s for a full decode; simdjson's DOM
 * parse (stage 1 and its stage 2, which validates the whole grammar, numbers
 * and escapes while it writes its tape, at the best kernel for the CPU)
 * 0.19–0.20 s, 0.256 s with the scan of its tape for repeated keys. So:
 *
 *  - the DOM parse runs first, with the decoder's depth limit, so it accepts
 *    at most what the decoder accepts (DOM allows one level less, or as
 *    many when the innermost container is empty): whatever it rejects, and
 *    any object of more than SMALL_OBJECT fields (its keys are left to the
 *    walker's sort-based pass), goes to the walker's check, which gives the decoder's exact verdict, reason, message
 *    and offset (and accepts the few texts DOM is stricter about, if any);
 *  - an accepted text's keys are compared per object on the tape, the
 *    unescaped key bytes, as the decoder compares them.
 * That DOM accepts nothing the decoder rejects is what tests/unit/
 * test_codec_json_check.c and the fuzz target fuzz_codec_json check.
 *
 * The DOM parser is per thread and reused (made again when the kernel is
 * changed with sl_json_use_kernel); it grows to the longest text seen
 * (about ten bytes per input byte, like the On-Demand parser).
 */
#include <cstring>
#include <vector>

#include <simdjson.h>

#include "json_kernel.h"

namespace {

namespace dom = simdjson::dom;

/* Objects up to this many fields have their keys compared here (linearly,
 * behind a bit mask); larger ones go to the walker. */
const uint32_t SMALL_OBJECT = 32;
/* As the walker clamps max_depth. */
const unsigned MAX_DEPTH_LIMIT = 1024;

struct checker {
    const simdjson::implementation *kernel = nullptr;   /* the parser's */
    dom::parser parser;
    /* the keys (tape words) of the objects being compared: SMALL_OBJECT per level */
    std::vector<uint64_t> keys;
};

thread_local checker tl_checker;

struct tape_scan {
    const uint64_t *tape;
    const uint8_t *strings;
    uint64_t *keys;     /* SMALL_OBJECT per level */
};

/* The string a tape word points to (length, then the unescaped bytes). */
std::string_view tape_string(const tape_scan &t, uint64_t word)
{
    const uint8_t *s = t.strings + (word & simdjson::internal::JSON_VALUE_MASK);
    uint32_t len;
    memcpy(&len, s, sizeof len);
    return std::string_view((const char *)s + sizeof len, len);
}

int repeated_keys(const tape_scan &t, size_t i, unsigned level);

/* Steps over the value at i: returns the index after it, or -1 (as size_t)
 * when a container in it repeats a key or is too large to compare here
 * (*r says which). Inlined: it runs per value. */
inline __attribute__((always_inline)) size_t step(const tape_scan &t, size_t i, unsigned level, int *r)
{
    uint64_t word = t.tape[i];
    char type = (char)(word >> 56);
    if (type == '{' || type == '[') {
        if ((*r = repeated_keys(t, i, level)) != 0)
            return (size_t)-1;
        return (uint32_t)word;   /* the matching brace's index + 1 */
    }
    return i + 1 + (type == 'l' || type == 'u' || type == 'd');   /* numbers take two words */
}

/* Whether the container at i, nested `level` deep, repeats a key in any
 * object (1), does not (0), or has an object too large to compare here
 * (-1). An object's keys are compared as the walker does: a bit per key
 * class, then a scan of the keys seen (kept as their tape words). */
int repeated_keys(const tape_scan &t, size_t i, unsigned level)
{
    uint64_t word = t.tape[i];
    size_t end = (uint32_t)word - 1;   /* the closing brace */
    int r = 0;
    if ((char)(word >> 56) == '[') {
        for (size_t j = i + 1; j < end;)
            if ((j = step(t, j, level + 1, &r)) == (size_t)-1)
                return r;
        return 0;
    }
    if (((word >> 32) & simdjson::internal::JSON_COUNT_MASK) > SMALL_OBJECT)
        return -1;
    uint64_t *keys = t.keys + (size_t)level * SMALL_OBJECT;
    size_t n = 0;
    uint64_t seen = 0;
    for (size_t j = i + 1; j < end;) {
        std::string_view key = tape_string(t, t.tape[j]);
        uint64_t bit = key.size() ? 1ULL << ((key.size() * 31 + (unsigned char)key[0] +
                                             7u * (unsigned char)key[key.size() - 1]) & 63) : 1;
        if (seen & bit)
            for (size_t k = 0; k < n; k++)
                if (tape_string(t, keys[k]) == key)
                    return 1;
        seen |= bit;
        keys[n++] = t.tape[j];
        if ((j = step(t, j + 1, level + 1, &r)) == (size_t)-1)
            return r;
    }
    return 0;
}

/* The DOM verdict: 0 (accepted, *flags set) or -1 (ask the walker). */
int dom_check(const char *p, size_t len, unsigned max_depth, bool require_object, uint8_t *flags)
{
    checker &c = tl_checker;
    const simdjson::implementation *kernel = simdjson::get_active_implementation();
    if (c.kernel != kernel) {   /* first use, or sl_json_use_kernel */
        c.parser = dom::parser();
        c.kernel = kernel;
    }
    if (c.parser.max_depth() != max_depth &&
        c.parser.allocate(len > 4096 ? len : 4096, max_depth) != simdjson::SUCCESS)
        return -1;
    dom::element root;
    if (c.parser.parse(p, len, false).get(root) != simdjson::SUCCESS)
        return -1;
    if (require_object && !root.is_object())
        return -1;
    size_t levels = (size_t)max_depth + 2;
    if (c.keys.size() < levels * SMALL_OBJECT)
        c.keys.resize(levels * SMALL_OBJECT);
    tape_scan t = { c.parser.doc.tape.get(), c.parser.doc.string_buf.get(), c.keys.data() };
    int repeated = 0;   /* tape[0] is the root word, tape[1] the document */
    step(t, 1, 0, &repeated);
    if (repeated < 0)
        return -1;
    *flags = repeated ? SL_VF_DUPLICATE_KEYS : 0;
    return 0;
}

} // namespace

extern "C" int sl_json_check(const char *p, size_t len, unsigned max_depth, bool require_object,
                             uint8_t *flags, sl_decode_error *err)
{
    unsigned depth = max_depth == 0 ? SL_JSON_DEFAULT_MAX_DEPTH
                   : max_depth > MAX_DEPTH_LIMIT ? MAX_DEPTH_LIMIT : max_depth;
    try {
        if (len <= UINT32_MAX && dom_check(p, len, depth, require_object, flags) == 0)
            return 0;
    } catch (...) {
        /* the walker decides */
    }
    sl_value root;
    int rc = sl_json_decode(nullptr, p, len, max_depth, require_object, &root, err);
    *flags = root.flags & SL_VF_DUPLICATE_KEYS;
    return rc;
}
