/*
 * session_upgrade: a session as an upgrade_conn record and back
 * (app/upgrade.c moves the records; docs/OPERATIONS.md, "Upgrading
 * without downtime").
 */
#ifndef TAVOLO_APP_SESSION_UPGRADE_H
#define TAVOLO_APP_SESSION_UPGRADE_H

#include <stddef.h>
#include <stdint.h>

struct conn;
struct server;
struct session;
struct upgrade_conn;

/* Fills rec from c's session and connection (not the fd, in or out,
 * which are the caller's): protocol state, the deadlines left, the rate
 * bucket, the member. Returns 0, or -1 with a static reason in *why if
 * the session cannot move now (an answer still due, a WebSocket's
 * output or messages kept for later). */
int session_export(const struct conn *c, struct upgrade_conn *rec,
                   uint64_t now_ms, const char **why);

/* The new process: a session on c (adopted from rec's fd) continuing
 * rec. Returns 0, or -1 (why says it; nothing attached, the caller
 * closes c). */
/* The input handed over with C (rec->in, rec->in_len): its unconsumed
 * bytes, after, for a WebSocket inside a fragmented message, that
 * message's frames so far (ws_replay), which the new process's fresh ws
 * reads first and so reaches the same point. *owned: a buffer to free
 * once rec is written (NULL when none). */
void session_export_input(const struct conn *c, struct upgrade_conn *rec,
                          char **owned);

int session_adopt(struct server *srv, struct conn *c,
                  const struct upgrade_conn *rec, uint64_t now_ms,
                  const char **why);

/* The new process: s (just adopted) is a TLS client the old process
 * relays and whose handshake was still running: no sniff window until
 * the relay's mark says the handshake is done. */
void session_adopt_tls_pending(struct session *s);

/* session_on_data for such a session: the mark (dropped; the sniff
 * window starts now, as at the end of a handshake here), then the rest
 * as usual. Anything else first closes the connection. */
size_t session_tls_pending_data(struct conn *c, const char *data, size_t len);

#endif
