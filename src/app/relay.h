/*
 * relay: the app's side of the cluster (docs/CLUSTER.md) — sessions whose
 * member lives on another node, and sessions here for connections on
 * another node.
 *
 * Every connection has one *gateway* (the node that holds its socket) and
 * its member one *home* (the node whose lobby holds it: where its match
 * runs). A member starts at home on its gateway. JOIN or WATCH of a match
 * that runs elsewhere, or RESUME of a token another node knows, moves the
 * member to that node (it is free at that moment: no seat, not watching):
 * its identity and the command go to the new home, which runs a *proxy*
 * session for it. From then on the gateway relays each command line to
 * the home and waits for its reply (PROTOCOL §1: one command at a time),
 * and the home's output for the connection — replies and events, in the
 * order its outbox releases them — comes back in the per-node batches of
 * cluster_send. So every ordering promise of §1–§2 holds across nodes:
 * the home orders a connection's lines exactly as for a local one, and
 * a pair of nodes talks over one ordered channel.
 *
 * Relay lines (one per line of a batch):
 *   L <gw> <conn> <line>   gateway -> home: a command
 *   A <gw> <conn> <name> <registered> <token> <seed> <key>
 *                          -> the new home: adopt this identity ("-": none)
 *   O <conn> <line>        home -> gateway: a line for the connection
 *   C <conn>               home -> gateway: close it (evicted by a RESUME)
 *   G <gw> <conn>          gateway -> home: the connection is gone
 */
#ifndef TAVOLO_APP_RELAY_H
#define TAVOLO_APP_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lobby_env;
struct server;
struct session;

/* With --redis: joins the cluster (in the background). 0 or -1 (logged). */
int relay_start(struct server *srv);
/* Gives up the lease and the links; NULL cluster does nothing. */
void relay_stop(struct server *srv);
/* The lobby's cluster hooks (names, tokens, the directory, ids). */
void relay_fill_env(struct server *srv, struct lobby_env *env);

/* Sending anything about a match needs the lease (docs/CLUSTER.md,
 * "Fencing"): if this node owns matches or proxies and its lease is not
 * confirmed, it logs why and exits at once, sending nothing. */
void relay_guard(struct server *srv);
/* /healthz: false while Redis is unreachable, or draining. */
bool relay_is_healthy(const struct server *srv, const char **why);
/* Prometheus lines for /metrics. */
size_t relay_render_metrics(const struct server *srv, char *out, size_t cap);

/* ---- sessions (session.c) ---- */
/* The gateway's: relays line to s's home; true if s lives elsewhere. */
bool relay_takes_line(struct session *s, const char *line, size_t len);
/* A proxy's output line (instead of a socket). */
void relay_out(struct session *s, const char *line, size_t len);
/* s's connection closed (gateway) or s was evicted (proxy). */
void relay_session_closed(struct session *s);
void relay_proxy_evicted(struct session *s);
/* The relayed command got no reply in time. */
void relay_timed_out(struct session *s);

/* ---- verbs that may need another node ---- */
/* NICK: the name is claimed cluster-wide first (for a registered name,
 * once its password has been checked); NAMETAKEN if another node holds
 * it, as one node answers a name connected twice. */
void relay_nick(struct session *s, const char *name, bool is_registered);
/* Before a password is checked: is name held by another node? fn gets
 * rc 0 and is_other, or rc -1 (Redis unreachable). s waits meanwhile;
 * fn runs after its wait has ended (the caller may wait again). */
typedef void (*relay_held_fn)(struct session *s, int rc, bool is_other,
                              void *ctx);
void relay_name_held(struct session *s, const char *name, relay_held_fn fn,
                     void *ctx);
/* LIST from the directory. */
void relay_list(struct session *s);
/* JOIN/WATCH of a match this lobby does not have: to its owner. */
void relay_find_match(struct session *s, uint64_t id, const char *line,
                      size_t len);
/* RESUME of a token this lobby does not know: to the node that does. */
void relay_find_token(struct session *s, const char *token, size_t token_len,
                      const char *line, size_t len);
/* QUICK in a cluster: true if the member goes to the queue's node (the
 * reply comes from there) or was answered (ERR UNAVAILABLE while no live
 * node holds the queue); false: queue here. */
struct rules;
bool relay_quick(struct session *s, const struct rules *r, unsigned seats);
/* CREATE may go on: an id is at hand and the lease holds. */
bool relay_can_create(struct server *srv, const char **why);

/* ---- the zero-downtime upgrade of a node (app/upgrade_cluster.c) ---- */
struct lobby_member_state;
/* The new process: a proxy for connection conn of node gw, its member
 * as the old process had it. 0, or -1 (the lobby cannot place it). */
int relay_proxy_adopt(struct server *srv, const char *gw, uint64_t conn,
                      const struct lobby_member_state *st);
/* The new process: gateway session s (adopted with a connection) lives
 * on node home, as in the old process; its anonymous member goes. */
void relay_remote_adopt(struct session *s, const char *home, bool is_queued);

#endif
