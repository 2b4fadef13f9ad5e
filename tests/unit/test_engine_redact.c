/* test_engine_redact.c — the PII detectors (text/pii.c) and the `redact`
 * transform.
 *
 * The detector part is a table: for each built-in detector, texts that must
 * be found (with the exact span expected) and look-alikes that must not be
 * (versions, dates, times, UUIDs, hashes, order ids, bad checksums). The
 * transform part runs real pipelines through transform_harness.h: every
 * action with exact output, keyed hashing checked against an HMAC computed
 * here, drop_record_over, custom patterns, nested fields, counters.
 */
#include <sodium.h>
#include <stdlib.h>

#include "check.h"
#include "text/pii.h"
#include "transform_harness.h"

/* ---- detector tables ---- */

typedef struct example {
    sl_pii_builtin detector;
    const char *text;
    const char *hit;     /* the span that must be found; NULL = nothing */
} example;

static const example examples[] = {
    /* email: positives */
    {SL_PII_EMAIL, "write to john.doe@example.com today", "john.doe@example.com"},
    {SL_PII_EMAIL, "a@b.co", "a@b.co"},
    {SL_PII_EMAIL, "<jane+tag@mail.example.org>", "jane+tag@mail.example.org"},
    {SL_PII_EMAIL, "mail: first_last@sub-domain.example.net.", "first_last@sub-domain.example.net"},
    {SL_PII_EMAIL, "(x.y.z@corp.io)", "x.y.z@corp.io"},
    {SL_PII_EMAIL, "USER@EXAMPLE.COM", "USER@EXAMPLE.COM"},
    {SL_PII_EMAIL, "ops-team@example.co.uk, hi", "ops-team@example.co.uk"},
    {SL_PII_EMAIL, "mailto:support@example.com", "support@example.com"},
    {SL_PII_EMAIL, "\"bob@example.com\"", "bob@example.com"},
    {SL_PII_EMAIL, "id 42 is 100%real@example.com", "100%real@example.com"},
    {SL_PII_EMAIL, "x 1234@numbers.example", "1234@numbers.example"},
    {SL_PII_EMAIL, "end: z@z.zz", "z@z.zz"},
    {SL_PII_EMAIL, "tab\tme@example.dev\t", "me@example.dev"},
    {SL_PII_EMAIL, "a.b-c_d@e-f.example.museum", "a.b-c_d@e-f.example.museum"},
    {SL_PII_EMAIL, "..lead@example.com", "lead@example.com"},
    /* email after and before non-ASCII spaces, quotes and brackets */
    {SL_PII_EMAIL, "mail\u00a0john.doe@example.com", "john.doe@example.com"},
    {SL_PII_EMAIL, "mail\u2009john.doe@example.com\u2009ok", "john.doe@example.com"},
    {SL_PII_EMAIL, "\u30e1\u30fc\u30eb\u3000john.doe@example.com\u3000", "john.doe@example.com"},
    {SL_PII_EMAIL, "\u201cjohn.doe@example.com\u201d", "john.doe@example.com"},
    {SL_PII_EMAIL, "\u27e8john.doe@example.com\u27e9", "john.doe@example.com"},
    {SL_PII_EMAIL, "\u00abjohn.doe@example.com\u00bb", "john.doe@example.com"},
    /* email: negatives */
    {SL_PII_EMAIL, "no at sign here", NULL},
    {SL_PII_EMAIL, "@example.com", NULL},
    {SL_PII_EMAIL, "user@", NULL},
    {SL_PII_EMAIL, "user@localhost", NULL},
    {SL_PII_EMAIL, "user@example.c", NULL},
    {SL_PII_EMAIL, "user@example.123", NULL},
    {SL_PII_EMAIL, "a..b@example.com", NULL},
    {SL_PII_EMAIL, "user@-example.com", NULL},
    {SL_PII_EMAIL, "user@example..com", NULL},
    {SL_PII_EMAIL, "@@", NULL},
    {SL_PII_EMAIL, "follow @handle on the site", NULL},
    {SL_PII_EMAIL, "git@github", NULL},
    {SL_PII_EMAIL, "price 5 @ 3.50", NULL},
    {SL_PII_EMAIL, "pkg@1.2.3", NULL},
    {SL_PII_EMAIL, "x@y@example.com", NULL},
    /* glued to a non-ASCII letter: part of a longer word */
    {SL_PII_EMAIL, "caf\u00e9john@example.com", NULL},
    {SL_PII_EMAIL, "john@example.com\u00e9t\u00e9", NULL},

    /* phone: positives */
    {SL_PII_PHONE, "call +14155552671 now", "+14155552671"},
    {SL_PII_PHONE, "(415) 555-2671", "(415) 555-2671"},
    {SL_PII_PHONE, "office 415-555-2671.", "415-555-2671"},
    {SL_PII_PHONE, "+44 20 7946 0958", "+44 20 7946 0958"},
    {SL_PII_PHONE, "london 020 7946 0958", "020 7946 0958"},
    {SL_PII_PHONE, "415.555.2671", "415.555.2671"},
    {SL_PII_PHONE, "415 555 2671", "415 555 2671"},
    {SL_PII_PHONE, "(415)555-2671", "(415)555-2671"},
    {SL_PII_PHONE, "1-415-555-2671", "1-415-555-2671"},
    {SL_PII_PHONE, "+1 (415) 555-2671", "+1 (415) 555-2671"},
    {SL_PII_PHONE, "+1-415-555-2671", "+1-415-555-2671"},
    {SL_PII_PHONE, "tel:+33 1 23 45 67 89", "+33 1 23 45 67 89"},
    {SL_PII_PHONE, "+49 30 12345678", "+49 30 12345678"},
    {SL_PII_PHONE, "030 1234567", "030 1234567"},
    {SL_PII_PHONE, "01 23 45 67 89", "01 23 45 67 89"},
    {SL_PII_PHONE, "phone: 0161-496-0000)", "0161-496-0000"},
    /* phone: negatives */
    {SL_PII_PHONE, "order 12345", NULL},
    {SL_PII_PHONE, "order id 4155552671", NULL},
    {SL_PII_PHONE, "version 1.2.3", NULL},
    {SL_PII_PHONE, "v2.10.4", NULL},
    {SL_PII_PHONE, "2026-11-24", NULL},
    {SL_PII_PHONE, "24/11/2026", NULL},
    {SL_PII_PHONE, "at 12:30:45", NULL},
    {SL_PII_PHONE, "2026-11-24T01:02:03Z", NULL},
    {SL_PII_PHONE, "pi is 3.14159", NULL},
    {SL_PII_PHONE, "550e8400-e29b-41d4-a716-446655440000", NULL},
    {SL_PII_PHONE, "12345678-1234-1234-1234-123456789012", NULL},
    {SL_PII_PHONE, "d41d8cd98f00b204e9800998ecf8427e", NULL},
    {SL_PII_PHONE, "192.168.100.200", NULL},
    {SL_PII_PHONE, "123-456-7890", NULL},
    {SL_PII_PHONE, "ORD-415-555-2671", NULL},
    {SL_PII_PHONE, "4242 4242 4242 4242", NULL},
    {SL_PII_PHONE, "123-45-6789", NULL},
    {SL_PII_PHONE, "+12345", NULL},
    {SL_PII_PHONE, "1732412345678", NULL},
    {SL_PII_PHONE, "2026 11 24", NULL},

    /* ip: positives */
    {SL_PII_IP, "from 192.168.1.10 at noon", "192.168.1.10"},
    {SL_PII_IP, "10.0.0.1", "10.0.0.1"},
    {SL_PII_IP, "host 255.255.255.255.", "255.255.255.255"},
    {SL_PII_IP, "ip:8.8.8.8", "8.8.8.8"},
    {SL_PII_IP, "http://172.16.0.5:8080/x", "172.16.0.5"},
    {SL_PII_IP, "net 10.1.2.0/24", "10.1.2.0"},
    {SL_PII_IP, "(0.0.0.0)", "0.0.0.0"},
    {SL_PII_IP, "v6 2001:db8::1 ok", "2001:db8::1"},
    {SL_PII_IP, "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "2001:0db8:85a3:0000:0000:8a2e:0370:7334"},
    {SL_PII_IP, "loopback ::1", "::1"},
    {SL_PII_IP, "fe80::1ff:fe23:4567:890a", "fe80::1ff:fe23:4567:890a"},
    {SL_PII_IP, "mapped ::ffff:192.0.2.128 here", "::ffff:192.0.2.128"},
    {SL_PII_IP, "[2001:db8::ff00:42:8329]:443", "2001:db8::ff00:42:8329"},
    {SL_PII_IP, "user@10.20.30.40", "10.20.30.40"},
    {SL_PII_IP, "FE80::ABCD", "FE80::ABCD"},
    {SL_PII_IP, "http://10.0.0.1/admin", "10.0.0.1"},
    {SL_PII_IP, "host=10.0.0.1", "10.0.0.1"},
    {SL_PII_IP, "from\u00a010.0.0.1\u00a0on", "10.0.0.1"},
    {SL_PII_IP, "\u201c10.0.0.1\u201d", "10.0.0.1"},
    /* ip: negatives */
    {SL_PII_IP, "version 1.2.3", NULL},
    {SL_PII_IP, "1.2.3.4.5", NULL},
    {SL_PII_IP, "v1.2.3.4", NULL},
    {SL_PII_IP, "256.1.1.1", NULL},
    {SL_PII_IP, "1.2.3.999", NULL},
    {SL_PII_IP, "01.02.03.04", NULL},
    {SL_PII_IP, "at 12:30:45", NULL},
    {SL_PII_IP, "2026-11-24T01:02:03Z", NULL},
    {SL_PII_IP, "mac 00:1a:2b:3c:4d:5e", NULL},
    {SL_PII_IP, "std::vector", NULL},
    {SL_PII_IP, "a :: b", NULL},
    {SL_PII_IP, "3.14159", NULL},
    {SL_PII_IP, "ratio 1:2:3", NULL},
    {SL_PII_IP, "libfoo-1.2.3.4a", NULL},
    {SL_PII_IP, "libfoo-2.6.32.1", NULL},
    {SL_PII_IP, "libfoo-2.6.32.1.tar.gz", NULL},
    {SL_PII_IP, "User-Agent: foo/8.8.8.8", NULL},
    {SL_PII_IP, "linux-image-5.10.0.1-amd64", NULL},
    {SL_PII_IP, "kernel 5.10.0.1-amd64", NULL},
    {SL_PII_IP, "caf\u00e910.0.0.1", NULL},
    {SL_PII_IP, "550e8400-e29b-41d4-a716-446655440000", NULL},
    {SL_PII_IP, "1.2.3.4.5.6.7.8", NULL},
    {SL_PII_IP, "version 1.2.3.4", NULL},
    {SL_PII_IP, "$Id: strftime.c,v 1.10.2.3 2005/11/01", NULL},
    {SL_PII_IP, "Release 10.0.0.1 notes", NULL},

    /* credit_card: positives */
    {SL_PII_CREDIT_CARD, "card 4242 4242 4242 4242 ok", "4242 4242 4242 4242"},
    {SL_PII_CREDIT_CARD, "4242424242424242", "4242424242424242"},
    {SL_PII_CREDIT_CARD, "4111-1111-1111-1111", "4111-1111-1111-1111"},
    {SL_PII_CREDIT_CARD, "mc 5555 5555 5555 4444.", "5555 5555 5555 4444"},
    {SL_PII_CREDIT_CARD, "2223003122003222", "2223003122003222"},
    {SL_PII_CREDIT_CARD, "amex 3782 822463 10005", "3782 822463 10005"},
    {SL_PII_CREDIT_CARD, "371449635398431", "371449635398431"},
    {SL_PII_CREDIT_CARD, "6011111111111117", "6011111111111117"},
    {SL_PII_CREDIT_CARD, "6011 0009 9013 9424", "6011 0009 9013 9424"},
    {SL_PII_CREDIT_CARD, "diners 3056 930902 5904", "3056 930902 5904"},
    {SL_PII_CREDIT_CARD, "jcb 3566002020360505", "3566002020360505"},
    {SL_PII_CREDIT_CARD, "up 6200000000000005", "6200000000000005"},
    {SL_PII_CREDIT_CARD, "4222222222222", "4222222222222"},
    {SL_PII_CREDIT_CARD, "(5105105105105100)", "5105105105105100"},
    {SL_PII_CREDIT_CARD, "card:4000056655665556", "4000056655665556"},
    /* credit_card: negatives */
    {SL_PII_CREDIT_CARD, "4242 4242 4242 4241", NULL},
    {SL_PII_CREDIT_CARD, "4242424242424241", NULL},
    {SL_PII_CREDIT_CARD, "1234 5678 9012 3456", NULL},
    {SL_PII_CREDIT_CARD, "0000 0000 0000 0000", NULL},
    {SL_PII_CREDIT_CARD, "order 12345", NULL},
    {SL_PII_CREDIT_CARD, "1732412345678", NULL},
    {SL_PII_CREDIT_CARD, "42424242424242424242", NULL},
    {SL_PII_CREDIT_CARD, "4242-4242 4242-4242", NULL},
    {SL_PII_CREDIT_CARD, "v4242424242424242", NULL},
    {SL_PII_CREDIT_CARD, "4242424242424242.5", NULL},
    {SL_PII_CREDIT_CARD, "1.4242424242424242", NULL},
    {SL_PII_CREDIT_CARD, "2026-11-24", NULL},
    {SL_PII_CREDIT_CARD, "3.14159265358979323", NULL},
    {SL_PII_CREDIT_CARD, "550e8400-e29b-41d4-a716-446655440000", NULL},
    {SL_PII_CREDIT_CARD, "42424 24242 42424 2", NULL},
    {SL_PII_CREDIT_CARD, "4242 4242 4242 4242 1234", NULL},

    /* iban: positives */
    {SL_PII_IBAN, "GB82WEST12345698765432", "GB82WEST12345698765432"},
    {SL_PII_IBAN, "iban GB82 WEST 1234 5698 7654 32.", "GB82 WEST 1234 5698 7654 32"},
    {SL_PII_IBAN, "DE89370400440532013000", "DE89370400440532013000"},
    {SL_PII_IBAN, "DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00"},
    {SL_PII_IBAN, "FR1420041010050500013M02606", "FR1420041010050500013M02606"},
    {SL_PII_IBAN, "NL91ABNA0417164300", "NL91ABNA0417164300"},
    {SL_PII_IBAN, "(BE68539007547034)", "BE68539007547034"},
    {SL_PII_IBAN, "ES9121000418450200051332", "ES9121000418450200051332"},
    {SL_PII_IBAN, "IT60X0542811101000000123456", "IT60X0542811101000000123456"},
    {SL_PII_IBAN, "CH9300762011623852957", "CH9300762011623852957"},
    {SL_PII_IBAN, "NO9386011117947", "NO9386011117947"},
    {SL_PII_IBAN, "pay to AT611904300234573201 please", "AT611904300234573201"},
    {SL_PII_IBAN, "PL61109010140000071219812874", "PL61109010140000071219812874"},
    {SL_PII_IBAN, "SE4550000000058398257466", "SE4550000000058398257466"},
    {SL_PII_IBAN, "DK5000400440116243", "DK5000400440116243"},
    /* iban: negatives */
    {SL_PII_IBAN, "GB82WEST12345698765431", NULL},
    {SL_PII_IBAN, "GB83WEST12345698765432", NULL},
    {SL_PII_IBAN, "DE89370400440532013001", NULL},
    {SL_PII_IBAN, "DE8937040044053201300", NULL},
    {SL_PII_IBAN, "DE893704004405320130000", NULL},
    {SL_PII_IBAN, "gb82west12345698765432", NULL},
    {SL_PII_IBAN, "XX89370400440532013000", NULL},
    {SL_PII_IBAN, "ABC89370400440532013000", NULL},
    {SL_PII_IBAN, "GB82WEST1234569876543X", NULL},
    {SL_PII_IBAN, "ID GB82", NULL},
    {SL_PII_IBAN, "DE00370400440532013000", NULL},
    {SL_PII_IBAN, "HTTP2026", NULL},
    {SL_PII_IBAN, "SHA256 d41d8cd98f00b204e9800998ecf8427e", NULL},
    {SL_PII_IBAN, "GB82  WEST 1234 5698 7654 32", NULL},
    {SL_PII_IBAN, "NL91ABNA04171643001", NULL},

    /* ssn: positives */
    {SL_PII_SSN, "ssn 123-45-6789", "123-45-6789"},
    {SL_PII_SSN, "078-05-1120", "078-05-1120"},
    {SL_PII_SSN, "(219-09-9999)", "219-09-9999"},
    {SL_PII_SSN, "id: 001-01-0001.", "001-01-0001"},
    {SL_PII_SSN, "899-99-9999", "899-99-9999"},
    {SL_PII_SSN, "665-12-3456", "665-12-3456"},
    {SL_PII_SSN, "667-12-3456", "667-12-3456"},
    {SL_PII_SSN, "a 555-55-5555 b", "555-55-5555"},
    {SL_PII_SSN, "\"123-45-6789\"", "123-45-6789"},
    {SL_PII_SSN, "ssn:123-45-6789", "123-45-6789"},
    {SL_PII_SSN, "x\t321-54-9876\n", "321-54-9876"},
    {SL_PII_SSN, "123-45-6789, and", "123-45-6789"},
    {SL_PII_SSN, "ok 100-10-1000", "100-10-1000"},
    {SL_PII_SSN, "[772-11-2233]", "772-11-2233"},
    {SL_PII_SSN, "is 404-04-0404!", "404-04-0404"},
    /* ssn: negatives */
    {SL_PII_SSN, "000-12-3456", NULL},
    {SL_PII_SSN, "666-12-3456", NULL},
    {SL_PII_SSN, "900-12-3456", NULL},
    {SL_PII_SSN, "999-12-3456", NULL},
    {SL_PII_SSN, "123-00-6789", NULL},
    {SL_PII_SSN, "123-45-0000", NULL},
    {SL_PII_SSN, "123456789", NULL},
    {SL_PII_SSN, "2026-11-24", NULL},
    {SL_PII_SSN, "1123-45-6789", NULL},
    {SL_PII_SSN, "123-45-67890", NULL},
    {SL_PII_SSN, "A123-45-6789", NULL},
    {SL_PII_SSN, "123-45-6789-1", NULL},
    {SL_PII_SSN, "415-555-2671", NULL},
    {SL_PII_SSN, "12-345-6789", NULL},
    {SL_PII_SSN, "550e8400-e29b-41d4-a716-446655440000", NULL},
    {SL_PII_SSN, "v123-45-6789", NULL},
};

static void test_detector_table(void) {
    int positives[SL_PII_BUILTIN_COUNT] = {0}, negatives[SL_PII_BUILTIN_COUNT] = {0};
    sl_pii_spans spans = {0};
    for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++) {
        const example *e = &examples[i];
        const sl_pii_detector *d = &sl_pii_detectors[e->detector];
        spans.count = 0;
        d->scan(e->text, strlen(e->text), 0, &spans);
        bool ok;
        if (e->hit) {
            positives[e->detector]++;
            ok = spans.count == 1 &&
                 spans.items[0].end - spans.items[0].start == strlen(e->hit) &&
                 memcmp(e->text + spans.items[0].start, e->hit, strlen(e->hit)) == 0 &&
                 d->validate(e->hit, strlen(e->hit));
        } else {
            negatives[e->detector]++;
            ok = spans.count == 0;
        }
        CHECK(ok);
        if (!ok)
            fprintf(stderr, "  %s on \"%s\": expected %s, found %zu hit(s)%s%.*s\n", d->name, e->text,
                    e->hit ? e->hit : "nothing", spans.count, spans.count ? ", first: " : "",
                    spans.count ? (int)(spans.items[0].end - spans.items[0].start) : 0,
                    spans.count ? e->text + spans.items[0].start : "");
    }
    for (int d = 0; d < SL_PII_BUILTIN_COUNT; d++) {
        CHECK(positives[d] >= 15);
        CHECK(negatives[d] >= 15);
    }
    sl_pii_spans_free(&spans);
}

