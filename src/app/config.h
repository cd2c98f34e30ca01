/*
 * config: every runtime option (PROTOCOL §8), from the command line and
 * from a `--config FILE` of `name = value` lines (same names without the
 * dashes). The command line wins over the file, whatever the order.
 */
#ifndef TAVOLO_APP_CONFIG_H
#define TAVOLO_APP_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct config {
    uint32_t port;
    char *bind;
    char *blacklist;        /* NULL: no blacklist */
    uint32_t max_conns, max_per_ip;
    uint32_t rate, burst;
    uint32_t max_line;
    uint32_t nick_timeout_ms, line_timeout_ms;
    uint32_t turn_ms, grace_ms;
    uint32_t stall_ms;      /* paused non-reader dropped after this */
    uint32_t backlog;
    uint32_t admin_port;    /* 127.0.0.1 only; 0 picks a free port;
                               UINT32_MAX: off */
    char *allow_origin;     /* NULL: same host; "*": any; else a list */
    char *admin_port_text;  /* as given: a port number or "off" */
    char *data_dir;
    uint32_t db_max_kb;     /* 0: no quota on the database file */
    char *server_id;        /* NULL: random at start */
    /* Accounts, passwords and the store under stress (app/auth.c,
     * store/store.c; docs/OPERATIONS.md). */
    uint32_t auth_threads;     /* concurrent argon2id hashes; 0: cores - 1 */
    uint32_t auth_queue;       /* checks waiting for a hasher, at most */
    uint32_t auth_per_ip;      /* checks in progress from one address */
    uint32_t auth_free_fails;  /* wrong passwords before the back-off */
    uint32_t auth_backoff_ms;  /* the first back-off; it doubles */
    uint32_t checkpoint_ms;    /* WAL checkpoint and data-file check */
    char *log_level;
    char *check_data;       /* --check-data DIR: check and exit */
    char *backup_to;        /* --backup FILE: copy the live store and exit */
    /* PROTOCOL §14 */
    uint32_t bot_delay_ms;  /* a bot's move applied no sooner (800) */
    uint32_t bot_think_ms;  /* hard's time cap (700) */
    uint32_t quick_bot_ms;  /* quick-play bot fill after (20000; 0 never) */
    char *away_bot;         /* off, easy, normal, hard */
    char *abandon;          /* forfeit, bot */
    uint8_t away_bot_level; /* from away_bot: level + 1; 0 off */
    bool is_abandon_bot;
    /* --bench-bot-matches N:GAME:SEATS:LEVEL (a load bench's, docs/BOTS.md
     * "Load"): N matches of bots alone kept in play; "off" none. */
    char *bench_bot_matches;
    uint32_t bench_bots_n, bench_bots_seats, bench_bots_level;
    char bench_bots_game[24];
    bool show_help;
    /* Limits against hostile clients (docs/OPERATIONS.md). */
    uint32_t sndbuf_kb;     /* SO_SNDBUF of accepted sockets; 0: kernel's */
    uint32_t conn_rate;     /* new connections per second per address; 0: off */
    uint32_t conn_burst;    /* ... of which this many at once */
    uint32_t max_waiting_per_ip; /* waiting matches created per address; 0: no cap */
    uint32_t waiting_ms;    /* a waiting match is deleted after this; 0: never */
    /* Durability of the journal (store/store.h; docs/OPERATIONS.md). */
    char *durability;       /* as given: "power" or "process" */
    bool is_power_durable;  /* power: a reply waits for the fsync */
    uint32_t fsync_ms;      /* process: fsync the WAL at most this often */
    /* TLS on the game port and the log's format (docs/OPERATIONS.md). */
    char *tls_cert, *tls_key;  /* PEM files; NULL: TLS off */
    uint32_t tls_handshake_ms; /* a handshake must finish within this */
    uint32_t upgrade_timeout_ms; /* SIGUSR2: take-over within this */
    uint32_t max_handshakes;   /* TLS handshakes in progress at once */
    char *log_format;          /* "text" or "json" */
    uint32_t max_watchers;  /* spectators per match; 0: no limit */
    /* The cluster (docs/CLUSTER.md): NULL redis is one node on its own. */
    char *redis;            /* HOST:PORT or a unix socket path */
    uint32_t redis_timeout_ms; /* a Redis command's (or a store job's) deadline */
    uint32_t lease_ms;      /* the node lease */
};

/* Fills cfg with the defaults. */
void config_defaults(struct config *cfg);

/* Applies argv (and the --config file it names), then checks values that
 * depend on each other. Returns 0, or -1 after writing a one-line reason
 * to err. */
int config_from_args(struct config *cfg, int argc, char **argv, char *err,
                     size_t err_cap);

void config_usage(FILE *out);

void config_free(struct config *cfg);

#endif
