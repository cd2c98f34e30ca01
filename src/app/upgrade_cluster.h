/*
 * upgrade_cluster: what a zero-downtime upgrade (app/upgrade.h) carries
 * on a cluster node (--redis), both halves; docs/CLUSTER.md "Upgrading a
 * node" has the design.
 *
 * The old process: the node settles also for the cluster (nothing queued
 * for a peer, every Redis command answered, no relayed command in
 * flight), is held at the capture (relay messages kept, not delivered),
 * sends CLUSTER batches after MATCHES (its lease incarnation, id block,
 * relay sequence numbers, owned matches with their epochs, proxy and
 * gateway sessions), and after GO lets go of the cluster without giving
 * up the lease. If the upgrade fails it delivers what it kept and serves
 * on, its lease never given up.
 *
 * The new process: subscribes to the node's relay channel (the bridge)
 * before it says HELLO, keeps the CLUSTER records, takes the node over
 * right after joining the cluster (same incarnation, the lease renewed
 * at once), restores the owned matches at their epochs (no take-back:
 * names stay held, epochs stay), adopts the proxies and gateway sessions
 * after the connections, and owns the lease once it has GO.
 */
#ifndef TAVOLO_APP_UPGRADE_CLUSTER_H
#define TAVOLO_APP_UPGRADE_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct server;
struct upgrade_buf;
struct upgrade_msg_view;

/* The environment variable naming the node id for the new process. */
#define UPGRADE_NODE_ENV "TAVOLO_UPGRADE_NODE"

/* ---- the old process (srv->cluster != NULL) ---- */
/* Why the node is not quiet for the cluster yet, or NULL; child_pid's
 * marker must have come through the relay channel first. */
const char *upgrade_cluster_unsettled(struct server *srv, uint64_t child_pid);
/* The marker has not come through within the Redis timeout after HELLO:
 * the new process is not subscribed where this node is (give up). */
bool upgrade_cluster_marker_late(struct server *srv, uint64_t child_pid,
                                 uint64_t waited_ms);
/* Before the synchronous hand-over: the lease renewed now, and *window_ms
 * (what is left of it, with a margin) bounds the wait for READY, so a new
 * process that hangs cannot make the lease lapse. 0, or -1 (why). */
int upgrade_cluster_renew(struct server *srv, uint32_t *window_ms,
                          const char **why);
/* At the capture: relay input is kept from now on. */
void upgrade_cluster_capture(struct server *srv);
/* The CLUSTER messages, ready to send (*out allocated; each finished).
 * Returns their count, or -1 (why) if a record cannot be made. */
int upgrade_cluster_build(struct server *srv, struct upgrade_buf **out,
                          const char **why);
/* The upgrade failed after the capture: deliver what was kept, go on. */
void upgrade_cluster_release(struct server *srv);
/* After GO: the cluster is the new process's (the lease stays). */
void upgrade_cluster_leave(struct server *srv);

/* ---- the new process ---- */
/* Before HELLO, if the old process named a node: the bridge. 0 or -1. */
int upgrade_cluster_child_begin(struct server *srv, const char **why);
/* A CLUSTER message received: its records are kept. */
void upgrade_cluster_child_take(const struct upgrade_msg_view *v);
/* True in a new process that takes over a cluster node. */
bool upgrade_cluster_child_active(void);
/* Right after relay_start: the node's lease, sequences, ids and owned
 * matches. 0 or -1 (why). */
int upgrade_cluster_child_import(struct server *srv, const char **why);
/* After the connections: the proxies and the gateway sessions' homes.
 * Returns how many could not be placed (logged). */
unsigned upgrade_cluster_child_adopt(struct server *srv);
/* GO: the node is this process's. */
void upgrade_cluster_child_done(struct server *srv);
/* The new process failed: what it kept is freed (the lease stays). */
void upgrade_cluster_child_free(void);

#endif