/* The table again with each text moved 0 to 17 bytes to the right, by
 * spaces and by "\xc3\xa9 " (not ASCII): the scanners skip to the next
 * digit sixteen bytes at a time, so a hit must be found at any alignment,
 * and after bytes of 0x80 or more, with the same span. */
static void test_detector_table_shifted(void) {
    sl_pii_spans spans = {0};
    sl_buf text = {0};
    int failed = 0;
    for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++) {
        const example *e = &examples[i];
        for (int shift = 0; shift < 18; shift++)
            for (int accent = 0; accent < 2; accent++) {
                text.len = 0;
                for (int k = 0; k < shift; k++)
                    sl_buf_puts(&text, accent && k % 3 == 0 && k + 2 < shift ? "\xc3\xa9" : " ");
                size_t at = text.len;
                sl_buf_puts(&text, e->text);
                spans.count = 0;
                sl_pii_detectors[e->detector].scan(text.data, text.len, 0, &spans);
                const char *hit = e->hit ? strstr(e->text, e->hit) : NULL;
                bool ok = hit ? spans.count == 1 && spans.items[0].start == at + (size_t)(hit - e->text) &&
                                    spans.items[0].end == spans.items[0].start + strlen(e->hit)
                              : spans.count == 0;
                if (!ok && failed++ < 5)
                    fprintf(stderr, "  %s on \"%s\" after %d bytes: %zu hit(s)\n",
                            sl_pii_detectors[e->detector].name, e->text, shift, spans.count);
            }
    }
    CHECK_INT(failed, 0);
    sl_buf_free(&text);
    sl_pii_spans_free(&spans);
}

