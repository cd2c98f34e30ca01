/*
 * server: see server.h.
 *
 * Admission happens right after accept and before anything is read: the
 * blacklist first, then the caps; a refused connection gets one ERR line
 * instead of HELLO and is closed after it is written (PROTOCOL §9).
 */
#include "app/server.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/session.h"
#include "base/log.h"
#include "base/rnd.h"
#include "game/lobby.h"
#include "net/listen.h"

#define SNIFF_MS 100        /* PROTOCOL §2 */
#define SHUTDOWN_MS 1500    /* forced close, inside the 2 s of §8 */

/* ---------- connection callbacks ---------- */

static size_t refused_on_data(const char *data, size_t len)
{
    (void)data;
    return len; /* a refused connection's input is ignored */
}

static size_t on_data(struct conn *c, const char *data, size_t len)
{
    if (c->user == NULL)
        return refused_on_data(data, len);
    return session_on_data(c, data, len);
}

static void on_eof(struct conn *c)
{
    if (c->user == NULL) {
        conn_close_after_flush(c, "peer closed");
        return;
    }
    session_on_eof(c);
}

static void on_close(struct conn *c, const char *reason)
{
    struct server *srv = c->set->loop->data;
    char addr[NET_ADDR_STRLEN];

    net_addr_format(&c->addr, addr);
    log_info("conn %" PRIu64 " closed %s port %u: %s", c->id, addr, c->port,
             reason ? reason : "closed");
    if (c->user != NULL) {
        session_on_close(c);
        admit_release(&srv->admit, &c->addr);
    }
}

static const struct conn_ops ops = {
    .on_data = on_data,
    .on_eof = on_eof,
    .on_close = on_close,
};

/* ---------- accept and admission ---------- */

static void refuse(struct conn *c, const char *line, const char *reason)
{
    c->user = NULL;
    conn_write(c, line, strlen(line));
    conn_close_after_flush(c, reason);
}

static void on_connection(uv_stream_t *listener, int status)
{
    struct server *srv = listener->loop->data;
    static uint64_t n_accept_errors;

    if (status < 0) {
        /* libuv already shed the connection (EMFILE); log now and then */
        if (n_accept_errors++ % 1000 == 0)
            log_warn("accept failed (%" PRIu64 " so far): %s", n_accept_errors,
                     uv_strerror(status));
        return;
    }
    struct conn *c = conn_accept(&srv->conns, listener);
    if (c == NULL)
        return;
    if (srv->is_stopping) {
        conn_close(c, "server shutting down");
        return;
    }
    char addr[NET_ADDR_STRLEN];
    net_addr_format(&c->addr, addr);
    if (ban_match(srv->bans, &c->addr)) {
        log_info("conn %" PRIu64 " refused %s port %u: banned", c->id, addr, c->port);
        refuse(c, "ERR BANNED your address is banned from this server\n", "banned");
        return;
    }
    switch (admit_take(&srv->admit, &c->addr)) {
    case ADMIT_OK:
        break;
    case ADMIT_BUSY_TOTAL:
        log_info("conn %" PRIu64 " refused %s port %u: server full", c->id, addr, c->port);
        refuse(c, "ERR BUSY server full, try again later\n", "busy (server full)");
        return;
    case ADMIT_BUSY_ADDR:
        log_info("conn %" PRIu64 " refused %s port %u: too many from address",
                 c->id, addr, c->port);
        refuse(c, "ERR BUSY too many connections from your address\n",
               "busy (per-address cap)");
        return;
    }
    log_info("conn %" PRIu64 " opened %s port %u", c->id, addr, c->port);
    session_new(srv, c);
    conn_start(c);
}

/* ---------- session deadlines ---------- */

static void arm_deadlines(struct server *srv);

static void on_deadline_timer(uv_timer_t *t)
{
    struct server *srv = t->data;
    struct dqueue *queues[] = {&srv->sniff_q, &srv->nick_q, &srv->line_q};
    uint64_t now = uv_now(srv->loop);

    srv->armed_ms = UINT64_MAX;
    lobby_tick(srv->lobby, now);
    for (size_t i = 0; i < sizeof queues / sizeof queues[0]; i++) {
        struct dq_node *n;
        while ((n = dq_first(queues[i])) != NULL && n->deadline_ms <= now) {
            dq_remove(n);
            session_on_deadline(srv, queues[i], n);
        }
    }
    arm_deadlines(srv);
}

