/* pii.h — detectors for personal data in text: email addresses, phone
 * numbers, IP addresses, credit-card numbers, IBANs and US social security
 * numbers. Used by the `redact` transform (transforms/redact.c).
 *
 * Each detector is one row of a small table: a name, a scan function that
 * finds candidate spans cheaply (hand-written scanners, no regular
 * expressions), and a validator that accepts or rejects one candidate
 * (Luhn for cards, mod-97 for IBANs, inet_pton for IP addresses, area and
 * group rules for SSNs...). Precision comes first: version strings, dates,
 * times, UUIDs, hashes and plain numbers must not be reported, so the
 * scanners insist on word boundaries and each validator checks structure.
 * docs/pii.md lists what each detector matches and deliberately does not.
 *
 * Scanning is pure and thread-safe; the only state is the caller's span
 * list, which a worker reuses from string to string.
 */
#ifndef SL_PII_H
#define SL_PII_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/buf.h"

typedef enum {
    SL_PII_EMAIL,
    SL_PII_PHONE,
    SL_PII_IP,
    SL_PII_CREDIT_CARD,
    SL_PII_IBAN,
    SL_PII_SSN,
    SL_PII_BUILTIN_COUNT
} sl_pii_builtin;

/* A hit: bytes [start, end) of the scanned text, found by `detector` (an
 * sl_pii_builtin, or a caller-defined number for custom patterns). */
typedef struct sl_pii_span {
    size_t start, end;
    int detector;
} sl_pii_span;

/* A growable list of spans (malloc'd, reused across strings). */
typedef struct sl_pii_spans {
    sl_pii_span *items;
    size_t count, cap;
} sl_pii_spans;

void sl_pii_spans_push(sl_pii_spans *l, size_t start, size_t end, int detector);
void sl_pii_spans_free(sl_pii_spans *l);

typedef struct sl_pii_detector {
    const char *name;     /* "email", as written in `detect:` */
    const char *label;    /* "EMAIL", as written in mask tokens */
    /* Appends the validated hits in s to out, in increasing order and not
     * overlapping each other. Cheap when s cannot contain a hit. */
    void (*scan)(const char *s, size_t len, int detector, sl_pii_spans *out);
    /* True when the candidate s[0..len) (already cut at word boundaries)
     * is a real instance: checksums, ranges, structure. */
    bool (*validate)(const char *s, size_t len);
    /* Writes the partial mask of a validated hit (keeps a few characters). */
    void (*partial)(const char *s, size_t len, sl_buf *out);
    /* Writes the canonical form that keyed hashing uses, so that one value
     * written two ways hashes alike (lowercase email, digits of a phone). */
    void (*canonical)(const char *s, size_t len, sl_buf *out);
} sl_pii_detector;

/* The built-in detectors, indexed by sl_pii_builtin. */
extern const sl_pii_detector sl_pii_detectors[SL_PII_BUILTIN_COUNT];

/* The detector called `name`, or NULL. */
const sl_pii_detector *sl_pii_find(const char *name);

/* A cheap prefilter, one pass over s: a bit set (1 << sl_pii_builtin) of
 * the detectors that could find something (no '@' rules out email, no
 * digit rules out everything but email and IPv6...). */
unsigned sl_pii_candidates(const char *s, size_t len);

/* Sorts spans by position and removes overlaps: the span that starts first
 * wins, then the longer one, then the lower detector number. */
void sl_pii_resolve(sl_pii_spans *l);

/* Partial mask for text without a detector of its own (custom patterns):
 * every letter and digit but the last four becomes '*'. */
void sl_pii_partial_generic(const char *s, size_t len, sl_buf *out);

#endif