/* Two hits in one text, and overlap resolution across detectors. */
static void test_scan_several(void) {
    sl_pii_spans spans = {0};
    const char *t = "call 415-555-2671 415-555-2672 or mail a@example.com";
    sl_pii_detectors[SL_PII_PHONE].scan(t, strlen(t), SL_PII_PHONE, &spans);
    CHECK_INT(spans.count, 2);
    sl_pii_detectors[SL_PII_EMAIL].scan(t, strlen(t), SL_PII_EMAIL, &spans);
    CHECK_INT(spans.count, 3);
    sl_pii_spans_push(&spans, 5, 9, 9);   /* overlaps the first phone number, shorter */
    sl_pii_resolve(&spans);
    CHECK_INT(spans.count, 3);
    CHECK_INT(spans.items[0].start, 5);
    CHECK_INT(spans.items[0].end, 17);
    CHECK_INT(spans.items[0].detector, SL_PII_PHONE);
    CHECK_INT(spans.items[2].detector, SL_PII_EMAIL);
    /* prefilter */
    CHECK_INT(sl_pii_candidates("plain words", 11), 0);
    CHECK_INT(sl_pii_candidates("a@b", 3), 1u << SL_PII_EMAIL);
    sl_pii_spans_free(&spans);
}

/* ---- the transform ---- */

