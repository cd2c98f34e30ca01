/*
 * server: see server.h.
 *
 * Admission happens right after accept and before anything is read or
 * allocated: the blacklist first, then the connection rate, then the caps;
 * a refused socket gets one ERR line instead of HELLO and is closed
 * (PROTOCOL §9), or, from an address that ignores its refusals, reset.
 */
#include "app/server.h"
#include "app/relay.h"
#include "cluster/cluster.h"

#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "app/auth.h"
#include "app/bench_bots.h"
#include "app/sdnotify.h"
#include "app/session.h"
#include "app/upgrade.h"
#include "app/upgrade_cluster.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rnd.h"
#include "game/deal.h"
#include "game/lobby.h"
#include "net/listen.h"
#include "net/tls.h"
#include "store/store.h"

#define SNIFF_MS 100        /* PROTOCOL §2 */
#define SHUTDOWN_MS 1500    /* forced close, inside the 2 s of §8 */
/* Connections accepted per loop iteration at most: each costs a few
 * system calls and allocations (10-20 us here), so 16 keep one
 * iteration's accepting within a few hundred microseconds while
 * established clients wait; the kernel's backlog holds the rest until the
 * next iteration, which comes at once when there is nothing else to do
 * (tens of thousands of accepts per second still). */
#define ACCEPT_PER_ITERATION 4
/* Blacklist reloads start at most this often: a SIGHUP storm costs one
 * reload per second on the thread pool, not one core. */
#define RELOAD_MIN_INTERVAL_MS 1000
/* Refusals logged per second at most; the rest are counted in one line,
 * so that a connect flood cannot turn the log into the bottleneck. */
#define REFUSALS_LOGGED_PER_S 20
/* Likewise for the open and close line of each admitted connection:
 * plenty for a busy server's normal churn, not a flood's. */
#define CONN_LINES_PER_S 200
/* After this many connections closed, the heap is trimmed (see
 * on_lag_timer). */
#define TRIM_AFTER_CLOSES 256

/* ---------- connection callbacks ---------- */

/* Every connection has its session from accept on (refused ones never
 * become connections), until on_close. */
static size_t on_data(struct conn *c, const char *data, size_t len)
{
    return session_on_data(c, data, len);
}

static void on_eof(struct conn *c)
{
    session_on_eof(c);
}

static void on_close(struct conn *c, const char *reason)
{
    struct server *srv = c->set->loop->data;
    char addr[NET_ADDR_STRLEN];

    net_addr_format(&c->addr, addr);
    if (log_budget_take(&srv->close_log, uv_now(srv->loop)))
        log_event(LOG_INFO, "conn.closed",
                  "conn=%" PRIu64 " peer=%s port=%u tls=%s reason=%s", c->id,
                  addr, c->port, conn_is_tls(c) ? "yes" : "no",
                  reason ? reason : "closed");
    srv->n_closed++;
    if (c->user != NULL)
        session_on_close(c);
    /* Only game-port connections were counted (not the admin port's). */
    if (c->is_admitted)
        admit_release(&srv->admit, &c->addr);
}

static const struct conn_ops ops = {
    .on_data = on_data,
    .on_eof = on_eof,
    .on_close = on_close,
    .on_secure = session_on_secure,
};

/* ---------- accept and admission ---------- */

static void log_refusal(struct server *srv, const char *addr, uint16_t port,
                        const char *why)
{
    if (log_budget_take(&srv->refusal_log, uv_now(srv->loop)))
        log_event(LOG_INFO, "conn.refused", "peer=%s port=%u reason=%s", addr,
                  port, why);
}

/* Sends the one line that replaces HELLO (PROTOCOL §9) straight to a new
 * socket and closes it: nothing is allocated for a refused connection.
 * The socket's send buffer is empty, so the line fits. */
static void refuse_fd(int fd, const char *line)
{
    char sink[1024];

    /* best effort: a peer that is already gone gets nothing */
    ssize_t n = send(fd, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL);
    (void)n;
    /* best effort: read what the peer sent at once (a browser's request),
     * since closing with unread input resets the connection, and the reset
     * can destroy the line before the peer reads it */
    n = recv(fd, sink, sizeof sink, MSG_DONTWAIT);
    (void)n;
    close(fd);
}

/* Drops a socket with a reset: no line, no FIN exchange, no TIME_WAIT.
 * For an address that ignores its refusals: a polite close costs the
 * loop the whole FIN handshake (on loopback, inside our close()), which
 * under a flood is most of the work. */
static void reset_fd(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};

    /* best effort: without it the close is merely polite */
    if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == -1)
        log_debug("SO_LINGER: %s", strerror(errno));
    close(fd);
}

/* One accepted socket: admitted (a connection and a session) or refused,
 * in the order of PROTOCOL §9: blacklist, then the caps. */
static void admit_fd(struct server *srv, int fd, const struct sockaddr_storage *ss)
{
    struct net_addr a;
    uint16_t port = 0;
    char addr[NET_ADDR_STRLEN];

    if (srv->is_stopping) {
        close(fd);
        return;
    }
    net_addr_from_sockaddr(&a, (const struct sockaddr *)ss);
    if (ss->ss_family == AF_INET)
        port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
    else if (ss->ss_family == AF_INET6)
        port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    net_addr_format(&a, addr);
    if (ban_match(srv->bans, &a)) {
        srv->metrics.refused[REFUSED_BANNED]++;
        log_refusal(srv, addr, port, "banned");
        refuse_fd(fd, "ERR BANNED your address is banned from this server\n");
        return;
    }
    /* Before the caps: a reconnect loop is refused however few of its
     * connections are open at a time. */
    switch (connrate_take(&srv->connrate, &a, uv_now(srv->loop))) {
    case CONNRATE_OK:
        break;
    case CONNRATE_BUSY:
        srv->metrics.refused[REFUSED_BUSY_RATE]++;
        log_refusal(srv, addr, port, "busy (connection rate)");
        refuse_fd(fd, "ERR BUSY too many new connections from your address, "
                      "slow down\n");
        return;
    case CONNRATE_FLOOD:
        srv->metrics.refused[REFUSED_BUSY_RATE]++;
        log_refusal(srv, addr, port, "busy (connection rate), reset");
        reset_fd(fd);
        return;
    }
    switch (admit_take(&srv->admit, &a)) {
    case ADMIT_OK:
        break;
    case ADMIT_BUSY_TOTAL:
        srv->metrics.refused[REFUSED_BUSY_TOTAL]++;
        log_refusal(srv, addr, port, "busy (server full)");
        refuse_fd(fd, "ERR BUSY server full, try again later\n");
        return;
    case ADMIT_BUSY_ADDR:
        srv->metrics.refused[REFUSED_BUSY_ADDR]++;
        log_refusal(srv, addr, port, "busy (per-address cap)");
        refuse_fd(fd, "ERR BUSY too many connections from your address\n");
        return;
    }
    struct conn *c = conn_adopt(&srv->conns, fd, &a, port);
    if (c == NULL) { /* logged; fd is closed */
        admit_release(&srv->admit, &a);
        return;
    }
    c->is_admitted = true;
    srv->metrics.accepted++;
    if (log_budget_take(&srv->open_log, uv_now(srv->loop)))
        log_event(LOG_INFO, "conn.opened", "conn=%" PRIu64 " peer=%s port=%u",
                  c->id, addr, c->port);
    /* The sniff window runs from now, not from the start of this busy
     * iteration (uv_now is cached then): else it would be cut short. */
    uv_update_time(srv->loop);
    session_new(srv, c);
    conn_start(c);
}

