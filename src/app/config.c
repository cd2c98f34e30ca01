/*
 * config: see config.h. One table lists every option once; the command
 * line, the config file and the usage text are all driven from it.
 */
#include "app/config.h"

#include <errno.h>
#include <inttypes.h>
#include <ini.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "game/rules.h"

enum opt_type {
    OPT_U32 = 0,
    OPT_STR,
};

struct opt {
    const char *name;
    enum opt_type type;
    size_t offset;
    uint32_t min, max;
    const char *help;
};

#define U32(name, field, min, max, help)                                      \
    {name, OPT_U32, offsetof(struct config, field), min, max, help}
#define STR(name, field, help) {name, OPT_STR, offsetof(struct config, field), 0, 0, help}

static const struct opt opts[] = {
    U32("port", port, 0, 65535, "TCP port, 0 picks a free one (7777)"),
    STR("bind", bind, "address to listen on (:: = dual-stack)"),
    STR("blacklist", blacklist, "file of banned addresses/CIDR blocks"),
    U32("max-conns", max_conns, 1, 10000000, "connections in all (100000)"),
    U32("max-per-ip", max_per_ip, 1, 10000000, "connections per address (32)"),
    U32("rate", rate, 1, 4000000000u, "commands per second per connection (20)"),
    U32("burst", burst, 1, 4000000000u, "rate-limit burst (40)"),
    U32("max-line", max_line, 16, 65536, "line length cap in bytes (512)"),
    U32("nick-timeout-ms", nick_timeout_ms, 1, 86400000, "NICK deadline (30000)"),
    U32("line-timeout-ms", line_timeout_ms, 1, 86400000, "partial-line deadline (10000)"),
    U32("turn-ms", turn_ms, 1, 86400000, "turn clock (30000)"),
    U32("grace-ms", grace_ms, 1, 86400000, "reconnection grace (60000)"),
    U32("stall-ms", stall_ms, 1, 86400000, "drop a paused non-reader after (5000)"),
    U32("backlog", backlog, 1, 65535, "listen backlog (4096)"),
    STR("admin-port", admin_port_text, "metrics port on 127.0.0.1; 0 = any free, off = none (7778)"),
    STR("allow-origin", allow_origin, "WebSocket origins: * or a comma list (same host)"),
    STR("data", data_dir, "data directory (./tavolo-data)"),
    U32("db-max-kb", db_max_kb, 0, 4000000000u, "database size quota in KiB, 0 = none (0)"),
    STR("server-id", server_id, "id in the HELLO line (random)"),
    /* Accounts, passwords and the store under stress (OPERATIONS.md). */
    U32("auth-threads", auth_threads, 0, 64, "concurrent password hashes, 0 = cores-1, min 1 (0)"),
    U32("auth-queue", auth_queue, 1, 1000000, "password checks waiting for a hasher; past it UNAVAILABLE (64)"),
    U32("auth-per-ip", auth_per_ip, 1, 1000000, "password checks in progress per address (2)"),
    U32("auth-free-fails", auth_free_fails, 0, 1000000, "wrong passwords per address before back-off (3)"),
    U32("auth-backoff-ms", auth_backoff_ms, 1, 3600000, "first back-off after wrong passwords, doubles (1000)"),
    U32("checkpoint-ms", checkpoint_ms, 100, 86400000, "WAL checkpoint and data-file check period (5000)"),
    STR("log-level", log_level, "debug, info, warn or error (info)"),
    U32("bot-delay-ms", bot_delay_ms, 0, 86400000, "a bot moves this long after its turn (800)"),
    U32("bot-think-ms", bot_think_ms, 1, 60000, "hard bots think at most this long (700)"),
    U32("quick-bot-ms", quick_bot_ms, 0, 86400000, "quick play fills a table with bots after, 0 = never (20000)"),
    STR("away-bot", away_bot, "a bot plays an away seat's turn: off, easy, normal, hard (off)"),
    STR("abandon", abandon, "after the grace period: forfeit or bot (forfeit)"),
    STR("bench-bot-matches", bench_bot_matches,
        "load benches only: N:GAME:SEATS:LEVEL bot-only matches kept in play (off)"),
    STR("check-data", check_data, "check the store in DIR, print a report, exit 0/1"),
    STR("backup", backup_to, "copy the --data store to FILE (online backup), exit"),
    /* Limits against hostile clients (docs/OPERATIONS.md). */
    U32("sndbuf-kb", sndbuf_kb, 0, 65536, "socket send buffer in KiB, 0 = kernel autotuning (64)"),
    U32("conn-rate", conn_rate, 0, 1000000, "new connections per second per address, 0 = no limit (20)"),
    U32("conn-burst", conn_burst, 1, 1000000, "connections at once per address (40)"),
    U32("max-waiting-per-ip", max_waiting_per_ip, 0, 1000000, "waiting matches created per address; past it CREATE is FULL, 0 = no cap (4)"),
    U32("waiting-ms", waiting_ms, 0, 86400000, "a waiting match is deleted after this, 0 = never (600000)"),
    /* Durability of the journal (docs/OPERATIONS.md). */
    STR("durability", durability, "power: a reply waits for fsync; process: for write, fsync every --fsync-ms (process)"),
    U32("fsync-ms", fsync_ms, 1, 10000, "process: the longest a written move waits for its fsync (50)"),
    /* TLS on the game port and the log's format (docs/OPERATIONS.md). */
    STR("tls-cert", tls_cert, "PEM certificate (chain) for TLS on the game port (none: TLS off)"),
    STR("tls-key", tls_key, "PEM private key of --tls-cert"),
    U32("tls-handshake-ms", tls_handshake_ms, 1, 86400000, "a TLS handshake must finish within (10000)"),
    U32("upgrade-timeout-ms", upgrade_timeout_ms, 100, 600000, "SIGUSR2: the new binary must take over within (10000)"),
    U32("max-handshakes", max_handshakes, 1, 10000000, "TLS handshakes in progress at once (256)"),
    STR("log-format", log_format, "text or json: one JSON object per line (text)"),
    U32("max-watchers", max_watchers, 0, 10000000, "spectators per match, past it WATCH is FULL; 0 = no limit (1000)"),
    /* The cluster and its store on Redis (docs/CLUSTER.md). */
    STR("redis", redis, "HOST:PORT or a unix socket path: the cluster and its store on Redis, not --data (none: one node)"),
    U32("redis-timeout-ms", redis_timeout_ms, 50, 60000, "a command or store job waits this long for Redis, a relayed command 3x, then UNAVAILABLE (1000)"),
    STR("node-id", server_id, "this node's id in the cluster and the HELLO line (random)"),
    U32("lease-ms", lease_ms, 300, 600000, "cluster: the node lease, renewed every third of it (3000)"),
};