#define KEY "0123456789abcdef0123456789abcdef"
#define OTHER_KEY "fedcba9876543210fedcba9876543210"

static void test_mask_default_all_strings(void) {
    CHECK_INT(run_with("transforms:\n  r:\n    type: redact\n    inputs: [in]\n"
                       "sinks:\n  out:\n    type: capture\n    inputs: [r]\n",
                       "{\"a\":\"mail bob@example.com or 415-555-2671\",\"n\":123456789,"
                       "\"user\":{\"ip\":\"10.0.0.1\",\"tags\":[\"ssn 123-45-6789\",\"v1.2.3\"]}}\n"
                       "{\"a\":\"nothing here 2026-11-24 v2.10.4\"}\n",
                       1, 1024),
              0);
    CHECK_STR(output("out"),
              "{\"a\":\"mail [EMAIL] or [PHONE]\",\"n\":123456789,"
              "\"user\":{\"ip\":\"[IP]\",\"tags\":[\"ssn [SSN]\",\"v1.2.3\"]}}\n"
              "{\"a\":\"nothing here 2026-11-24 v2.10.4\"}\n");
    CHECK_CONTAINS(describe_output(), "\"type\":\"redact\",\"records\":2,\"records_with_pii\":1");
    CHECK_CONTAINS(describe_output(), "{\"detector\":\"email\",\"action\":\"mask\",\"hits\":1}");
    CHECK_CONTAINS(describe_output(), "{\"detector\":\"credit_card\",\"action\":\"mask\",\"hits\":0}");
    CHECK_CONTAINS(metrics_output(), "sluice_redact_hits_total{component=\"r\",detector=\"phone\"} 1\n");
    CHECK_CONTAINS(metrics_output(), "sluice_redact_hits_total{component=\"r\",detector=\"ip\"} 1\n");
}

