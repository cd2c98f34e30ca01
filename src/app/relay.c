/*
 * relay: see relay.h.
 */
#include "app/relay.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/metrics.h"
#include "app/server.h"
#include "app/session.h"
#include "app/session_internal.h"
#include "base/log.h"
#include "base/mem.h"
#include "cluster/cluster.h"
#include "game/lobby.h"
#include "game/lobby_upgrade.h"
#include "net/conn.h"

#define RELAY_LINE_CAP (OUT_LINE_CAP + 128)

static const char *me(const struct server *srv)
{
    return cluster_node_id(srv->cluster);
}

static void send_fmt(struct server *srv, const char *node, const char *fmt,
                     ...) __attribute__((format(printf, 3, 4)));

static void send_fmt(struct server *srv, const char *node, const char *fmt, ...)
{
    char line[RELAY_LINE_CAP];
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        n = sizeof line - 1;
    cluster_send(srv->cluster, node, line, (size_t)n);
}

/* ---------- the fence ---------- */

void relay_guard(struct server *srv)
{
    if (srv->cluster == NULL || cluster_lease_ok(srv->cluster))
        return;
    size_t waiting, playing;
    uint64_t finished;
    lobby_counts(srv->lobby, &waiting, &playing, &finished);
    if (playing == 0 && srv->n_proxies == 0)
        return; /* nothing another node could have taken over */
    struct cluster_stats st;
    cluster_get_stats(srv->cluster, &st);
    log_error("cluster: lease of node %s not confirmed for %" PRIu64 " ms "
              "while it runs %zu matches: other nodes may own them now; "
              "stopping at once without sending another line (docs/CLUSTER.md, "
              "Fencing)", me(srv), st.lease_age_ms, playing);
    _exit(75); /* EX_TEMPFAIL: the supervisor starts a fresh node */
}

/* ---------- sessions here for connections elsewhere (proxies) ---------- */

static void proxy_key(char *out, size_t cap, const char *gw, uint64_t conn)
{
    snprintf(out, cap, "%s/%" PRIu64, gw, conn);
}

static void conn_key(char *out, size_t cap, uint64_t conn)
{
    snprintf(out, cap, "%" PRIu64, conn);
}

static struct session *proxy_find(struct server *srv, const char *gw,
                                  uint64_t conn)
{
    char key[CLUSTER_NODE_MAX + 24];
    proxy_key(key, sizeof key, gw, conn);
    return strmap_get(&srv->proxies, key, strlen(key));
}

/* Out of the map; the member (if any) is the caller's business. */
static void proxy_drop(struct session *s)
{
    struct server *srv = s->srv;

    if (!s->is_proxy_open)
        return;
    s->is_proxy_open = false;
    strmap_del(&srv->proxies, s->relay_key, strlen(s->relay_key));
    srv->n_proxies--;
    session_unref(s);
}

/* The connection on the gateway is gone: as a local close would. */
static void proxy_close(struct session *s)
{
    struct server *srv = s->srv;

    if (!s->is_proxy_open)
        return;
    session_ref(s);
    quick_leave(s);
    outbox_begin(&srv->outbox);
    lobby_member_gone(srv->lobby, s->member, uv_now(srv->loop));
    outbox_end(&srv->outbox);
    s->member = NULL;
    proxy_drop(s);
    session_unref(s);
}

static struct session *proxy_new(struct server *srv, const char *gw,
                                 uint64_t conn)
{
    struct session *s = mem_calloc(1, sizeof *s);

    s->srv = srv;
    s->refs = 1; /* the map's */
    s->state = SESSION_LINE;
    s->is_proxy = true;
    s->is_proxy_open = true;
    snprintf(s->gw, sizeof s->gw, "%s", gw);
    s->gw_conn = conn;
    proxy_key(s->relay_key, sizeof s->relay_key, gw, conn);
    s->member = lobby_member_new(srv->lobby, s);
    strmap_put(&srv->proxies, s->relay_key, s);
    srv->n_proxies++;
    return s;
}

void relay_out(struct session *s, const char *line, size_t len)
{
    struct server *srv = s->srv;

    if (!s->is_proxy_open)
        return;
    relay_guard(srv);
    send_fmt(srv, s->gw, "O %" PRIu64 " %.*s", s->gw_conn, (int)len, line);
}

