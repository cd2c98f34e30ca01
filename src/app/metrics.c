/*
 * metrics: see metrics.h.
 */
#include "app/metrics.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "app/relay.h"
#include "app/server.h"
#include "app/upgrade.h"
#include "net/tls.h"
#include "app/session.h"
#include "game/lobby.h"
#include "store/store.h"


static const char *const codes[] = {
    "BADCMD", "BADARG", "TOOLONG", "NONAME", "BADNAME", "NAMETAKEN", "BADPASS",
    "NOGAME", "NOMATCH", "FULL", "ALREADY", "NOTPLAYING", "NOTYOURTURN",
    "NOTINHAND", "BADTOKEN", "RATELIMIT", "BANNED", "BUSY", "TIMEOUT",
    "INTERNAL", "ILLEGAL", "UNAVAILABLE",
};
#define N_CODES (sizeof codes / sizeof codes[0])

static const int statuses[] = {101, 200, 400, 403, 404, 405, 413, 426, 431, 500, 503,
                               505};
#define N_STATUSES (sizeof statuses / sizeof statuses[0])

_Static_assert(N_CODES <= METRICS_MAX_CODES, "codes fit");
_Static_assert(N_STATUSES <= METRICS_MAX_STATUSES, "statuses fit");

void metrics_error(struct metrics *m, const char *code)
{
    for (size_t i = 0; i < N_CODES; i++)
        if (strcmp(codes[i], code) == 0) {
            m->errors[i]++;
            return;
        }
}

void metrics_http(struct metrics *m, int status)
{
    for (size_t i = 0; i < N_STATUSES; i++)
        if (statuses[i] == status) {
            m->http[i]++;
            return;
        }
}

struct out {
    char *buf;
    size_t len, cap;
};

static void put(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    if (o->len >= o->cap)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len = o->len + (size_t)n < o->cap ? o->len + (size_t)n : o->cap;
}

