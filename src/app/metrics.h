/*
 * metrics: the server's counters, and their Prometheus text rendering for
 * the admin port's GET /metrics. Counting is a few increments on the loop
 * thread; nothing here allocates or locks (but reading the store's).
 */
#ifndef TAVOLO_APP_METRICS_H
#define TAVOLO_APP_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct server;

enum metrics_refusal {
    REFUSED_BANNED = 0,
    REFUSED_BUSY_TOTAL,
    REFUSED_BUSY_ADDR,
    REFUSED_BUSY_RATE, /* too many new connections from one address */
    REFUSED_COUNT,
};

#define METRICS_MAX_VERBS 24
#define METRICS_MAX_CODES 24
#define METRICS_MAX_STATUSES 12

struct metrics {
    uint64_t accepted, admin_accepted;
    uint64_t refused[REFUSED_COUNT];
    uint64_t commands[METRICS_MAX_VERBS]; /* by verb, see metrics.c */
    uint64_t errors[METRICS_MAX_CODES];   /* by code */
    uint64_t http[METRICS_MAX_STATUSES];  /* by status */
    uint64_t ws_upgrades;
    uint64_t blacklist_reloads;           /* completed on the thread pool */
    double loop_lag_ms, loop_lag_max_ms;
    /* The cluster (app/relay.c). */
    uint64_t n_handoffs, n_adopted, n_failovers, n_redis_state_changes;
};

/* Counts a command by its index in the session's verb table (index n,
 * one past the table, for unknown verbs; see session_verb_names). */
static inline void metrics_command(struct metrics *m, size_t verb_index)
{
    if (verb_index < METRICS_MAX_VERBS)
        m->commands[verb_index]++;
}
/* Counts an ERR line by its code. */
void metrics_error(struct metrics *m, const char *code);
/* Counts an HTTP response by status. */
void metrics_http(struct metrics *m, int status);

/* Writes the Prometheus text exposition; returns its length. */
size_t metrics_render(struct server *srv, char *out, size_t cap);

#endif