void relay_proxy_evicted(struct session *s)
{
    if (!s->is_proxy_open)
        return;
    send_fmt(s->srv, s->gw, "C %" PRIu64, s->gw_conn);
    proxy_drop(s);
}

/* ---------- sessions here whose member lives elsewhere ---------- */

static struct session *remote_find(struct server *srv, uint64_t conn)
{
    char key[24];
    conn_key(key, sizeof key, conn);
    return strmap_get(&srv->remotes, key, strlen(key));
}

static void remote_forget(struct session *s)
{
    if (s->relay_key[0] == '\0' || s->is_proxy)
        return;
    strmap_del(&s->srv->remotes, s->relay_key, strlen(s->relay_key));
    s->relay_key[0] = '\0';
    s->home[0] = '\0';
    s->is_queued_remote = false;
    session_unref(s);
}

bool relay_takes_line(struct session *s, const char *line, size_t len)
{
    struct server *srv = s->srv;

    if (s->home[0] == '\0' || s->conn == NULL)
        return false;
    if (!cluster_peer_is_alive(srv->cluster, s->home)) {
        session_reply_err(s, "UNAVAILABLE",
                          "the node running your match is gone: RESUME");
        conn_close_after_flush(s->conn, "home node lost");
        return true;
    }
    send_fmt(srv, s->home, "L %s %" PRIu64 " %.*s", me(srv), s->conn->id,
             (int)len, line);
    session_wait_for_answer(s);
    server_deadline_push(srv, &srv->relay_q, &s->relay_node);
    return true;
}

void relay_timed_out(struct session *s)
{
    if (s->conn == NULL)
        return;
    /* The home may still act on the command: only a RESUME tells. */
    session_reply_err(s, "UNAVAILABLE",
                      "no answer from the node running your match: RESUME");
    conn_close_after_flush(s->conn, "relay timeout");
    if (s->is_waiting)
        session_answered(s);
}

void relay_session_closed(struct session *s)
{
    struct server *srv = s->srv;
    bool is_relaying = dq_linked(&s->relay_node);

    dq_remove(&s->relay_node);
    if (s->is_proxy) {
        proxy_drop(s);
        return;
    }
    if (s->home[0] != '\0' && srv->cluster != NULL)
        send_fmt(srv, s->home, "G %s %" PRIu64, me(srv), s->conn->id);
    remote_forget(s);
    if (is_relaying && s->is_waiting)
        session_answered(s); /* no reply will find it now */
}

/* Moves s's member to node target, with the command that needs it there.
 * The member is free (no seat, not watching). */
static void handoff(struct session *s, const char *target, const char *line,
                    size_t len)
{
    struct server *srv = s->srv;
    struct lobby_identity id;
    const char *gw = s->is_proxy ? s->gw : me(srv);
    uint64_t conn = s->is_proxy ? s->gw_conn : s->conn->id;

    lobby_member_identity(s->member, &id);
    send_fmt(srv, target, "A %s %" PRIu64 " %s %d %s %s %s", gw, conn,
             id.name[0] ? id.name : "-", id.is_registered ? 1 : 0,
             id.token[0] ? id.token : "-", id.seed[0] ? id.seed : "-",
             id.key[0] ? id.key : "-");
    send_fmt(srv, target, "L %s %" PRIu64 " %.*s", gw, conn, (int)len, line);
    /* The name and token move with it: not freed in Redis. */
    srv->is_handing_off = true;
    outbox_begin(&srv->outbox);
    lobby_member_gone(srv->lobby, s->member, uv_now(srv->loop));
    outbox_end(&srv->outbox);
    srv->is_handing_off = false;
    s->member = NULL;
    srv->metrics.n_handoffs++;
    /* The NICK deadline (PROTOCOL §6) stays with the connection, on its
     * gateway: an anonymous member that moves keeps it, until a relayed
     * OK NICK or OK RESUME comes back (on_out). */
    if (s->is_proxy) {
        proxy_drop(s); /* the gateway hears from target from now on */
        return;
    }
    snprintf(s->home, sizeof s->home, "%s", target);
    conn_key(s->relay_key, sizeof s->relay_key, conn);
    session_ref(s); /* the map's */
    strmap_put(&srv->remotes, s->relay_key, s);
    server_deadline_push(srv, &srv->relay_q, &s->relay_node);
}

/* ---------- incoming relay lines ---------- */