static void test_partial(void) {
    CHECK_INT(run_with("transforms:\n  r:\n    type: redact\n    inputs: [in]\n    action: partial\n"
                       "    patterns: {employee_id: 'EMP-\\d{6}'}\n"
                       "sinks:\n  out:\n    type: capture\n    inputs: [r]\n",
                       "{\"t\":\"john@example.com\"}\n{\"t\":\"4242 4242 4242 4242\"}\n"
                       "{\"t\":\"123-45-6789\"}\n{\"t\":\"+1 415 555 2671\"}\n{\"t\":\"+14155552671\"}\n"
                       "{\"t\":\"(415) 555-2671\"}\n{\"t\":\"192.168.1.10\"}\n"
                       "{\"t\":\"GB82 WEST 1234 5698 7654 32\"}\n{\"t\":\"EMP-123456\"}\n"
                       "{\"t\":\"2001:db8::1\"}\n{\"t\":\"3782 822463 10005\"}\n",
                       1, 1024),
              0);
    CHECK_STR(output("out"),
              "{\"t\":\"j***@example.com\"}\n{\"t\":\"**** **** **** 4242\"}\n"
              "{\"t\":\"***-**-6789\"}\n{\"t\":\"+1 *** *** 2671\"}\n{\"t\":\"+1******2671\"}\n"
              "{\"t\":\"(***) ***-2671\"}\n{\"t\":\"192.*.*.*\"}\n"
              "{\"t\":\"GB82 **** **** **** **54 32\"}\n{\"t\":\"***-**3456\"}\n"
              "{\"t\":\"2001:***::*\"}\n{\"t\":\"**** ****** *0005\"}\n");
}

