/*
 * session: one per admitted connection — the line protocol on top of a
 * conn. It sniffs the first bytes (line protocol or HTTP, PROTOCOL §2),
 * greets, frames and validates lines, applies the rate limit and the
 * NICK and partial-line timeouts, and dispatches verbs through a table;
 * game events come back from the lobby as lines to its connection.
 *
 * Owned by its conn (conn->user); freed when the conn closes.
 */
#ifndef TAVOLO_APP_SESSION_H
#define TAVOLO_APP_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "base/dqueue.h"

struct conn;
struct server;

/* Attaches a new session to an admitted connection. */
void session_new(struct server *srv, struct conn *c);

/* A session on the admin port: HTTP only, /metrics and /healthz. */
void session_new_admin(struct server *srv, struct conn *c);

/* conn_ops for admitted connections. */
size_t session_on_data(struct conn *c, const char *data, size_t len);
void session_on_eof(struct conn *c);
void session_on_close(struct conn *c);
/* The TLS handshake completed: sniffing starts again, on plaintext
 * (PROTOCOL §10). */
void session_on_secure(struct conn *c);

/* The outbox's view of a client (a session): deliver one line (a reply
 * releases a session waiting for it), and hold or drop a reference. */
void session_deliver(void *client, const char *line, size_t len,
                     bool is_reply);
void session_ref(void *client);
void session_unref(void *client);

/* The lobby's: take the client's identity away because it was resumed on
 * another connection (the connection is then closed). */
void session_evict(void *client);

/* The verbs of the command table, then "other" (for metrics); names must
 * hold METRICS_MAX_VERBS pointers. */
void session_verb_names(const char **names, size_t *n);

/* Called by the server's deadline timer for an expired node of one of
 * its session queues (the node is already unlinked). */
void session_on_deadline(struct server *srv, struct dqueue *q,
                         struct dq_node *n);

#endif
