/* Unit tests for proto/line: framing (every split) and validation. */
#include "check.h"
#include "proto/line.h"

/* Feeds input in chunks as a connection would (keeping unconsumed bytes)
 * and collects the lines, joined by '|'. Returns -1 on TOOLONG. */
static int frame_all(const char *input, size_t len, const size_t *cuts,
                     size_t n_cuts, size_t max_line, char *out)
{
    char pending[4096];
    size_t have = 0, fed = 0;
    out[0] = '\0';
    for (size_t k = 0; k <= n_cuts; k++) {
        size_t upto = k < n_cuts ? cuts[k] : len;
        memcpy(pending + have, input + fed, upto - fed);
        have += upto - fed;
        fed = upto;
        size_t used = 0;
        for (;;) {
            const char *line;
            size_t line_len;
            ssize_t n = line_next(pending + used, have - used, max_line, &line,
                                  &line_len);
            if (n == LINE_TOOLONG)
                return -1;
            if (n == 0)
                break;
            strncat(out, line, line_len);
            strcat(out, "|");
            used += (size_t)n;
        }
        memmove(pending, pending + used, have - used);
        have -= used;
    }
    return 0;
}

TEST(every_split_of_a_multiline_input)
{
    const char *in = "PING a\r\nNICK bob\n\nCREATE briscola 4\r\nx";
    size_t len = strlen(in);
    char out[4096];
    const char *want = "PING a|NICK bob||CREATE briscola 4|";

    CHECK_INT(frame_all(in, len, NULL, 0, 512, out), 0);
    CHECK_STR(out, want);
    for (size_t a = 0; a <= len; a++) {
        size_t cut1[1] = {a};
        CHECK_INT(frame_all(in, len, cut1, 1, 512, out), 0);
        CHECK_STR(out, want);
        for (size_t b = a; b <= len; b++) {
            size_t cut2[2] = {a, b};
            CHECK_INT(frame_all(in, len, cut2, 2, 512, out), 0);
            CHECK_STR(out, want);
        }
    }
    size_t bytes[64];
    for (size_t i = 0; i < len; i++)
        bytes[i] = i + 1;
    CHECK_INT(frame_all(in, len, bytes, len, 512, out), 0);
    CHECK_STR(out, want);
}

TEST(cr_only_stripped_before_lf)
{
    const char *line;
    size_t n;
    CHECK_INT(line_next("a\rb\r\n", 5, 512, &line, &n), 5);
    CHECK_MEM(line, n, "a\rb");
    CHECK_INT(line_next("\r\r\n", 3, 512, &line, &n), 3);
    CHECK_MEM(line, n, "\r");
}

TEST(length_limit_counts_terminator)
{
    char buf[600];
    const char *line;
    size_t n;

    memset(buf, 'a', sizeof buf);
    buf[511] = '\n'; /* 511 + LF = 512: allowed */
    CHECK_INT(line_next(buf, 512, 512, &line, &n), 512);
    CHECK_INT(n, 511);
    buf[510] = '\r'; /* CR counts too, still 512 */
    CHECK_INT(line_next(buf, 512, 512, &line, &n), 512);
    CHECK_INT(n, 510);
    buf[510] = 'a';
    buf[511] = 'a';
    buf[512] = '\n'; /* 513 with the LF */
    CHECK_INT(line_next(buf, 513, 512, &line, &n), LINE_TOOLONG);
    /* 512 bytes without LF: not yet due; 513: due */
    CHECK_INT(line_next(buf, 512, 512, &line, &n), 0);
    buf[512] = 'a';
    CHECK_INT(line_next(buf, 513, 512, &line, &n), LINE_TOOLONG);
}

TEST(no_overread_at_page_end)
{
    char *end = guard_page_end();
    const char *line;
    size_t n;

    memcpy(end - 4, "PING", 4); /* no LF right before the guard page */
    CHECK_INT(line_next(end - 4, 4, 512, &line, &n), 0);
    end[-1] = '\xC3'; /* a truncated 2-byte sequence at the very end */
    CHECK_INT(line_check(end - 4, 4), LINE_BAD_UTF8);
    memcpy(end - 3, "\xE2\x82", 2);
    end[-1] = 'x';
    CHECK_INT(line_check(end - 3, 2), LINE_BAD_UTF8);
}

TEST(control_characters)
{
    CHECK_INT(line_check("PING", 4), LINE_VALID);
    CHECK_INT(line_check("\x07PING", 5), LINE_CONTROL);
    CHECK_INT(line_check("a\tb", 3), LINE_CONTROL);
    CHECK_INT(line_check("a\rb", 3), LINE_CONTROL);
    CHECK_INT(line_check("a\x7f", 2), LINE_CONTROL);
    CHECK_INT(line_check("a\0b", 3), LINE_CONTROL);
    CHECK_INT(line_check("\xC2\x80", 2), LINE_CONTROL);  /* U+0080 */
    CHECK_INT(line_check("\xC2\x9F", 2), LINE_CONTROL);  /* U+009F */
    CHECK_INT(line_check("\xC2\xA0", 2), LINE_VALID);    /* U+00A0 */
}

TEST(utf8_rfc3629)
{
    CHECK_INT(line_check("caff\xC3\xA8", 6), LINE_VALID);            /* è */
    CHECK_INT(line_check("\xE2\x82\xAC", 3), LINE_VALID);            /* € */
    CHECK_INT(line_check("\xF0\x9F\x83\x8F", 4), LINE_VALID);        /* 🃏 */
    CHECK_INT(line_check("\xF4\x8F\xBF\xBF", 4), LINE_VALID);        /* U+10FFFF */
    CHECK_INT(line_check("\xC0\xAF", 2), LINE_BAD_UTF8);             /* overlong / */
    CHECK_INT(line_check("\xC1\xBF", 2), LINE_BAD_UTF8);
    CHECK_INT(line_check("\xE0\x80\xAF", 3), LINE_BAD_UTF8);         /* overlong */
    CHECK_INT(line_check("\xF0\x80\x80\xAF", 4), LINE_BAD_UTF8);     /* overlong */
    CHECK_INT(line_check("\xED\xA0\x80", 3), LINE_BAD_UTF8);         /* surrogate */
    CHECK_INT(line_check("\xED\x9F\xBF", 3), LINE_VALID);            /* U+D7FF */
    CHECK_INT(line_check("\xF4\x90\x80\x80", 4), LINE_BAD_UTF8);     /* > U+10FFFF */
    CHECK_INT(line_check("\xF5\x80\x80\x80", 4), LINE_BAD_UTF8);
    CHECK_INT(line_check("\xFF", 1), LINE_BAD_UTF8);
    CHECK_INT(line_check("\x80", 1), LINE_BAD_UTF8);                 /* lone continuation */
    CHECK_INT(line_check("\xC3", 1), LINE_BAD_UTF8);                 /* truncated */
    CHECK_INT(line_check("\xE2\x82", 2), LINE_BAD_UTF8);
    CHECK_INT(line_check("\xC3\x28", 2), LINE_BAD_UTF8);             /* bad continuation */
}