static bool next_word(const char **p, const char *end, char *out, size_t cap)
{
    const char *q = *p;
    size_t n = 0;

    while (q < end && *q != ' ')
        q++;
    n = (size_t)(q - *p);
    if (n == 0 || n >= cap)
        return false;
    memcpy(out, *p, n);
    out[n] = '\0';
    *p = q < end ? q + 1 : q;
    return true;
}

static bool next_u64(const char **p, const char *end, uint64_t *out)
{
    char w[24];
    char *e;
    if (!next_word(p, end, w, sizeof w))
        return false;
    *out = strtoull(w, &e, 10);
    return *e == '\0';
}

static bool is_reply(const char *line, size_t len)
{
    return (len >= 2 && memcmp(line, "OK", 2) == 0 && (len == 2 || line[2] == ' ')) ||
           (len >= 4 && memcmp(line, "ERR ", 4) == 0);
}

static void on_out(struct server *srv, const char *from, uint64_t conn,
                   const char *line, size_t len)
{
    struct session *s = remote_find(srv, conn);

    if (s == NULL || s->conn == NULL) {
        /* The connection is gone (or its member came back here): the
         * sender must drop its proxy. */
        if (s == NULL || s->home[0] != '\0')
            send_fmt(srv, from, "G %s %" PRIu64, me(srv), conn);
        return;
    }
    if (strcmp(s->home, from) != 0) /* a move to another home completed */
        snprintf(s->home, sizeof s->home, "%s", from);
    session_write_line(s, line, len);
    if ((len > 8 && memcmp(line, "OK NICK ", 8) == 0) ||
        (len > 10 && memcmp(line, "OK RESUME ", 10) == 0))
        dq_remove(&s->nick_node); /* named at its home: §6 is met */
    if (len > 9 && memcmp(line, "OK QUICK ", 9) == 0)
        s->is_queued_remote = true;
    else if ((len > 7 && memcmp(line, "SEATED ", 7) == 0) ||
             (len >= 8 && memcmp(line, "OK LEAVE", 8) == 0))
        s->is_queued_remote = false;
    if (is_reply(line, len) && s->is_waiting) {
        dq_remove(&s->relay_node);
        session_answered(s);
    }
}

static void on_adopt(struct server *srv, const char *gw, uint64_t conn,
                     const char *p, const char *end)
{
    struct lobby_identity id;
    char name[LOBBY_NAME_MAX + 1], reg[4], token[LOBBY_TOKEN_LEN + 1],
        seed[LOBBY_SEED_MAX + 1], key[LOBBY_KEY_MAX + 1];

    if (!next_word(&p, end, name, sizeof name) ||
        !next_word(&p, end, reg, sizeof reg) ||
        !next_word(&p, end, token, sizeof token) ||
        !next_word(&p, end, seed, sizeof seed) ||
        !next_word(&p, end, key, sizeof key))
        return;
    memset(&id, 0, sizeof id);
    if (strcmp(name, "-") != 0)
        snprintf(id.name, sizeof id.name, "%s", name);
    if (strcmp(token, "-") != 0)
        snprintf(id.token, sizeof id.token, "%s", token);
    if (strcmp(seed, "-") != 0)
        snprintf(id.seed, sizeof id.seed, "%s", seed);
    if (strcmp(key, "-") != 0)
        snprintf(id.key, sizeof id.key, "%s", key);
    id.is_registered = reg[0] == '1';

    struct session *s;
    if (strcmp(gw, me(srv)) == 0) {
        /* Back home: the connection is ours. */
        s = remote_find(srv, conn);
        if (s == NULL || s->conn == NULL)
            return;
        s->member = lobby_member_new(srv->lobby, s);
        s->home[0] = '\0'; /* stays in remotes until its L (on_line) */
        s->is_coming_home = true;
    } else {
        struct session *old = proxy_find(srv, gw, conn);
        if (old != NULL)
            proxy_close(old);
        s = proxy_new(srv, gw, conn);
    }
    enum lobby_code rc = lobby_adopt(srv->lobby, s->member, &id);
    if (rc != LOBBY_OK)
        log_warn("cluster: cannot adopt %s from %s (%s): it goes on without "
                 "a name", id.name, gw, lobby_code_name(rc));
    srv->metrics.n_adopted++;
}

