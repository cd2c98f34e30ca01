/*
 * session: see session.h.
 *
 * Order of checks for a line (PROTOCOL §9): length (in framing), then the
 * rate limit (every command counts, failing ones too), then control
 * characters and UTF-8, then the verb, then NICK gating, then arguments.
 *
 * Reply before events (PROTOCOL §2): a command that can cause events runs
 * inside an outbox capture, where its reply is put in front of them; if
 * the capture must wait for the journal, so does the connection's input
 * (one command at a time, PROTOCOL §1).
 */
#include "app/session.h"
#include "app/session_internal.h"
#include "app/session_upgrade.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/auth.h"
#include "app/metrics.h"
#include "app/outbox.h"
#include "app/relay.h"
#include "app/server.h"
#include "base/bucket.h"
#include "base/fmt.h"
#include "base/log.h"
#include "base/mem.h"
#include "game/lobby.h"
#include "net/conn.h"
#include "net/tls.h"
#include "proto/cmd.h"
#include "proto/line.h"
#include "proto/ws.h"
#include "store/store.h"

#define RATELIMIT_CLOSE_AFTER 100 /* PROTOCOL §9 */

void session_ref(void *client)
{
    ((struct session *)client)->refs++;
}

void session_unref(void *client)
{
    struct session *s = client;
    if (--s->refs == 0)
        free(s);
}

/* ---------- output ---------- */

/* One line to the client: LF-terminated on TCP, a text message on WS, a
 * relay line for a proxy (app/relay.h). */
static void write_line(struct session *s, const char *text, size_t len)
{
    if (len > OUT_LINE_CAP)
        len = OUT_LINE_CAP;
    if (s->is_proxy) {
        relay_out(s, text, len);
        return;
    }
    if (s->conn == NULL)
        return;
    if (s->srv->cluster != NULL)
        relay_guard(s->srv);
    if (s->ws != NULL)
        ws_send_text(s->ws, text, len); /* one line per text message */
    else
        conn_write_line(s->conn, text, len);
}

void session_peer_addr(const struct session *s, char *out, size_t cap)
{
    char addr[NET_ADDR_STRLEN];
    struct lobby_identity id;

    if (s->conn != NULL) {
        net_addr_format(&s->conn->addr, addr);
        snprintf(out, cap, "%s", addr);
    } else if (s->member != NULL) {
        lobby_member_identity(s->member, &id);
        snprintf(out, cap, "%s", id.key);
    } else {
        snprintf(out, cap, "-");
    }
}

void session_write_line(struct session *s, const char *text, size_t len)
{
    write_line(s, text, len);
}

void session_write_line_str(struct session *s, const char *text)
{
    write_line(s, text, strlen(text));
}

/* The reply to the command being handled. Inside a lobby capture it goes
 * in front of the events the command caused (PROTOCOL §2). */
void session_reply(struct session *s, const char *fmt, ...)
{
    char line[OUT_LINE_CAP];
    va_list ap;

    va_start(ap, fmt);
    int n = fmt_vline(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n >= (int)sizeof line)
        n = sizeof line - 1;
    if (s->srv->outbox.open != NULL)
        outbox_reply(&s->srv->outbox, s, line, (size_t)n);
    else
        write_line(s, line, (size_t)n);
}

/* A command whose answer comes later: offer nothing more until then
 * (conn_hold keeps reading into its buffer, up to the input cap). */
void session_wait_for_answer(struct session *s)
{
    s->is_waiting = true;
    session_ref(s);
    if (s->conn != NULL)
        conn_hold(s->conn);
}

void session_answered(struct session *s)
{
    s->is_waiting = false;
    if (s->conn != NULL)
        conn_release(s->conn);
    session_unref(s);
}

void session_reply_err(struct session *s, const char *code, const char *text)
{
    metrics_error(&s->srv->metrics, code);
    session_reply(s, "ERR %s %s", code, text);
}

void session_reply_code(struct session *s, enum lobby_code code)
{
    session_reply_err(s, lobby_code_name(code), lobby_code_text(code));
}

/* ---------- argument helpers ---------- */

