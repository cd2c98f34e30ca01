/*
 * session_upgrade: see session_upgrade.h.
 *
 * Deadlines travel as what is left of them, so a NICK or partial-line
 * clock neither restarts nor jumps: they are re-inserted in order
 * (dq_insert_at) into the same queues.
 */
#include "app/session_upgrade.h"

#include <stdlib.h>
#include <string.h>

#include "app/server.h"
#include "app/session.h"
#include "app/session_internal.h"
#include "app/upgrade_wire.h"
#include "base/mem.h"
#include "game/lobby_upgrade.h"
#include "net/conn.h"
#include "proto/ws.h"

static uint32_t left_ms(const struct dq_node *n, uint64_t now_ms)
{
    if (!dq_linked(n))
        return UPGRADE_NONE_MS;
    if (n->deadline_ms <= now_ms)
        return 0;
    uint64_t d = n->deadline_ms - now_ms;
    return d >= UPGRADE_NONE_MS ? UPGRADE_NONE_MS - 1 : (uint32_t)d;
}

int session_export(const struct conn *c, struct upgrade_conn *rec,
                   uint64_t now_ms, const char **why)
{
    const struct session *s = c->user;

    if (s == NULL) {
        *why = "no session";
        return -1;
    }
    if (s->is_waiting) {
        *why = "an answer is still due";
        return -1;
    }
    if (s->state == SESSION_WS && !ws_is_portable(s->ws)) {
        *why = "a WebSocket has output or messages kept for later";
        return -1;
    }
    rec->id = c->id;
    memcpy(rec->addr, c->addr.b, 16);
    rec->port = c->port;
    rec->is_admitted = c->is_admitted;
    rec->is_admin = s->is_admin;
    switch (s->state) {
    case SESSION_SNIFF: rec->state = UPGRADE_SNIFF; break;
    case SESSION_LINE: rec->state = UPGRADE_LINE; break;
    case SESSION_HTTP: rec->state = UPGRADE_HTTP; break;
    case SESSION_WS: rec->state = UPGRADE_WS; break;
    }
    rec->sniff_ms = left_ms(&s->sniff_node, now_ms);
    rec->nick_ms = left_ms(&s->nick_node, now_ms);
    rec->line_ms = left_ms(&s->line_node, now_ms);
    rec->bucket_milli = s->bucket.milli_tokens;
    rec->bucket_age_ms = now_ms > s->bucket.last_ms
                             ? (uint32_t)(now_ms - s->bucket.last_ms) : 0;
    rec->n_limited_in_row = s->n_limited_in_row;
    if (s->member != NULL) {
        struct lobby_member_state st;
        lobby_member_export(s->member, &st);
        rec->has_name = st.name[0] != '\0';
        rec->is_registered = st.is_registered && rec->has_name;
        memcpy(rec->name, st.name, sizeof rec->name);
        memcpy(rec->token, st.token, sizeof rec->token);
        memcpy(rec->seed, st.seed, sizeof rec->seed);
        memcpy(rec->key, st.key, sizeof rec->key);
        rec->match_id = st.match_id;
        rec->seat = (uint8_t)st.seat;
        rec->watch_id = st.watch_id;
    }
    return 0;
}

void session_export_input(const struct conn *c, struct upgrade_conn *rec,
                          char **owned)
{
    const struct session *s = c->user;
    size_t n = 0;
    const char *replay = s != NULL && s->state == SESSION_WS ? ws_replay(s->ws, &n) : NULL;

    *owned = NULL;
    rec->in = c->in;
    rec->in_len = c->in_len;
    if (replay == NULL)
        return;
    *owned = mem_alloc(n + c->in_len);
    memcpy(*owned, replay, n);
    if (c->in_len > 0)
        memcpy(*owned + n, c->in, c->in_len);
    rec->in = *owned;
    rec->in_len = (uint32_t)(n + c->in_len);
}

static void push_left(struct server *srv, struct dqueue *q, struct dq_node *n,
                      uint32_t left, uint64_t now_ms)
{
    if (left == UPGRADE_NONE_MS)
        return;
    dq_insert_at(q, n, now_ms + left);
    /* the deadline timer is armed once for all (upgrade.c) */
    (void)srv;
}

int session_adopt(struct server *srv, struct conn *c,
                  const struct upgrade_conn *rec, uint64_t now_ms,
                  const char **why)
{
    struct session *s = mem_calloc(1, sizeof *s);
    struct lobby_member_state st;

    s->conn = c;
    s->srv = srv;
    s->refs = 1;
    s->is_admin = rec->is_admin;
    memset(&st, 0, sizeof st);
    st.is_registered = rec->is_registered;
    memcpy(st.name, rec->name, sizeof st.name);
    memcpy(st.token, rec->token, sizeof st.token);
    memcpy(st.seed, rec->seed, sizeof st.seed);
    memcpy(st.key, rec->key, sizeof st.key);
    st.match_id = rec->match_id;
    st.seat = rec->seat;
    st.watch_id = rec->watch_id;
    s->member = lobby_adopt_member(srv->lobby, s, &st);
    if (s->member == NULL) {
        *why = "its name, token, seat or match is not in the lobby";
        free(s);
        return -1;
    }
    switch (rec->state) {
    case UPGRADE_SNIFF: session_set_state(s, SESSION_SNIFF); break;
    case UPGRADE_LINE: session_set_state(s, SESSION_LINE); break;
    case UPGRADE_HTTP: session_set_state(s, SESSION_HTTP); break;
    default: session_set_state(s, SESSION_WS); break;
    }
    if (s->state == SESSION_WS && session_ws_resume(s) != 0) {
        *why = "no WebSocket";
        c->user = s;
        session_on_close(c); /* gives the member back */
        return -1;
    }
    /* The bucket refills from where it was, at the same age. */
    s->bucket.milli_tokens = rec->bucket_milli;
    s->bucket.last_ms = now_ms > rec->bucket_age_ms ? now_ms - rec->bucket_age_ms
                                                    : 0;
    s->n_limited_in_row = rec->n_limited_in_row;
    c->user = s;
    push_left(srv, &srv->sniff_q, &s->sniff_node, rec->sniff_ms, now_ms);
    push_left(srv, &srv->nick_q, &s->nick_node, rec->nick_ms, now_ms);
    push_left(srv, &srv->line_q, &s->line_node, rec->line_ms, now_ms);
    return 0;
}

void session_adopt_tls_pending(struct session *s)
{
    s->is_tls_pending = true;
    dq_remove(&s->sniff_node);
}

size_t session_tls_pending_data(struct conn *c, const char *data, size_t len)
{
    struct session *s = c->user;

    if (len == 0)
        return 0;
    if ((unsigned char)data[0] != UPGRADE_TLS_SECURE_MARK) {
        conn_close(c, "upgrade: bad mark from the TLS relay");
        return len;
    }
    s->is_tls_pending = false;
    if (s->state == SESSION_SNIFF)
        server_deadline_push(s->srv, &s->srv->sniff_q, &s->sniff_node);
    if (len == 1)
        return 1;
    return 1 + session_on_data(c, data + 1, len - 1);
}
