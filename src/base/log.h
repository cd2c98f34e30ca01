/*
 * log: one line per event on stderr, prefixed with a UTC timestamp and a
 * level. Lines are written with a single write() so that concurrent
 * writers (the thread pool) never interleave within a line.
 */
#ifndef TAVOLO_BASE_LOG_H
#define TAVOLO_BASE_LOG_H

enum log_level {
    LOG_DEBUG = 0,
    LOG_INFO,
    LOG_WARN,
    LOG_ERROR,
};

/* Messages below this level are dropped. Default LOG_INFO. */
void log_set_level(enum log_level level);

/* Sets the level by name (debug, info, warn, error); -1 if unknown. */
int log_set_level_name(const char *name);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
