/*
 * log: one line per event on stderr, in one of two formats:
 *
 *   text  2026-12-01T21:40:08.123Z info conn.closed conn=5 peer=::1 ...
 *   json  {"time":"2026-12-01T21:40:08.123Z","level":"info",
 *          "event":"conn.closed","conn":5,"peer":"::1",...}
 *
 * This file is the one place that formats a line. Every string is
 * escaped (JSON: quotes, backslashes, control characters and bytes that
 * are not UTF-8 become escapes; text: a value with a space, a quote, '='
 * or a control character is quoted the same way), so a name or a peer
 * with anything in it cannot forge a line or a field. A line is at most
 * LOG_LINE_MAX bytes, cut at a character and still well-formed.
 *
 * Lines are written with a single write() so that concurrent writers
 * (the thread pool) never interleave within a line.
 */
#ifndef TAVOLO_BASE_LOG_H
#define TAVOLO_BASE_LOG_H

#include <stdbool.h>
#include <stdint.h>

#define LOG_LINE_MAX 4096

enum log_level {
    LOG_DEBUG = 0,
    LOG_INFO,
    LOG_WARN,
    LOG_ERROR,
};

enum log_format {
    LOG_FORMAT_TEXT = 0,
    LOG_FORMAT_JSON,
};

/* Messages below this level are dropped. Default LOG_INFO. */
void log_set_level(enum log_level level);

/* Sets the level by name (debug, info, warn, error); -1 if unknown. */
int log_set_level_name(const char *name);

/* Default LOG_FORMAT_TEXT. */
void log_set_format(enum log_format format);

/* True if a line at level would be written (to skip costly arguments). */
bool log_enabled(enum log_level level);

/* An event with fields. fields is a printf format made only of
 * space-separated "key=%conv" pairs, one conversion each, of: %s, %.*s,
 * %c, %d, %i, %u, %x, each with an optional h, l, ll, z or j size (so
 * PRIu64 works). Integers (but %x and %c) are JSON numbers; the rest are
 * strings. A key "conn" carries the connection id, "peer" the address. */
void log_event(enum log_level level, const char *event, const char *fields,
               ...) __attribute__((format(printf, 3, 4)));

/* Free text: in JSON, {"event":"log","msg":...}, plus "conn" when the
 * message starts with "conn <id>". Kept for call sites not yet given
 * an event name. */
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A flood's budget: at most per_s lines a second for one kind of event;
 * the rest are counted, and the next second's first call logs one
 * "log.suppressed" line with the count. Owned by the caller. */
struct log_budget {
    const char *event;   /* the event it budgets, for the summary */
    uint32_t per_s;
    uint64_t second_ms;  /* start of the current second */
    uint32_t n_logged, n_unlogged;
};

/* True if one more line may be written now (now_ms: a monotonic clock). */
bool log_budget_take(struct log_budget *b, uint64_t now_ms);

/* The current format (for the few lines that are not log lines). */
enum log_format log_get_format(void);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
