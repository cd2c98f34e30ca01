/*
 * fmt: see fmt.h.
 */
#include "base/fmt.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

char *fmt_u64(char *p, unsigned long long v)
{
    char tmp[20];
    int n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

/* The fast pass: false for a conversion it does not know (nothing in buf
 * is to be trusted then). */
static bool fast(char *buf, size_t cap, const char *fmt, va_list ap, int *len)
{
    char *p = buf, *end = buf + cap - 1; /* room for the NUL */
    char num[24];

    for (const char *f = fmt; *f != '\0'; f++) {
        if (*f != '%') {
            if (p < end)
                *p++ = *f;
            continue;
        }
        f++;
        const char *s = NULL;
        size_t n = 0;
        int prec = -1;
        if (f[0] == '.' && f[1] == '*') {
            prec = va_arg(ap, int);
            f += 2;
            if (*f != 's')
                return false;
        }
        int lmod = 0; /* 0 int, 1 long, 2 long long, 3 size_t, 4 intmax_t */
        for (;; f++) {
            if (*f == 'h')
                continue; /* promoted to int anyway */
            if (*f == 'l')
                lmod = lmod == 1 ? 2 : 1;
            else if (*f == 'z')
                lmod = 3;
            else if (*f == 'j')
                lmod = 4;
            else
                break;
        }
        switch (*f) {
        case '%':
            s = "%";
            n = 1;
            break;
        case 'c':
            num[0] = (char)va_arg(ap, int);
            s = num;
            n = 1;
            break;
        case 's':
            s = va_arg(ap, const char *);
            if (s == NULL)
                return false;
            n = prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s);
            break;
        case 'u': {
            unsigned long long v = lmod == 0 ? va_arg(ap, unsigned)
                                 : lmod == 1 ? va_arg(ap, unsigned long)
                                 : lmod == 2 ? va_arg(ap, unsigned long long)
                                 : lmod == 3 ? va_arg(ap, size_t)
                                             : (unsigned long long)va_arg(ap, unsigned long long);
            s = num;
            n = (size_t)(fmt_u64(num, v) - num);
            break;
        }
        case 'd':
        case 'i': {
            long long v = lmod == 0 ? va_arg(ap, int)
                        : lmod == 1 ? va_arg(ap, long)
                        : lmod == 2 ? va_arg(ap, long long)
                        : lmod == 3 ? (long long)va_arg(ap, size_t)
                                    : va_arg(ap, long long);
            char *q = num;
            unsigned long long u = (unsigned long long)v;
            if (v < 0) {
                *q++ = '-';
                u = 0 - u;
            }
            s = num;
            n = (size_t)(fmt_u64(q, u) - num);
            break;
        }
        default:
            return false;
        }
        if (n > (size_t)(end - p))
            n = (size_t)(end - p);
        memcpy(p, s, n);
        p += n;
    }
    *p = '\0';
    *len = (int)(p - buf);
    return true;
}

int fmt_vline(char *buf, size_t cap, const char *fmt, va_list ap)
{
    va_list again;
    int len;

    va_copy(again, ap);
    if (fast(buf, cap, fmt, ap, &len)) {
        va_end(again);
        return len;
    }
    len = vsnprintf(buf, cap, fmt, again);
    va_end(again);
    if (len < 0)
        return -1;
    return (size_t)len < cap ? len : (int)cap - 1;
}

int fmt_line(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vline(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}
