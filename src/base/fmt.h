/*
 * fmt: a small printf for protocol lines (docs/PERFORMANCE.md, "Cost of
 * a move"). glibc's vsnprintf costs ~1 300 instructions for a line like
 * "PLAYED 12 0 3b"; this one a tenth of that. It knows %s, %.*s, %c,
 * %d/%i/%u with the h, l, ll, z and j length modifiers, and %%; a format
 * with anything else (a width, a flag, %x, %f, %p...) is handed whole to
 * vsnprintf, so every format gives what vsnprintf would.
 */
#ifndef TAVOLO_BASE_FMT_H
#define TAVOLO_BASE_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* Like vsnprintf, except the result: the length written (at most cap-1,
 * the line NUL-terminated, cut at cap-1 bytes if longer), or -1 for an
 * encoding error. cap must be at least 1. */
int fmt_vline(char *buf, size_t cap, const char *fmt, va_list ap);
int fmt_line(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends the decimal digits of v at p (room for 20); returns the end. */
char *fmt_u64(char *p, unsigned long long v);

#endif
