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

#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/metrics.h"
#include "app/outbox.h"
#include "app/server.h"
#include "base/bucket.h"
#include "base/log.h"
#include "base/mem.h"
#include "game/lobby.h"
#include "net/conn.h"
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

/* One line to the client: LF-terminated on TCP, a text message on WS. */
static void write_line(struct session *s, const char *text, size_t len)
{
    if (s->conn == NULL)
        return;
    if (len > OUT_LINE_CAP)
        len = OUT_LINE_CAP;
    if (s->ws != NULL)
        ws_send_text(s->ws, text, len); /* one line per text message */
    else
        conn_write_line(s->conn, text, len);
}

/* The reply to the command being handled. Inside a lobby capture it goes
 * in front of the events the command caused (PROTOCOL §2). */
static void reply(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void vreply(struct session *s, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void vreply(struct session *s, const char *fmt, va_list ap)
{
    char line[OUT_LINE_CAP];
    int n = vsnprintf(line, sizeof line, fmt, ap);

    if (n < 0)
        return;
    if (n >= (int)sizeof line)
        n = sizeof line - 1;
    if (s->srv->outbox.open != NULL)
        outbox_reply(&s->srv->outbox, s, line, (size_t)n);
    else
        write_line(s, line, (size_t)n);
}

static void reply(struct session *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreply(s, fmt, ap);
    va_end(ap);
}

void session_reply(struct session *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreply(s, fmt, ap);
    va_end(ap);
}

/* A command whose answer comes later: read nothing more until then. */
static void wait_for_answer(struct session *s)
{
    s->is_waiting = true;
    session_ref(s);
    conn_hold(s->conn);
}

static void answered(struct session *s)
{
    s->is_waiting = false;
    if (s->conn != NULL)
        conn_release(s->conn);
    session_unref(s);
}

void session_wait(struct session *s) { wait_for_answer(s); }

void session_answered(struct session *s) { answered(s); }

static void reply_err(struct session *s, const char *code, const char *text)
{
    metrics_error(&s->srv->metrics, code);
    reply(s, "ERR %s %s", code, text);
}

static void reply_code(struct session *s, enum lobby_code code)
{
    reply_err(s, lobby_code_name(code), lobby_code_text(code));
}

void session_reply_err(struct session *s, const char *code, const char *text)
{
    reply_err(s, code, text);
}

void session_reply_code(struct session *s, enum lobby_code code)
{
    reply_code(s, code);
}

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
    reply(s, "OK QUIT");
    conn_close_after_flush(s->conn, "quit");
}

/* ---------- NICK, with and without a password ---------- */

#define MAX_AUTH_IN_FLIGHT 32 /* argon2id: 64 MiB and 65 ms each, here */

struct auth {
    uv_work_t req;
    struct session *s;
    char name[LOBBY_NAME_MAX + 1];
    char password[OUT_LINE_CAP];
    size_t password_len;
    char hash[crypto_pwhash_STRBYTES];
    bool is_new, is_ok;
};

static void finish_nick(struct auth *a, bool is_ok, const char *err_code,
                        const char *err_text)
{
    struct session *s = a->s;
    struct server *srv = s->srv;
    char token[LOBBY_TOKEN_LEN + 1];

    strmap_del(&srv->pending_auth, a->name, strlen(a->name));
    srv->n_auth_in_flight--;
    if (s->conn != NULL && s->member != NULL) {
        if (!is_ok) {
            reply_err(s, err_code, err_text);
        } else {
            enum lobby_code rc = lobby_nick(srv->lobby, s->member, a->name,
                                            strlen(a->name), true, token);
            if (rc != LOBBY_OK) {
                reply_code(s, rc);
            } else {
                dq_remove(&s->nick_node);
                reply(s, "OK NICK %s %s", a->name, token);
            }
        }
    }
    answered(s);
    free(a);
}

static void on_registered(struct store_job *job)
{
    struct auth *a = job->ctx;
    struct server *srv = a->s->srv;

    if (job->rc == STORE_OK) {
        server_account_add(srv, a->name, a->hash);
        log_info("account %s registered", a->name);
        finish_nick(a, true, NULL, NULL);
    } else if (job->rc == STORE_EXISTS) {
        finish_nick(a, false, "BADPASS", "that name is registered");
    } else {
        finish_nick(a, false, "INTERNAL", "could not save the account, try again");
    }
    free(job);
}

/* Thread pool: the slow, memory-hard part. */
static void auth_work(uv_work_t *req)
{
    struct auth *a = req->data;

    if (a->is_new)
        a->is_ok = crypto_pwhash_str(a->hash, a->password, a->password_len,
                                     crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                     crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0;
    else
        a->is_ok = crypto_pwhash_str_verify(a->hash, a->password,
                                            a->password_len) == 0;
    sodium_memzero(a->password, sizeof a->password);
}

static void auth_done(uv_work_t *req, int status)
{
    struct auth *a = req->data;

    if (status != 0 || !a->is_ok) {
        if (a->is_new || status != 0)
            finish_nick(a, false, "INTERNAL", "could not check the password");
        else
            finish_nick(a, false, "BADPASS", "wrong password for that name");
        return;
    }
    if (!a->is_new) {
        finish_nick(a, true, NULL, NULL);
        return;
    }
    if (a->s->srv->store == NULL) { /* the server is shutting down */
        finish_nick(a, false, "INTERNAL", "the server is shutting down");
        return;
    }
    struct store_job *job = mem_calloc(1, sizeof *job);
    job->kind = STORE_JOB_REGISTER;
    snprintf(job->name, sizeof job->name, "%s", a->name);
    snprintf(job->hash, sizeof job->hash, "%s", a->hash);
    job->done = on_registered;
    job->ctx = a;
    store_submit(a->s->srv->store, job);
}

static void nick_with_password(struct session *s, struct cmd_word name,
                               struct cmd_word password)
{
    struct server *srv = s->srv;

    if (srv->store == NULL) {
        reply_err(s, "INTERNAL", "accounts need a data directory");
        return;
    }
    if (srv->n_auth_in_flight >= MAX_AUTH_IN_FLIGHT) {
        reply_err(s, "INTERNAL", "too many logins in progress, try again");
        return;
    }
    struct auth *a = mem_calloc(1, sizeof *a);
    memcpy(a->name, name.s, name.len);
    memcpy(a->password, password.s, password.len);
    a->password_len = password.len;
    const char *hash = server_account_hash(srv, a->name);
    a->is_new = hash == NULL;
    if (hash != NULL)
        snprintf(a->hash, sizeof a->hash, "%s", hash);
    a->s = s;
    a->req.data = a;
    if (uv_queue_work(srv->loop, &a->req, auth_work, auth_done) != 0) {
        sodium_memzero(a, sizeof *a);
        free(a);
        reply_err(s, "INTERNAL", "could not check the password");
        return;
    }
    /* The name is spoken for until the answer, by guests as well. */
    strmap_put(&srv->pending_auth, a->name, a);
    srv->n_auth_in_flight++;
    wait_for_answer(s);
}

static void cmd_nick(struct session *s, const struct cmd *c)
{
    char token[LOBBY_TOKEN_LEN + 1];

    if (c->n_args < 1 || c->n_args > 2) {
        reply_err(s, "BADARG", "usage: NICK <name> [password]");
        return;
    }
    struct cmd_word name = c->args[0];
    enum lobby_code rc = lobby_nick_check(s->srv->lobby, s->member, name.s,
                                          name.len);
    if (rc == LOBBY_OK &&
        strmap_get(&s->srv->pending_auth, name.s, name.len) != NULL)
        rc = LOBBY_NAMETAKEN;
    if (rc != LOBBY_OK) {
        reply_code(s, rc);
        return;
    }
    if (c->n_args == 2) {
        nick_with_password(s, name, c->args[1]);
        return;
    }
    char key[LOBBY_NAME_MAX + 1];
    memcpy(key, name.s, name.len);
    key[name.len] = '\0';
    if (server_account_hash(s->srv, key) != NULL) {
        reply_err(s, "BADPASS", "that name is registered: NICK <name> <password>");
        return;
    }
    rc = lobby_nick(s->srv->lobby, s->member, name.s, name.len, false, token);
    if (rc != LOBBY_OK) {
        reply_code(s, rc);
        return;
    }
    dq_remove(&s->nick_node);
    reply(s, "OK NICK %s %s", lobby_member_name(s->member), token);
}

/* ---------- STATS, TOP, HISTORY: answered by the store ---------- */

static void on_query(struct store_job *job)
{
    struct session *s = job->ctx;
    char out[OUT_LINE_CAP - 32];
    size_t n = 0;

    if (s->conn == NULL) {
        /* gone meanwhile */
    } else if (job->rc == STORE_NOTFOUND) {
        reply_err(s, "BADNAME", "not a registered name");
    } else if (job->rc != STORE_OK) {
        reply_err(s, "INTERNAL", "the record is not available right now");
    } else if (job->kind == STORE_JOB_STATS) {
        reply(s, "OK STATS %s %.0f %u %u %u %u", job->name, job->stats.rating,
              job->stats.played, job->stats.won, job->stats.lost,
              job->stats.drawn);
    } else if (job->kind == STORE_JOB_TOP) {
        for (unsigned i = 0; i < job->n_rows; i++)
            n += (size_t)snprintf(out + n, sizeof out - n, " %s:%.0f",
                                  job->top[i].name, job->top[i].rating);
        out[n] = '\0';
        reply(s, "OK TOP %u%s", job->n_rows, out);
    } else {
        for (unsigned i = 0; i < job->n_rows; i++)
            n += (size_t)snprintf(out + n, sizeof out - n,
                                  " %" PRIu64 ":%s:%s:%u", job->history[i].match_id,
                                  job->history[i].game, job->history[i].result,
                                  job->history[i].points);
        out[n] = '\0';
        reply(s, "OK HISTORY %u%s", job->n_rows, out);
    }
    free(job);
    answered(s);
}

static void query(struct session *s, enum store_job_kind kind,
                  const struct cmd *c, const char *usage)
{
    const char *own = s->member ? lobby_member_name(s->member) : NULL;

    if (c->n_args > (kind == STORE_JOB_TOP ? 0u : 1u) ||
        (c->n_args == 1 && c->args[0].len > LOBBY_NAME_MAX)) {
        reply_err(s, "BADARG", usage);
        return;
    }
    if (kind != STORE_JOB_TOP && c->n_args == 0 && own == NULL) {
        reply_err(s, "NONAME", "name a player, or choose your name with NICK");
        return;
    }
    if (s->srv->store == NULL) {
        reply_err(s, "INTERNAL", "records need a data directory");
        return;
    }
    struct store_job *job = mem_calloc(1, sizeof *job);
    job->kind = kind;
    if (c->n_args == 1)
        memcpy(job->name, c->args[0].s, c->args[0].len);
    else if (own != NULL)
        snprintf(job->name, sizeof job->name, "%s", own);
    job->done = on_query;
    job->ctx = s;
    wait_for_answer(s);
    store_submit(s->srv->store, job);
}

static void cmd_stats(struct session *s, const struct cmd *c)
{
    query(s, STORE_JOB_STATS, c, "usage: STATS [name]");
}

static void cmd_top(struct session *s, const struct cmd *c)
{
    query(s, STORE_JOB_TOP, c, "usage: TOP");
}

static void cmd_history(struct session *s, const struct cmd *c)
{
    query(s, STORE_JOB_HISTORY, c, "usage: HISTORY [name]");
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
    {"STATS", false, false, cmd_stats},
    {"TOP", false, false, cmd_top},
    {"HISTORY", true, false, cmd_history},
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
    if (!bucket_take(&s->bucket, s->srv->cfg->rate, s->srv->cfg->burst,
                     uv_now(s->srv->loop))) {
        reply_err(s, "RATELIMIT", "too many commands, slow down");
        if (++s->n_limited_in_row >= RATELIMIT_CLOSE_AFTER)
            conn_close_after_flush(s->conn, "rate limit exceeded");
        return;
    }
    s->n_limited_in_row = 0;
    if (check == LINE_CONTROL) {
        reply_err(s, "BADARG", "control characters are not allowed");
        return;
    }
    if (check == LINE_BAD_UTF8) {
        reply_err(s, "BADARG", "invalid UTF-8");
        return;
    }
    const struct verb *v = NULL;
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        if (cmd_word_is(c.verb, verbs[i].name)) {
            v = &verbs[i];
            break;
        }
    }
    metrics_command(&s->srv->metrics, v ? (size_t)(v - verbs) : N_VERBS);
    if (v == NULL) {
        reply_err(s, "BADCMD", "unknown command");
        return;
    }
    if (v->needs_nick && !has_name(s)) {
        reply_err(s, "NONAME", "choose a name with NICK first");
        return;
    }
    if (!v->uses_lobby) {
        v->run(s, &c);
        return;
    }
    outbox_begin(&s->srv->outbox);
    v->run(s, &c);
    if (!outbox_end(&s->srv->outbox))
        wait_for_answer(s); /* the reply waits for the journal */
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

size_t session_on_data(struct conn *c, const char *data, size_t len)
{
    struct session *s = c->user;
    size_t used = 0;

    if (s->state == SESSION_WS) {
        used = ws_feed(s->ws, data, len);
        if (ws_is_done(s->ws))
            conn_close_after_flush(c, "websocket closed");
        return used;
    }
    if (len == 0)
        return 0;
    if (s->state == SESSION_SNIFF) {
        int kind = sniff(data, len);
        if (kind < 0)
            return 0; /* wait for more, up to the sniff window */
        if (kind == 1) {
            s->state = SESSION_HTTP;
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
            reply_err(s, "TOOLONG", text);
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

    if (s->state == SESSION_SNIFF) {
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
    bucket_init(&s->bucket, srv->cfg->burst, now);
    c->user = s;
    server_deadline_push(srv, &srv->sniff_q, &s->sniff_node);
    server_deadline_push(srv, &srv->nick_q, &s->nick_node);
}

void session_new_admin(struct server *srv, struct conn *c)
{
    session_new(srv, c);
    struct session *s = c->user;
    s->is_admin = true;
    s->state = SESSION_HTTP;
    dq_remove(&s->sniff_node);
}

void session_on_close(struct conn *c)
{
    struct session *s = c->user;

    dq_remove(&s->sniff_node);
    dq_remove(&s->nick_node);
    dq_remove(&s->line_node);
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
    if (s->conn != NULL)
        conn_close_after_flush(s->conn, "resumed on another connection");
}

void session_deliver(void *client, const char *line, size_t len,
                     bool is_reply)
{
    struct session *s = client;

    write_line(s, line, len);
    if (is_reply && s->is_waiting)
        answered(s);
}

void session_on_deadline(struct server *srv, struct dqueue *q,
                         struct dq_node *n)
{
    char text[128];

    if (q == &srv->sniff_q) {
        struct session *s = DQ_ENTRY(n, struct session, sniff_node);
        if (s->state == SESSION_SNIFF) {
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
            reply_err(s, "TIMEOUT", text);
            conn_close_after_flush(s->conn, "no NICK in time");
        }
    } else if (q == &srv->line_q) {
        struct session *s = DQ_ENTRY(n, struct session, line_node);
        snprintf(text, sizeof text, "partial line not completed within %u ms",
                 srv->cfg->line_timeout_ms);
        reply_err(s, "TIMEOUT", text);
        conn_close_after_flush(s->conn, "partial line timeout");
    }
}