/* A match id: 1 to 19 decimal digits. */
static bool has_name(const struct session *s)
{
    return s->member != NULL && lobby_member_name(s->member) != NULL;
}

/* ---------- verbs ---------- */

/* The hot path of every benchmark: formatted by hand, not by printf
 * (docs/PERFORMANCE.md). */
static void cmd_ping(struct session *s, const struct cmd *c)
{
    char line[OUT_LINE_CAP];
    size_t n = 7;

    memcpy(line, "OK PING", 7);
    if (c->rest.len > 0 && c->rest.len < sizeof line - 8) {
        line[n++] = ' ';
        n += cmd_rest_single_spaced(c, line + n);
    }
    write_line(s, line, n);
}

static void cmd_quit(struct session *s, const struct cmd *c)
{
    (void)c;
    session_reply(s, "OK QUIT");
    if (s->conn != NULL)
        conn_close_after_flush(s->conn, "quit");
}

struct verb {
    const char *name;
    bool needs_nick;
    bool uses_lobby; /* may cause events: runs inside an outbox capture */
    void (*run)(struct session *s, const struct cmd *c);
};

/* The command table (PROTOCOL §3). PING first: it is the hot path. */
static const struct verb verbs[] = {
    {"PING", false, false, cmd_ping},
    {"NICK", false, false, cmd_nick},
    {"PLAY", true, true, verb_play},
    {"PASS", true, true, verb_pass},
    {"GAMES", false, false, verb_games},
    {"LIST", false, false, verb_list},
    {"CREATE", true, true, verb_create},
    {"JOIN", true, true, verb_join},
    {"WATCH", false, true, verb_watch},
    {"SAY", true, true, verb_say},
    {"LEAVE", true, true, verb_leave},
    {"SEED", false, false, verb_seed},
    {"RESUME", false, true, verb_resume},
    {"STATS", false, false, verb_stats},
    {"TOP", false, false, verb_top},
    {"HISTORY", true, false, verb_history},
    {"QUIT", false, false, cmd_quit},
    {"QUICK", true, true, verb_quick},
    {"BOT", true, true, verb_bot},
};

#define N_VERBS (sizeof verbs / sizeof verbs[0])
_Static_assert(N_VERBS < METRICS_MAX_VERBS, "metrics has a counter per verb");

void session_verb_names(const char **names, size_t *n)
{
    for (size_t i = 0; i < N_VERBS; i++)
        names[i] = verbs[i].name;
    names[N_VERBS] = "other";
    *n = N_VERBS + 1;
}

/* ---------- lines ---------- */

void session_handle_line(struct session *s, const char *line, size_t len)
{
    struct cmd c;
    enum line_check_result check = line_check(line, len);
    bool is_blank = check == LINE_VALID && !cmd_parse(line, len, &c);

    if (is_blank)
        return; /* PROTOCOL §9: no reply */
    /* A proxy's commands were counted on their gateway (app/relay.h). */
    if (!s->is_proxy &&
        !bucket_take(&s->bucket, s->srv->cfg->rate, s->srv->cfg->burst,
                     uv_now(s->srv->loop))) {
        session_reply_err(s, "RATELIMIT", "too many commands, slow down");
        if (++s->n_limited_in_row >= RATELIMIT_CLOSE_AFTER)
            conn_close_after_flush(s->conn, "rate limit exceeded");
        return;
    }
    s->n_limited_in_row = 0;
    if (check == LINE_CONTROL) {
        session_reply_err(s, "BADARG", "control characters are not allowed");
        return;
    }
    if (check == LINE_BAD_UTF8) {
        session_reply_err(s, "BADARG", "invalid UTF-8");
        return;
    }
    const struct verb *v = NULL;
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        if (cmd_word_is(c.verb, verbs[i].name)) {
            v = &verbs[i];
            break;
        }
    }
    if (!s->is_proxy)
        metrics_command(&s->srv->metrics, v ? (size_t)(v - verbs) : N_VERBS);
    if (v == NULL) {
        session_reply_err(s, "BADCMD", "unknown command");
        return;
    }
    /* The member lives on another node: everything but PING and QUIT is
     * its business (app/relay.h). */
    if (s->home[0] != '\0' && v->run != cmd_ping && v->run != cmd_quit &&
        relay_takes_line(s, line, len))
        return;
    s->srv->cur_line = line;
    s->srv->cur_len = len;
    if (v->needs_nick && !has_name(s)) {
        session_reply_err(s, "NONAME", "choose a name with NICK first");
        return;
    }
    if (!v->uses_lobby) {
        v->run(s, &c);
        return;
    }
    outbox_begin(&s->srv->outbox);
    v->run(s, &c);
    if (!outbox_end(&s->srv->outbox))
        session_wait_for_answer(s); /* the reply waits for the journal */
}

