/*
 * upgrade: see upgrade.h.
 *
 * The old process runs the upgrade as phases on its loop: SPAWNED
 * (waiting for HELLO, serving as usual), SETTLING (input frozen, work in
 * flight finishing; checked every SETTLE_TICK_MS), HANDING (sockets
 * taken from libuv; their handles' close callbacks are awaited, since a
 * handle can be reopened only after them). Then one synchronous step
 * sends everything and waits for READY: clients are frozen by then, and
 * the wait is bounded by --upgrade-timeout-ms. The new process talks
 * synchronously throughout (it has no clients before GO).
 */
#include "app/upgrade.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app/auth.h"
#include "app/sdnotify.h"
#include "app/server.h"
#include "app/session.h"
#include "app/session_internal.h"
#include "app/session_upgrade.h"
#include "app/upgrade_cluster.h"
#include "app/upgrade_wire.h"
#include "base/log.h"
#include "base/mem.h"
#include "game/lobby.h"
#include "game/lobby_upgrade.h"
#include "net/conn.h"
#include "net/tls.h"
#include "store/store.h"

#define SETTLE_TICK_MS 2
#define RELAY_TICK_MS 100
#define RELAY_STOP_MS 1500 /* SIGTERM in relay mode: cut after this */

const char *tavolo_version_string = "unknown";

static char exe_path[PATH_MAX];
static char **saved_argv;

void upgrade_set_argv(int argc, char **argv)
{
    (void)argc;
    saved_argv = argv;
    /* Now, while the file is still the one we run: once it is replaced,
     * /proc/self/exe names the deleted file ("... (deleted)"). */
    ssize_t n = readlink("/proc/self/exe", exe_path, sizeof exe_path - 1);
    if (n <= 0)
        snprintf(exe_path, sizeof exe_path, "%s", argv[0]);
    else
        exe_path[n] = '\0';
}

enum phase {
    U_IDLE = 0,
    U_SPAWNED,
    U_SETTLING,
    U_HANDING,
    U_RELAY,
};

struct relay {
    struct conn *tls;  /* the client's TLS connection, kept here */
    int keep_fd;       /* our end of its plaintext socketpair */
    int give_fd;       /* the new process's end */
    bool is_handshaking;   /* mid-handshake at the hand-over (TLS_PENDING) */
    uint64_t hs_deadline_ms; /* then: its handshake deadline (uv_now) */
};

/* A relayed connection still in its TLS handshake, after GO: its
 * deadline is checked by the relay tick (the server's deadline queues
 * stop with the rest of it). By id: the connection may be gone. */
struct hs_pending {
    uint64_t conn_id;
    uint64_t deadline_ms;
};

struct upgrade {
    struct server *srv;
    enum phase phase;
    int fd;                 /* our end of the socketpair; -1 */
    /* This attempt's child and channel watcher: fresh handles for each
     * attempt (a handle is reusable only after its close callback),
     * freed by their close callbacks. NULL when none. */
    uv_process_t *proc;
    uv_poll_t *poll;
    uv_timer_t timer;
    uint64_t started_ms, deadline_ms, frozen_ms;
    char child_version[64];
    uint32_t child_pid;
    bool is_captured, is_store_closed;
    int admin_fd;
    uv_connection_cb admin_cb;
    struct relay *relays;
    size_t n_relays;
    struct hs_pending *hs;  /* relay mode: handshakes still running */
    size_t n_hs;
    bool is_stopping;
    uint64_t stop_ms;
    bool wants_stop;        /* SIGTERM during the upgrade: stop after it */
    char fail_why[260];     /* a failure waiting for the sockets' closes */
};

static struct upgrade *get(struct server *srv)
{
    if (srv->upgrade == NULL) {
        struct upgrade *u = mem_calloc(1, sizeof *u);
        u->srv = srv;
        u->fd = -1;
        u->admin_fd = -1;
        uv_timer_init(srv->loop, &u->timer);
        u->timer.data = u;
        srv->upgrade = u;
    }
    return srv->upgrade;
}

bool upgrade_is_busy(const struct server *srv)
{
    return srv->upgrade != NULL && srv->upgrade->phase != U_IDLE;
}

bool upgrade_is_relay(const struct server *srv)
{
    return srv->upgrade != NULL && srv->upgrade->phase == U_RELAY;
}

/* ---------- messages on the socketpair ---------- */

/* Sends one message with fds (may be none), waiting for room until
 * deadline (uv_now-based ms, converted to a poll timeout). */
static int send_msg(int fd, const struct upgrade_buf *b, const int *fds,
                    size_t n_fds, int timeout_ms)
{
    struct iovec iov = {.iov_base = b->data, .iov_len = b->len};
    char ctl[CMSG_SPACE(sizeof(int) * UPGRADE_MAX_FDS)];
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

    if (n_fds > 0) {
        memset(ctl, 0, sizeof ctl);
        mh.msg_control = ctl;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * n_fds);
    }
    for (;;) {
        ssize_t n = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n == (ssize_t)b->len)
            return 0;
        if (n >= 0) {
            errno = EMSGSIZE;
            return -1;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            return -1;
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int r = poll(&p, 1, timeout_ms);
        if (r == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        if (r == -1 && errno != EINTR)
            return -1;
    }
}

/* Receives one message into *buf (UPGRADE_HEADER_LEN +
 * UPGRADE_MAX_PAYLOAD bytes) and its fds (close-on-exec). Returns its
 * length, 0 on EOF, -1 on error or timeout (errno). */
static ssize_t recv_msg(int fd, char *buf, int *fds, size_t *n_fds,
                        int timeout_ms)
{
    struct iovec iov = {.iov_base = buf,
                        .iov_len = UPGRADE_HEADER_LEN + UPGRADE_MAX_PAYLOAD};
    char ctl[CMSG_SPACE(sizeof(int) * UPGRADE_MAX_FDS)];

    *n_fds = 0;
    for (;;) {
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
                            .msg_control = ctl, .msg_controllen = sizeof ctl};
        ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n >= 0) {
            for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm != NULL;
                 cm = CMSG_NXTHDR(&mh, cm)) {
                if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                    continue;
                size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < k; i++) {
                    int f;
                    memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof f);
                    if (*n_fds < UPGRADE_MAX_FDS)
                        fds[(*n_fds)++] = f;
                    else
                        close(f);
                }
            }
            if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
                for (size_t i = 0; i < *n_fds; i++)
                    close(fds[i]);
                *n_fds = 0;
                errno = EMSGSIZE;
                return -1;
            }
            return n;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            return -1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, timeout_ms);
        if (r == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        if (r == -1 && errno != EINTR)
            return -1;
    }
}

static int ms_left(const struct upgrade *u)
{
    uint64_t now;
    uv_update_time(u->srv->loop);
    now = uv_now(u->srv->loop);
    return now >= u->deadline_ms ? 0 : (int)(u->deadline_ms - now);
}

/* ---------- the old process: failure and resumption ---------- */

static void free_handle(uv_handle_t *h)
{
    free(h);
}