static void on_line(struct server *srv, const char *from, const char *gw,
                    uint64_t conn, const char *line, size_t len)
{
    struct session *s;

    if (strcmp(gw, me(srv)) == 0) {
        s = remote_find(srv, conn);
        if (s == NULL || !s->is_coming_home)
            return;
        s->is_coming_home = false;
        dq_remove(&s->relay_node);
        if (s->is_waiting)
            session_answered(s);
        session_ref(s);
        remote_forget(s);
        if (s->conn != NULL)
            session_handle_line(s, line, len);
        session_unref(s);
        return;
    }
    s = proxy_find(srv, gw, conn);
    if (s == NULL) {
        /* This node lost the member (it died and came back, or a race):
         * the client must start again. */
        send_fmt(srv, gw, "O %" PRIu64 " ERR UNAVAILABLE your session was "
                 "lost on node %s: RESUME", conn, me(srv));
        send_fmt(srv, gw, "C %" PRIu64, conn);
        (void)from;
        return;
    }
    session_handle_line(s, line, len);
}

static void on_message(void *ctx, const char *from, const char *body,
                       size_t len)
{
    struct server *srv = ctx;
    const char *p = body, *end = body + len;

    relay_guard(srv);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        const char *q = p + 2;
        char gw[CLUSTER_NODE_MAX];
        uint64_t conn;

        if (eol - p < 3 || p[1] != ' ') {
            p = eol + 1;
            continue;
        }
        switch (p[0]) {
        case 'O':
            if (next_u64(&q, eol, &conn))
                on_out(srv, from, conn, q, (size_t)(eol - q));
            break;
        case 'L':
            if (next_word(&q, eol, gw, sizeof gw) && next_u64(&q, eol, &conn))
                on_line(srv, from, gw, conn, q, (size_t)(eol - q));
            break;
        case 'A':
            if (next_word(&q, eol, gw, sizeof gw) && next_u64(&q, eol, &conn))
                on_adopt(srv, gw, conn, q, eol);
            break;
        case 'C':
            if (next_u64(&q, eol, &conn)) {
                struct session *s = remote_find(srv, conn);
                if (s != NULL && s->conn != NULL)
                    conn_close_after_flush(s->conn, "resumed on another connection");
            }
            break;
        case 'G':
            if (next_word(&q, eol, gw, sizeof gw) && next_u64(&q, eol, &conn)) {
                struct session *s = proxy_find(srv, gw, conn);
                if (s != NULL)
                    proxy_close(s);
            }
            break;
        default:
            break;
        }
        p = eol + 1;
    }
}

/* ---------- peers ---------- */

/* Everything this node shares with node ends: it died, or messages
 * between the two were lost. */
static void drop_shared(struct server *srv, const char *node)
{
    size_t n = 0;
    struct session **all;

    /* Proxies for its connections: those connections are gone (AWAY). */
    all = mem_calloc(srv->proxies.n_slots + 1, sizeof *all);
    for (size_t i = 0; i < srv->proxies.n_slots; i++) {
        struct session *s = strmap_slot_value(&srv->proxies, i);
        if (s != NULL && strcmp(s->gw, node) == 0)
            all[n++] = s;
    }
    for (size_t i = 0; i < n; i++)
        proxy_close(all[i]);
    free(all);
    /* Our connections whose member lived there: they come back with
     * RESUME, through any node, once the match runs again. */
    n = 0;
    all = mem_calloc(srv->remotes.n_slots + 1, sizeof *all);
    for (size_t i = 0; i < srv->remotes.n_slots; i++) {
        struct session *s = strmap_slot_value(&srv->remotes, i);
        if (s != NULL && strcmp(s->home, node) == 0 && s->conn != NULL)
            all[n++] = s;
    }
    for (size_t i = 0; i < n; i++) {
        struct session *s = all[i];
        dq_remove(&s->relay_node);
        if (s->is_queued_remote) /* the queue went with its node */
            session_write_line_str(s, "ERR UNAVAILABLE the quick-play queue's "
                                      "node is gone: connect, NICK and QUICK "
                                      "again on any node");
        else
            session_write_line_str(s, "ERR UNAVAILABLE the node running your "
                                      "match is gone: RESUME on any node");
        conn_close_after_flush(s->conn, "home node lost");
        if (s->is_waiting)
            session_answered(s); /* that ERR was its command's reply */
    }
    free(all);
}

static void on_peer_dead(void *ctx, const char *node)
{
    drop_shared(ctx, node);
}

static void on_relay_gap(void *ctx, const char *node)
{
    drop_shared(ctx, node);
}