void session_greet(struct session *s)
{
    char hello[96];
    int n = snprintf(hello, sizeof hello, "HELLO tavolo 2 %s", s->srv->server_id);
    dq_remove(&s->sniff_node);
    if (s->state == SESSION_SNIFF)
        s->state = SESSION_LINE;
    write_line(s, hello, (size_t)n);
}

/* PROTOCOL §2: "GET " or "HEAD " first means HTTP. Returns 1 for HTTP,
 * 0 for the line protocol, -1 while the bytes so far could be either. */
static int sniff(const char *data, size_t len)
{
    static const char *methods[] = {"GET ", "HEAD "};
    int maybe = 0;

    for (size_t i = 0; i < 2; i++) {
        size_t m = strlen(methods[i]);
        size_t n = len < m ? len : m;
        if (memcmp(data, methods[i], n) == 0) {
            if (len >= m)
                return 1;
            maybe = 1;
        }
    }
    return maybe ? -1 : 0;
}

/* At the end of the sniff window: libuv runs timers before it polls, so
 * on a busy loop a browser's request may have arrived and still be unread
 * now. Looks at the kernel's unread bytes (after any kept ones) and
 * returns true if they must be sniffed before greeting: they are HTTP,
 * or still undecided, in which case the window is opened once more (each
 * extension needs new unread bytes, and "HEAD " is 5 bytes, so a dripper
 * earns a few at most). */
static bool sniff_late_bytes(struct session *s)
{
    char prefix[16];
    struct conn *c = s->conn;
    size_t kept = c->in_len < 8 ? c->in_len : 8;

    if (conn_is_tls(c)) {
        /* Unread ciphertext may be the first request: this iteration's
         * poll reads it; the window opens once more for each new batch. */
        if (conn_peek(c, prefix, 1) <= 0)
            return false;
        server_deadline_push(s->srv, &s->srv->sniff_q, &s->sniff_node);
        return true;
    }
    if (kept > 0)
        memcpy(prefix, c->in, kept);
    ssize_t n = conn_peek(c, prefix + kept, sizeof prefix - kept);
    if (n <= 0)
        return false; /* nothing unread (or no socket): greet */
    if (kept == 0 && prefix[0] == 0x16)
        return true; /* TLS (PROTOCOL §10): read it before any HELLO */
    int kind = sniff(prefix, kept + (size_t)n);
    if (kind == 0)
        return false; /* the line protocol: greet, then read them */
    if (kind < 0)
        server_deadline_push(s->srv, &s->srv->sniff_q, &s->sniff_node);
    /* HTTP: this iteration's poll reads it and session_on_data decides */
    return true;
}

/* A TLS handshake record first (PROTOCOL §10): the bytes are left for
 * conn, which reads them as TLS from now on; the handshake has its own
 * deadline, on the sniff node. Without a certificate, or with too many
 * handshakes in progress, the connection is closed (the close line is
 * the one log line). Nothing is allocated before these checks. */
static size_t start_tls(struct session *s, struct conn *c)
{
    struct server *srv = s->srv;

    dq_remove(&s->sniff_node);
    if (!tls_server_has_ctx(srv->tls)) {
        conn_close(c, "TLS handshake, but TLS is off (no --tls-cert)");
        return 0;
    }
    if (tls_server_n_handshakes(srv->tls) >= srv->cfg->max_handshakes) {
        conn_close(c, "too many TLS handshakes in progress");
        return 0;
    }
    if (conn_start_tls(c, srv->tls) != 0) {
        conn_close(c, "TLS not available");
        return 0;
    }
    server_deadline_push(srv, &srv->tls_q, &s->sniff_node);
    return 0;
}