/* The token an independent HMAC-SHA-256 gives: [LABEL:first 16 hex]. */
static void expected_token(const char *label, const char *key, const char *canonical, char *out) {
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, strlen(key));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)canonical, strlen(canonical));
    crypto_auth_hmacsha256_final(&st, mac);
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    sprintf(out, "[%s:%.16s]", label, hex);
}

static const char *hash_body =
    "transforms:\n  r:\n    type: redact\n    inputs: [in]\n    fields: [t]\n"
    "    actions: {email: hash, phone: hash}\n    key: ${env:SLUICE_TEST_REDACT_KEY}\n"
    "sinks:\n  out:\n    type: capture\n    inputs: [r]\n";

static void test_hash(void) {
    CHECK(sodium_init() >= 0);
    setenv("SLUICE_TEST_REDACT_KEY", KEY, 1);
    const char *input = "{\"t\":\"Bob@Example.com\"}\n{\"t\":\"bob@example.com\"}\n"
                        "{\"t\":\"+1 (415) 555-2671 / 4242 4242 4242 4242\"}\n";
    CHECK_INT(run_with(hash_body, input, 1, 1024), 0);
    char email[64], phone[64], want[512];
    expected_token("EMAIL", KEY, "bob@example.com", email);
    expected_token("PHONE", KEY, "+14155552671", phone);
    snprintf(want, sizeof want, "{\"t\":\"%s\"}\n{\"t\":\"%s\"}\n{\"t\":\"%s / [CREDIT_CARD]\"}\n", email,
             email, phone);
    CHECK_STR(output("out"), want);
    char first[512];
    snprintf(first, sizeof first, "%s", output("out"));

    /* stable across runs with the same key, different with another key */
    CHECK_INT(run_with(hash_body, input, 1, 1024), 0);
    CHECK_STR(output("out"), first);
    setenv("SLUICE_TEST_REDACT_KEY", OTHER_KEY, 1);
    CHECK_INT(run_with(hash_body, input, 1, 1024), 0);
    char other[64];
    expected_token("EMAIL", OTHER_KEY, "bob@example.com", other);
    CHECK(strcmp(other, email) != 0);
    CHECK_CONTAINS(output("out"), other);
    CHECK(strstr(output("out"), email) == NULL);
    unsetenv("SLUICE_TEST_REDACT_KEY");
}