void config_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->port = 7777;
    cfg->bind = mem_strdup("::");
    cfg->max_conns = 100000;
    cfg->max_per_ip = 32;
    cfg->rate = 20;
    cfg->burst = 40;
    cfg->max_line = 512;
    cfg->nick_timeout_ms = 30000;
    cfg->line_timeout_ms = 10000;
    cfg->turn_ms = 30000;
    cfg->grace_ms = 60000;
    cfg->stall_ms = 5000;
    cfg->backlog = 4096;
    cfg->admin_port_text = mem_strdup("7778");
    cfg->data_dir = mem_strdup("./tavolo-data");
    cfg->log_level = mem_strdup("info");
    cfg->bot_delay_ms = 800;
    cfg->bot_think_ms = 700;
    cfg->quick_bot_ms = 20000;
    cfg->away_bot = mem_strdup("off");
    cfg->abandon = mem_strdup("forfeit");
    cfg->bench_bot_matches = mem_strdup("off");
    /* Limits against hostile clients (docs/OPERATIONS.md). */
    cfg->sndbuf_kb = 64;
    cfg->conn_rate = 20;
    cfg->conn_burst = 40;
    cfg->max_waiting_per_ip = 4;
    cfg->waiting_ms = 600000;
    cfg->max_watchers = 1000;
    cfg->lease_ms = 3000;
    cfg->redis_timeout_ms = 1000;
    cfg->auth_threads = 0;
    cfg->auth_queue = 64;
    cfg->auth_per_ip = 2;
    cfg->auth_free_fails = 3;
    cfg->auth_backoff_ms = 1000;
    cfg->checkpoint_ms = 5000;
    /* Durability of the journal (docs/OPERATIONS.md). */
    cfg->durability = mem_strdup("process");
    cfg->fsync_ms = 50;
    cfg->tls_handshake_ms = 10000;
    cfg->upgrade_timeout_ms = 10000;
    cfg->max_handshakes = 256;
    cfg->log_format = mem_strdup("text");
}