static void help(struct out *o, const char *name, const char *type,
                 const char *text)
{
    put(o, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

size_t metrics_render(struct server *srv, char *out, size_t cap)
{
    struct out o = {out, 0, cap};
    const struct metrics *m = &srv->metrics;
    size_t waiting, playing;
    uint64_t finished;

    help(&o, "tavolo_build_info", "gauge", "The running binary's version (changes with a SIGUSR2 upgrade).");
    put(&o, "tavolo_build_info{version=\"%s\"} 1\n", tavolo_version_string);
    {
        size_t n_tls = 0;
        for (const struct conn *c = srv->conns.all; c != NULL; c = c->next)
            n_tls += conn_is_tls(c);
        help(&o, "tavolo_tls_connections_open", "gauge", "TLS connections open now (handshakes included).");
        put(&o, "tavolo_tls_connections_open %zu\n", n_tls);
        help(&o, "tavolo_tls_handshakes_in_progress", "gauge", "TLS handshakes begun and not finished.");
        put(&o, "tavolo_tls_handshakes_in_progress %" PRIu32 "\n",
            srv->tls != NULL ? tls_server_n_handshakes(srv->tls) : 0);
    }
    help(&o, "tavolo_connections_open", "gauge", "Connections open now (admin port included).");
    put(&o, "tavolo_connections_open %zu\n", srv->conns.n_open);
    help(&o, "tavolo_connections_accepted_total", "counter", "Connections admitted on the game port.");
    put(&o, "tavolo_connections_accepted_total %" PRIu64 "\n", m->accepted);
    help(&o, "tavolo_connections_refused_total", "counter", "Connections refused at admission, by reason.");
    static const char *reasons[] = {"banned", "busy_total", "busy_per_address",
                                   "busy_connection_rate"};
    for (int i = 0; i < REFUSED_COUNT; i++)
        put(&o, "tavolo_connections_refused_total{reason=\"%s\"} %" PRIu64 "\n",
            reasons[i], m->refused[i]);
    help(&o, "tavolo_blacklist_reloads_total", "counter",
         "Blacklist reloads completed (SIGHUP; a storm of signals coalesces).");
    put(&o, "tavolo_blacklist_reloads_total %" PRIu64 "\n", m->blacklist_reloads);
    help(&o, "tavolo_connections_closed_slow_total", "counter",
         "Connections closed for not reading their output.");
    put(&o, "tavolo_connections_closed_slow_total %" PRIu64 "\n",
        srv->conns.stats.n_closed_overflow + srv->conns.stats.n_closed_stalled);
    const char *verbs[METRICS_MAX_VERBS];
    size_t n_verbs;
    session_verb_names(verbs, &n_verbs);
    help(&o, "tavolo_commands_total", "counter", "Commands received, by verb.");
    for (size_t i = 0; i < n_verbs; i++)
        put(&o, "tavolo_commands_total{verb=\"%s\"} %" PRIu64 "\n", verbs[i], m->commands[i]);
    help(&o, "tavolo_errors_total", "counter", "ERR lines sent, by code.");
    for (size_t i = 0; i < N_CODES; i++)
        put(&o, "tavolo_errors_total{code=\"%s\"} %" PRIu64 "\n", codes[i], m->errors[i]);
    help(&o, "tavolo_http_responses_total", "counter", "HTTP responses, by status.");
    for (size_t i = 0; i < N_STATUSES; i++)
        put(&o, "tavolo_http_responses_total{status=\"%d\"} %" PRIu64 "\n", statuses[i], m->http[i]);
    help(&o, "tavolo_websocket_upgrades_total", "counter", "WebSocket connections upgraded.");
    put(&o, "tavolo_websocket_upgrades_total %" PRIu64 "\n", m->ws_upgrades);
    lobby_counts(srv->lobby, &waiting, &playing, &finished);
    help(&o, "tavolo_matches", "gauge", "Matches now, by state.");
    put(&o, "tavolo_matches{state=\"waiting\"} %zu\n", waiting);
    put(&o, "tavolo_matches{state=\"playing\"} %zu\n", playing);
    help(&o, "tavolo_matches_finished_total", "counter", "Matches finished since start.");
    put(&o, "tavolo_matches_finished_total %" PRIu64 "\n", finished);
    /* PROTOCOL §14: what the bots cost (docs/BOTS.md, "Load"). */
    static const char *const levels[] = {"easy", "normal", "hard"};
    const struct bot_runner_stats *bs = &srv->bots.stats;
    help(&o, "tavolo_bot_moves_total", "counter", "Bot answers, by level.");
    for (unsigned i = 0; i < 3; i++)
        put(&o, "tavolo_bot_moves_total{level=\"%s\"} %" PRIu64 "\n", levels[i],
            bs->n_moves[i]);
    help(&o, "tavolo_bot_think_seconds_total", "counter",
         "Thread-pool time bots spent choosing, by level.");
    for (unsigned i = 0; i < 3; i++)
        put(&o, "tavolo_bot_think_seconds_total{level=\"%s\"} %.6f\n", levels[i],
            bs->think_us[i] / 1e6);
    help(&o, "tavolo_bot_cpu_seconds_total", "counter",
         "CPU time bots spent choosing, by level.");
    for (unsigned i = 0; i < 3; i++)
        put(&o, "tavolo_bot_cpu_seconds_total{level=\"%s\"} %.6f\n", levels[i],
            bs->cpu_us[i] / 1e6);
    help(&o, "tavolo_bot_think_max_seconds", "gauge", "The longest bot answer, by level.");
    for (unsigned i = 0; i < 3; i++)
        put(&o, "tavolo_bot_think_max_seconds{level=\"%s\"} %.6f\n", levels[i],
            bs->max_think_us[i] / 1e6);
    help(&o, "tavolo_bot_queue_seconds_total", "counter",
         "Time bot asks waited for a pool thread, summed.");
    put(&o, "tavolo_bot_queue_seconds_total %.6f\n", bs->wait_us / 1e6);
    help(&o, "tavolo_bot_queue_max_seconds", "gauge", "The longest wait for a pool thread.");
    put(&o, "tavolo_bot_queue_max_seconds %.6f\n", bs->max_wait_us / 1e6);
    help(&o, "tavolo_bots_pending", "gauge", "Bot asks not yet answered.");
    put(&o, "tavolo_bots_pending %u\n", bot_runner_pending(&srv->bots));
    help(&o, "tavolo_bytes_received_total", "counter", "Bytes read from clients.");
    put(&o, "tavolo_bytes_received_total %" PRIu64 "\n", srv->conns.stats.bytes_in);
    help(&o, "tavolo_bytes_sent_total", "counter", "Bytes handed to the kernel for clients.");
    put(&o, "tavolo_bytes_sent_total %" PRIu64 "\n", srv->conns.stats.bytes_out);
    help(&o, "tavolo_event_loop_lag_milliseconds", "gauge",
         "How late a 250 ms timer fired, last and worst since start.");
    put(&o, "tavolo_event_loop_lag_milliseconds{which=\"last\"} %.3f\n", m->loop_lag_ms);
    put(&o, "tavolo_event_loop_lag_milliseconds{which=\"max\"} %.3f\n", m->loop_lag_max_ms);
    if (srv->store != NULL) {
        struct store_metrics sm;
        store_get_metrics(srv->store, &sm);
        help(&o, "tavolo_store_commits_total", "counter", "Journal commits.");
        put(&o, "tavolo_store_commits_total %" PRIu64 "\n", sm.n_commits);
        help(&o, "tavolo_store_commit_failures_total", "counter", "Journal commits that failed (disk).");
        put(&o, "tavolo_store_commit_failures_total %" PRIu64 "\n", sm.n_failed);
        help(&o, "tavolo_store_backlog_entries", "gauge",
             "Journal entries of failed commits waiting for the disk.");
        put(&o, "tavolo_store_backlog_entries %" PRIu64 "\n", sm.n_backlog);
        help(&o, "tavolo_store_checkpoints_total", "counter", "Periodic WAL checkpoints.");
        put(&o, "tavolo_store_checkpoints_total %" PRIu64 "\n", sm.n_checkpoints);
        help(&o, "tavolo_store_fsyncs_total", "counter",
             "Background fsyncs of the WAL (--durability process).");
        put(&o, "tavolo_store_fsyncs_total %" PRIu64 "\n", sm.n_fsyncs);
        help(&o, "tavolo_store_fsync_seconds", "gauge",
             "Duration of background fsyncs, last and worst.");
        put(&o, "tavolo_store_fsync_seconds{which=\"last\"} %.6f\n", sm.last_fsync_us / 1e6);
        put(&o, "tavolo_store_fsync_seconds{which=\"max\"} %.6f\n", sm.max_fsync_us / 1e6);
        help(&o, "tavolo_store_commit_seconds", "gauge", "Duration of commits, last and worst.");
        put(&o, "tavolo_store_commit_seconds{which=\"last\"} %.6f\n", sm.last_commit_us / 1e6);
        put(&o, "tavolo_store_commit_seconds{which=\"max\"} %.6f\n", sm.max_commit_us / 1e6);
    }
    if (o.len < o.cap)
        o.len += relay_render_metrics(srv, o.buf + o.len, o.cap - o.len);
    return o.len;
}