static void test_key_errors(void) {
    check_build_error("transforms:\n  r:\n    type: redact\n    inputs: [in]\n    action: hash\n"
                      "sinks:\n  out:\n    type: capture\n    inputs: [r]\n",
                      "action hash needs key");
    check_build_error("transforms:\n  r:\n    type: redact\n    inputs: [in]\n    action: hash\n"
                      "    key: literal-key-in-the-config\n"
                      "sinks:\n  out:\n    type: capture\n    inputs: [r]\n",
                      "key must come from ${env:NAME}");
    setenv("SLUICE_TEST_REDACT_KEY", "short", 1);
    check_build_error(hash_body, "use at least 16");
    CHECK(strstr(diag_output(), "short") == NULL);   /* the key is never printed */
    unsetenv("SLUICE_TEST_REDACT_KEY");
    check_build_error("transforms:\n  r:\n    type: redact\n    inputs: [in]\n    detect: [email, phonr]\n"
                      "sinks:\n  out:\n    type: capture\n    inputs: [r]\n",
                      "unknown detector 'phonr'");
    check_build_error("transforms:\n  r:\n    type: redact\n    inputs: [in]\n    patterns: {bad: 'a('}\n"
                      "sinks:\n  out:\n    type: capture\n    inputs: [r]\n",
                      "pattern 'bad'");
    check_build_error("transforms:\n  r:\n    type: redact\n    inputs: [in]\n    actions: {iban: hide}\n"
                      "sinks:\n  out:\n    type: capture\n    inputs: [r]\n",
                      "must be mask, partial, hash or drop_field");
}

static void test_drop_field_and_nested(void) {
    CHECK_INT(run_with("transforms:\n  r:\n    type: redact\n    inputs: [in]\n"
                       "    fields: [prompt, user.email, meta]\n    detect: [email, ip]\n"
                       "    actions: {ip: drop_field}\n"
                       "sinks:\n  out:\n    type: capture\n    inputs: [r]\n",
                       "{\"prompt\":\"ip 10.0.0.1\",\"user\":{\"email\":\"a@example.com\",\"name\":\"b@example.com\"},"
                       "\"meta\":{\"list\":[\"x\",\"8.8.8.8\",\"c@example.com\"],\"host\":\"1.1.1.1\",\"k\":1},"
                       "\"other\":\"d@example.com\"}\n",
                       1, 1024),
              0);
    CHECK_STR(output("out"),
              "{\"user\":{\"email\":\"[EMAIL]\",\"name\":\"b@example.com\"},"
              "\"meta\":{\"list\":[\"x\",\"[EMAIL]\"],\"k\":1},\"other\":\"d@example.com\"}\n");
}