static void on_claimed(void *ctx, uint64_t id, uint64_t epoch, const char *from)
{
    struct server *srv = ctx;
    server_take_over(srv, id, epoch, from);
}

static void on_state(void *ctx, bool is_up)
{
    struct server *srv = ctx;
    srv->metrics.n_redis_state_changes++;
    (void)is_up;
}

static void on_lease_lost(void *ctx, const char *why)
{
    struct server *srv = ctx;
    log_error("cluster: node %s: %s; stopping at once without sending another "
              "line (docs/CLUSTER.md, Fencing)", me(srv), why);
    _exit(75);
}

/* ---------- the lobby's hooks ---------- */

static void hook_name(void *ctx, const char *name, bool is_held)
{
    struct server *srv = ctx;
    if (srv->cluster == NULL || srv->is_handing_off || srv->is_name_claimed)
        return; /* (no cluster: the lobby freed at exit, after the lease) */
    if (is_held)
        cluster_name_hold(srv->cluster, name);
    else
        cluster_name_free(srv->cluster, name);
}

static void hook_token(void *ctx, const char *token, bool is_valid)
{
    struct server *srv = ctx;
    if (srv->cluster == NULL || srv->is_handing_off)
        return;
    if (is_valid)
        cluster_token_set(srv->cluster, token);
    else
        cluster_token_free(srv->cluster, token);
}

static void on_listed(void *ctx, int rc)
{
    struct outbox_batch *b = ctx;
    (void)rc; /* unreachable: LIST and JOIN elsewhere say UNAVAILABLE */
    outbox_release(b);
}

/* The batch that changed a match's listing leaves once the directory has
 * it: a client told OK CREATE can have a friend JOIN on any node. */
static void hook_listed(void *ctx, uint64_t id, const char *item)
{
    struct server *srv = ctx;
    if (srv->cluster == NULL)
        return;
    struct outbox_batch *b = outbox_hold(&srv->outbox);
    cluster_match_listed(srv->cluster, id, item, b ? on_listed : NULL, b);
}

static uint64_t hook_new_id(void *ctx)
{
    struct server *srv = ctx;
    return srv->cluster ? cluster_take_id(srv->cluster) : 0;
}

void relay_fill_env(struct server *srv, struct lobby_env *env)
{
    if (srv->cfg->redis == NULL)
        return;
    env->on_name = hook_name;
    env->on_token = hook_token;
    env->on_listed = hook_listed;
    env->new_id = hook_new_id;
}

/* ---------- verbs ---------- */

struct nick_req {
    struct session *s;
    char name[LOBBY_NAME_MAX + 1];
    bool is_registered;
};

static bool is_gone(const struct session *s)
{
    return s->is_proxy ? !s->is_proxy_open : s->conn == NULL;
}

static void on_nick_claimed(void *ctx, int rc)
{
    struct nick_req *q = ctx;
    struct session *s = q->s;
    struct server *srv = s->srv;
    char token[LOBBY_TOKEN_LEN + 1];

    if (rc == 0 && (is_gone(s) || s->member == NULL)) {
        cluster_name_free(srv->cluster, q->name);
    } else if (rc == 0) {
        srv->is_name_claimed = true;
        enum lobby_code lc = lobby_nick(srv->lobby, s->member, q->name,
                                        strlen(q->name), q->is_registered,
                                        token);
        srv->is_name_claimed = false;
        if (lc != LOBBY_OK) {
            session_reply_code(s, lc);
        } else {
            dq_remove(&s->nick_node);
            session_reply(s, "OK NICK %s %s", q->name, token);
        }
    } else if (rc == 1) {
        session_reply_code(s, LOBBY_NAMETAKEN);
    } else {
        session_reply_err(s, "UNAVAILABLE", "the cluster's directory is "
                          "unreachable; try again");
    }
    session_answered(s);
    free(q);
}

void relay_nick(struct session *s, const char *name, bool is_registered)
{
    struct nick_req *q = mem_calloc(1, sizeof *q);
    q->s = s;
    q->is_registered = is_registered;
    snprintf(q->name, sizeof q->name, "%s", name);
    session_wait_for_answer(s);
    cluster_name_claim(s->srv->cluster, name, on_nick_claimed, q);
}

struct held_req {
    struct session *s;
    relay_held_fn fn;
    void *ctx;
};