/* The game port is readable: accept up to ACCEPT_PER_ITERATION; the poll
 * is level-triggered, so the rest wakes the next iteration, after the
 * established clients' reads have been served. */
static void on_listen_readable(uv_poll_t *h, int status, int events)
{
    struct server *srv = h->loop->data;
    static uint64_t n_accept_errors, n_shed;
    (void)events;

    if (status < 0) {
        log_warn("listener poll: %s", uv_strerror(status));
        return;
    }
    for (int i = 0; i < ACCEPT_PER_ITERATION && !srv->is_stopping; i++) {
        struct sockaddr_storage ss;
        socklen_t len;
        int fd = listen_accept(&srv->listener, &ss, &len);
        if (fd == LISTEN_AGAIN)
            return;
        if (fd == LISTEN_SHED) {
            if (n_shed++ % 1000 == 0)
                log_warn("out of file descriptors: connection shed "
                         "(%" PRIu64 " so far)", n_shed);
            continue;
        }
        if (fd == LISTEN_ERROR) {
            if (n_accept_errors++ % 1000 == 0)
                log_warn("accept failed (%" PRIu64 " so far): %s",
                         n_accept_errors, strerror(errno));
            return;
        }
        admit_fd(srv, fd, &ss);
    }
}

/* The admin port's connections (libuv accepts them). */
static struct conn *accept_one(struct server *srv, uv_stream_t *listener,
                               int status)
{
    static uint64_t n_accept_errors;

    if (status < 0) {
        /* libuv already shed the connection (EMFILE); log now and then */
        if (n_accept_errors++ % 1000 == 0)
            log_warn("accept failed (%" PRIu64 " so far): %s", n_accept_errors,
                     uv_strerror(status));
        return NULL;
    }
    struct conn *c = conn_accept(&srv->conns, listener);
    if (c != NULL && srv->is_stopping) {
        conn_close(c, "server shutting down");
        return NULL;
    }
    return c;
}

/* The admin port is bound to 127.0.0.1: no blacklist, no caps. Its
 * connections are counted in the same set, so shutdown covers them. */
static void on_admin_connection(uv_stream_t *listener, int status)
{
    struct server *srv = listener->loop->data;
    struct conn *c = accept_one(srv, listener, status);

    if (c == NULL)
        return;
    char addr[NET_ADDR_STRLEN];
    net_addr_format(&c->addr, addr);
    srv->metrics.admin_accepted++;
    /* logged when opened, like the game port's (its close is logged too) */
    log_event(LOG_INFO, "conn.opened", "conn=%" PRIu64 " peer=%s port=%u admin=%s",
              c->id, addr, c->port, "yes");
    session_new_admin(srv, c);
    conn_start(c);
}

static void on_lag_timer(uv_timer_t *t)
{
    struct server *srv = t->data;

    /* uv_now is the loop's cached time: how late this callback runs is
     * how long the loop was busy elsewhere. */
    uv_update_time(srv->loop);
    double lag = (double)uv_now(srv->loop) - (double)srv->lag_expected_ms;
    srv->metrics.loop_lag_ms = lag > 0 ? lag : 0;
    if (srv->metrics.loop_lag_ms > srv->metrics.loop_lag_max_ms)
        srv->metrics.loop_lag_max_ms = srv->metrics.loop_lag_ms;
    srv->lag_expected_ms = uv_now(srv->loop) + 250;
    /* Thousands of connections closing free their small blocks all over
     * the heap, and malloc keeps them: give the free pages back to the
     * system, at most every 250 ms and only after a bulk of closes (a
     * trim walks the heap: about a millisecond for a big one). */
    if (srv->n_closed - srv->n_closed_at_trim >= TRIM_AFTER_CLOSES) {
        srv->n_closed_at_trim = srv->n_closed;
        malloc_trim(0);
    }
}

/* ---------- session deadlines ---------- */

static void arm_deadlines(struct server *srv);

static void on_deadline_timer(uv_timer_t *t)
{
    struct server *srv = t->data;
    struct dqueue *queues[] = {&srv->sniff_q, &srv->nick_q, &srv->line_q,
                               &srv->tls_q, &srv->relay_q};
    uint64_t now = uv_now(srv->loop);

    srv->armed_ms = UINT64_MAX;
    outbox_begin(&srv->outbox);
    lobby_tick(srv->lobby, now);
    outbox_end(&srv->outbox);
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
    struct dqueue *queues[] = {&srv->sniff_q, &srv->nick_q, &srv->line_q,
                               &srv->tls_q, &srv->relay_q};
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
    struct server *srv = ctx;
    outbox_send(&srv->outbox, client, line, len);
}