void session_on_secure(struct conn *c)
{
    struct session *s = c->user;
    char how[96];

    if (s == NULL)
        return;
    conn_tls_describe(c, how, sizeof how);
    log_event(LOG_DEBUG, "tls.established", "conn=%" PRIu64 " tls=%s", c->id,
              how);
    /* Inside TLS, the same sniffing as on a plain connection: the
     * window runs from the end of the handshake. */
    dq_remove(&s->sniff_node);
    if (s->state == SESSION_SNIFF)
        server_deadline_push(s->srv, &s->srv->sniff_q, &s->sniff_node);
}

size_t session_on_data(struct conn *c, const char *data, size_t len)
{
    struct session *s = c->user;
    size_t used = 0;

    if (s->is_tls_pending)
        return session_tls_pending_data(c, data, len);
    if (s->state == SESSION_WS) {
        used = ws_feed(s->ws, data, len);
        if (ws_is_done(s->ws)) {
            dq_remove(&s->line_node);
            conn_close_after_flush(c, "websocket closed");
            return used;
        }
        if (s->is_waiting)
            return used; /* the rest is read after the answer (PROTOCOL §1) */
        /* A partial frame, or a fragmented message not ended, is a partial
         * line: the same clock, from its first byte, not reset by more. */
        if (used == len && !ws_in_progress(s->ws))
            dq_remove(&s->line_node);
        else if (!dq_linked(&s->line_node))
            server_deadline_push(s->srv, &s->srv->line_q, &s->line_node);
        return used;
    }
    if (len == 0)
        return 0;
    if (s->state == SESSION_SNIFF && !conn_is_tls(c) && data[0] == 0x16)
        return start_tls(s, c);
    if (s->state == SESSION_SNIFF) {
        int kind = sniff(data, len);
        if (kind < 0)
            return 0; /* wait for more, up to the sniff window */
        if (kind == 1) {
            session_set_state(s, SESSION_HTTP);
            dq_remove(&s->sniff_node);
        } else {
            session_greet(s);
        }
    }
    if (s->state == SESSION_HTTP)
        return session_http_on_data(s, data, len);

    const uint32_t max_line = s->srv->cfg->max_line;
    while (!c->is_closing && !c->is_flush_closing && !s->is_waiting) {
        const char *line;
        size_t line_len;
        ssize_t n = line_next(data + used, len - used, max_line, &line, &line_len);
        if (n == 0)
            break;
        if (n == LINE_TOOLONG) {
            char text[64];
            snprintf(text, sizeof text, "a line is at most %u bytes", max_line);
            session_reply_err(s, "TOOLONG", text);
            conn_close_after_flush(c, "line too long");
            dq_remove(&s->line_node);
            return len;
        }
        used += (size_t)n;
        session_handle_line(s, line, line_len);
    }
    if (c->is_closing || c->is_flush_closing) {
        dq_remove(&s->line_node);
        return len;
    }
    if (s->is_waiting)
        return used; /* the rest is read after the answer (PROTOCOL §1) */
    /* The partial-line clock starts at the first byte of a pending line
     * and is not reset by more bytes of the same line (PROTOCOL §9). */
    if (used == len)
        dq_remove(&s->line_node);
    else if (used > 0 || !dq_linked(&s->line_node))
        server_deadline_push(s->srv, &s->srv->line_q, &s->line_node);
    return used;
}

void session_on_eof(struct conn *c)
{
    struct session *s = c->user;

    if (s->state == SESSION_SNIFF && !s->is_tls_pending) {
        session_greet(s); /* a line client that said nothing still gets HELLO */
        conn_kick(c);
    }
    /* Every complete command read so far has been answered (PROTOCOL §9,
     * half-close); what is left is a partial line, which is dropped. */
    conn_close_after_flush(c, "peer closed");
}

/* ---------- lifecycle ---------- */