static void on_proc_exit(uv_process_t *p, int64_t status, int sig)
{
    struct upgrade *u = p->data;
    if (u != NULL && u->proc == p) { /* this attempt's child */
        u->proc = NULL;
        if (u->phase != U_IDLE && u->phase != U_RELAY)
            log_event(LOG_WARN, "upgrade.child_exited", "pid=%d status=%"
                      PRId64 " signal=%d", p->pid, status, sig);
    }
    uv_close((uv_handle_t *)p, free_handle);
}

static void close_channel(struct upgrade *u)
{
    if (u->poll != NULL) {
        uv_close((uv_handle_t *)u->poll, free_handle);
        u->poll = NULL;
    }
    if (u->fd != -1) {
        close(u->fd);
        u->fd = -1;
    }
}

static int reopen_store(struct server *srv)
{
    return server_reopen_store(srv);
}

static void fail(struct upgrade *u, const char *why);

static void on_fail_retry(uv_timer_t *t)
{
    struct upgrade *u = t->data;
    if (u->srv->conns.n_handing == 0)
        fail(u, u->fail_why);
}

/* The upgrade failed at some step: kill the child, take everything back,
 * serve on. A socket can be given a new handle only after its old one's
 * close callback: until then the failure waits (one loop iteration). */
static void fail(struct upgrade *u, const char *why)
{
    struct server *srv = u->srv;

    if (u->is_captured && srv->conns.n_handing > 0) {
        if (why != u->fail_why)
            snprintf(u->fail_why, sizeof u->fail_why, "%s", why);
        uv_timer_start(&u->timer, on_fail_retry, 1, 1);
        return;
    }
    log_event(LOG_ERROR, "upgrade.failed", "error=%s binary=%s serving=%s",
              why, exe_path, "yes (this process)");
    if (u->proc != NULL) {
        /* best effort: it may be exiting; its exit callback frees it */
        uv_process_kill(u->proc, SIGKILL);
        u->proc->data = NULL;
        u->proc = NULL;
    }
    close_channel(u);
    uv_timer_stop(&u->timer);
    if (u->is_captured) {
        if (u->is_store_closed && reopen_store(srv) != 0) {
            /* Without a store nothing more can be journaled: stop
             * cleanly, as a broken store does (server.c). */
            log_error("upgrade: cannot reopen the store; stopping");
            srv->exit_code = 1;
        }
        u->is_store_closed = false;
        for (struct conn *c = srv->conns.all, *next; c != NULL; c = next) {
            next = c->next;
            if (c->is_handed && conn_take_back(c) != 0) {
                /* no handle to close it through: drop it, as the kernel
                 * will when we exit */
                if (c->user != NULL)
                    session_on_close(c);
                conn_forget(c);
            }
        }
        for (size_t i = 0; i < u->n_relays; i++) {
            close(u->relays[i].keep_fd);
            close(u->relays[i].give_fd);
        }
        free(u->relays);
        u->relays = NULL;
        u->n_relays = 0;
        if (u->admin_fd != -1) {
            uv_tcp_init(srv->loop, &srv->admin_listener);
            if (uv_tcp_open(&srv->admin_listener, u->admin_fd) != 0 ||
                uv_listen((uv_stream_t *)&srv->admin_listener, 64,
                          u->admin_cb) != 0) {
                log_warn("upgrade: the admin port could not be reopened");
                uv_close((uv_handle_t *)&srv->admin_listener, NULL);
                srv->has_admin = false;
            }
            u->admin_fd = -1;
        }
        if (srv->has_listener)
            uv_poll_start(&srv->listener.poll, UV_READABLE,
                          srv->listener.poll.poll_cb);
        uv_timer_start(&srv->quick_timer, quick_on_timer, 0, 0);
        server_rearm(srv);
        u->is_captured = false;
        /* what peers sent meanwhile, in order, now that the sockets are
         * back (its lease never lapsed: the node goes on) */
        upgrade_cluster_release(srv);
    }
    conn_set_freeze_input(&srv->conns, false);
    u->phase = U_IDLE;
    sdnotify_ready();
    if (srv->exit_code != 0 || u->wants_stop)
        server_shutdown(srv);
}

void upgrade_abort(struct server *srv, const char *why)
{
    struct upgrade *u = srv->upgrade;
    if (u != NULL && u->phase != U_IDLE && u->phase != U_RELAY) {
        u->wants_stop = true;
        fail(u, why);
    }
}

/* ---------- the old process: settling ---------- */

/* Why the server is not quiet yet, or NULL. */
static const char *unsettled(struct server *srv)
{
    if (srv->outbox.open != NULL || srv->outbox.head != NULL)
        return "events waiting for the store";
    if (!auth_is_idle(srv->auth))
        return "password checks in flight";
    if (srv->bots.n_jobs > 0)
        return "bots thinking";
    if (srv->is_reloading || srv->is_tls_reloading)
        return "a reload in flight";
    if (srv->conns.kicks != NULL || srv->conns.closing != NULL)
        return "connections being served";
    const char *cwhy = upgrade_cluster_unsettled(srv, srv->upgrade->child_pid);
    if (cwhy != NULL)
        return cwhy;
    uint64_t now = uv_now(srv->loop);
    for (struct conn *c = srv->conns.all; c != NULL; c = c->next) {
        if (c->is_closing)
            return "connections closing";
        if (c->is_flush_closing)
            continue; /* handed over closing, or (TLS) left to finish here */
        if (c->is_held)
            return "a command waiting for its answer";
        if (c->tls != NULL && !tls_conn_is_established(c->tls))
            continue; /* relayed mid-handshake: nothing to settle */
        struct upgrade_conn rec;
        const char *why;
        memset(&rec, 0, sizeof rec);
        if (session_export(c, &rec, now, &why) != 0)
            return why;
    }
    return NULL;
}

static void send_all(struct upgrade *u);

static void on_handing_tick(uv_timer_t *t)
{
    struct upgrade *u = t->data;

    if (u->srv->conns.n_handing > 0) {
        if (ms_left(u) == 0)
            fail(u, "sockets not released in time");
        return;
    }
    uv_timer_stop(t);
    send_all(u);
}

/* A TLS connection stays here, relayed to the new process over a
 * socketpair; one still in its handshake finishes it here first (its
 * deadline goes with it: the session's sniff node is on tls_q then). */
static void add_relay(struct upgrade *u, struct conn *c)
{
    struct server *srv = u->srv;
    int sv[2];

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
                   sv) == -1) {
        conn_close(c, "upgrade: no socketpair for its TLS relay");
        return;
    }
    struct relay r = {c, sv[0], sv[1], false, 0};
    if (!tls_conn_is_established(c->tls)) {
        const struct session *s = c->user;
        r.is_handshaking = true;
        r.hs_deadline_ms = s != NULL && dq_linked(&s->sniff_node)
                               ? s->sniff_node.deadline_ms
                               : uv_now(srv->loop) + srv->cfg->tls_handshake_ms;
    }
    u->relays = mem_realloc(u->relays, (u->n_relays + 1) * sizeof *u->relays);
    u->relays[u->n_relays++] = r;
}

