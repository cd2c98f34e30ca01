/*
 * server: the loop and everything that lives as long as it — the
 * listener, admission (blacklist and caps), the connection set, the
 * session deadline timer, signals, and clean shutdown.
 *
 * Owns: every connection (through conns), the blacklist, the lobby, the
 * store, the outbox and the in-memory account table.
 * One struct server exists per process and is passed explicitly.
 */
#ifndef TAVOLO_APP_SERVER_H
#define TAVOLO_APP_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "app/bot_runner.h"
#include "app/config.h"
#include "app/metrics.h"
#include "app/outbox.h"
#include "base/log.h"
#include "base/strmap.h"
#include "base/dqueue.h"
#include "game/queue.h"
#include "net/admit.h"
#include "net/ban.h"
#include "net/conn.h"
#include "net/connrate.h"
#include "net/listen.h"

struct auth;
struct cluster;
struct lobby;
struct store;
struct tls_server;

struct server {
    const struct config *cfg;
    uv_loop_t *loop;
    struct listener listener;   /* the game port, accepted by hand */
    bool has_listener;
    uv_tcp_t admin_listener;
    bool has_admin;
    char admin_bound[128];
    uv_timer_t lag_timer;
    uint64_t lag_expected_ms;
    uint64_t n_closed, n_closed_at_trim; /* connections: for malloc_trim */
    struct metrics metrics;
    struct conn_set conns;
    struct admit admit;
    struct connrate connrate;   /* new connections per address */
    /* Floods are summarised: refusals, opens and closes each have a
     * budget of lines per second (base/log.h). */
    struct log_budget refusal_log, open_log, close_log;
    struct ban_set *bans;
    bool is_reloading;          /* a blacklist reload is on the thread pool */
    bool wants_reload;          /* SIGHUP meanwhile: one more after it */
    uint64_t last_reload_ms;    /* when the last reload started */
    uv_timer_t reload_timer;    /* a reload waiting for its turn */
    struct lobby *lobby;
    struct store *store;        /* NULL in drivers that run without disk */
    struct outbox outbox;
    struct strmap accounts;     /* registered name -> struct account */
    struct auth *auth;          /* password checks (app/auth.h) */
    char server_id[40];

    /* Session deadlines: each queue has one fixed duration (dqueue.h). */
    struct dqueue sniff_q, nick_q, line_q, tls_q;
    uv_timer_t deadline_timer;
    uint64_t armed_ms; /* when deadline_timer fires; UINT64_MAX if idle */

    /* PROTOCOL §14: bots think on the thread pool; the quick-play queue
     * (of sessions) and its timer (verbs_quick.c). */
    struct bot_runner bots;
    struct queue quick;
    uv_timer_t quick_timer;
    /* --bench-bot-matches (bench_bots.c): the matches it keeps in play. */
    uv_timer_t bench_timer;
    bool has_bench_timer;
    const struct rules *bench_rules;
    uint64_t *bench_ids;
    /* TLS on the game port (net/tls.h): NULL without --tls-cert. A
     * certificate reload (SIGHUP) runs on the thread pool. */
    struct tls_server *tls;
    bool is_tls_reloading, wants_tls_reload;

    /* The cluster (app/relay.h, docs/CLUSTER.md): NULL without --redis.
     * proxies: "<gw>/<conn>" -> a session here for a connection on node
     * gw; remotes: "<conn>" -> our session whose member lives elsewhere;
     * relay_q: a relayed command's deadline. */
    struct cluster *cluster;
    struct strmap proxies, remotes;
    size_t n_proxies;
    struct dqueue relay_q;
    bool is_handing_off;    /* lobby hooks: a member moving to a node */
    bool is_name_claimed;   /* lobby hooks: NICK claimed the name already */
    const char *cur_line;   /* the command being dispatched (valid then) */
    size_t cur_len;
    bool is_draining;       /* SIGUSR1: no new matches; exit when none runs */
    uv_timer_t drain_timer;
    uv_signal_t sig_usr1;

    uv_signal_t sig_int, sig_term, sig_hup, sig_usr2;
    struct upgrade *upgrade;    /* SIGUSR2 (app/upgrade.h); NULL before */
    uv_timer_t shutdown_timer;
    uint64_t shutdown_started_ms;
    bool is_stopping;
    int exit_code;
};

/* Builds everything but the listener and the signal handlers: what a
 * test or fuzz driver needs to run sessions on connections of its own.
 * Returns 0 or -1 (logged). */
int server_init(struct server *srv, uv_loop_t *loop, const struct config *cfg);

/* server_init (which loads the blacklist), then opens the store (and
 * restores the matches that were in play), binds the listeners, watches
 * the signals (SIGINT/SIGTERM stop within 2 s, SIGHUP reloads the
 * blacklist) and prints "listening on ADDR:PORT" to stderr. Returns 0, or
 * -1 after logging why (the caller exits non-zero). */
int server_start(struct server *srv, uv_loop_t *loop, const struct config *cfg);

/* For app/upgrade.c: reopen the store after a failed hand-over (no
 * restore: the lobby still has everything), re-arm the deadline timer
 * after deadlines were set by hand, and stop as SIGTERM does. */
int server_reopen_store(struct server *srv);
void server_rearm(struct server *srv);
void server_shutdown(struct server *srv);

/* Releases what server_start allocated, after the loop has ended. */
void server_free(struct server *srv);

/* Registered accounts, kept in memory so that a guest NICK never waits
 * for the disk: the argon2id hash of name, or NULL. */
const char *server_account_hash(struct server *srv, const char *name);
void server_account_add(struct server *srv, const char *name, const char *hash);

/* The cluster gave this node match id of dead node `from` at epoch:
 * load it from the store and run it on (docs/CLUSTER.md, Failover). */
void server_take_over(struct server *srv, uint64_t id, uint64_t epoch,
                      const char *from);

/* Links n into q with a deadline from now and makes sure the deadline
 * timer will fire for it. */
void server_deadline_push(struct server *srv, struct dqueue *q,
                          struct dq_node *n);

#endif
