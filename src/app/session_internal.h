/*
 * session_internal: what the two halves of a session share — session.c
 * (sniffing, the line protocol, the verbs) and session_http.c (HTTP, the
 * WebSocket upgrade, the admin port). Not for other modules.
 */
#ifndef TAVOLO_APP_SESSION_INTERNAL_H
#define TAVOLO_APP_SESSION_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/bucket.h"
#include "base/dqueue.h"
#include "cluster/cluster.h"
#include "game/lobby.h"

struct conn;
struct member;
struct server;
struct ws;

#define OUT_LINE_CAP 4096

enum session_state {
    SESSION_SNIFF = 0, /* first bytes not seen yet (PROTOCOL §2) */
    SESSION_LINE,      /* the line protocol on raw TCP */
    SESSION_HTTP,      /* HTTP requests (keep-alive) */
    SESSION_WS,        /* the line protocol, one line per text message */
};

#define HTTP_MAX_HEAD 8192

/* Owned by its conn while it is open, and shared with the outbox batches
 * and async jobs that still address it (refs); freed at zero. */
struct session {
    struct conn *conn;         /* NULL once the connection closed */
    struct server *srv;
    struct member *member;     /* owned by the lobby; NULL once evicted */
    enum session_state state;
    bool is_admin;             /* on the admin port: /metrics, /healthz */
    bool is_waiting;           /* our last command's reply is not out yet */
    bool is_tls_pending;       /* adopted at an upgrade mid-TLS-handshake: its
                                  first byte is the relay's mark
                                  (session_upgrade.h) */
    struct ws *ws;             /* in SESSION_WS */
    unsigned refs;
    uint32_t n_limited_in_row;
    struct bucket bucket;
    struct dq_node sniff_node, nick_node, line_node;
    /* The cluster (app/relay.h). On the gateway: the node the member
     * lives on ("" here) and the relayed command's deadline. A proxy is a
     * session here for connection gw_conn of node gw (conn NULL). */
    char home[CLUSTER_NODE_MAX];
    bool is_proxy, is_proxy_open, is_coming_home;
    bool is_queued_remote;     /* gateway: its member waits in the quick-play
                                * queue of node home (OK QUICK relayed, no
                                * SEATED or OK LEAVE since) */
    char gw[CLUSTER_NODE_MAX];
    uint64_t gw_conn;
    char relay_key[CLUSTER_NODE_MAX + 24]; /* in srv->proxies or ->remotes */
    struct dq_node relay_node;
};

/* ---------- for the verb files (auth.c, verbs_*.c) ---------- */

enum lobby_code;
struct cmd;

/* The reply to the command being handled (session.c): inside an outbox
 * capture it goes in front of the events the command caused (PROTOCOL
 * §2). session_reply_err also counts the error code (metrics). */
void session_reply(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void session_reply_err(struct session *s, const char *code, const char *text);
void session_reply_code(struct session *s, enum lobby_code code);
/* A command whose answer comes later: the session reads nothing more,
 * and holds a reference, until session_answered() (PROTOCOL §1). */
void session_wait_for_answer(struct session *s);
void session_answered(struct session *s);

/* The game verbs (verbs_match.c), for session.c's verb table. */
void verb_games(struct session *s, const struct cmd *c);
void verb_list(struct session *s, const struct cmd *c);
void verb_create(struct session *s, const struct cmd *c);
void verb_join(struct session *s, const struct cmd *c);
void verb_watch(struct session *s, const struct cmd *c);
void verb_play(struct session *s, const struct cmd *c);
void verb_pass(struct session *s, const struct cmd *c);
void verb_say(struct session *s, const struct cmd *c);
void verb_leave(struct session *s, const struct cmd *c);
void verb_seed(struct session *s, const struct cmd *c);
void verb_resume(struct session *s, const struct cmd *c);

/* verbs_records.c: STATS, TOP, HISTORY, answered by the store. */
void verb_stats(struct session *s, const struct cmd *c);
void verb_top(struct session *s, const struct cmd *c);
void verb_history(struct session *s, const struct cmd *c);

/* Bots and quick play (verbs_quick.c, PROTOCOL §14). */
void verb_quick(struct session *s, const struct cmd *c);
void verb_bot(struct session *s, const struct cmd *c);
struct rules;
/* QUICK's queueing, its arguments checked; is_waiting: s already waits
 * for its answer (a cluster's lookup came first). */
void quick_start(struct session *s, const struct rules *r, unsigned seats,
                 bool is_waiting);
bool quick_is_queued(const struct session *s);
/* Out of the queue: true if s was queued. */
bool quick_leave(struct session *s);
void quick_on_timer(uv_timer_t *timer);
/* An upgrade's new process: s back in the quick-play queue as it was in
 * the old one (appended: call in queue order), queued since since_ms on
 * this loop's clock. -1 if s cannot be queued (seated, already queued).
 * quick_rearm then arms the queue's timer (nothing forms before it
 * fires: no line goes out before GO). */
int quick_adopt(struct session *s, const struct rules *r, unsigned seats,
                int rating, uint64_t since_ms);
void quick_rearm(struct server *srv);

/* The connection is gone (a proxy: its gateway said so, or it moved on):
 * an answer that comes back later has no one to go to. */
static inline bool session_is_gone(const struct session *s)
{
    return s->is_proxy ? !s->is_proxy_open : s->conn == NULL;
}
/* The peer's address as text (a proxy's: the one its gateway saw). */
void session_peer_addr(const struct session *s, char *out, size_t cap);

/* One line to the client, now (a socket, a WebSocket, or the relay). */
void session_write_line(struct session *s, const char *text, size_t len);
void session_write_line_str(struct session *s, const char *text);

/* Sends HELLO (as a line, or as the first WebSocket message). */
void session_greet(struct session *s);
/* Sets the state and the input its connection may keep for it. */
void session_set_state(struct session *s, enum session_state state);

/* One protocol line (from TCP framing or one WebSocket message). */
void session_handle_line(struct session *s, const char *line, size_t len);

/* The HTTP state's input: requests, /ws upgrades, the admin routes.
 * Returns the bytes consumed. */
size_t session_http_on_data(struct session *s, const char *data, size_t len);

/* A zero-downtime upgrade (app/session_upgrade.c): s continues a
 * WebSocket that another process accepted (between messages). Returns 0
 * or -1. */
int session_ws_resume(struct session *s);

#endif