/* The lobby's journal entries become the store's, in the open capture. */
static void lobby_journal_cb(void *ctx, const struct lobby_journal *j)
{
    struct server *srv = ctx;
    if (srv->store == NULL)
        return;
    struct store_op *op = store_op_new();
    op->match_id = j->match_id;
    /* fencing (docs/CLUSTER.md): 0 outside a cluster, no check */
    op->epoch = srv->cluster ? cluster_match_epoch(srv->cluster, j->match_id) : 0;
    op->n_seats = j->n_seats;
    switch (j->kind) {
    case LOBBY_J_START:
        op->kind = STORE_OP_START;
        snprintf(op->game, sizeof op->game, "%s", j->game);
        for (unsigned s = 0; s < j->n_seats && s < STORE_MAX_SEATS; s++) {
            snprintf(op->seats[s].name, sizeof op->seats[s].name, "%s", j->names[s]);
            snprintf(op->seats[s].token, sizeof op->seats[s].token, "%s", j->tokens[s]);
            op->seats[s].is_registered = j->is_registered[s];
            snprintf(op->seats[s].seed, sizeof op->seats[s].seed, "%s",
                     j->seeds[s] ? j->seeds[s] : "");
            op->seats[s].side = j->sides[s];
            op->seats[s].bot = j->bots[s];
        }
        deal_to_hex(j->secret, DEAL_SECRET_LEN, op->secret);
        break;
    case LOBBY_J_MOVE: {
        size_t n = 0;
        op->kind = STORE_OP_MOVE;
        op->seq = j->seq;
        op->seat = j->seat;
        op->move_kind = j->move.kind;
        for (unsigned i = 0; i < j->move.n && i < RULES_MAX_MOVE; i++) {
            char code[3];
            card_format(j->move.cards[i], code);
            if (i > 0)
                op->cards[n++] = ' ';
            op->cards[n++] = code[0];
            op->cards[n++] = code[1];
        }
        op->cards[n] = '\0';
        op->is_timeout = j->is_timeout;
        break;
    }
    case LOBBY_J_TOKEN:
        op->kind = STORE_OP_TOKEN;
        op->seat = j->seat;
        snprintf(op->seats[j->seat].token, sizeof op->seats[0].token, "%s",
                 j->tokens[j->seat]);
        break;
    case LOBBY_J_REPLACED:
        op->kind = STORE_OP_REPLACED;
        op->seat = j->seat;
        op->seats[j->seat].bot = j->bots[j->seat];
        break;
    case LOBBY_J_END:
        op->kind = STORE_OP_END;
        snprintf(op->result, sizeof op->result, "%s", j->result);
        snprintf(op->reason, sizeof op->reason, "%s", j->reason);
        op->is_teams = j->is_teams;
        op->loser = j->loser;
        op->is_unrated = j->is_unrated;
        for (unsigned s = 0; s < j->n_seats && s < STORE_MAX_SEATS; s++)
            op->replaced[s] = j->replaced[s];
        memcpy(op->points, j->points, sizeof op->points);
        op->log = mem_strdup(j->log);
        break;
    }
    outbox_journal(&srv->outbox, op);
}

/* ---------- bots (PROTOCOL §14) ---------- */

/* The lobby wants a bot's move: the seat's view, copied to the pool. */
static void lobby_bot_due_cb(void *ctx, uint64_t match_id, unsigned seat,
                             unsigned level, uint64_t gen, uint32_t delay_ms)
{
    struct server *srv = ctx;
    struct bot_view v;

    if (lobby_bot_view(srv->lobby, match_id, seat, &v) != 0)
        return; /* nothing to think about; the turn clock moves for it */
    uint64_t seed = (uint64_t)rnd_uniform(UINT32_MAX) << 32 |
                    rnd_uniform(UINT32_MAX);
    if (bot_runner_ask(&srv->bots, &v, (enum bot_level)level, seed, match_id,
                       gen, delay_ms) != 0)
        log_warn("match %" PRIu64 ": a bot for seat %u could not be queued; "
                 "the turn clock will move for it", match_id, seat);
    bot_view_free(&v);
}

static void bot_answer_cb(void *ctx, uint64_t match_id, unsigned seat,
                          uint64_t gen, int rc, const struct rules_move *mv)
{
    struct server *srv = ctx;

    outbox_begin(&srv->outbox);
    lobby_bot_move(srv->lobby, match_id, seat, gen, rc, mv,
                   uv_now(srv->loop));
    outbox_end(&srv->outbox);
}

/* docs/CLUSTER.md, Fencing: an append at a stale epoch means another node
 * claimed this node's matches (its lease lapsed): not one more line. */
static void on_fenced(uint64_t match_id)
{
    log_error("cluster: the journal refused an append for match %" PRIu64
              " at a stale epoch: another node owns it now; stopping at once "
              "without sending another line (docs/CLUSTER.md, Fencing)",
              match_id);
    _exit(75);
}

static const struct outbox_ops outbox_ops = {
    .deliver = session_deliver,
    .ref = session_ref,
    .unref = session_unref,
    .fenced = on_fenced,
};

/* ---------- accounts ---------- */

struct account {
    char name[LOBBY_NAME_MAX + 1];
    char *hash;
};

const char *server_account_hash(struct server *srv, const char *name)
{
    struct account *a = strmap_get(&srv->accounts, name, strlen(name));
    return a ? a->hash : NULL;
}

void server_account_add(struct server *srv, const char *name, const char *hash)
{
    if (strlen(name) > LOBBY_NAME_MAX || server_account_hash(srv, name) != NULL)
        return;
    struct account *a = mem_calloc(1, sizeof *a);
    snprintf(a->name, sizeof a->name, "%s", name);
    a->hash = mem_strdup(hash);
    strmap_put(&srv->accounts, a->name, a);
}

static void load_account(void *ctx, const char *name, const char *hash)
{
    server_account_add(ctx, name, hash);
}

/* A recorded move's cards ("7d 3c"); false if damaged. */
static bool parse_move(const struct store_move *x, struct rules_move *mv)
{
    const char *p = x->cards;

    memset(mv, 0, sizeof *mv);
    mv->kind = x->kind == MOVE_PASS ? MOVE_PASS : MOVE_PLAY;
    while (*p != '\0') {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, " ");
        if (len == 0)
            break;
        card_t c = card_parse(p, len);
        if (c == CARD_NONE || mv->n == RULES_MAX_MOVE)
            return false;
        mv->cards[mv->n++] = c;
        p += len;
    }
    return mv->n > 0;
}

static int restore_one(struct server *srv, const struct store_open_match *m);

static void restore_match(void *ctx, const struct store_open_match *m)
{
    (void)restore_one(ctx, m);
}

static int restore_one(struct server *srv, const struct store_open_match *m)
{
    struct lobby_move *moves = mem_calloc(m->n_moves + 1, sizeof *moves);
    uint8_t secret[DEAL_SECRET_LEN];
    bool has_secret = strlen(m->secret) == DEAL_HEX_LEN &&
                      deal_from_hex(m->secret, DEAL_SECRET_LEN, secret) == 0;
    struct lobby_restore r = {
        .start = {
            .kind = LOBBY_J_START, .match_id = m->id, .game = m->game,
            .n_seats = m->n_seats,
            /* schema 2: no secret, the deal's recorded draws instead */
            .secret = has_secret ? secret : NULL,
            .draws = has_secret ? NULL : m->draws,
            .n_draws = has_secret ? 0 : m->n_draws,
        },
        .moves = moves,
        .n_moves = m->n_moves,
    };
    int rc = 0;

    for (unsigned s = 0; s < m->n_seats && s < STORE_MAX_SEATS; s++) {
        r.start.names[s] = m->seats[s].name;
        r.start.tokens[s] = m->seats[s].token;
        r.start.is_registered[s] = m->seats[s].is_registered;
        r.start.seeds[s] = m->seats[s].seed;
        r.start.bots[s] = (uint8_t)(m->seats[s].bot <= 3 ? m->seats[s].bot : 255);
        r.start.replaced[s] = m->seats[s].is_replaced;
    }
    for (unsigned i = 0; i < m->n_moves; i++) {
        moves[i].seat = m->moves[i].seat;
        moves[i].is_timeout = m->moves[i].is_timeout;
        /* a damaged move has no cards: the replay stops there and the
         * match is recorded as forfeited (lobby_restore) */
        if (!parse_move(&m->moves[i], &moves[i].move))
            moves[i].move.n = 0;
    }
    outbox_begin(&srv->outbox);
    rc = lobby_restore(srv->lobby, &r, uv_now(srv->loop));
    outbox_end(&srv->outbox);
    sodium_memzero(secret, sizeof secret);
    if (rc == 0)
        log_info("match %" PRIu64 " restored after %u moves; its players have "
                 "%u ms to RESUME", m->id, m->n_moves, srv->cfg->grace_ms);
    else
        log_error("match %" PRIu64 " could not be restored from the journal; "
                  "recorded as forfeited", m->id);
    free(moves);
    return rc;
}