static void arm_deadlines(struct server *srv)
{
    struct dqueue *queues[] = {&srv->sniff_q, &srv->nick_q, &srv->line_q};
    uint64_t first = lobby_next_deadline(srv->lobby), now = uv_now(srv->loop);

    for (size_t i = 0; i < sizeof queues / sizeof queues[0]; i++) {
        struct dq_node *n = dq_first(queues[i]);
        if (n != NULL && n->deadline_ms < first)
            first = n->deadline_ms;
    }
    if (first == srv->armed_ms)
        return;
    srv->armed_ms = first;
    if (first == UINT64_MAX) {
        uv_timer_stop(&srv->deadline_timer);
        return;
    }
    uv_timer_start(&srv->deadline_timer, on_deadline_timer,
                   first > now ? first - now : 0, 0);
}

void server_deadline_push(struct server *srv, struct dqueue *q,
                          struct dq_node *n)
{
    dq_push(q, n, uv_now(srv->loop));
    /* A timer that fires early finds nothing due and re-arms, so the only
     * case to catch here is a deadline earlier than the armed one. */
    if (n->deadline_ms < srv->armed_ms)
        arm_deadlines(srv);
}

/* ---------- the lobby's environment ---------- */

static void lobby_send_cb(void *ctx, void *client, const char *line, size_t len)
{
    (void)ctx;
    session_send(client, line, len);
}

static void lobby_evict_cb(void *ctx, void *client)
{
    (void)ctx;
    session_evict(client);
}

static void lobby_arm_cb(void *ctx, uint64_t deadline_ms)
{
    struct server *srv = ctx;
    if (deadline_ms < srv->armed_ms)
        arm_deadlines(srv);
}

static uint32_t system_uniform(void *ctx, uint32_t upper)
{
    (void)ctx;
    return rnd_uniform(upper);
}

static void new_token_cb(void *ctx, char out[LOBBY_TOKEN_LEN + 1])
{
    (void)ctx;
    rnd_hex(out, LOBBY_TOKEN_LEN / 2); /* 128 bits (PROTOCOL §5) */
}

/* ---------- signals and shutdown ---------- */

int server_reload_blacklist(struct server *srv)
{
    char err[512];
    size_t n = 0;

    if (srv->cfg->blacklist == NULL)
        return 0;
    struct ban_set *set = ban_load_file(srv->cfg->blacklist, &n, err, sizeof err);
    if (set == NULL) {
        log_error("blacklist not (re)loaded, keeping the previous one: %s", err);
        return -1;
    }
    ban_free(srv->bans);
    srv->bans = set;
    log_info("blacklist %s: %zu entries, %zu ranges", srv->cfg->blacklist, n,
             ban_n_ranges(set));
    return 0;
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct server *srv = h->data;

    if (signum == SIGHUP) {
        server_reload_blacklist(srv);
        return;
    }
    log_info("signal %d: shutting down", signum);
    server_stop(srv);
}

static void on_shutdown_tick(uv_timer_t *t)
{
    struct server *srv = t->data;
    uint64_t elapsed = uv_now(srv->loop) - srv->shutdown_started_ms;

    if (srv->conns.n_open > 0 && elapsed < SHUTDOWN_MS)
        return;
    for (struct conn *c = srv->conns.all; c != NULL; c = c->next)
        conn_close(c, "server shutting down (forced)");
    conn_set_flush(&srv->conns);
    uv_close((uv_handle_t *)&srv->shutdown_timer, NULL);
    uv_close((uv_handle_t *)&srv->deadline_timer, NULL);
    conn_set_close(&srv->conns);
}