/* Everything is quiet: stop the clocks and take the sockets. */
static void capture(struct upgrade *u)
{
    struct server *srv = u->srv;

    u->is_captured = true;
    upgrade_cluster_capture(srv); /* relay input kept from now on */
    uv_timer_stop(&srv->deadline_timer);
    srv->armed_ms = UINT64_MAX;
    uv_timer_stop(&srv->quick_timer);
    if (srv->has_listener)
        uv_poll_stop(&srv->listener.poll);
    if (srv->has_admin) {
        uv_os_fd_t fd;
        if (uv_fileno((uv_handle_t *)&srv->admin_listener, &fd) == 0)
            u->admin_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
        u->admin_cb = srv->admin_listener.connection_cb;
        uv_close((uv_handle_t *)&srv->admin_listener, NULL);
    }
    for (struct conn *c = srv->conns.all; c != NULL; c = c->next) {
        if (c->tls != NULL && c->is_flush_closing)
            continue; /* it finishes here; its seat was left at its close */
        if (c->tls != NULL) {
            add_relay(u, c);
            continue;
        }
        if (conn_hand_over(c) != 0) {
            /* out of descriptors: give up the upgrade, not the client */
            u->phase = U_HANDING;
            fail(u, "cannot duplicate a socket (out of descriptors?)");
            return;
        }
    }
    u->phase = U_HANDING;
    uv_timer_start(&u->timer, on_handing_tick, 0, 1);
}

static void on_settle_tick(uv_timer_t *t)
{
    struct upgrade *u = t->data;
    const char *why = unsettled(u->srv);

    if (why == NULL) {
        uv_timer_stop(t);
        capture(u);
        return;
    }
    if (upgrade_cluster_marker_late(u->srv, u->child_pid,
                                    uv_now(u->srv->loop) - u->frozen_ms)) {
        fail(u, "the new process's relay subscription was not seen (is it "
             "on this node's Redis?)");
        return;
    }
    if (ms_left(u) == 0) {
        char text[160];
        snprintf(text, sizeof text, "the server did not settle in time (%s)",
                 why);
        fail(u, text);
    }
}

/* ---------- the old process: sending ---------- */

struct match_batch {
    struct upgrade *u;
    struct upgrade_buf b;
    uint64_t now, max_id;
    uint32_t n;
    int rc;
};

static uint32_t left_of(uint64_t deadline, uint64_t now)
{
    if (deadline == LOBBY_NO_DEADLINE)
        return UPGRADE_NONE_MS;
    if (deadline <= now)
        return 0;
    return deadline - now >= UPGRADE_NONE_MS ? UPGRADE_NONE_MS - 1
                                             : (uint32_t)(deadline - now);
}

static void flush_matches(struct match_batch *mb)
{
    if (mb->b.n_items == 0 || mb->rc != 0)
        return;
    upgrade_finish(&mb->b);
    mb->rc = send_msg(mb->u->fd, &mb->b, NULL, 0, ms_left(mb->u));
    upgrade_begin(&mb->b, UPGRADE_MATCHES);
}

static void add_match(void *ctx, const struct lobby_match_state *st)
{
    struct match_batch *mb = ctx;
    struct upgrade_match m;

    memset(&m, 0, sizeof m);
    m.id = st->id;
    m.is_playing = st->is_playing;
    m.n_seats = (uint8_t)st->n_seats;
    m.turn_ms = left_of(st->turn_deadline_ms, mb->now);
    for (int i = 0; i < UPGRADE_MAX_SEATS; i++) {
        m.grace_ms[i] = left_of(st->grace_deadline_ms[i], mb->now);
        m.bot[i] = st->is_playing ? 0 : st->bot[i];
    }
    snprintf(m.game, sizeof m.game, "%s", st->game);
    memcpy(m.secret, st->secret, sizeof m.secret);
    m.wait_ms = left_of(st->wait_deadline_ms, mb->now);
    snprintf(m.owner_key, sizeof m.owner_key, "%s", st->owner_key);
    if (st->id > mb->max_id)
        mb->max_id = st->id;
    upgrade_put_match(&mb->b, &m);
    mb->n++;
    if (mb->b.len > UPGRADE_MAX_PAYLOAD / 2)
        flush_matches(mb);
}

static void count_match(void *ctx, const struct lobby_match_state *st)
{
    struct match_batch *mb = ctx;
    mb->n++;
    if (st->id > mb->max_id)
        mb->max_id = st->id;
}

static struct relay *relay_of(struct upgrade *u, const struct conn *c)
{
    for (size_t i = 0; i < u->n_relays; i++)
        if (u->relays[i].tls == c)
            return &u->relays[i];
    return NULL;
}

static void become_relay(struct upgrade *u);

/* One CONNS batch at most this big (its fds, its bytes). */
static bool batch_full(const struct upgrade_buf *b, size_t n_fds, size_t next)
{
    return n_fds == UPGRADE_MAX_FDS ||
           (b->n_items > 0 && b->len + next > UPGRADE_MAX_PAYLOAD - 1024);
}

/* QUEUE: the quick-play queue in its order, each player by the
 * connection it is on; only those whose connection goes across (one
 * closing here as TLS leaves the queue at its close). Batched like the
 * matches; nothing is sent for an empty queue. */
static int send_queue(struct upgrade *u, uint64_t now)
{
    struct server *srv = u->srv;
    struct upgrade_buf b = {0};
    int rc = 0;

    upgrade_begin(&b, UPGRADE_QUEUE);
    for (size_t i = 0; i < srv->quick.n && rc == 0; i++) {
        const struct queue_entry *e = &srv->quick.entries[i];
        const struct session *s = e->who;
        if (s->conn == NULL || s->conn->is_flush_closing ||
            (!s->conn->is_handed && relay_of(u, s->conn) == NULL))
            continue; /* leaving anyway */
        struct upgrade_queued q;
        memset(&q, 0, sizeof q);
        q.conn_id = s->conn->id;
        snprintf(q.game, sizeof q.game, "%s", e->rules->name);
        q.n_seats = (uint8_t)e->n_seats;
        q.rating = e->rating;
        q.waited_ms = now > e->since_ms
                          ? (now - e->since_ms >= UINT32_MAX
                                 ? UINT32_MAX : (uint32_t)(now - e->since_ms))
                          : 0;
        upgrade_put_queued(&b, &q);
        if (b.len > UPGRADE_MAX_PAYLOAD / 2) {
            upgrade_finish(&b);
            rc = send_msg(u->fd, &b, NULL, 0, ms_left(u));
            upgrade_begin(&b, UPGRADE_QUEUE);
        }
    }
    if (rc == 0 && b.n_items > 0) {
        upgrade_finish(&b);
        rc = send_msg(u->fd, &b, NULL, 0, ms_left(u));
    }
    upgrade_buf_free(&b);
    return rc;
}

static int put_tls_pending(struct upgrade *u, struct upgrade_buf *b,
                           uint64_t id)
{
    upgrade_put_tls_pending(b, id);
    if (b->len <= UPGRADE_MAX_PAYLOAD / 2)
        return 0;
    upgrade_finish(b);
    int rc = send_msg(u->fd, b, NULL, 0, ms_left(u));
    upgrade_begin(b, UPGRADE_TLS_PENDING);
    return rc;
}

/* TLS_PENDING: the relayed connections still in their handshake: ours,
 * and those we adopted mid-handshake from an earlier upgrade whose relay
 * has not sent the mark yet (it will reach the next process). */
