/* test_engine_multiline.c — joining continuation lines into events
 * (sources/multiline.c): where an event ends in each mode (more input may
 * come, flush after a pause, end of input), max_lines, max_bytes, CRLF line
 * ends, an unterminated last line, and a pattern that does not compile.
 */
#include <string.h>

#include "check.h"
#include "sources/multiline.h"

static sl_multiline *dated(size_t max_lines)
{
    sl_error err = {0};
    sl_multiline *m = sl_multiline_new("^\\d{4}-", max_lines, &err);
    CHECK(m != NULL);
    return m;
}

static size_t frame(sl_multiline *m, const char *p, sl_multiline_mode mode)
{
    return sl_multiline_frame(m, p, strlen(p), 1 << 20, mode);
}

static void test_event_ends_at_next_start(void)
{
    sl_multiline *m = dated(100);
    const char *in = "2026-01-01 boom\n  at a\n  at b\n2026-01-01 next\n";
    CHECK_INT(frame(m, in, SL_MULTILINE_MORE), strlen("2026-01-01 boom\n  at a\n  at b\n"));
    /* the last event waits for the next start, unless flushed or ended */
    const char *last = "2026-01-01 next\n  more\n";
    CHECK_INT(frame(m, last, SL_MULTILINE_MORE), 0);
    CHECK_INT(frame(m, last, SL_MULTILINE_FLUSH), strlen(last));
    CHECK_INT(frame(m, last, SL_MULTILINE_END), strlen(last));
    /* a first line that does not match still starts an event */
    CHECK_INT(frame(m, "  orphan\n  orphan 2\n2026-01-02 x\n", SL_MULTILINE_MORE), strlen("  orphan\n  orphan 2\n"));
    sl_multiline_free(m);
}

static void test_incomplete_lines(void)
{
    sl_multiline *m = dated(100);
    /* a half-written first line: nothing, until the input ends */
    CHECK_INT(frame(m, "2026-01-01 hal", SL_MULTILINE_MORE), 0);
    CHECK_INT(frame(m, "2026-01-01 hal", SL_MULTILINE_FLUSH), 0);
    CHECK_INT(frame(m, "2026-01-01 hal", SL_MULTILINE_END), strlen("2026-01-01 hal"));
    /* a half-written next line: it may still continue the event... */
    const char *in = "2026-01-01 a\n  at";
    CHECK_INT(frame(m, in, SL_MULTILINE_MORE), 0);
    /* ...a flush hands over the complete lines only... */
    CHECK_INT(frame(m, in, SL_MULTILINE_FLUSH), strlen("2026-01-01 a\n"));
    /* ...and at the end it joins (or starts a new event when it matches) */
    CHECK_INT(frame(m, in, SL_MULTILINE_END), strlen(in));
    CHECK_INT(frame(m, "2026-01-01 a\n2026-01", SL_MULTILINE_END), strlen("2026-01-01 a\n"));
    sl_multiline_free(m);
}

static void test_limits(void)
{
    sl_multiline *m = dated(3);
    const char *in = "2026-01-01 a\n 1\n 2\n 3\n 4\n";
    CHECK_INT(frame(m, in, SL_MULTILINE_MORE), strlen("2026-01-01 a\n 1\n 2\n"));
    CHECK_INT(frame(m, " 3\n 4\n", SL_MULTILINE_END), strlen(" 3\n 4\n"));
    sl_multiline_free(m);

    m = dated(100);
    /* a line that would take the event past max_bytes starts the next one */
    const char *big = "2026-01-01 a\n 0123456789\n 0123456789\n";
    CHECK_INT(sl_multiline_frame(m, big, strlen(big), 30, SL_MULTILINE_MORE), strlen("2026-01-01 a\n 0123456789\n"));
    /* an incomplete next line that cannot fit ends the event at once */
    const char *growing = "2026-01-01 a\n 0123456789012345678901234";
    CHECK_INT(sl_multiline_frame(m, growing, strlen(growing), 30, SL_MULTILINE_MORE), strlen("2026-01-01 a\n"));
    /* a first line longer than max_bytes is one frame (the caller dead-letters it) */
    const char *long_first = "2026-01-01 0123456789012345678901234567890\n x\n2026";
    CHECK_INT(sl_multiline_frame(m, long_first, strlen(long_first), 30, SL_MULTILINE_MORE),
              strlen("2026-01-01 0123456789012345678901234567890\n"));
    sl_multiline_free(m);
}

static void test_crlf_and_anchors(void)
{
    sl_error err = {0};
    sl_multiline *m = sl_multiline_new("\\S$", 100, &err);   /* events start with a line ending in a non-space */
    CHECK(m != NULL);
    /* the line break (CRLF too) is not part of what the pattern sees */
    const char *in = "start\r\n  \r\n  \r\nnext\r\n";
    CHECK_INT(frame(m, in, SL_MULTILINE_MORE), strlen("start\r\n  \r\n  \r\n"));
    sl_multiline_free(m);
}

static void test_bad_pattern(void)
{
    sl_error err = {0};
    CHECK(sl_multiline_new("(unclosed", 10, &err) == NULL);
    CHECK(strstr(err.msg, "invalid regex") != NULL);
    CHECK(strstr(err.msg, "at offset 9") != NULL);
}

int main(void)
{
    RUN(test_event_ends_at_next_start);
    RUN(test_incomplete_lines);
    RUN(test_limits);
    RUN(test_crlf_and_anchors);
    RUN(test_bad_pattern);
    return check_report();
}
