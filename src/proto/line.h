/*
 * line: framing and validation of protocol lines (PROTOCOL §1, §9).
 *
 * Pure: bytes in, a verdict out; no allocation, no I/O. Lines are returned
 * as views into the caller's buffer, valid as long as that buffer is.
 */
#ifndef TAVOLO_PROTO_LINE_H
#define TAVOLO_PROTO_LINE_H

#include <stddef.h>
#include <sys/types.h>

#define LINE_TOOLONG (-1)

/*
 * Finds the first line in buf[0..len).
 *
 * Returns the number of bytes it occupies including its LF (> 0) and sets
 * *line and *line_len to its text without the LF and without one CR right
 * before the LF; returns 0 if no complete line is there yet; returns
 * LINE_TOOLONG if the line is, or is bound to be, longer than max_line
 * bytes including its terminator (PROTOCOL §9: more than max_line bytes
 * pending without an LF, or an LF past that point).
 */
ssize_t line_next(const char *buf, size_t len, size_t max_line,
                  const char **line, size_t *line_len);

enum line_check_result {
    LINE_VALID = 0,
    LINE_CONTROL = 1, /* a C0 (TAB and stray CR included), DEL or C1 character */
    LINE_BAD_UTF8 = 2, /* not UTF-8 per RFC 3629 */
};

/* Checks a line's text (terminator already stripped). Checks both
 * properties in one pass and reports the first problem found. */
enum line_check_result line_check(const char *s, size_t len);

#endif