static int send_tls_pending(struct upgrade *u)
{
    struct upgrade_buf b = {0};
    int rc = 0;

    upgrade_begin(&b, UPGRADE_TLS_PENDING);
    for (size_t i = 0; i < u->n_relays && rc == 0; i++)
        if (u->relays[i].is_handshaking)
            rc = put_tls_pending(u, &b, u->relays[i].tls->id);
    for (struct conn *c = u->srv->conns.all; c != NULL && rc == 0; c = c->next) {
        const struct session *s = c->user;
        if (c->is_handed && s != NULL && s->is_tls_pending)
            rc = put_tls_pending(u, &b, c->id);
    }
    if (rc == 0 && b.n_items > 0) {
        upgrade_finish(&b);
        rc = send_msg(u->fd, &b, NULL, 0, ms_left(u));
    }
    upgrade_buf_free(&b);
    return rc;
}

static void send_all(struct upgrade *u)
{
    struct server *srv = u->srv;
    struct upgrade_buf b = {0};
    int fds[UPGRADE_MAX_FDS];
    size_t n_fds = 0;
    uint32_t n_conns = 0;
    char buf_err[260];
    const char *why = NULL;
    uint64_t now = uv_now(srv->loop);
    uint32_t window_ms = 0;

    /* A cluster node: from here to READY this loop does not run, so the
     * lease is renewed first and bounds the wait. */
    if (upgrade_cluster_renew(srv, &window_ms, &why) != 0)
        goto fail;
    if (window_ms > 0) {
        uv_update_time(srv->loop);
        if (uv_now(srv->loop) + window_ms < u->deadline_ms)
            u->deadline_ms = uv_now(srv->loop) + window_ms;
    }

    /* The final commit: the journal is the new process's to read now. */
    store_close(srv->store);
    srv->store = NULL;
    srv->outbox.store = NULL;
    u->is_store_closed = true;

    for (struct conn *c = srv->conns.all; c != NULL; c = c->next)
        n_conns += c->is_handed || relay_of(u, c) != NULL;
    struct match_batch mb = {.u = u, .now = now};
    lobby_each_match(srv->lobby, count_match, &mb);

    struct upgrade_state st;
    memset(&st, 0, sizeof st);
    snprintf(st.version, sizeof st.version, "%s", tavolo_version_string);
    snprintf(st.server_id, sizeof st.server_id, "%s", srv->server_id);
    st.has_listener = srv->has_listener;
    st.has_admin = u->admin_fd != -1;
    snprintf(st.admin_bound, sizeof st.admin_bound, "%s", srv->admin_bound);
    st.next_conn_id = srv->conns.next_id;
    st.next_match_id = mb.max_id;
    st.n_conns = n_conns;
    st.n_matches = mb.n;
    upgrade_begin(&b, UPGRADE_STATE);
    upgrade_put_state(&b, &st);
    upgrade_finish(&b);
    if (st.has_listener)
        fds[n_fds++] = srv->listener.fd;
    if (st.has_admin)
        fds[n_fds++] = u->admin_fd;
    if (send_msg(u->fd, &b, fds, n_fds, ms_left(u)) != 0) {
        why = "cannot send the state";
        goto fail;
    }

    n_fds = 0;
    upgrade_begin(&b, UPGRADE_CONNS);
    for (struct conn *c = srv->conns.all; c != NULL; c = c->next) {
        struct relay *r = relay_of(u, c);
        if (!c->is_handed && r == NULL)
            continue;
        struct upgrade_conn rec;
        const char *ewhy;
        memset(&rec, 0, sizeof rec);
        if (session_export(c, &rec, now, &ewhy) != 0) {
            snprintf(buf_err, sizeof buf_err, "conn %" PRIu64 ": %s", c->id,
                     ewhy);
            why = buf_err;
            goto fail;
        }
        char *in_owned;
        session_export_input(c, &rec, &in_owned);
        if (r == NULL) {
            rec.out = c->out;
            rec.out_len = c->out_len;
        }
        rec.is_relayed = r != NULL;
        rec.is_closing = c->is_flush_closing;
        if (r != NULL && r->is_handshaking)
            rec.sniff_ms = UPGRADE_NONE_MS; /* from the end of the handshake */
        if (rec.in_len > UPGRADE_MAX_IN || rec.out_len > UPGRADE_MAX_OUT) {
            why = "a connection's buffers are over the format's limits";
            free(in_owned);
            goto fail;
        }
        size_t next = 256 + rec.in_len + rec.out_len;
        if (batch_full(&b, n_fds, next)) {
            upgrade_finish(&b);
            if (send_msg(u->fd, &b, fds, n_fds, ms_left(u)) != 0) {
                why = "cannot send the connections";
                free(in_owned);
                goto fail;
            }
            n_fds = 0;
            upgrade_begin(&b, UPGRADE_CONNS);
        }
        rec.fd_index = (uint32_t)n_fds;
        fds[n_fds++] = r != NULL ? r->give_fd : c->fd;
        upgrade_put_conn(&b, &rec); /* copies in and out */
        free(in_owned);
    }
    if (b.n_items > 0) {
        upgrade_finish(&b);
        if (send_msg(u->fd, &b, fds, n_fds, ms_left(u)) != 0) {
            why = "cannot send the connections";
            goto fail;
        }
    }
    mb.n = 0;
    upgrade_begin(&mb.b, UPGRADE_MATCHES);
    lobby_each_match(srv->lobby, add_match, &mb);
    flush_matches(&mb);
    upgrade_buf_free(&mb.b);
    if (mb.rc != 0) {
        why = "cannot send the matches";
        goto fail;
    }
    if (srv->cluster != NULL) {
        struct upgrade_buf *cm = NULL;
        const char *cwhy;
        int n_cm = upgrade_cluster_build(srv, &cm, &cwhy);
        int crc = n_cm < 0 ? -1 : 0;
        for (int i = 0; i < n_cm; i++) {
            if (crc == 0 && send_msg(u->fd, &cm[i], NULL, 0, ms_left(u)) != 0)
                crc = -1;
            upgrade_buf_free(&cm[i]);
        }
        free(cm);
        if (crc != 0) {
            why = cwhy ? cwhy : "cannot send the cluster state";
            goto fail;
        }
    }
    if (send_queue(u, now) != 0) {
        why = "cannot send the quick-play queue";
        goto fail;
    }
    if (send_tls_pending(u) != 0) {
        why = "cannot send the TLS handshakes in progress";
        goto fail;
    }
    upgrade_begin(&b, UPGRADE_END);
    upgrade_finish(&b);
    if (send_msg(u->fd, &b, NULL, 0, ms_left(u)) != 0) {
        why = "cannot send the end";
        goto fail;
    }

    /* READY, or FAIL, or nothing. */
    char *msg = mem_alloc(UPGRADE_HEADER_LEN + UPGRADE_MAX_PAYLOAD);
    int rfds[UPGRADE_MAX_FDS];
    size_t rn = 0;
    ssize_t n = recv_msg(u->fd, msg, rfds, &rn, ms_left(u));
    struct upgrade_msg_view v;
    const char *pwhy;
    for (size_t i = 0; i < rn; i++)
        close(rfds[i]);
    if (n == 0) {
        why = "the new process exited before it was ready";
    } else if (n < 0) {
        why = errno == ETIMEDOUT ? "the new process did not confirm in time"
                                 : "cannot read the new process's answer";
    } else if (upgrade_parse(msg, (size_t)n, rn, &v, &pwhy) != 0) {
        why = pwhy;
    } else if (v.type == UPGRADE_FAIL) {
        snprintf(buf_err, sizeof buf_err, "the new process refused: %s",
                 v.u.fail.why);
        why = buf_err;
    } else if (v.type != UPGRADE_READY || v.u.ready.n_conns != n_conns ||
               v.u.ready.n_matches != st.n_matches) {
        why = "the new process did not take everything";
    }
    free(msg);
    if (why != NULL)
        goto fail;
    upgrade_begin(&b, UPGRADE_GO);
    upgrade_finish(&b);
    if (send_msg(u->fd, &b, NULL, 0, ms_left(u)) != 0) {
        why = "cannot say GO";
        goto fail;
    }
    upgrade_buf_free(&b);
    /* systemd follows the new main pid before this one can exit */
    sdnotify_hand_main_pid((long)u->child_pid);
    uv_update_time(srv->loop);
    log_event(LOG_INFO, "upgrade.done",
              "pid=%u version=%s conns=%" PRIu32 " matches=%" PRIu32
              " tls_relays=%zu handover_ms=%" PRIu64,
              u->child_pid, u->child_version, n_conns, st.n_matches,
              u->n_relays, uv_now(srv->loop) - u->frozen_ms);
    become_relay(u);
    return;
fail:
    upgrade_buf_free(&b);
    fail(u, why);
}