static void test_drop_record_over(void) {
    const char *input = "{\"t\":\"a@example.com b@example.com\"}\n"
                        "{\"t\":\"a@example.com b@example.com c@example.com\"}\n"
                        "{\"t\":\"clean\"}\n";
    CHECK_INT(run_with("transforms:\n  r:\n    type: redact\n    inputs: [in]\n    drop_record_over: 2\n"
                       "sinks:\n  out:\n    type: capture\n    inputs: [r]\n",
                       input, 1, 1024),
              0);
    CHECK_STR(output("out"), "{\"t\":\"[EMAIL] [EMAIL]\"}\n{\"t\":\"clean\"}\n");
    CHECK_CONTAINS(describe_output(), "\"records\":3,\"records_with_pii\":2,\"records_dropped\":1");
    CHECK_CONTAINS(metrics_output(), "sluice_redact_records_dropped_total{component=\"r\"} 1\n");

    /* the DLQ entry holds the redacted record, not the original text */
    char path[128];
    snprintf(path, sizeof path, "%s/dlq/dlq.jsonl", data_dir);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (f) {
        char line[2048] = {0};
        size_t n = fread(line, 1, sizeof line - 1, f);
        fclose(f);
        line[n] = 0;
        CHECK_CONTAINS(line, "\"reason\":\"pii_limit\"");
        CHECK_CONTAINS(line, "[EMAIL] [EMAIL] [EMAIL]");
        CHECK(strstr(line, "c@example.com") == NULL);
    }

    CHECK_INT(run_with("transforms:\n  r:\n    type: redact\n    inputs: [in]\n    drop_record_over: 2\n"
                       "    over_limit: drop\n"
                       "sinks:\n  out:\n    type: capture\n    inputs: [r]\n",
                       input, 2, 1),
              0);
    CHECK_CONTAINS(output("out"), "{\"t\":\"clean\"}\n");
    CHECK(strstr(output("out"), "[EMAIL] [EMAIL] [EMAIL]") == NULL);
    CHECK_CONTAINS(describe_output(), "\"records_dropped\":1");
}

static void test_custom_patterns(void) {
    CHECK_INT(run_with("transforms:\n  r:\n    type: redact\n    inputs: [in]\n    detect: []\n"
                       "    patterns: {employee_id: 'EMP-\\d{6}', ticket: 'T#[0-9]+'}\n"
                       "    actions: {ticket: partial}\n"
                       "sinks:\n  out:\n    type: capture\n    inputs: [r]\n",
                       "{\"t\":\"EMP-123456 and EMP-654321 filed T#98765, mail a@example.com\"}\n", 1, 1024),
              0);
    CHECK_STR(output("out"),
              "{\"t\":\"[EMPLOYEE_ID] and [EMPLOYEE_ID] filed *#*8765, mail a@example.com\"}\n");
    CHECK_CONTAINS(describe_output(), "{\"detector\":\"employee_id\",\"action\":\"mask\",\"hits\":2}");
}

/* A custom pattern that backtracks past the match limit on one string must
 * not leave later hits in place: the record goes to the DLQ (redact_error)
 * with that string replaced, and no original text reaches output or DLQ. */
static void test_custom_pattern_match_limit(void) {
    char input[512];
    snprintf(input, sizeof input,
             "{\"t\":\"call me EMP-123456 %.40s then EMP-654321\",\"u\":\"mail a@example.com\"}\n"
             "{\"t\":\"EMP-111111 aaaa then EMP-222222\"}\n",
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    CHECK_INT(run_with("transforms:\n  r:\n    type: redact\n    inputs: [in]\n"
                       "    patterns: {employee_id: 'EMP-\\d{6}|(a+)+b'}\n"
                       "sinks:\n  out:\n    type: capture\n    inputs: [r]\n",
                       input, 1, 1024),
              0);
    CHECK_STR(output("out"), "{\"t\":\"[EMPLOYEE_ID] aaaa then [EMPLOYEE_ID]\"}\n");
    CHECK_STR(dlq(), "redact_error: pattern 'employee_id' failed: match limit exceeded; simplify it "
                     "(nested repeats such as (a+)+ backtrack without bound)\n");
    char path[128];
    snprintf(path, sizeof path, "%s/dlq/dlq.jsonl", data_dir);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (f) {
        char line[2048] = {0};
        size_t n = fread(line, 1, sizeof line - 1, f);
        fclose(f);
        line[n] = 0;
        CHECK_CONTAINS(line, "[REDACT_ERROR]");
        CHECK_CONTAINS(line, "mail [EMAIL]");
        CHECK(strstr(line, "EMP-") == NULL);
        CHECK(strstr(line, "a@example.com") == NULL);
    }
}

int main(void) {
    RUN(test_detector_table);
    RUN(test_detector_table_shifted);
    RUN(test_scan_several);
    RUN(test_mask_default_all_strings);
    RUN(test_partial);
    RUN(test_hash);
    RUN(test_key_errors);
    RUN(test_drop_field_and_nested);
    RUN(test_drop_record_over);
    RUN(test_custom_patterns);
    RUN(test_custom_pattern_match_limit);
    reset();
    return check_report();
}