static void on_held(void *ctx, int rc, const char *node)
{
    struct held_req *q = ctx;
    struct session *s = q->s;
    bool is_other = node != NULL && strcmp(node, me(s->srv)) != 0;

    session_ref(s); /* the wait ends before fn, which may wait again */
    session_answered(s);
    q->fn(s, rc, is_other, q->ctx);
    session_unref(s);
    free(q);
}

void relay_name_held(struct session *s, const char *name, relay_held_fn fn,
                     void *ctx)
{
    struct held_req *q = mem_calloc(1, sizeof *q);
    q->s = s;
    q->fn = fn;
    q->ctx = ctx;
    session_wait_for_answer(s);
    cluster_name_find(s->srv->cluster, name, on_held, q);
}

static void on_list(void *ctx, const char *text)
{
    struct session *s = ctx;

    if (text != NULL)
        session_reply(s, "OK LIST %s", text);
    else
        session_reply_err(s, "UNAVAILABLE", "the cluster's directory is "
                          "unreachable; try again");
    session_answered(s);
}

void relay_list(struct session *s)
{
    session_wait_for_answer(s);
    cluster_list(s->srv->cluster, on_list, s);
}

struct find_req {
    struct session *s;
    bool is_resume;
    size_t len;
    char line[];
};

static void on_found(void *ctx, int rc, const char *node)
{
    struct find_req *q = ctx;
    struct session *s = q->s;
    struct server *srv = s->srv;
    bool is_moved = false;

    if (is_gone(s) || s->member == NULL) {
        /* nothing to answer */
    } else if (rc != 0) {
        session_reply_err(s, "UNAVAILABLE", "the cluster's directory is "
                          "unreachable; try again");
    } else if (node == NULL || strcmp(node, me(srv)) == 0) {
        session_reply_code(s, q->is_resume ? LOBBY_BADTOKEN : LOBBY_NOMATCH);
    } else if (!cluster_peer_is_alive(srv->cluster, node)) {
        session_reply_err(s, "UNAVAILABLE", "that match is moving to another "
                          "node; try again in a moment");
    } else if (!q->is_resume && lobby_is_busy(s->member)) {
        session_reply_code(s, LOBBY_ALREADY);
    } else if (q->is_resume && lobby_member_name(s->member) != NULL) {
        session_reply_code(s, LOBBY_ALREADY);
    } else if (quick_is_queued(s)) {
        session_reply_code(s, LOBBY_ALREADY);
    } else {
        handoff(s, node, q->line, q->len);
        is_moved = !s->is_proxy; /* a gateway keeps waiting, for the reply */
    }
    if (!is_moved)
        session_answered(s);
    free(q);
}

static struct find_req *new_find(struct session *s, const char *line,
                                 size_t len, bool is_resume)
{
    struct find_req *q = mem_calloc(1, sizeof *q + len + 1);
    q->s = s;
    q->is_resume = is_resume;
    q->len = len;
    memcpy(q->line, line, len);
    session_wait_for_answer(s);
    return q;
}

void relay_find_match(struct session *s, uint64_t id, const char *line,
                      size_t len)
{
    struct find_req *q = new_find(s, line, len, false);
    cluster_match_owner(s->srv->cluster, id, on_found, q);
}

void relay_find_token(struct session *s, const char *token, size_t token_len,
                      const char *line, size_t len)
{
    char t[LOBBY_TOKEN_LEN + 1];
    if (token_len != LOBBY_TOKEN_LEN) {
        session_reply_code(s, LOBBY_BADTOKEN);
        return;
    }
    for (size_t i = 0; i < token_len; i++) {
        char ch = token[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) {
            session_reply_code(s, LOBBY_BADTOKEN);
            return;
        }
    }
    memcpy(t, token, token_len);
    t[token_len] = '\0';
    struct find_req *q = new_find(s, line, len, true);
    cluster_token_find(s->srv->cluster, t, on_found, q);
}

bool relay_quick(struct session *s, const struct rules *r, unsigned seats)
{
    struct server *srv = s->srv;
    const char *node = cluster_quick_node(srv->cluster);

    (void)r;
    (void)seats;
    if (srv->is_draining) {
        session_reply_err(s, "UNAVAILABLE",
                          "this node is draining: connect to another one");
        return true;
    }
    if (strcmp(node, me(srv)) == 0)
        return false; /* the queue is here */
    if (node[0] == '\0' || !cluster_peer_is_alive(srv->cluster, node)) {
        /* Its node died (or none holds it yet): another node takes the
         * queue at its next lease tick. Queued here, this player could
         * only meet this node's players: it tries again instead. */
        session_reply_err(s, "UNAVAILABLE", "the quick-play queue is moving "
                          "to another node; try again in a moment");
        return true;
    }
    /* The member is free (checked): it moves, and QUICK with it. */
    session_wait_for_answer(s);
    handoff(s, node, srv->cur_line, srv->cur_len);
    return true;
}

