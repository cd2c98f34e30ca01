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
 * the session cannot move now (a WebSocket message half-received, an
 * answer still due). */
int session_export(const struct conn *c, struct upgrade_conn *rec,
                   uint64_t now_ms, const char **why);

/* The new process: a session on c (adopted from rec's fd) continuing
 * rec. Returns 0, or -1 (why says it; nothing attached, the caller
 * closes c). */
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