/* docs/CLUSTER.md, Failover: the match is this node's at epoch; its
 * journal comes back from the shared store and replays, and it runs on
 * here (its players, all away, come back with RESUME through any node). */
struct take_over {
    struct server *srv;
    uint64_t id, epoch;
    char from[CLUSTER_NODE_MAX];
};

static void on_loaded(struct store_job *job)
{
    struct take_over *t = job->ctx;
    struct server *srv = t->srv;
    struct store_open_match *m = job->match;
    bool is_running = false;

    if (srv->cluster == NULL || srv->is_stopping) {
        /* shutting down: the next owner claims it */
    } else if (job->rc != STORE_OK || m == NULL) {
        log_error("cluster: match %" PRIu64 " of node %s: its journal cannot "
                  "be read (rc %d); dropped", t->id, t->from, job->rc);
    } else if (m->is_over) {
        log_info("cluster: match %" PRIu64 " of node %s had ended; nothing to "
                 "run", t->id, t->from);
    } else if (m->epoch != t->epoch) {
        log_warn("cluster: match %" PRIu64 " is at epoch %" PRIu64 " now, not "
                 "ours (%" PRIu64 "): another node claimed it since", t->id,
                 m->epoch, t->epoch);
    } else {
        /* ours before the replay lists it, so the listing does not
         * make a new epoch */
        cluster_match_adopted(srv->cluster, t->id, t->epoch, true);
        is_running = restore_one(srv, m) == 0;
        if (is_running) {
            srv->metrics.n_failovers++;
            log_info("cluster: match %" PRIu64 " of node %s runs here at "
                     "epoch %" PRIu64 " after %u moves", t->id, t->from,
                     t->epoch, m->n_moves);
        }
    }
    if (!is_running && srv->cluster != NULL && !(m != NULL && m->epoch != t->epoch))
        cluster_match_adopted(srv->cluster, t->id, t->epoch, false);
    store_open_match_free(m);
    free(t);
    free(job);
}

void server_take_over(struct server *srv, uint64_t id, uint64_t epoch,
                      const char *from)
{
    struct store_job *job = mem_calloc(1, sizeof *job);
    struct take_over *t = mem_calloc(1, sizeof *t);

    t->srv = srv;
    t->id = id;
    t->epoch = epoch;
    snprintf(t->from, sizeof t->from, "%s", from);
    if (srv->store == NULL || !store_is_shared(srv->store)) {
        log_error("cluster: match %" PRIu64 " of node %s cannot be taken "
                  "over: the store is not shared", id, from);
        cluster_match_adopted(srv->cluster, id, epoch, false);
        free(t);
        free(job);
        return;
    }
    job->kind = STORE_JOB_LOAD_MATCH;
    job->match_id = id;
    job->done = on_loaded;
    job->ctx = t;
    store_submit(srv->store, job);
}

/* Start-up in a cluster: the matches this node id owned before. */
struct own_list {
    struct server *srv;
    uint64_t ids[4096], epochs[4096];
    bool is_restored[4096];
    unsigned n;
};

static void on_own_claimed(void *ctx, uint64_t id, uint64_t epoch)
{
    struct own_list *o = ctx;
    if (o->n < sizeof o->ids / sizeof o->ids[0]) {
        o->ids[o->n] = id;
        o->epochs[o->n++] = epoch;
    }
}

static void restore_if_own(void *ctx, const struct store_open_match *m)
{
    struct own_list *o = ctx;
    for (unsigned i = 0; i < o->n; i++) {
        if (o->ids[i] != m->id)
            continue;
        cluster_match_adopted(o->srv->cluster, m->id, o->epochs[i], true);
        o->is_restored[i] = restore_one(o->srv, m) == 0;
        return;
    }
}

static int take_back_own(struct server *srv)
{
    struct own_list *o = mem_calloc(1, sizeof *o);
    o->srv = srv;
    int n = cluster_take_back(srv->cluster, on_own_claimed, o);
    int rc = 0;

    if (n < 0) {
        log_error("cluster: cannot reach Redis at %s to take this node's "
                  "lease", srv->cfg->redis);
        rc = -1;
    } else if (n > 0 &&
               store_each_open_match(srv->store, restore_if_own, o) != 0) {
        log_error("cannot read the journal in Redis");
        rc = -1;
    }
    for (unsigned i = 0; i < o->n && rc == 0; i++)
        if (!o->is_restored[i]) /* waiting, ended, or not replayable */
            cluster_match_adopted(srv->cluster, o->ids[i], o->epochs[i], false);
    free(o);
    return rc;
}

/* An upgrade's new process on a cluster node: the matches the old one
 * owned, at the epochs it had (no take-back: nothing is fenced, and the
 * names it holds stay held). Waiting ones come with the MATCHES. */
static void collect_owned(void *ctx, uint64_t id, uint64_t epoch)
{
    on_own_claimed(ctx, id, epoch);
}

static int take_over_own(struct server *srv)
{
    struct own_list *o = mem_calloc(1, sizeof *o);
    int rc = 0;

    o->srv = srv;
    cluster_each_owned(srv->cluster, collect_owned, o);
    if (o->n > 0 && store_each_open_match(srv->store, restore_if_own, o) != 0) {
        log_error("cannot read the journal in Redis");
        rc = -1;
    }
    free(o);
    return rc;
}

static void server_stop(struct server *srv);

/* The store writes nothing more (its file was deleted or replaced, or
 * the disk refused the journal for too long): playing on would show
 * clients moves that no restart can bring back. Stop cleanly, exit 1
 * (docs/OPERATIONS.md). */