/* ---------- the old process: after GO ---------- */

static size_t relay_on_data(struct conn *c, const char *data, size_t len)
{
    struct conn *p = c->user;
    if (p != NULL)
        conn_write(p, data, len);
    return len;
}

static void relay_on_eof(struct conn *c)
{
    struct conn *p = c->user;

    if (conn_is_tls(c)) {
        /* best effort: the new process sees the client's half-close and
         * answers what it has (PROTOCOL §9) */
        if (p != NULL && p->fd != -1 && shutdown(p->fd, SHUT_WR) == -1)
            log_debug("relay shutdown: %s", strerror(errno));
        return;
    }
    /* The new process closed its side: flush to the client, then close. */
    if (p != NULL)
        conn_close_after_flush(p, "closed by the server");
    conn_close(c, "relay done");
}

static void relay_on_close(struct conn *c, const char *reason)
{
    struct conn *p = c->user;

    c->user = NULL;
    if (p != NULL) {
        p->user = NULL;
        conn_close_after_flush(p, reason);
    }
}

/* A client relayed mid-handshake has finished it: the new process's
 * sniff window starts with the mark, before any of its plaintext. */
static void relay_on_secure(struct conn *c)
{
    struct conn *p = c->user;
    const char mark = UPGRADE_TLS_SECURE_MARK;

    if (p != NULL)
        conn_write(p, &mark, 1);
}

static const struct conn_ops relay_ops = {
    .on_data = relay_on_data,
    .on_eof = relay_on_eof,
    .on_close = relay_on_close,
    .on_secure = relay_on_secure,
};

/* The handshake deadlines of connections relayed mid-handshake (the
 * same --tls-handshake-ms as before the hand-over, not restarted). */
static void check_handshakes(struct upgrade *u, uint64_t now)
{
    size_t k = 0;

    for (size_t i = 0; i < u->n_hs; i++) {
        struct conn *c = u->srv->conns.all;
        while (c != NULL && c->id != u->hs[i].conn_id)
            c = c->next;
        if (c == NULL || c->tls == NULL || tls_conn_is_established(c->tls) ||
            c->is_closing)
            continue; /* done, one way or the other */
        if (now >= u->hs[i].deadline_ms) {
            /* the relay's close callbacks log nothing of their own */
            log_event(LOG_INFO, "upgrade.relay_handshake_timeout",
                      "conn=%" PRIu64, c->id);
            conn_close(c, "TLS handshake timeout");
            continue;
        }
        u->hs[k++] = u->hs[i];
    }
    u->n_hs = k;
}

static void relay_exit(struct upgrade *u, const char *why)
{
    log_event(LOG_INFO, "upgrade.relay_exit", "reason=%s", why);
    fflush(NULL);
    /* Nothing of this process's state matters any more (the new process
     * owns the store, the lobby and every session): leave at once. */
    _exit(0);
}

static void on_relay_tick(uv_timer_t *t)
{
    struct upgrade *u = t->data;
    struct server *srv = u->srv;

    check_handshakes(u, uv_now(srv->loop));
    if (srv->conns.n_open == 0)
        relay_exit(u, "the last TLS connection closed");
    if (u->is_stopping && uv_now(srv->loop) - u->stop_ms > RELAY_STOP_MS)
        relay_exit(u, "stopped (forced)");
}

void upgrade_relay_stop(struct server *srv)
{
    struct upgrade *u = srv->upgrade;

    if (u->is_stopping)
        return;
    u->is_stopping = true;
    u->stop_ms = uv_now(srv->loop);
    for (struct conn *c = srv->conns.all; c != NULL; c = c->next)
        conn_close_after_flush(c, "relay stopping");
}

/* Lets go of everything but the TLS connections, which it relays. */
static void become_relay(struct upgrade *u)
{
    struct server *srv = u->srv;

    close_channel(u);
    if (srv->has_listener) {
        listen_close(&srv->listener);
        srv->has_listener = false;
    }
    if (u->admin_fd != -1) {
        close(u->admin_fd);
        u->admin_fd = -1;
    }
    srv->has_admin = false;
    for (struct conn *c = srv->conns.all, *next; c != NULL; c = next) {
        next = c->next;
        if (!c->is_handed)
            continue;
        /* Its session is the new process's now: dropped without a word
         * (no AWAY: the player is still there). */
        c->user = NULL;
        conn_forget(c);
    }
    if (u->n_relays == 0)
        relay_exit(u, "no TLS connection to relay");
    /* Staying on for TLS: the node is the new process's, and its lease
     * stays (not given up). */
    upgrade_cluster_leave(srv);
    uv_timer_stop(&srv->lag_timer);
    uv_timer_stop(&srv->deadline_timer);
    uv_timer_stop(&srv->quick_timer);
    /* TLS connections left closing here: their sessions are dropped too
     * (the new process has their seats as away, as the close would). */
    for (struct conn *c = srv->conns.all; c != NULL; c = c->next)
        if (relay_of(u, c) == NULL)
            c->user = NULL;
    srv->conns.ops = &relay_ops;
    for (size_t i = 0; i < u->n_relays; i++) {
        struct relay *r = &u->relays[i];
        struct conn *c = r->tls;
        close(r->give_fd);
        c->user = NULL; /* its session went with the plaintext */
        free(c->in);    /* so did its partial line */
        c->in = NULL;
        c->in_len = c->in_cap = 0;
        struct conn *p = conn_adopt(&srv->conns, r->keep_fd, &c->addr, c->port);
        if (p == NULL) {
            conn_close(c, "upgrade: relay not available");
            continue;
        }
        p->user = c;
        c->user = p;
        conn_start(p);
        if (r->is_handshaking) {
            u->hs = mem_realloc(u->hs, (u->n_hs + 1) * sizeof *u->hs);
            u->hs[u->n_hs++] = (struct hs_pending){c->id, r->hs_deadline_ms};
        }
    }
    free(u->relays);
    u->relays = NULL;
    u->n_relays = 0;
    u->phase = U_RELAY;
    conn_set_freeze_input(&srv->conns, false);
    uv_timer_start(&u->timer, on_relay_tick, RELAY_TICK_MS, RELAY_TICK_MS);
}