static const struct opt *find_opt(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        if (strlen(opts[i].name) == len && memcmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

static int set_opt(struct config *cfg, const struct opt *o, const char *value,
                   char *err, size_t err_cap)
{
    char *field = (char *)cfg + o->offset;

    if (o->type == OPT_STR) {
        char **s = (char **)field;
        free(*s);
        *s = mem_strdup(value);
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(value, &end, 10);
    if (value[0] < '0' || value[0] > '9' || *end != '\0' || errno != 0 ||
        v < o->min || v > o->max) {
        snprintf(err, err_cap, "--%s: expected an integer from %u to %u, got '%s'",
                 o->name, o->min, o->max, value);
        return -1;
    }
    *(uint32_t *)field = (uint32_t)v;
    return 0;
}

struct ini_ctx {
    struct config *cfg;
    char *err;
    size_t err_cap;
    int failed;
};

static int on_ini(void *user, const char *section, const char *name,
                  const char *value)
{
    struct ini_ctx *ctx = user;
    (void)section;
    const struct opt *o = find_opt(name, strlen(name));
    if (o == NULL) {
        snprintf(ctx->err, ctx->err_cap, "unknown option '%s'", name);
        ctx->failed = 1;
        return 0;
    }
    if (set_opt(ctx->cfg, o, value, ctx->err, ctx->err_cap) != 0) {
        ctx->failed = 1;
        return 0;
    }
    return 1;
}

static int load_file(struct config *cfg, const char *path, char *err,
                     size_t err_cap)
{
    struct ini_ctx ctx = {cfg, err, err_cap, 0};
    char inner[200] = "";

    ctx.err = inner;
    ctx.err_cap = sizeof inner;
    int rc = ini_parse(path, on_ini, &ctx);
    if (rc == -1) {
        snprintf(err, err_cap, "cannot open config file %s: %s", path,
                 strerror(errno));
        return -1;
    }
    if (rc != 0) {
        snprintf(err, err_cap, "%s:%d: %s", path, rc,
                 inner[0] ? inner : "malformed line");
        return -1;
    }
    return 0;
}

/* Splits "--name=value" / "--name value"; returns the option or NULL. */
static const struct opt *arg_opt(char **argv, int argc, int *i,
                                 const char **value, char *err, size_t err_cap)
{
    const char *a = argv[*i] + 2;
    const char *eq = strchr(a, '=');
    size_t len = eq ? (size_t)(eq - a) : strlen(a);
    const struct opt *o = find_opt(a, len);

    if (o == NULL && !(len == 6 && memcmp(a, "config", 6) == 0)) {
        snprintf(err, err_cap, "unknown option '%s' (try --help)", argv[*i]);
        return NULL;
    }
    if (eq) {
        *value = eq + 1;
    } else if (*i + 1 < argc) {
        *value = argv[++*i];
    } else {
        snprintf(err, err_cap, "option '%s' needs a value", argv[*i]);
        return NULL;
    }
    static const struct opt config_opt = {"config", OPT_STR, 0, 0, 0, ""};
    return o ? o : &config_opt;
}

int config_from_args(struct config *cfg, int argc, char **argv, char *err,
                     size_t err_cap)
{
    /* Pass 1: the config file, so that the command line overrides it. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cfg->show_help = true;
            return 0;
        }
        if (strncmp(argv[i], "--", 2) != 0) {
            snprintf(err, err_cap, "unexpected argument '%s' (try --help)", argv[i]);
            return -1;
        }
        const char *value;
        const struct opt *o = arg_opt(argv, argc, &i, &value, err, err_cap);
        if (o == NULL)
            return -1;
        if (strcmp(o->name, "config") == 0 && load_file(cfg, value, err, err_cap) != 0)
            return -1;
    }
    for (int i = 1; i < argc; i++) {
        const char *value;
        const struct opt *o = arg_opt(argv, argc, &i, &value, err, err_cap);
        if (strcmp(o->name, "config") == 0)
            continue;
        if (set_opt(cfg, o, value, err, err_cap) != 0)
            return -1;
    }
    if (strcmp(cfg->durability, "power") != 0 &&
        strcmp(cfg->durability, "process") != 0) {
        snprintf(err, err_cap, "--durability: expected power or process, got '%s'",
                 cfg->durability);
        return -1;
    }
    cfg->is_power_durable = strcmp(cfg->durability, "power") == 0;
    cfg->admin_port = UINT32_MAX;
    if (strcmp(cfg->admin_port_text, "off") != 0) {
        char *end;
        unsigned long v = strtoul(cfg->admin_port_text, &end, 10);
        if (cfg->admin_port_text[0] < '0' || cfg->admin_port_text[0] > '9' ||
            *end != '\0' || v > 65535) {
            snprintf(err, err_cap, "--admin-port: expected 0-65535 or off, got '%s'",
                     cfg->admin_port_text);
            return -1;
        }
        cfg->admin_port = (uint32_t)v;
    }
    static const char *const levels[] = {"off", "easy", "normal", "hard"};
    cfg->away_bot_level = 0xFF;
    for (uint8_t i = 0; i < 4; i++)
        if (strcmp(cfg->away_bot, levels[i]) == 0)
            cfg->away_bot_level = i; /* off 0, else bot level + 1 */
    if (cfg->away_bot_level == 0xFF) {
        snprintf(err, err_cap, "--away-bot: expected off, easy, normal or hard, got '%s'",
                 cfg->away_bot);
        return -1;
    }
    if (strcmp(cfg->abandon, "bot") != 0 && strcmp(cfg->abandon, "forfeit") != 0) {
        snprintf(err, err_cap, "--abandon: expected bot or forfeit, got '%s'",
                 cfg->abandon);
        return -1;
    }
    cfg->is_abandon_bot = strcmp(cfg->abandon, "bot") == 0;
    cfg->bench_bots_n = 0;
    if (strcmp(cfg->bench_bot_matches, "off") != 0) {
        char level[8];
        int used = 0;
        cfg->bench_bots_level = 3;
        if (sscanf(cfg->bench_bot_matches, "%u:%23[a-z]:%u:%7[a-z]%n", &cfg->bench_bots_n,
                   cfg->bench_bots_game, &cfg->bench_bots_seats, level, &used) == 4 &&
            cfg->bench_bot_matches[used] == '\0') {
            for (uint32_t i = 1; i < 4; i++)
                if (strcmp(level, levels[i]) == 0)
                    cfg->bench_bots_level = i - 1; /* bot.h's enum */
        }
        if (cfg->bench_bots_level > 2 || cfg->bench_bots_n < 1 ||
            cfg->bench_bots_n > 10000 || cfg->bench_bots_seats < 2 ||
            cfg->bench_bots_seats > 4) {
            snprintf(err, err_cap, "--bench-bot-matches: expected off or"
                     " N:GAME:SEATS:LEVEL (N 1-10000, e.g. 20:briscola:2:hard), got '%s'",
                     cfg->bench_bot_matches);
            cfg->bench_bots_n = 0;
            return -1;
        }
        /* Here, not when the bots start: before the store creates --data. */
        const struct rules *r = rules_find(cfg->bench_bots_game, strlen(cfg->bench_bots_game));
        if (r == NULL || !rules_has_seats(r, cfg->bench_bots_seats)) {
            snprintf(err, err_cap, "--bench-bot-matches: no game %s with %" PRIu32
                     " seats", cfg->bench_bots_game, cfg->bench_bots_seats);
            cfg->bench_bots_n = 0;
            return -1;
        }
    }
    if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL)) {
        snprintf(err, err_cap, "--tls-cert and --tls-key go together");
        return -1;
    }
    if (strcmp(cfg->log_format, "text") != 0 &&
        strcmp(cfg->log_format, "json") != 0) {
        snprintf(err, err_cap, "--log-format: expected text or json, got '%s'",
                 cfg->log_format);
        return -1;
    }
    return 0;
}

void config_usage(FILE *out)
{
    fprintf(out, "usage: tavolo [--config FILE] [--option value]...\n\n");
    fprintf(out, "  --%-18s %s\n", "config FILE", "read options from FILE (name = value)");
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        fprintf(out, "  --%-18s %s\n", opts[i].name, opts[i].help);
}

void config_free(struct config *cfg)
{
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        if (opts[i].type == OPT_STR) {
            char **s = (char **)((char *)cfg + opts[i].offset);
            free(*s);
            *s = NULL;
        }
    }
}