static void on_store_broken(void *ctx, const char *why)
{
    struct server *srv = ctx;
    log_error("stopping: the store cannot keep what is played (%s)", why);
    srv->exit_code = 1;
    server_stop(srv);
}

/* Opens the store in cfg->data_dir, loads the accounts, restores the
 * matches that were in play, and starts the writer. Returns 0 or -1. */
static int open_store(struct server *srv, bool is_reopen);

static int server_open_store(struct server *srv)
{
    return open_store(srv, false);
}

int server_reopen_store(struct server *srv)
{
    return open_store(srv, true);
}

void server_rearm(struct server *srv)
{
    srv->armed_ms = 0; /* forces arm_deadlines to start the timer again */
    arm_deadlines(srv);
}

void server_shutdown(struct server *srv)
{
    server_stop(srv);
}

static int open_store(struct server *srv, bool is_reopen)
{
    char err[512];

    const char *where = srv->cfg->redis ? srv->cfg->redis : srv->cfg->data_dir;
    if (srv->cfg->redis != NULL) {
        srv->store = store_open_redis(srv->cfg->redis, err, sizeof err);
        if (srv->store == NULL) {
            log_error("cannot use Redis: %s", err);
            return -1;
        }
        store_redis_set_wait_ms(srv->store, srv->cfg->redis_timeout_ms);
    } else {
        srv->store = store_open(srv->cfg->data_dir, err, sizeof err);
        if (srv->store == NULL) {
            log_error("cannot use the data directory: %s", err);
            return -1;
        }
    }
    outbox_init(&srv->outbox, &outbox_ops, srv->store);
    if (store_set_quota(srv->store, srv->cfg->db_max_kb) != 0)
        log_warn("cannot set the database quota");
    store_set_tick_ms(srv->store, srv->cfg->checkpoint_ms);
    if (store_set_durability(srv->store, srv->cfg->is_power_durable
                                 ? STORE_DURABLE_POWER : STORE_DURABLE_PROCESS,
                             srv->cfg->fsync_ms) != 0) {
        store_close(srv->store);
        srv->store = NULL;
        return -1;
    }
    store_on_broken(srv->store, on_store_broken, srv);
    if ((!is_reopen && store_each_account(srv->store, load_account, srv) != 0) ||
        store_start(srv->store, srv->loop) != 0) {
        log_error("cannot read the store in %s", where);
        store_close(srv->store);
        srv->store = NULL;
        return -1;
    }
    if (is_reopen) /* the lobby has everything still */
        return 0;
    lobby_set_last_id(srv->lobby, store_max_match_id(srv->store));
    /* Restored matches journal their forfeits if they fail to replay:
     * the writer must be running first. */
    /* In a cluster, a match in play belongs to its owner node: this
     * node's own (a previous process with the same --node-id) come back
     * now, a dead node's through the claims (docs/CLUSTER.md). */
    if (srv->cluster != NULL) {
        if ((upgrade_cluster_child_active() ? take_over_own(srv)
                                            : take_back_own(srv)) != 0)
            return -1;
    } else if (store_each_open_match(srv->store, restore_match, srv) != 0) {
        log_error("cannot read the journal in %s", where);
        return -1;
    }
    if (srv->cfg->redis != NULL)
        log_info("store on Redis at %s; durability %s (Redis's AOF with "
                 "appendfsync %s; docs/CLUSTER.md)", where,
                 srv->cfg->durability, srv->cfg->is_power_durable ? "always"
                                                                  : "everysec");
    else if (srv->cfg->is_power_durable)
        log_info("store %s/tavolo.db open; durability power (a reply waits "
                 "for its fsync)", srv->cfg->data_dir);
    else
        log_info("store %s/tavolo.db open; durability process (a reply waits "
                 "for its write; fsync every %u ms)", srv->cfg->data_dir,
                 srv->cfg->fsync_ms);
    return 0;
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

/* PROTOCOL §13: a match's secret, from the system's random source. */
static void new_secret_cb(void *ctx, uint8_t out[LOBBY_SECRET_LEN])
{
    (void)ctx;
    randombytes_buf(out, LOBBY_SECRET_LEN);
}

static void new_token_cb(void *ctx, char out[LOBBY_TOKEN_LEN + 1])
{
    (void)ctx;
    rnd_hex(out, LOBBY_TOKEN_LEN / 2); /* 128 bits (PROTOCOL §5) */
}

/* ---------- signals and shutdown ---------- */

/* Loads the blacklist at start, on the loop: a bad file stops the start.
 * Returns 0 or -1. */
static int server_load_blacklist(struct server *srv)
{
    char err[512];
    size_t n = 0;

    struct ban_set *set = ban_load_file(srv->cfg->blacklist, &n, err, sizeof err);
    if (set == NULL) {
        log_error("blacklist not loaded: %s", err);
        return -1;
    }
    srv->bans = set;
    log_info("blacklist %s: %zu entries, %zu ranges", srv->cfg->blacklist, n,
             ban_n_ranges(set));
    return 0;
}

/* A reload on libuv's thread pool: reading and sorting 100 000 lines
 * takes tens of milliseconds, which the loop must not spend. The worker
 * touches only this struct; the new set is swapped in on the loop. */
struct reload {
    uv_work_t req;
    struct server *srv;
    struct ban_set *set; /* NULL if the file was bad */
    size_t n_entries;
    bool is_still_niced; /* the pool thread could not get its priority back */
    char err[512];
};

static void start_reload(struct server *srv);

/* READY=1 for systemd once no reload is running or waiting for its turn
 * (the RELOADING=1 it answers was sent on SIGHUP). */
static void notify_if_reloaded(struct server *srv)
{
    if (!srv->is_reloading && !uv_is_active((uv_handle_t *)&srv->reload_timer) &&
        !srv->is_tls_reloading)
        sdnotify_ready();
}

static void reload_work(uv_work_t *req)
{
    struct reload *r = req->data;
    int tid = (int)syscall(SYS_gettid);

    /* Lowest priority while parsing, so that on a machine where the pool
     * shares the loop's CPU the loop still runs first. Best effort, both
     * ways: raising the priority back may need CAP_SYS_NICE, and then the
     * pool thread stays nice (its other work, password hashing, is not
     * latency-critical either). */
    errno = 0;
    int old = getpriority(PRIO_PROCESS, (id_t)tid);
    bool has_old = errno == 0;
    if (setpriority(PRIO_PROCESS, (id_t)tid, 19) == -1)
        has_old = false;
    r->set = ban_load_file(r->srv->cfg->blacklist, &r->n_entries, r->err,
                           sizeof r->err);
    if (has_old && setpriority(PRIO_PROCESS, (id_t)tid, old) == -1)
        r->is_still_niced = true;
}

static void reload_done(uv_work_t *req, int status)
{
    struct reload *r = req->data;
    struct server *srv = r->srv;

    srv->is_reloading = false;
    if (status != 0 || srv->is_stopping) {
        ban_free(r->set);
        free(r);
        return;
    }
    if (r->set == NULL) {
        log_error("blacklist not reloaded, keeping the previous one: %s", r->err);
    } else {
        /* Lookups happen only on the loop, so the swap needs no lock. */
        ban_free(srv->bans);
        srv->bans = r->set;
        srv->metrics.blacklist_reloads++;
        log_info("blacklist %s: %zu entries, %zu ranges", srv->cfg->blacklist,
                 r->n_entries, ban_n_ranges(r->set));
    }
    if (r->is_still_niced)
        log_debug("blacklist reload: a pool thread keeps nice 19");
    free(r);
    /* SIGHUPs that came while this one ran ask for one more reload: the
     * file may have changed after the worker read it. */
    if (srv->wants_reload)
        start_reload(srv);
    notify_if_reloaded(srv);
}

/* SIGHUP: reload the blacklist off the loop. A file with a bad line keeps
 * the old list. Signals during a reload coalesce into one more reload. */
static void on_reload_timer(uv_timer_t *t)
{
    start_reload(t->data);
}

static void start_reload(struct server *srv)
{
    uint64_t now = uv_now(srv->loop);

    if (srv->cfg->blacklist == NULL || srv->is_stopping)
        return;
    if (srv->is_reloading || uv_is_active((uv_handle_t *)&srv->reload_timer)) {
        srv->wants_reload = true;
        return;
    }
    if (srv->last_reload_ms != 0 &&
        now - srv->last_reload_ms < RELOAD_MIN_INTERVAL_MS) {
        uv_timer_start(&srv->reload_timer, on_reload_timer,
                       srv->last_reload_ms + RELOAD_MIN_INTERVAL_MS - now, 0);
        return;
    }
    srv->wants_reload = false;
    srv->last_reload_ms = now;
    struct reload *r = mem_calloc(1, sizeof *r);
    r->srv = srv;
    r->req.data = r;
    int rc = uv_queue_work(srv->loop, &r->req, reload_work, reload_done);
    if (rc != 0) {
        log_error("blacklist not reloaded, keeping the previous one: %s",
                  uv_strerror(rc));
        free(r);
        return;
    }
    srv->is_reloading = true;
}

/* ---------- TLS certificate reload ---------- */

/* SIGHUP: the certificate and key are read and checked on the thread
 * pool; a good pair becomes the context of new connections (existing
 * ones keep theirs), a bad one leaves the old in place and says why. */
struct tls_reload {
    uv_work_t req;
    struct server *srv;
    struct tls_ctx *ctx;
    char err[400];
};

static void tls_reload_work(uv_work_t *req)
{
    struct tls_reload *r = req->data;
    const struct config *cfg = r->srv->cfg;

    r->ctx = tls_ctx_load(cfg->tls_cert, cfg->tls_key, r->err, sizeof r->err);
}

static void start_tls_reload(struct server *srv);

static void tls_reload_done(uv_work_t *req, int status)
{
    struct tls_reload *r = req->data;
    struct server *srv = r->srv;
    char serial[80];

    srv->is_tls_reloading = false;
    if (status != 0 || r->ctx == NULL || srv->is_stopping) {
        if (status == 0 && r->ctx == NULL)
            log_event(LOG_ERROR, "tls.reload_failed",
                      "error=%s keeping=%s", r->err, "previous certificate");
        tls_ctx_free(r->ctx);
    } else {
        tls_ctx_serial(r->ctx, serial, sizeof serial);
        tls_server_swap(srv->tls, r->ctx);
        log_event(LOG_INFO, "tls.reloaded", "cert=%s serial=%s",
                  srv->cfg->tls_cert, serial);
    }
    free(r);
    if (srv->wants_tls_reload && !srv->is_stopping)
        start_tls_reload(srv);
    notify_if_reloaded(srv); /* the certificate is part of the reload */
}

static void start_tls_reload(struct server *srv)
{
    if (srv->tls == NULL)
        return;
    if (srv->is_tls_reloading) {
        srv->wants_tls_reload = true;
        return;
    }
    srv->wants_tls_reload = false;
    struct tls_reload *r = mem_calloc(1, sizeof *r);
    r->srv = srv;
    r->req.data = r;
    if (uv_queue_work(srv->loop, &r->req, tls_reload_work,
                      tls_reload_done) != 0) {
        log_event(LOG_ERROR, "tls.reload_failed", "error=%s",
                  "cannot queue the reload");
        free(r);
        return;
    }
    srv->is_tls_reloading = true;
}

/* The first load, at start: a bad certificate stops the server. */
static int server_load_tls(struct server *srv)
{
    char err[400], serial[80];
    struct tls_ctx *ctx = tls_ctx_load(srv->cfg->tls_cert, srv->cfg->tls_key,
                                       err, sizeof err);
    if (ctx == NULL) {
        log_event(LOG_ERROR, "tls.load_failed", "error=%s", err);
        return -1;
    }
    tls_ctx_serial(ctx, serial, sizeof serial);
    srv->tls = tls_server_new();
    tls_server_swap(srv->tls, ctx);
    log_event(LOG_INFO, "tls.loaded", "cert=%s serial=%s", srv->cfg->tls_cert,
              serial);
    return 0;
}

static void server_stop(struct server *srv);

static void on_signal(uv_signal_t *h, int signum)
{
    struct server *srv = h->data;

    if (signum == SIGUSR2) {
        /* on a cluster node too: app/upgrade_cluster.h */
        upgrade_start(srv); /* logs what it does */
        return;
    }
    if (upgrade_is_relay(srv)) { /* only TLS relays are left here */
        if (signum != SIGHUP)
            upgrade_relay_stop(srv);
        return;
    }
    if (signum == SIGHUP && upgrade_is_busy(srv)) {
        log_warn("SIGHUP during an upgrade: ignored (send it to the new "
                 "process)");
        return;
    }
    if (signum == SIGHUP) {
        sdnotify_reloading();
        start_reload(srv);
        start_tls_reload(srv);
        notify_if_reloaded(srv);
        return;
    }
    log_info("signal %d: shutting down", signum);
    upgrade_abort(srv, "the server is shutting down");
    if (upgrade_is_busy(srv))
        return; /* it stops once the sockets are back (upgrade.c) */
    sdnotify_stopping();
    server_stop(srv);
}

/* SIGUSR1 (docs/CLUSTER.md, "Drain a node"): no new matches here; the
 * node stops once none is in play. */
static void on_drain_timer(uv_timer_t *t)
{
    struct server *srv = t->data;
    size_t waiting, playing;
    uint64_t finished;

    lobby_counts(srv->lobby, &waiting, &playing, &finished);
    if (playing > 0)
        return;
    log_info("drained: no match in play here any more; stopping");
    uv_timer_stop(t);
    server_stop(srv);
}

static void on_drain_signal(uv_signal_t *h, int signum)
{
    struct server *srv = h->data;
    (void)signum;
    if (srv->is_draining)
        return;
    srv->is_draining = true;
    if (srv->cluster != NULL)
        cluster_set_draining(srv->cluster); /* not the quick-play node */
    log_info("SIGUSR1: draining: no new matches on this node; it stops when "
             "its matches in play are over");
    uv_timer_start(&srv->drain_timer, on_drain_timer, 0, 250);
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
    uv_close((uv_handle_t *)&srv->quick_timer, NULL);
    bench_bots_stop(srv);
    bot_runner_close(&srv->bots);
    /* Gives up the lease: the peers take what is left at once. */
    relay_stop(srv);
    /* Commits what is queued and runs the last callbacks. */
    store_close(srv->store);
    srv->store = NULL;
    srv->outbox.store = NULL;
    conn_set_close(&srv->conns);
}

/* Stops accepting, flushes and closes every connection, and lets the loop
 * end within 2 s. */
static void server_stop(struct server *srv)
{
    if (srv->is_stopping)
        return;
    srv->is_stopping = true;
    if (srv->has_listener)
        listen_close(&srv->listener);
    if (srv->has_admin)
        uv_close((uv_handle_t *)&srv->admin_listener, NULL);
    uv_close((uv_handle_t *)&srv->lag_timer, NULL);
    uv_close((uv_handle_t *)&srv->sig_int, NULL);
    uv_close((uv_handle_t *)&srv->sig_term, NULL);
    uv_close((uv_handle_t *)&srv->sig_hup, NULL);
    uv_close((uv_handle_t *)&srv->sig_usr1, NULL);
    uv_close((uv_handle_t *)&srv->drain_timer, NULL);
    uv_close((uv_handle_t *)&srv->sig_usr2, NULL);
    upgrade_close(srv);
    uv_close((uv_handle_t *)&srv->reload_timer, NULL);
    auth_stop(srv->auth); /* answers the checks not yet hashing */
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
    srv->refusal_log = (struct log_budget){.event = "conn.refused",
                                           .per_s = REFUSALS_LOGGED_PER_S};
    srv->open_log = (struct log_budget){.event = "conn.opened",
                                        .per_s = CONN_LINES_PER_S};
    srv->close_log = (struct log_budget){.event = "conn.closed",
                                         .per_s = CONN_LINES_PER_S};
    if (cfg->server_id)
        snprintf(srv->server_id, sizeof srv->server_id, "%s", cfg->server_id);
    else
        rnd_hex(srv->server_id, 8);

    if (cfg->blacklist && server_load_blacklist(srv) != 0)
        return -1;
    admit_init(&srv->admit, cfg->max_conns, cfg->max_per_ip);
    connrate_init(&srv->connrate, cfg->conn_rate, cfg->conn_burst);
    dq_init(&srv->sniff_q, SNIFF_MS);
    dq_init(&srv->nick_q, cfg->nick_timeout_ms);
    dq_init(&srv->line_q, cfg->line_timeout_ms);
    dq_init(&srv->tls_q, cfg->tls_handshake_ms);
    if (cfg->tls_cert != NULL && server_load_tls(srv) != 0)
        return -1;

    struct conn_limits lim = {
        .hwm = 16 * 1024,
        .lwm = 4 * 1024,
        .max_out = 64 * 1024,
        /* a partial line, an undecided sniff, or one WebSocket frame: a
         * whole line or a control frame (125 bytes), and its header */
        .max_in = (cfg->max_line > 125 ? cfg->max_line : 125) + 16,
        .stall_ms = cfg->stall_ms,
        .sndbuf = (size_t)cfg->sndbuf_kb * 1024,
    };
    if (conn_set_init(&srv->conns, loop, &ops, &lim) != 0 ||
        uv_timer_init(loop, &srv->deadline_timer) != 0 ||
        uv_timer_init(loop, &srv->quick_timer) != 0 ||
        uv_timer_init(loop, &srv->shutdown_timer) != 0) {
        log_error("cannot initialise the event loop handles");
        return -1;
    }
    srv->deadline_timer.data = srv;
    srv->quick_timer.data = srv;
    bot_runner_init(&srv->bots, loop, bot_answer_cb, srv);
    srv->bots.think_ms = cfg->bot_think_ms;
    queue_init(&srv->quick);
    srv->shutdown_timer.data = srv;
    outbox_init(&srv->outbox, &outbox_ops, NULL);
    strmap_init(&srv->accounts);
    strmap_init(&srv->proxies);
    strmap_init(&srv->remotes);
    dq_init(&srv->relay_q, cfg->redis_timeout_ms * 3);
    srv->auth = auth_new(srv);
    struct lobby_env env = {
        .ctx = srv,
        .send = lobby_send_cb,
        .journal = lobby_journal_cb,
        .evict = lobby_evict_cb,
        .arm = lobby_arm_cb,
        .new_secret = new_secret_cb,
        .new_token = new_token_cb,
        .turn_ms = cfg->turn_ms,
        .grace_ms = cfg->grace_ms,
        .waiting_ms = cfg->waiting_ms,
        .max_waiting_per_key = cfg->max_waiting_per_ip,
        .bot_due = lobby_bot_due_cb,
        .bot_delay_ms = cfg->bot_delay_ms,
        .away_bot = cfg->away_bot_level,
        .is_abandon_bot = cfg->is_abandon_bot,
        .max_watchers = cfg->max_watchers,
    };
    relay_fill_env(srv, &env);
    srv->lobby = lobby_new(&env);
    return 0;
}

int server_start(struct server *srv, uv_loop_t *loop, const struct config *cfg)
{
    char bound[128];
    int rc;

    if (server_init(srv, loop, cfg) != 0)
        return -1;
    /* An upgrade's new process: the old one's state first, then its
     * store (app/upgrade.h); on a cluster node the node itself, right
     * after joining (app/upgrade_cluster.h). */
    bool is_upgrade = upgrade_is_child();
    if (is_upgrade && upgrade_child_receive(srv) != 0)
        return -1;
    /* The cluster before the store: restoring matches tells the directory. */
    if (relay_start(srv) != 0)
        return -1;
    const char *why = NULL;
    if (is_upgrade && upgrade_cluster_child_import(srv, &why) != 0) {
        log_event(LOG_ERROR, "upgrade.child_failed", "error=%s", why);
        return -1; /* the old process serves on, its lease untouched */
    }
    if (server_open_store(srv) != 0 || bench_bots_start(srv) != 0)
        return -1;
    if ((rc = uv_timer_init(loop, &srv->reload_timer)) != 0) {
        log_error("cannot make the reload timer: %s", uv_strerror(rc));
        return -1;
    }
    srv->reload_timer.data = srv;
    uv_timer_init(loop, &srv->drain_timer);
    srv->drain_timer.data = srv;
    uv_signal_t *sigs[] = {&srv->sig_int, &srv->sig_term, &srv->sig_hup,
                           &srv->sig_usr2, &srv->sig_usr1};
    int signums[] = {SIGINT, SIGTERM, SIGHUP, SIGUSR2, SIGUSR1};
    for (int i = 0; i < 5; i++) {
        uv_signal_init(loop, sigs[i]);
        sigs[i]->data = srv;
        if ((rc = uv_signal_start(sigs[i], i == 4 ? on_drain_signal : on_signal,
                                  signums[i])) != 0) {
            log_error("cannot watch signal %d: %s", signums[i], uv_strerror(rc));
            return -1;
        }
    }
    /* A client that vanishes mid-write must not kill us with SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);

    int fd = is_upgrade ? upgrade_child_listen_fd(srv) : -1;
    if (fd < 0)
        fd = sdnotify_listen_fd(); /* socket activation: systemd's socket */
    if (fd >= 0)
        rc = listen_adopt(&srv->listener, loop, fd, (int)cfg->backlog,
                          on_listen_readable, bound, sizeof bound);
    else
        rc = listen_open(&srv->listener, loop, cfg->bind, (uint16_t)cfg->port,
                         (int)cfg->backlog, on_listen_readable, bound,
                         sizeof bound);
    if (rc == 0)
        srv->has_listener = true;
    if (rc != 0) {
        log_error("cannot listen on %s port %u: %s", cfg->bind, cfg->port,
                  uv_strerror(rc));
        return -1;
    }
    /* The admin port is a convenience: a second server on the same host
     * (or a busy port) must not stop the game server from starting. */
    int admin_fd = is_upgrade ? upgrade_child_admin_fd(srv) : -1;
    if (admin_fd >= 0) {
        /* the old process's admin listener, as it was */
        uv_tcp_init(loop, &srv->admin_listener);
        if ((rc = uv_tcp_open(&srv->admin_listener, admin_fd)) != 0 ||
            (rc = uv_listen((uv_stream_t *)&srv->admin_listener, 64,
                            on_admin_connection)) != 0) {
            log_warn("admin port not taken over (%s): no /metrics",
                     uv_strerror(rc));
            uv_close((uv_handle_t *)&srv->admin_listener, NULL);
        } else {
            struct sockaddr_storage ss;
            int len = sizeof ss;
            char host[64] = "127.0.0.1";
            unsigned port = 0;
            if (uv_tcp_getsockname(&srv->admin_listener,
                                   (struct sockaddr *)&ss, &len) == 0 &&
                ss.ss_family == AF_INET) {
                uv_ip4_name((struct sockaddr_in *)&ss, host, sizeof host);
                port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
            }
            srv->has_admin = true;
            snprintf(srv->admin_bound, sizeof srv->admin_bound, "%s:%u", host,
                     port);
        }
    } else if (cfg->admin_port != UINT32_MAX) {
        char admin_bound[128];
        uv_tcp_init(loop, &srv->admin_listener);
        rc = listen_tcp(&srv->admin_listener, "127.0.0.1", (uint16_t)cfg->admin_port,
                        64, on_admin_connection, admin_bound, sizeof admin_bound);
        if (rc != 0) {
            log_warn("admin port %u not available (%s): no /metrics",
                     cfg->admin_port, uv_strerror(rc));
            uv_close((uv_handle_t *)&srv->admin_listener, NULL);
        } else {
            srv->has_admin = true;
            snprintf(srv->admin_bound, sizeof srv->admin_bound, "%s", admin_bound);
        }
    }
    uv_timer_init(loop, &srv->lag_timer);
    srv->lag_timer.data = srv;
    srv->lag_expected_ms = uv_now(loop) + 250;
    uv_timer_start(&srv->lag_timer, on_lag_timer, 250, 250);
    uv_unref((uv_handle_t *)&srv->lag_timer);
    /* The line tests and benchmarks wait for (PROTOCOL §8). It is the
     * first line with "listening on": the admin line says it otherwise. */
    if (log_get_format() == LOG_FORMAT_JSON) {
        /* Every line of a JSON log is JSON (tests read "addr"). */
        log_event(LOG_INFO, "listening", "addr=%s tls=%s", bound,
                  srv->tls ? "yes" : "no");
        if (srv->has_admin)
            log_event(LOG_INFO, "admin.listening", "url=http://%s/metrics",
                      srv->admin_bound);
    } else {
        fprintf(stderr, "listening on %s\n", bound);
        if (srv->has_admin)
            fprintf(stderr, "admin (metrics) on http://%s/metrics\n",
                    srv->admin_bound);
    }
    if (is_upgrade && upgrade_child_finish(srv) != 0)
        return -1;
    log_info("tavolo server %s up (version %s, max line %u, rate %u/s burst "
             "%u)", srv->server_id, tavolo_version_string, cfg->max_line,
             cfg->rate, cfg->burst);
    return 0;
}

static void free_account(struct account *a)
{
    free(a->hash);
    free(a);
}

void server_free(struct server *srv)
{
    upgrade_free(srv);
    if (srv->store != NULL) { /* a start that failed half-way */
        store_close(srv->store);
        srv->store = NULL;
        uv_run(srv->loop, UV_RUN_NOWAIT); /* runs the close callbacks */
    }
    /* The map borrows its keys from the accounts: collect, then free. */
    for (size_t i = 0; i < srv->accounts.n_slots; i++) {
        struct account *a = strmap_slot_value(&srv->accounts, i);
        if (a != NULL)
            free_account(a);
    }
    strmap_free(&srv->accounts);
    strmap_free(&srv->proxies); /* emptied when the sessions closed */
    strmap_free(&srv->remotes);
    auth_free(srv->auth);
    srv->auth = NULL;
    queue_free(&srv->quick);
    lobby_free(srv->lobby);
    srv->lobby = NULL;
    free(srv->bench_ids);
    srv->bench_ids = NULL;
    outbox_close(&srv->outbox);
    ban_free(srv->bans);
    srv->bans = NULL;
    tls_server_free(srv->tls);
    srv->tls = NULL;
    admit_free(&srv->admit);
    connrate_free(&srv->connrate);
}