/* ---------- the old process: starting ---------- */

static void on_channel(uv_poll_t *h, int status, int events)
{
    struct upgrade *u = h->data;
    char *msg;
    int fds[UPGRADE_MAX_FDS];
    size_t n_fds = 0;
    struct upgrade_msg_view v;
    const char *why;
    (void)events;

    if (u->phase != U_SPAWNED)
        return;
    if (status < 0) {
        fail(u, "the channel to the new process failed");
        return;
    }
    msg = mem_alloc(UPGRADE_HEADER_LEN + UPGRADE_MAX_PAYLOAD);
    ssize_t n = recv_msg(u->fd, msg, fds, &n_fds, 0);
    for (size_t i = 0; i < n_fds; i++)
        close(fds[i]);
    if (n < 0 && errno == ETIMEDOUT) {
        free(msg);
        return; /* spurious wake-up */
    }
    if (n <= 0) {
        free(msg);
        fail(u, n == 0 ? "the new process exited at start"
                       : "cannot read from the new process");
        return;
    }
    if (upgrade_parse(msg, (size_t)n, n_fds, &v, &why) != 0 ||
        v.type != UPGRADE_HELLO) {
        free(msg);
        fail(u, why ? why : "the new process did not say HELLO");
        return;
    }
    free(msg);
    snprintf(u->child_version, sizeof u->child_version, "%s", v.u.hello.version);
    u->child_pid = v.u.hello.pid;
    uv_poll_stop(u->poll);
    log_event(LOG_INFO, "upgrade.settling", "pid=%u version=%s",
              u->child_pid, u->child_version);
    /* From now on no client is read: what is in flight finishes. */
    uv_update_time(u->srv->loop);
    u->frozen_ms = uv_now(u->srv->loop);
    conn_set_freeze_input(&u->srv->conns, true);
    u->phase = U_SETTLING;
    uv_timer_start(&u->timer, on_settle_tick, 0, SETTLE_TICK_MS);
}

static void on_spawn_deadline(uv_timer_t *t)
{
    struct upgrade *u = t->data;
    if (u->phase == U_SPAWNED)
        fail(u, "the new process did not start in time");
}

extern char **environ;

void upgrade_start(struct server *srv)
{
    struct upgrade *u = get(srv);
    int sv[2];
    char env_fd[40];

    if (u->phase != U_IDLE || srv->is_stopping) {
        log_warn("SIGUSR2: %s; ignored", u->phase == U_RELAY
                     ? "this process only relays TLS now"
                     : "an upgrade or a shutdown is under way");
        return;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
        log_event(LOG_ERROR, "upgrade.failed", "error=socketpair: %s",
                  strerror(errno));
        return;
    }
    /* The child's environment: ours, with the channel's fd (3). */
    size_t n_env = 0;
    while (environ[n_env] != NULL)
        n_env++;
    char **env = mem_calloc(n_env + 3, sizeof *env);
    char env_node[80];
    size_t k = 0;
    for (size_t i = 0; i < n_env; i++)
        if (strncmp(environ[i], "TAVOLO_UPGRADE_FD=", 18) != 0 &&
            strncmp(environ[i], UPGRADE_NODE_ENV "=",
                    sizeof UPGRADE_NODE_ENV) != 0)
            env[k++] = environ[i];
    snprintf(env_fd, sizeof env_fd, "TAVOLO_UPGRADE_FD=3");
    env[k++] = env_fd;
    if (srv->cluster != NULL) {
        /* a cluster node: the new process subscribes to its relay channel
         * before it says HELLO (docs/CLUSTER.md, "Upgrading a node") */
        snprintf(env_node, sizeof env_node, UPGRADE_NODE_ENV "=%s",
                 srv->server_id);
        env[k++] = env_node;
    }
    uv_stdio_container_t stdio[4] = {
        {.flags = UV_INHERIT_FD, .data.fd = 0},
        {.flags = UV_INHERIT_FD, .data.fd = 1},
        {.flags = UV_INHERIT_FD, .data.fd = 2},
        {.flags = UV_INHERIT_FD, .data.fd = sv[1]},
    };
    uv_process_options_t opt = {
        .exit_cb = on_proc_exit,
        .file = exe_path,
        .args = saved_argv,
        .env = env,
        .stdio_count = 4,
        .stdio = stdio,
    };
    uv_process_t *proc = mem_calloc(1, sizeof *proc);
    proc->data = u;
    int rc = uv_spawn(srv->loop, proc, &opt);
    free(env);
    close(sv[1]);
    if (rc != 0) {
        close(sv[0]);
        log_event(LOG_ERROR, "upgrade.failed", "error=cannot start %s: %s "
                  "serving=yes", exe_path, uv_strerror(rc));
        uv_close((uv_handle_t *)proc, free_handle);
        return;
    }
    u->proc = proc;
    u->fd = sv[0];
    fcntl(u->fd, F_SETFL, fcntl(u->fd, F_GETFL) | O_NONBLOCK);
    u->poll = mem_calloc(1, sizeof *u->poll);
    uv_poll_init(srv->loop, u->poll, u->fd);
    u->poll->data = u;
    uv_poll_start(u->poll, UV_READABLE | UV_DISCONNECT, on_channel);
    u->phase = U_SPAWNED;
    u->started_ms = uv_now(srv->loop);
    u->deadline_ms = u->started_ms + srv->cfg->upgrade_timeout_ms;
    uv_timer_start(&u->timer, on_spawn_deadline, srv->cfg->upgrade_timeout_ms, 0);
    log_event(LOG_INFO, "upgrade.started", "binary=%s pid=%d", exe_path,
              proc->pid);
}

static void free_msgs(void);

static void on_timer_closed(uv_handle_t *h)
{
    struct upgrade *u = h->data;
    free(u->relays);
    free(u->hs);
    free(u);
}

void upgrade_close(struct server *srv)
{
    struct upgrade *u = srv->upgrade;
    if (u == NULL)
        return;
    close_channel(u);
    if (u->proc != NULL) {
        u->proc->data = NULL; /* its exit callback closes it */
        u->proc = NULL;
    }
    srv->upgrade = NULL;
    uv_close((uv_handle_t *)&u->timer, on_timer_closed);
}

void upgrade_free(struct server *srv)
{
    free_msgs(); /* a new process that failed half-way */
    upgrade_cluster_child_free();
    (void)srv;
}

/* ---------- the new process ---------- */

struct child_msg {
    char *data;
    size_t len;
    int fds[UPGRADE_MAX_FDS];
    size_t n_fds;
    struct upgrade_msg_view v;
};