bool relay_can_create(struct server *srv, const char **why)
{
    if (srv->is_draining) {
        *why = "this node is draining: connect to another one";
        return false;
    }
    if (srv->cluster == NULL)
        return true;
    if (!cluster_lease_ok(srv->cluster)) {
        *why = "this node cannot reach the cluster's directory; try again";
        return false;
    }
    if (!cluster_has_id(srv->cluster)) {
        *why = "no match id at hand yet; try again";
        return false;
    }
    return true;
}

/* ---------- the upgrade ---------- */

int relay_proxy_adopt(struct server *srv, const char *gw, uint64_t conn,
                      const struct lobby_member_state *st)
{
    struct session *s = proxy_new(srv, gw, conn);

    /* proxy_new made an anonymous member: the old one's comes instead */
    srv->is_handing_off = true;
    lobby_member_gone(srv->lobby, s->member, uv_now(srv->loop));
    srv->is_handing_off = false;
    s->member = lobby_adopt_member(srv->lobby, s, st);
    if (s->member == NULL) {
        proxy_drop(s);
        return -1;
    }
    return 0;
}

void relay_remote_adopt(struct session *s, const char *home, bool is_queued)
{
    struct server *srv = s->srv;

    if (s->member != NULL) {
        srv->is_handing_off = true;
        lobby_member_gone(srv->lobby, s->member, uv_now(srv->loop));
        srv->is_handing_off = false;
        s->member = NULL;
    }
    snprintf(s->home, sizeof s->home, "%s", home);
    conn_key(s->relay_key, sizeof s->relay_key, s->conn->id);
    s->is_queued_remote = is_queued;
    session_ref(s); /* the map's */
    strmap_put(&srv->remotes, s->relay_key, s);
}

/* ---------- health and metrics ---------- */

bool relay_is_healthy(const struct server *srv, const char **why)
{
    if (srv->is_draining) {
        *why = "draining";
        return false;
    }
    if (srv->cluster != NULL && !cluster_is_up(srv->cluster)) {
        *why = "redis unreachable";
        return false;
    }
    return true;
}