void session_new(struct server *srv, struct conn *c)
{
    struct session *s = mem_calloc(1, sizeof *s);
    uint64_t now = uv_now(srv->loop);

    s->conn = c;
    s->srv = srv;
    s->refs = 1; /* the connection's */
    s->member = lobby_member_new(srv->lobby, s);
    /* CREATE's per-address cap counts by the peer's address (§10). */
    char addr[NET_ADDR_STRLEN];
    net_addr_format(&c->addr, addr);
    lobby_member_set_key(s->member, addr);
    bucket_init(&s->bucket, srv->cfg->burst, now);
    c->user = s;
    server_deadline_push(srv, &srv->sniff_q, &s->sniff_node);
    server_deadline_push(srv, &srv->nick_q, &s->nick_node);
}

/* A line is at most --max-line (the connection's default cap, server.c);
 * an HTTP request head may arrive in parts up to HTTP_MAX_HEAD (refused
 * past it, 431), so HTTP keeps up to a whole read. */
void session_set_state(struct session *s, enum session_state state)
{
    s->state = state;
    if (s->conn != NULL)
        conn_set_input_cap(s->conn, state == SESSION_HTTP ? CONN_READ_MAX : 0);
}

void session_new_admin(struct server *srv, struct conn *c)
{
    session_new(srv, c);
    struct session *s = c->user;
    s->is_admin = true;
    session_set_state(s, SESSION_HTTP);
    dq_remove(&s->sniff_node);
}

void session_on_close(struct conn *c)
{
    struct session *s = c->user;

    dq_remove(&s->sniff_node);
    dq_remove(&s->nick_node);
    dq_remove(&s->line_node);
    relay_session_closed(s);
    /* Dropping the connection leaves the queue (PROTOCOL §14). */
    quick_leave(s);
    /* May send events to other connections (AWAY, UNSEATED). */
    outbox_begin(&s->srv->outbox);
    lobby_member_gone(s->srv->lobby, s->member, uv_now(s->srv->loop));
    outbox_end(&s->srv->outbox);
    s->member = NULL;
    s->conn = NULL;
    c->user = NULL;
    ws_free(s->ws);
    s->ws = NULL;
    session_unref(s);
}

void session_evict(void *client)
{
    struct session *s = client;

    s->member = NULL; /* the identity now belongs to another connection */
    if (s->is_proxy)
        relay_proxy_evicted(s);
    else if (s->conn != NULL)
        conn_close_after_flush(s->conn, "resumed on another connection");
}

void session_deliver(void *client, const char *line, size_t len,
                     bool is_reply)
{
    struct session *s = client;

    write_line(s, line, len);
    if (is_reply && s->is_waiting)
        session_answered(s);
}

void session_on_deadline(struct server *srv, struct dqueue *q,
                         struct dq_node *n)
{
    char text[128];

    if (q == &srv->tls_q) {
        struct session *s = DQ_ENTRY(n, struct session, sniff_node);
        conn_close(s->conn, "TLS handshake timeout");
    } else if (q == &srv->sniff_q) {
        struct session *s = DQ_ENTRY(n, struct session, sniff_node);
        if (s->state == SESSION_SNIFF && !sniff_late_bytes(s)) {
            /* 100 ms of silence, or an undecided prefix: line protocol */
            session_greet(s);
            conn_kick(s->conn);
        }
    } else if (q == &srv->nick_q) {
        struct session *s = DQ_ENTRY(n, struct session, nick_node);
        if (s->state == SESSION_HTTP) {
            /* the same limit bounds an idle keep-alive HTTP connection */
            conn_close_after_flush(s->conn, "http idle");
        } else if (!has_name(s)) {
            snprintf(text, sizeof text, "no NICK within %u ms",
                     srv->cfg->nick_timeout_ms);
            session_reply_err(s, "TIMEOUT", text);
            conn_close_after_flush(s->conn, "no NICK in time");
        }
    } else if (q == &srv->relay_q) {
        relay_timed_out(DQ_ENTRY(n, struct session, relay_node));
    } else if (q == &srv->line_q) {
        struct session *s = DQ_ENTRY(n, struct session, line_node);
        snprintf(text, sizeof text, "partial line not completed within %u ms",
                 srv->cfg->line_timeout_ms);
        session_reply_err(s, "TIMEOUT", text);
        conn_close_after_flush(s->conn, "partial line timeout");
    }
}