static struct {
    int fd;
    struct upgrade_state st;
    int listen_fd, admin_fd;
    struct child_msg *msgs;
    size_t n_msgs;
} child = {.fd = -1, .listen_fd = -1, .admin_fd = -1};

bool upgrade_is_child(void)
{
    return getenv("TAVOLO_UPGRADE_FD") != NULL;
}

static void child_fail(struct server *srv, const char *why)
{
    struct upgrade_buf b = {0};

    log_event(LOG_ERROR, "upgrade.child_failed", "error=%s", why);
    if (child.fd != -1) {
        upgrade_begin(&b, UPGRADE_FAIL);
        upgrade_put_fail(&b, why);
        upgrade_finish(&b);
        /* best effort: the old process also notices our exit */
        if (send_msg(child.fd, &b, NULL, 0, 1000) != 0)
            log_debug("upgrade: FAIL not sent: %s", strerror(errno));
        upgrade_buf_free(&b);
    }
    (void)srv;
}

static void free_msgs(void)
{
    for (size_t i = 0; i < child.n_msgs; i++) {
        for (size_t k = 0; k < child.msgs[i].n_fds; k++)
            if (child.msgs[i].fds[k] != -1)
                close(child.msgs[i].fds[k]);
        free(child.msgs[i].data);
    }
    free(child.msgs);
    child.msgs = NULL;
    child.n_msgs = 0;
}

int upgrade_child_receive(struct server *srv)
{
    const char *env = getenv("TAVOLO_UPGRADE_FD");
    int timeout = (int)srv->cfg->upgrade_timeout_ms;
    struct upgrade_buf b = {0};

    child.fd = env ? atoi(env) : -1;
    unsetenv("TAVOLO_UPGRADE_FD"); /* not for a later upgrade's child */
    if (child.fd < 0 || fcntl(child.fd, F_SETFD, FD_CLOEXEC) == -1) {
        log_error("upgrade: TAVOLO_UPGRADE_FD is not an open descriptor");
        return -1;
    }
    fcntl(child.fd, F_SETFL, fcntl(child.fd, F_GETFL) | O_NONBLOCK);
    const char *cwhy = NULL;
    if (upgrade_cluster_child_begin(srv, &cwhy) != 0) {
        child_fail(srv, cwhy);
        return -1;
    }
    struct upgrade_hello h = {.pid = (uint32_t)getpid()};
    snprintf(h.version, sizeof h.version, "%s", tavolo_version_string);
    upgrade_begin(&b, UPGRADE_HELLO);
    upgrade_put_hello(&b, &h);
    upgrade_finish(&b);
    int rc = send_msg(child.fd, &b, NULL, 0, timeout);
    upgrade_buf_free(&b);
    if (rc != 0) {
        log_error("upgrade: cannot say HELLO: %s", strerror(errno));
        return -1;
    }
    for (;;) {
        struct child_msg m = {0};
        const char *why;
        m.data = mem_alloc(UPGRADE_HEADER_LEN + UPGRADE_MAX_PAYLOAD);
        ssize_t n = recv_msg(child.fd, m.data, m.fds, &m.n_fds, timeout);
        if (n <= 0) {
            free(m.data);
            child_fail(srv, n == 0 ? "the old process went away"
                                   : "no state from the old process in time");
            return -1;
        }
        m.len = (size_t)n;
        if (upgrade_parse(m.data, m.len, m.n_fds, &m.v, &why) != 0) {
            for (size_t i = 0; i < m.n_fds; i++)
                close(m.fds[i]);
            free(m.data);
            child_fail(srv, why);
            return -1;
        }
        if (m.v.type == UPGRADE_END) {
            free(m.data);
            break;
        }
        if (m.v.type == UPGRADE_STATE) {
            child.st = m.v.u.state;
            if (child.st.server_id[0] != '\0') /* HELLO's id stays */
                snprintf(srv->server_id, sizeof srv->server_id, "%s",
                         child.st.server_id);
            size_t i = 0;
            if (child.st.has_listener)
                child.listen_fd = m.fds[i++];
            if (child.st.has_admin)
                child.admin_fd = m.fds[i++];
            free(m.data);
            continue;
        }
        if (m.v.type == UPGRADE_CLUSTER) {
            upgrade_cluster_child_take(&m.v);
            free(m.data);
            continue;
        }
        if (m.v.type != UPGRADE_CONNS && m.v.type != UPGRADE_MATCHES &&
            m.v.type != UPGRADE_QUEUE && m.v.type != UPGRADE_TLS_PENDING) {
            free(m.data);
            child_fail(srv, "unexpected message before END");
            return -1;
        }
        child.msgs = mem_realloc(child.msgs,
                                 (child.n_msgs + 1) * sizeof *child.msgs);
        child.msgs[child.n_msgs++] = m;
    }
    log_event(LOG_INFO, "upgrade.received", "from_version=%s conns=%" PRIu32
              " matches=%" PRIu32, child.st.version, child.st.n_conns,
              child.st.n_matches);
    return 0;
}

int upgrade_child_listen_fd(struct server *srv)
{
    (void)srv;
    int fd = child.listen_fd;
    child.listen_fd = -1;
    return fd;
}

int upgrade_child_admin_fd(struct server *srv)
{
    (void)srv;
    int fd = child.admin_fd;
    child.admin_fd = -1;
    return fd;
}

static struct lobby_match_state to_state(const struct upgrade_match *m,
                                         uint64_t now)
{
    struct lobby_match_state st;
    memset(&st, 0, sizeof st);
    st.id = m->id;
    st.is_playing = m->is_playing;
    st.n_seats = m->n_seats;
    st.turn_deadline_ms = m->turn_ms == UPGRADE_NONE_MS ? LOBBY_NO_DEADLINE
                                                        : now + m->turn_ms;
    for (int i = 0; i < 4; i++) {
        st.grace_deadline_ms[i] = m->grace_ms[i] == UPGRADE_NONE_MS
                                      ? LOBBY_NO_DEADLINE
                                      : now + m->grace_ms[i];
        st.bot[i] = m->bot[i];
    }
    snprintf(st.game, sizeof st.game, "%s", m->game);
    memcpy(st.secret, m->secret, sizeof st.secret);
    st.wait_deadline_ms = m->wait_ms == UPGRADE_NONE_MS ? LOBBY_NO_DEADLINE
                                                        : now + m->wait_ms;
    snprintf(st.owner_key, sizeof st.owner_key, "%s", m->owner_key);
    return st;
}

static struct conn *adopted_conn(struct conn **adopted, size_t n,
                                  uint64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (adopted[i]->id == id && adopted[i]->user != NULL)
            return adopted[i];
    return NULL;
}

/* After the connections: the quick-play queue, in its order, and the
 * connections relayed mid-handshake. Anything that does not fit (a
 * player not among the connections, a game this binary lacks) fails the
 * upgrade: the old process serves on, and no player is left queued
 * nowhere. */
