/* formats.c — the string format checks of formats.h.
 *
 * email   local@domain: local part of 1-64 bytes of letters, digits,
 *         !#$%&'*+/=?^_`{|}~.- (no leading, trailing or double dot); domain
 *         of at least two dot-separated labels of letters, digits and '-'
 *         (1-63 bytes, not starting or ending with '-'), 253 bytes at most.
 *         Bytes >= 0x80 are allowed in both parts (internationalised mail).
 * uri     an absolute URI (RFC 3986): scheme ":" and a non-empty rest made
 *         of unreserved and reserved characters and %XX escapes; no spaces.
 * uuid    8-4-4-4-12 hex digits, any version, either case.
 * date-time  RFC 3339 / ISO-8601, via sl_parse_rfc3339 (which checks the
 *         calendar: no February 30th).
 * date    YYYY-MM-DD, a real calendar day.
 * ipv4    dotted quad, each part 0-255 without leading zeros.
 * ipv6    RFC 4291 text forms (with :: and an embedded IPv4 tail), by
 *         inet_pton; no zone index.
 * ip      ipv4 or ipv6.
 */
#include <arpa/inet.h>
#include <string.h>

#include "../core/util.h"
#include "formats.h"

static const char *const format_names[SL_STRFMT_COUNT] = {
    "email", "uri", "uuid", "date-time", "date", "ip", "ipv4", "ipv6",
};

const char *sl_strfmt_name(sl_strfmt f) {
    return format_names[f];
}

const char *const *sl_strfmt_names(void) {
    return format_names;
}

bool sl_strfmt_parse(const char *name, sl_strfmt *out) {
    for (int i = 0; i < SL_STRFMT_COUNT; i++) {
        if (strcmp(name, format_names[i]) == 0) {
            *out = (sl_strfmt)i;
            return true;
        }
    }
    return false;
}

static bool is_alpha(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c) {
    return c >= '0' && c <= '9';
}

static bool is_hex(unsigned char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The symbols allowed in an email's local part, !#$%&'*+/=?^_`{|}~.- (a
 * switch, not strchr: this runs for every byte of every address). */
static bool is_email_symbol(unsigned char c) {
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '/': case '=':
    case '?': case '^': case '_': case '`': case '{': case '|': case '}': case '~': case '.': case '-':
        return true;
    default:
        return false;
    }
}

static bool check_email(const char *s, size_t len) {
    const char *at = memchr(s, '@', len);
    if (!at) return false;
    size_t local = (size_t)(at - s), dom = len - local - 1;
    if (local == 0 || local > 64 || dom == 0 || dom > 253) return false;
    if (s[0] == '.' || s[local - 1] == '.') return false;
    for (size_t i = 0; i < local; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.' && s[i + 1] == '.') return false;
        if (!(is_alpha(c) || is_digit(c) || c >= 0x80 || is_email_symbol(c))) return false;
    }
    const char *d = at + 1;
    size_t label = 0, labels = 0;
    for (size_t i = 0; i <= dom; i++) {
        if (i == dom || d[i] == '.') {
            if (label == 0 || label > 63 || d[i - 1] == '-' || d[i - label] == '-') return false;
            labels++;
            label = 0;
            continue;
        }
        unsigned char c = (unsigned char)d[i];
        if (!(is_alpha(c) || is_digit(c) || c == '-' || c >= 0x80)) return false;
        label++;
    }
    return labels >= 2;
}

static bool check_uri(const char *s, size_t len) {
    size_t i = 0;
    if (len == 0 || !is_alpha((unsigned char)s[0])) return false;
    while (i < len && (is_alpha((unsigned char)s[i]) || is_digit((unsigned char)s[i]) || s[i] == '+' ||
                       s[i] == '-' || s[i] == '.'))
        i++;
    if (i >= len || s[i] != ':' || i + 1 == len) return false;
    for (i++; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= len || !is_hex((unsigned char)s[i + 1]) || !is_hex((unsigned char)s[i + 2]))
                return false;
            i += 2;
        } else if (!(is_alpha(c) || is_digit(c) || (c != 0 && strchr("-._~:/?#[]@!$&'()*+,;=", c)))) {
            return false;
        }
    }
    return true;
}

static bool check_uuid(const char *s, size_t len) {
    if (len != 36) return false;
    for (size_t i = 0; i < len; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex((unsigned char)s[i])) return false;
    }
    return true;
}

static bool check_date(const char *s, size_t len) {
    /* A date is valid exactly when it is valid as midnight of that day. */
    if (len != 10) return false;
    char full[20];
    memcpy(full, s, 10);
    memcpy(full + 10, "T00:00:00Z", 10);
    int64_t ns;
    return sl_parse_rfc3339(full, sizeof full, &ns);
}

static bool check_ipv4(const char *s, size_t len) {
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= len || s[i] != '.') return false;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < len && is_digit((unsigned char)s[i]) && i - start < 3) v = v * 10 + (unsigned)(s[i++] - '0');
        if (i == start || v > 255 || (s[start] == '0' && i - start > 1)) return false;
    }
    return i == len;
}

static bool check_ipv6(const char *s, size_t len) {
    char text[INET6_ADDRSTRLEN];
    unsigned char addr[16];
    if (len == 0 || len >= sizeof text || memchr(s, 0, len)) return false;
    memcpy(text, s, len);
    text[len] = 0;
    return inet_pton(AF_INET6, text, addr) == 1;
}

bool sl_strfmt_check(sl_strfmt f, const char *s, size_t len) {
    int64_t ns;
    switch (f) {
    case SL_STRFMT_EMAIL: return check_email(s, len);
    case SL_STRFMT_URI: return check_uri(s, len);
    case SL_STRFMT_UUID: return check_uuid(s, len);
    case SL_STRFMT_DATE_TIME: return sl_parse_rfc3339(s, len, &ns);
    case SL_STRFMT_DATE: return check_date(s, len);
    case SL_STRFMT_IP: return check_ipv4(s, len) || check_ipv6(s, len);
    case SL_STRFMT_IPV4: return check_ipv4(s, len);
    case SL_STRFMT_IPV6: return check_ipv6(s, len);
    case SL_STRFMT_COUNT: break;
    }
    return false;
}
