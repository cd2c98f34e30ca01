/*
 * line: see line.h.
 *
 * The UTF-8 decoder follows the table of well-formed byte sequences in
 * RFC 3629 §4: the second byte's range depends on the first byte, which
 * rules out overlong forms, surrogates and code points above U+10FFFF
 * without decoding the value.
 */
#include "proto/line.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

ssize_t line_next(const char *buf, size_t len, size_t max_line,
                  const char **line, size_t *line_len)
{
    size_t scan = len < max_line ? len : max_line;
    const char *lf = memchr(buf, '\n', scan);

    if (lf == NULL)
        return len > max_line ? LINE_TOOLONG : 0;
    size_t n = (size_t)(lf - buf);
    *line = buf;
    *line_len = (n > 0 && buf[n - 1] == '\r') ? n - 1 : n;
    return (ssize_t)(n + 1);
}

/* Returns the length of the well-formed sequence at s (1..4), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xBF;
    size_t n;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* no overlong 3-byte forms */
        else if (c == 0xED)
            hi = 0x9F; /* no UTF-16 surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90; /* no overlong 4-byte forms */
        else if (c == 0xF4)
            hi = 0x8F; /* nothing above U+10FFFF */
    } else
        return 0;
    if (avail < n)
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

enum line_check_result line_check(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;

    while (i < len) {
        unsigned char c = s[i];
        if (c >= 0x20 && c < 0x7F) {
            i++;
            continue;
        }
        if (c < 0x80)
            return LINE_CONTROL; /* C0 or DEL */
        size_t n = utf8_seq(s + i, len - i);
        if (n == 0)
            return LINE_BAD_UTF8;
        /* U+0080..U+009F (C1) encode as C2 80..C2 9F */
        if (c == 0xC2 && s[i + 1] <= 0x9F)
            return LINE_CONTROL;
        i += n;
    }
    return LINE_VALID;
}