size_t relay_render_metrics(const struct server *srv, char *out, size_t cap)
{
    struct cluster_stats st;
    int n;

    if (srv->cluster == NULL)
        return 0;
    cluster_get_stats(srv->cluster, &st);
    n = snprintf(out, cap,
        "# HELP tavolo_cluster_redis_up 1 while this node reaches Redis.\n"
        "# TYPE tavolo_cluster_redis_up gauge\n"
        "tavolo_cluster_redis_up{node=\"%s\"} %d\n"
        "# HELP tavolo_cluster_redis_seconds Redis round trip: last, mean, worst.\n"
        "# TYPE tavolo_cluster_redis_seconds gauge\n"
        "tavolo_cluster_redis_seconds{which=\"last\"} %.6f\n"
        "tavolo_cluster_redis_seconds{which=\"mean\"} %.6f\n"
        "tavolo_cluster_redis_seconds{which=\"max\"} %.6f\n"
        "# HELP tavolo_cluster_redis_commands_total Redis commands sent, failed, timed out.\n"
        "# TYPE tavolo_cluster_redis_commands_total counter\n"
        "tavolo_cluster_redis_commands_total{result=\"sent\"} %" PRIu64 "\n"
        "tavolo_cluster_redis_commands_total{result=\"failed\"} %" PRIu64 "\n"
        "tavolo_cluster_redis_commands_total{result=\"timeout\"} %" PRIu64 "\n"
        "# HELP tavolo_cluster_peers Other nodes in the cluster.\n"
        "# TYPE tavolo_cluster_peers gauge\n"
        "tavolo_cluster_peers %u\n"
        "# HELP tavolo_cluster_relayed_messages_total Relay messages (one per node per loop turn) and lines.\n"
        "# TYPE tavolo_cluster_relayed_messages_total counter\n"
        "tavolo_cluster_relayed_messages_total{dir=\"out\"} %" PRIu64 "\n"
        "tavolo_cluster_relayed_messages_total{dir=\"in\"} %" PRIu64 "\n"
        "tavolo_cluster_relayed_lines_total{dir=\"out\"} %" PRIu64 "\n"
        "# HELP tavolo_cluster_proxies Sessions here for connections on other nodes.\n"
        "# TYPE tavolo_cluster_proxies gauge\n"
        "tavolo_cluster_proxies %zu\n"
        "# HELP tavolo_cluster_handoffs_total Members moved to another node.\n"
        "# TYPE tavolo_cluster_handoffs_total counter\n"
        "tavolo_cluster_handoffs_total %" PRIu64 "\n"
        "# HELP tavolo_cluster_claims_total Matches of dead nodes claimed here.\n"
        "# TYPE tavolo_cluster_claims_total counter\n"
        "tavolo_cluster_claims_total %" PRIu64 "\n"
        "# HELP tavolo_cluster_failovers_total Claimed matches that run here again.\n"
        "# TYPE tavolo_cluster_failovers_total counter\n"
        "tavolo_cluster_failovers_total %" PRIu64 "\n"
        "# HELP tavolo_cluster_relay_gaps_total Relay messages from a node found lost (its shared sessions start over).\n"
        "# TYPE tavolo_cluster_relay_gaps_total counter\n"
        "tavolo_cluster_relay_gaps_total %" PRIu64 "\n"
        "# HELP tavolo_cluster_peer_deaths_total Nodes seen losing their lease.\n"
        "# TYPE tavolo_cluster_peer_deaths_total counter\n"
        "tavolo_cluster_peer_deaths_total %" PRIu64 "\n"
        "# HELP tavolo_cluster_lease_age_seconds Since the last confirmed lease renewal was sent.\n"
        "# TYPE tavolo_cluster_lease_age_seconds gauge\n"
        "tavolo_cluster_lease_age_seconds %.3f\n",
        me(srv), st.is_up ? 1 : 0, st.redis_last_us / 1e6,
        st.redis_mean_us / 1e6, st.redis_max_us / 1e6, st.n_redis_commands,
        st.n_redis_failed, st.n_redis_timeouts, st.n_peers, st.n_relayed_out,
        st.n_relayed_in, st.n_relay_lines_out, srv->n_proxies,
        srv->metrics.n_handoffs, st.n_claims, srv->metrics.n_failovers,
        st.n_relay_gaps, st.n_peer_deaths, st.lease_age_ms / 1e3);
    if (n < 0)
        return 0;
    return (size_t)n < cap ? (size_t)n : cap - 1;
}

/* ---------- life ---------- */

int relay_start(struct server *srv)
{
    char err[256];

    /* proxies, remotes and relay_q: made by server_init */
    if (srv->cfg->redis == NULL)
        return 0;
    struct cluster_config cc = {
        .redis = srv->cfg->redis,
        .node_id = srv->server_id,
        .lease_ms = srv->cfg->lease_ms,
        .cmd_ms = srv->cfg->redis_timeout_ms,
    };
    struct cluster_ops ops = {
        .ctx = srv,
        .on_message = on_message,
        .on_peer_dead = on_peer_dead,
        .on_relay_gap = on_relay_gap,
        .on_claimed = on_claimed,
        .on_state = on_state,
        .on_lease_lost = on_lease_lost,
    };
    srv->cluster = cluster_new(srv->loop, &cc, &ops, err, sizeof err);
    if (srv->cluster == NULL) {
        log_error("cannot join the cluster: %s", err);
        return -1;
    }
    log_info("cluster: node %s, Redis at %s, lease %u ms", srv->server_id,
             srv->cfg->redis, srv->cfg->lease_ms);
    return 0;
}

void relay_stop(struct server *srv)
{
    size_t n = 0;
    struct session **all = mem_calloc(srv->proxies.n_slots + 1, sizeof *all);

    for (size_t i = 0; i < srv->proxies.n_slots; i++)
        if ((all[n] = strmap_slot_value(&srv->proxies, i)) != NULL)
            n++;
    for (size_t i = 0; i < n; i++)
        proxy_close(all[i]);
    free(all);
    if (srv->cluster == NULL)
        return;
    cluster_free(srv->cluster);
    srv->cluster = NULL;
}