static const char *adopt_queue_and_handshakes(struct server *srv,
                                              struct conn **adopted,
                                              size_t n_adopted, uint64_t now)
{
    size_t n_queued = 0;

    for (size_t i = 0; i < child.n_msgs; i++) {
        struct child_msg *m = &child.msgs[i];
        size_t pos = 0;
        if (m->v.type == UPGRADE_QUEUE) {
            struct upgrade_queued q;
            while (upgrade_next_queued(&m->v, &pos, &q) == 1) {
                struct conn *c = adopted_conn(adopted, n_adopted, q.conn_id);
                const struct rules *r = rules_find(q.game, strlen(q.game));
                if (c == NULL)
                    return "a queued player's connection did not come across";
                if (r == NULL)
                    return "a queued player's game is not in this binary";
                uint64_t since = now > q.waited_ms ? now - q.waited_ms : 0;
                if (quick_adopt(c->user, r, q.n_seats, q.rating, since) != 0)
                    return "a queued player cannot be queued here";
                n_queued++;
            }
        } else if (m->v.type == UPGRADE_TLS_PENDING) {
            uint64_t id;
            while (upgrade_next_tls_pending(&m->v, &pos, &id) == 1) {
                struct conn *c = adopted_conn(adopted, n_adopted, id);
                if (c == NULL)
                    return "a connection relayed mid-handshake did not come across";
                session_adopt_tls_pending(c->user);
            }
        }
    }
    if (n_queued > 0) {
        quick_rearm(srv);
        log_event(LOG_INFO, "upgrade.queue_adopted", "players=%zu", n_queued);
    }
    return NULL;
}

int upgrade_child_finish(struct server *srv)
{
    uint64_t now = uv_now(srv->loop);
    uint32_t n_conns = 0, n_matches = 0;
    struct lobby_match_state *ms = NULL;
    struct conn **adopted = NULL;
    size_t n_adopted = 0;
    int timeout = (int)srv->cfg->upgrade_timeout_ms;

    lobby_set_last_id(srv->lobby, child.st.next_match_id);
    /* Matches first (waiting ones are rebuilt, players sit down after). */
    ms = mem_calloc(child.st.n_matches + 1, sizeof *ms);
    for (size_t i = 0; i < child.n_msgs; i++) {
        struct child_msg *m = &child.msgs[i];
        struct upgrade_match rec;
        size_t pos = 0;
        if (m->v.type != UPGRADE_MATCHES)
            continue;
        while (upgrade_next_match(&m->v, &pos, &rec) == 1) {
            if (n_matches == child.st.n_matches) {
                n_matches++;
                break;
            }
            ms[n_matches] = to_state(&rec, now);
            if (!rec.is_playing &&
                lobby_adopt_waiting(srv->lobby, &ms[n_matches]) != 0)
                log_event(LOG_WARN, "upgrade.match_lost", "match=%" PRIu64
                          " reason=%s", rec.id, "waiting match not rebuilt");
            n_matches++;
        }
    }
    adopted = mem_calloc(child.st.n_conns + 1, sizeof *adopted);
    for (size_t i = 0; i < child.n_msgs; i++) {
        struct child_msg *m = &child.msgs[i];
        struct upgrade_conn rec;
        size_t pos = 0;
        if (m->v.type != UPGRADE_CONNS)
            continue;
        while (upgrade_next_conn(&m->v, &pos, &rec) == 1) {
            int fd = m->fds[rec.fd_index];
            m->fds[rec.fd_index] = -1;
            n_conns++;
            struct net_addr a;
            memcpy(a.b, rec.addr, 16);
            struct conn *c = conn_adopt(&srv->conns, fd, &a, rec.port);
            if (c == NULL)
                continue; /* logged; the client is lost */
            conn_restore(c, rec.id, rec.in, rec.in_len, rec.out, rec.out_len);
            /* counted again here; over this binary's caps it stays, but
             * uncounted (its close must not release another's count) */
            if (rec.is_admitted && admit_take(&srv->admit, &a) == ADMIT_OK)
                c->is_admitted = true;
            const char *why;
            if (session_adopt(srv, c, &rec, now, &why) != 0) {
                log_event(LOG_WARN, "upgrade.conn_lost", "conn=%" PRIu64
                          " reason=%s", rec.id, why);
                conn_close(c, "upgrade: state not adoptable");
                continue;
            }
            if (rec.is_closing)
                conn_close_after_flush(c, "closing (handed over)");
            if (n_adopted < child.st.n_conns)
                adopted[n_adopted++] = c;
        }
        for (size_t k = 0; k < m->n_fds; k++)
            if (m->fds[k] != -1)
                close(m->fds[k]);
        m->n_fds = 0;
    }
    if (srv->conns.next_id < child.st.next_conn_id)
        srv->conns.next_id = child.st.next_conn_id;
    lobby_adopt_clocks(srv->lobby, ms, n_matches < child.st.n_matches
                                           ? n_matches : child.st.n_matches);
    free(ms);
    const char *qwhy = adopt_queue_and_handshakes(srv, adopted, n_adopted, now);
    free_msgs();
    /* a cluster node's proxies and gateway sessions, once their
     * matches and connections are in */
    if (upgrade_cluster_child_adopt(srv) != 0) {
        child_fail(srv, "a relayed session could not be placed");
        close(child.fd);
        child.fd = -1;
        free(adopted);
        return -1;
    }
    if (qwhy != NULL) {
        child_fail(srv, qwhy);
        close(child.fd);
        child.fd = -1;
        free(adopted);
        return -1;
    }
    server_rearm(srv);

    struct upgrade_buf b = {0};
    struct upgrade_ready r = {.n_conns = n_conns, .n_matches = n_matches};
    upgrade_begin(&b, UPGRADE_READY);
    upgrade_put_ready(&b, &r);
    upgrade_finish(&b);
    int rc = send_msg(child.fd, &b, NULL, 0, timeout);
    upgrade_buf_free(&b);
    char *msg = mem_alloc(UPGRADE_HEADER_LEN + UPGRADE_MAX_PAYLOAD);
    int fds[UPGRADE_MAX_FDS];
    size_t n_fds = 0;
    struct upgrade_msg_view v;
    const char *why = "cannot say READY";
    if (rc == 0) {
        ssize_t n = recv_msg(child.fd, msg, fds, &n_fds, timeout);
        why = n <= 0 ? "no GO from the old process"
                     : upgrade_parse(msg, (size_t)n, n_fds, &v, &why) != 0 ||
                               v.type != UPGRADE_GO
                           ? "the old process did not say GO"
                           : NULL;
    }
    free(msg);
    close(child.fd);
    child.fd = -1;
    if (why != NULL) {
        /* The old process serves on: touch no client (nothing has been
         * written or read yet) and exit. */
        log_event(LOG_ERROR, "upgrade.child_failed", "error=%s", why);
        free(adopted);
        return -1;
    }
    upgrade_cluster_child_done(srv); /* the lease is this process's now */
    for (size_t i = 0; i < n_adopted; i++)
        conn_start(adopted[i]);
    free(adopted);
    sdnotify_took_over();
    log_event(LOG_INFO, "upgrade.took_over", "pid=%ld version=%s "
              "from_version=%s conns=%" PRIu32 " matches=%" PRIu32,
              (long)getpid(), tavolo_version_string,
              child.st.version, n_conns, n_matches);
    return 0;
}