void server_stop(struct server *srv)
{
    if (srv->is_stopping)
        return;
    srv->is_stopping = true;
    uv_close((uv_handle_t *)&srv->listener, NULL);
    uv_close((uv_handle_t *)&srv->sig_int, NULL);
    uv_close((uv_handle_t *)&srv->sig_term, NULL);
    uv_close((uv_handle_t *)&srv->sig_hup, NULL);
    for (struct conn *c = srv->conns.all; c != NULL; c = c->next)
        conn_close_after_flush(c, "server shutting down");
    srv->shutdown_started_ms = uv_now(srv->loop);
    uv_timer_start(&srv->shutdown_timer, on_shutdown_tick, 10, 10);
}

/* ---------- start ---------- */

int server_init(struct server *srv, uv_loop_t *loop, const struct config *cfg)
{
    memset(srv, 0, sizeof *srv);
    srv->cfg = cfg;
    srv->loop = loop;
    loop->data = srv;
    srv->armed_ms = UINT64_MAX;
    if (cfg->server_id)
        snprintf(srv->server_id, sizeof srv->server_id, "%s", cfg->server_id);
    else
        rnd_hex(srv->server_id, 8);

    if (cfg->blacklist && server_reload_blacklist(srv) != 0)
        return -1;
    admit_init(&srv->admit, cfg->max_conns, cfg->max_per_ip);
    dq_init(&srv->sniff_q, SNIFF_MS);
    dq_init(&srv->nick_q, cfg->nick_timeout_ms);
    dq_init(&srv->line_q, cfg->line_timeout_ms);

    struct conn_limits lim = {
        .hwm = 16 * 1024,
        .lwm = 4 * 1024,
        .max_out = 64 * 1024,
        .max_in = cfg->max_line + 8, /* a partial line, or an undecided sniff */
        .stall_ms = cfg->stall_ms,
    };
    if (conn_set_init(&srv->conns, loop, &ops, &lim) != 0 ||
        uv_timer_init(loop, &srv->deadline_timer) != 0 ||
        uv_timer_init(loop, &srv->shutdown_timer) != 0) {
        log_error("cannot initialise the event loop handles");
        return -1;
    }
    srv->deadline_timer.data = srv;
    srv->shutdown_timer.data = srv;
    struct lobby_env env = {
        .ctx = srv,
        .send = lobby_send_cb,
        .evict = lobby_evict_cb,
        .arm = lobby_arm_cb,
        .uniform = system_uniform,
        .new_token = new_token_cb,
        .turn_ms = cfg->turn_ms,
        .grace_ms = cfg->grace_ms,
    };
    srv->lobby = lobby_new(&env);
    return 0;
}

int server_start(struct server *srv, uv_loop_t *loop, const struct config *cfg)
{
    char bound[128];
    int rc;

    if (server_init(srv, loop, cfg) != 0)
        return -1;
    uv_signal_t *sigs[] = {&srv->sig_int, &srv->sig_term, &srv->sig_hup};
    int signums[] = {SIGINT, SIGTERM, SIGHUP};
    for (int i = 0; i < 3; i++) {
        uv_signal_init(loop, sigs[i]);
        sigs[i]->data = srv;
        if ((rc = uv_signal_start(sigs[i], on_signal, signums[i])) != 0) {
            log_error("cannot watch signal %d: %s", signums[i], uv_strerror(rc));
            return -1;
        }
    }
    /* A client that vanishes mid-write must not kill us with SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);

    uv_tcp_init(loop, &srv->listener);
    rc = listen_tcp(&srv->listener, cfg->bind, (uint16_t)cfg->port,
                    (int)cfg->backlog, on_connection, bound, sizeof bound);
    if (rc != 0) {
        log_error("cannot listen on %s port %u: %s", cfg->bind, cfg->port,
                  uv_strerror(rc));
        return -1;
    }
    /* The line tests and benchmarks wait for (PROTOCOL §8). */
    fprintf(stderr, "listening on %s\n", bound);
    log_info("tavolo server %s up (max line %u, rate %u/s burst %u)",
             srv->server_id, cfg->max_line, cfg->rate, cfg->burst);
    return 0;
}

void server_free(struct server *srv)
{
    lobby_free(srv->lobby);
    srv->lobby = NULL;
    ban_free(srv->bans);
    srv->bans = NULL;
    admit_free(&srv->admit);
}
