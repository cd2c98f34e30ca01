/*
 * log: see log.h.
 *
 * A line is built in a stack buffer by a small writer that always leaves
 * room for the line's end, so a long value is cut (at a character) and
 * the line stays well-formed. Fields are taken from the format one
 * conversion at a time, each formatted by snprintf with its own spec.
 */
#include "base/log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum log_level min_level = LOG_INFO;
static enum log_format format = LOG_FORMAT_TEXT;
static const char *const names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level level)
{
    min_level = level;
}

int log_set_level_name(const char *name)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, names[i]) == 0) {
            min_level = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

void log_set_format(enum log_format f)
{
    format = f;
}

enum log_format log_get_format(void)
{
    return format;
}

bool log_budget_take(struct log_budget *b, uint64_t now_ms)
{
    if (now_ms - b->second_ms >= 1000) {
        if (b->n_unlogged > 0)
            log_event(LOG_INFO, "log.suppressed",
                      "of=%s count=%" PRIu32 " per_s=%" PRIu32, b->event,
                      b->n_unlogged, b->per_s);
        b->second_ms = now_ms;
        b->n_logged = b->n_unlogged = 0;
    }
    if (b->n_logged < b->per_s) {
        b->n_logged++;
        return true;
    }
    b->n_unlogged++;
    return false;
}

bool log_enabled(enum log_level level)
{
    return level >= min_level;
}

/* ---------- the line writer ---------- */

/* Room kept for the end of a line: a closing quote, "}" and LF, and a
 * ",\"cut\":true" mark. */
#define END_ROOM 16

struct w {
    char buf[LOG_LINE_MAX];
    size_t len;
    bool is_cut;
};

static bool fits(const struct w *w, size_t n)
{
    return w->len + n + END_ROOM <= sizeof w->buf;
}

static void put(struct w *w, const char *s, size_t n)
{
    if (!fits(w, n)) {
        w->is_cut = true;
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void puts_(struct w *w, const char *s)
{
    put(w, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (1 to 4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t need;
    uint32_t cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        need = 2, cp = s[0] & 0x1F;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        need = 3, cp = s[0] & 0x0F;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        need = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (n < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if ((need == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (need == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return need;
}

/* The escaped form of s[0..n) (without quotes): JSON's escapes, also
 * used by the text format. A byte that is not UTF-8 is written as the
 * code point of the same number (\u00XX), so the line stays UTF-8. */
static void put_escaped(struct w *w, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;

    for (size_t i = 0; i < n && !w->is_cut;) {
        char esc[8];
        size_t k = utf8_len(u + i, n - i);
        if (k > 1 || (k == 1 && u[i] >= 0x20 && u[i] != 0x7F && u[i] != '"' &&
                      u[i] != '\\')) {
            put(w, s + i, k);
            i += k;
            continue;
        }
        switch (u[i]) {
        case '"': memcpy(esc, "\\\"", 3); break;
        case '\\': memcpy(esc, "\\\\", 3); break;
        case '\n': memcpy(esc, "\\n", 3); break;
        case '\r': memcpy(esc, "\\r", 3); break;
        case '\t': memcpy(esc, "\\t", 3); break;
        default: snprintf(esc, sizeof esc, "\\u%04x", u[i]); break;
        }
        put(w, esc, strlen(esc));
        i++;
    }
}

/* A text-format value: bare if it is plain, else quoted and escaped. */
static void put_text_value(struct w *w, const char *s, size_t n)
{
    bool is_plain = n > 0;

    for (size_t i = 0; i < n && is_plain; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= ' ' || ch == '"' || ch == '=' || ch == '\\' || ch >= 0x7F)
            is_plain = false;
    }
    if (is_plain) {
        put(w, s, n);
        return;
    }
    put(w, "\"", 1);
    put_escaped(w, s, n);
    if (w->len + 1 < sizeof w->buf) /* the closing quote has its room */
        w->buf[w->len++] = '"';
}

static void put_json_string(struct w *w, const char *s, size_t n)
{
    put(w, "\"", 1);
    put_escaped(w, s, n);
    if (w->len + 1 < sizeof w->buf)
        w->buf[w->len++] = '"';
}

static void begin(struct w *w, enum log_level level, const char *event)
{
    struct timeval tv;
    struct tm tm;
    char ts[80];

    w->len = 0;
    w->is_cut = false;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000));
    if (format == LOG_FORMAT_JSON) {
        puts_(w, "{\"time\":\"");
        puts_(w, ts);
        puts_(w, "\",\"level\":\"");
        puts_(w, names[level]);
        puts_(w, "\",\"event\":");
        put_json_string(w, event, strlen(event));
    } else {
        puts_(w, ts);
        puts_(w, " ");
        puts_(w, names[level]);
        if (event != NULL) {
            puts_(w, " ");
            puts_(w, event);
        }
    }
}

/* One field; is_number: the value is a decimal integer. */
static void field(struct w *w, const char *key, size_t key_len,
                  const char *val, size_t val_len, bool is_number)
{
    if (w->is_cut)
        return;
    if (format == LOG_FORMAT_JSON) {
        put(w, ",", 1);
        put_json_string(w, key, key_len);
        put(w, ":", 1);
        if (is_number)
            put(w, val, val_len);
        else
            put_json_string(w, val, val_len);
    } else {
        put(w, " ", 1);
        put(w, key, key_len);
        put(w, "=", 1);
        put_text_value(w, val, val_len);
    }
}

static void finish(struct w *w)
{
    /* END_ROOM was kept for exactly this. */
    if (format == LOG_FORMAT_JSON) {
        if (w->is_cut) {
            memcpy(w->buf + w->len, ",\"cut\":true", 11);
            w->len += 11;
        }
        w->buf[w->len++] = '}';
    }
    w->buf[w->len++] = '\n';
    /* best effort: a log line that cannot be written is dropped */
    ssize_t n = write(STDERR_FILENO, w->buf, w->len);
    (void)n;
}

/* ---------- events ---------- */

/* Formats the one conversion at *f (after its '%') from ap into out;
 * advances *f. Returns the length, or -1 for an unsupported one. */
static int one_conv(const char **f, va_list *ap, char *out, size_t cap,
                    const char **str, size_t *str_len, bool *is_number)
{
    const char *p = *f;
    char spec[8] = "%";
    size_t sl = 1;
    int prec = -1;

    *str = NULL;
    if (p[0] == '.' && p[1] == '*') {
        prec = va_arg(*ap, int);
        p += 2;
    }
    while ((*p == 'h' || *p == 'l' || *p == 'z' || *p == 'j') && sl < 4)
        spec[sl++] = *p++;
    char conv = *p;
    if (conv == '\0')
        return -1;
    *f = p + 1;
    spec[sl++] = conv;
    spec[sl] = '\0';
    *is_number = conv == 'd' || conv == 'i' || conv == 'u';
    bool is_long = sl >= 3 && spec[1] == 'l';
    bool is_llong = sl >= 4 && spec[2] == 'l';
    bool is_size = spec[1] == 'z' || spec[1] == 'j';
    switch (conv) {
    case 's': {
        const char *s = va_arg(*ap, const char *);
        if (s == NULL)
            s = "(null)";
        *str = s;
        *str_len = prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s);
        return (int)*str_len;
    }
    case 'c':
        out[0] = (char)va_arg(*ap, int);
        return 1;
    case 'd':
    case 'i':
        if (is_llong)
            return snprintf(out, cap, "%lld", va_arg(*ap, long long));
        if (is_long || is_size)
            return snprintf(out, cap, "%ld", va_arg(*ap, long));
        return snprintf(out, cap, "%d", va_arg(*ap, int));
    case 'u':
    case 'x':
        if (is_llong)
            return snprintf(out, cap, conv == 'u' ? "%llu" : "%llx",
                            va_arg(*ap, unsigned long long));
        if (is_long || is_size)
            return snprintf(out, cap, conv == 'u' ? "%lu" : "%lx",
                            va_arg(*ap, unsigned long));
        return snprintf(out, cap, conv == 'u' ? "%u" : "%x",
                        va_arg(*ap, unsigned));
    default:
        return -1;
    }
}

void log_event(enum log_level level, const char *event, const char *fields,
               ...)
{
    struct w w;
    va_list ap;

    if (level < min_level)
        return;
    begin(&w, level, event);
    va_start(ap, fields);
    for (const char *f = fields; *f != '\0';) {
        while (*f == ' ')
            f++;
        const char *eq = strchr(f, '=');
        if (*f == '\0' || eq == NULL || eq[1] != '%')
            break; /* not of the documented form: the rest is dropped */
        const char *conv = eq + 2;
        char num[32];
        const char *s;
        size_t s_len = 0;
        bool is_number;
        int n = one_conv(&conv, &ap, num, sizeof num, &s, &s_len, &is_number);
        if (n < 0)
            break;
        if (s != NULL)
            field(&w, f, (size_t)(eq - f), s, s_len, false);
        else
            field(&w, f, (size_t)(eq - f), num, (size_t)n, is_number);
        f = conv;
    }
    va_end(ap);
    finish(&w);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    char msg[LOG_LINE_MAX];
    struct w w;
    va_list ap;

    if (level < min_level)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof msg)
        n = (int)sizeof msg - 1;
    if (format == LOG_FORMAT_TEXT) {
        /* As it always was: the message itself, its bytes unescaped but
         * for control characters, which could forge a line. */
        begin(&w, level, NULL);
        put(&w, " ", 1);
        for (int i = 0; i < n && !w.is_cut; i++) {
            unsigned char ch = (unsigned char)msg[i];
            if (ch < 0x20 || ch == 0x7F) {
                char esc[8];
                snprintf(esc, sizeof esc, "\\x%02x", ch);
                put(&w, esc, 4);
            } else {
                put(&w, msg + i, 1);
            }
        }
        finish(&w);
        return;
    }
    begin(&w, level, "log");
    /* "conn 12 ...": the connection id as its own field. */
    size_t d = 5;
    if (n > 5 && memcmp(msg, "conn ", 5) == 0) {
        while (d < (size_t)n && msg[d] >= '0' && msg[d] <= '9' && d < 25)
            d++;
        if (d > 5)
            field(&w, "conn", 4, msg + 5, d - 5, true);
    }
    field(&w, "msg", 3, msg, (size_t)n, false);
    finish(&w);
}
