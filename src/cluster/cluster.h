/*
 * cluster: this node's place among the nodes that share one lobby in
 * Redis (docs/CLUSTER.md). It knows Redis keys and other nodes, never a
 * session, a card or a socket:
 *
 *   lease      tavolo:node:<id> = <incarnation> PX lease_ms, renewed every
 *              lease_ms/3; tavolo:nodes is the set of node ids.
 *   peers      a node whose lease is gone is dead: once per process the
 *              app hears of it (on_peer_dead), and this node races the
 *              others to claim each of its matches (on_claimed).
 *   names      tavolo:name:<name> = the node holding it (claimed with NICK,
 *              moved with a member, freed compare-and-delete); each node's
 *              names in tavolo:node:<id>:names, so a dead node's are freed.
 *   tokens     tavolo:token:<token> = the node whose lobby knows it.
 *   matches    ids from INCRBY tavolo:match-next (a block at a time, above
 *              the store's tavolo:match-id); the
 *              directory hash tavolo:matches (id -> "<owner> <LIST item>");
 *              tavolo:match:{<id>}:owner and :epoch (INCR on every new
 *              owner); tavolo:node:<id>:matches, what a node owns.
 *   relay      one pub/sub channel per node, tavolo:relay:<id>; what is
 *              sent to a node during one loop iteration leaves as one
 *              message (in the loop's check phase), in order.
 *
 * Every answer comes back on the loop thread; a command that cannot reach
 * Redis within cmd_ms is answered with rc -1 (the app replies
 * ERR UNAVAILABLE). Loop thread only.
 */
#ifndef TAVOLO_CLUSTER_CLUSTER_H
#define TAVOLO_CLUSTER_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define CLUSTER_NODE_MAX 40 /* a node id, with its NUL */

struct cluster;

/* An answer: rc 0 done, -1 unavailable (some calls say more). */
typedef void (*cluster_rc_fn)(void *ctx, int rc);

struct cluster_config {
    const char *redis;   /* HOST:PORT or a unix socket path */
    const char *node_id; /* [A-Za-z0-9_-], at most 39 */
    uint32_t lease_ms;   /* the node lease (renewed every lease_ms / 3) */
    uint32_t cmd_ms;     /* a command's deadline */
};

struct cluster_ops {
    void *ctx;
    /* One relay message from node `from`: lines, each ended by LF. */
    void (*on_message)(void *ctx, const char *from, const char *body,
                       size_t len);
    /* node's lease expired (once per node per process). */
    void (*on_peer_dead)(void *ctx, const char *node);
    /* This node won match_id of dead node `from` at epoch: load and run it. */
    void (*on_claimed)(void *ctx, uint64_t match_id, uint64_t epoch,
                       const char *from);
    /* Relay messages from node were lost (a gap in their sequence): the
     * sessions this node shares with it are out of step. */
    void (*on_relay_gap)(void *ctx, const char *node);
    /* Redis came back (true) or became unreachable (false). */
    void (*on_state)(void *ctx, bool is_up);
    /* The lease was found taken by another incarnation of this id, or
     * gone while this node owned matches: the cluster may have moved them. */
    void (*on_lease_lost)(void *ctx, const char *why);
};

struct cluster_stats {
    bool is_up;
    unsigned n_peers;
    uint64_t n_relayed_out, n_relayed_in, n_relay_lines_out;
    uint64_t n_claims, n_peer_deaths, n_relay_gaps;
    uint64_t redis_last_us, redis_max_us, redis_mean_us;
    uint64_t n_redis_commands, n_redis_failed, n_redis_timeouts;
    uint64_t lease_age_ms; /* since the last confirmed renewal was sent */
};

/* Connects (in the background) and starts the lease. NULL and err if the
 * address or id is malformed. */
struct cluster *cluster_new(uv_loop_t *loop, const struct cluster_config *cfg,
                            const struct cluster_ops *ops, char *err,
                            size_t err_cap);
/* Gives up the lease (so peers need not wait for it to expire: they take
 * what this node still owned at once), closes the links. */
void cluster_free(struct cluster *c);

/* Start-up, before serving (blocking, at most about cmd_ms): takes this
 * node id's lease — a previous process with the same id is presumed dead
 * (if it still runs, its next renewal finds the lease taken and it stops)
 * — frees the names that process held, and claims back, at a new epoch,
 * every match it owned: fn(ctx, id, epoch) for each. The caller restores
 * them (cluster_match_adopted first). Returns the count, or -1 if Redis
 * cannot be reached. */
int cluster_take_back(struct cluster *c,
                      void (*fn)(void *ctx, uint64_t id, uint64_t epoch),
                      void *ctx);

const char *cluster_node_id(const struct cluster *c);
/* Both links (commands, relay) connected. */
bool cluster_is_up(const struct cluster *c);
/* True while the last renewal Redis confirmed was sent less than
 * lease_ms - lease_ms/10 ago, by the monotonic clock: until then no other
 * node can have claimed this node's matches. */
bool cluster_lease_ok(const struct cluster *c);
void cluster_get_stats(const struct cluster *c, struct cluster_stats *out);

/* ---- relay ---- */
/* Queues one line for node (LF added); flushed with the rest for that
 * node at the end of this loop iteration. */
void cluster_send(struct cluster *c, const char *node, const char *line,
                  size_t len);
/* True if node holds a lease now (as last seen). */
bool cluster_peer_is_alive(const struct cluster *c, const char *node);

/* ---- quick play ---- */
/* The node that holds the cluster's quick-play queue (tavolo:quick-node,
 * taken by the first node that renews its lease while it is free, and
 * kept with that node's lease); "" while unknown. */
const char *cluster_quick_node(const struct cluster *c);
/* This node takes no new matches: it stops holding the queue. */
void cluster_set_draining(struct cluster *c);

/* ---- names ---- */
/* rc: 0 claimed for this node, 1 held by another node, -1 unavailable. */
void cluster_name_claim(struct cluster *c, const char *name, cluster_rc_fn fn,
                        void *ctx);
/* The node holding name (NULL: none), a read only: what NICK with a
 * password checks before it hashes (cluster_node_fn, below). */
typedef void (*cluster_node_fn)(void *ctx, int rc, const char *node);
void cluster_name_find(struct cluster *c, const char *name, cluster_node_fn fn,
                       void *ctx);
/* Fire and forget: this node holds name now (a member moved here). */
void cluster_name_hold(struct cluster *c, const char *name);
/* Fire and forget: freed, if this node still holds it. */
void cluster_name_free(struct cluster *c, const char *name);

/* ---- tokens ---- */
void cluster_token_set(struct cluster *c, const char *token);
void cluster_token_free(struct cluster *c, const char *token);
/* node: the node that knows token, or NULL; rc -1 unavailable. */
void cluster_token_find(struct cluster *c, const char *token,
                        cluster_node_fn fn, void *ctx);

/* ---- matches ---- */
/* A fresh cluster-wide match id, or 0 while none is at hand (Redis
 * unreachable); blocks of ids are fetched ahead. */
uint64_t cluster_take_id(struct cluster *c);
/* True if cluster_take_id would give an id now (else one is fetched). */
bool cluster_has_id(struct cluster *c);
/* The directory: item is the match's LIST item ("<id>:<game>:<s>/<n>:
 * <state>"), NULL once it is gone. The first listing of a match makes
 * this node its owner (epoch INCR). */
/* done (may be NULL) runs once the directory has it (rc 0) or not (-1). */
void cluster_match_listed(struct cluster *c, uint64_t id, const char *item,
                          cluster_rc_fn done, void *ctx);
/* This node's epoch for a match it owns (0 if unknown yet). */
uint64_t cluster_match_epoch(const struct cluster *c, uint64_t id);
/* A claimed match runs here from now on, at epoch (or could not be
 * loaded: is_running false, and it leaves the directory). */
void cluster_match_adopted(struct cluster *c, uint64_t id, uint64_t epoch,
                           bool is_running);
/* The owner of match id per the directory (NULL: no such match). */
void cluster_match_owner(struct cluster *c, uint64_t id, cluster_node_fn fn,
                         void *ctx);
/* LIST across the cluster: text is "<n> <item>..." (PROTOCOL §3 order,
 * at most 50), NULL if Redis is unreachable. */
typedef void (*cluster_text_fn)(void *ctx, const char *text);
void cluster_list(struct cluster *c, cluster_text_fn fn, void *ctx);

/* ---- the zero-downtime upgrade of a node (docs/CLUSTER.md,
 * "Upgrading a node") ----
 *
 * The new process keeps the node id and the lease's incarnation (both
 * processes renew the same lease value, so it never lapses and a failed
 * upgrade leaves the old one holding it), the relay's sequence numbers
 * (peers see one sender going on), the id block and the owned matches'
 * epochs (no new epoch: nothing is fenced). Relay messages published to
 * this node while the hand-over runs are delivered exactly once: the new
 * process subscribes on a blocking connection of its own (the bridge)
 * and publishes a marker before it says HELLO; the old one captures only
 * once that marker has come through its own subscription (so whatever
 * it has not delivered by then is in the bridge), stops delivering at
 * the capture (cluster_hold) and sends the last sequence it delivered from each node;
 * the new one drops what is at or below it. Once its own subscriber link
 * is up, it publishes markers to its channel: the first marker that link
 * sees is read from the bridge too, and everything before it is taken
 * from the bridge, everything after from the link. */

struct cluster_seq {
    char node[CLUSTER_NODE_MAX];
    char incarnation[33];
    uint64_t seq;
};

struct cluster_owned_match {
    uint64_t id, epoch;
    bool is_owned;
};

struct cluster_handover {
    char incarnation[33];
    uint64_t next_id, last_id, spare_next, spare_last;
    struct cluster_seq *out, *in;   /* sent to each node; delivered from each */
    size_t n_out, n_in;
    struct cluster_owned_match *owned;
    size_t n_owned;
};

/* Nothing is queued for a peer and every command sent has its answer:
 * what this process said has reached Redis; and no relay message waits
 * here undelivered (no bridge of a previous upgrade still open). */
bool cluster_is_quiet(const struct cluster *c);
/* Old process, at the capture: relay messages are kept, not delivered;
 * no peer is reaped, nothing is published. cluster_release (the upgrade
 * failed) delivers what was kept, in order, and goes on. */
void cluster_hold(struct cluster *c);
void cluster_release(struct cluster *c);
/* Old process: the state the new one needs (arrays allocated). */
void cluster_handover_export(const struct cluster *c,
                             struct cluster_handover *h);
void cluster_handover_free(struct cluster_handover *h);
/* Old process, after GO: stops (timers, links) without giving up the
 * lease, which is the new process's now. Frees c. */
void cluster_free_for_successor(struct cluster *c);

/* The lease renewed at once, on a blocking connection (an upgrade's
 * synchronous hand-over starts with a full lease): 0, or -1 (why) if it
 * is not this incarnation's any more or Redis cannot be reached. */
int cluster_renew_now(struct cluster *c, const char **why);
uint32_t cluster_lease_ms(const struct cluster *c);

/* Old process: the new process pid's marker has come through this
 * node's channel (it is subscribed: nothing undelivered here is missing
 * from its bridge). The capture waits for it. */
bool cluster_saw_marker(const struct cluster *c, uint64_t pid);

/* New process, before HELLO: subscribes to node_id's relay channel on a
 * blocking connection, then publishes its marker (pid) to it. NULL (and
 * err) if Redis cannot be reached. */
struct cluster_bridge;
struct cluster_bridge *cluster_bridge_open(const char *redis,
                                           const char *node_id,
                                           uint64_t pid, uint32_t timeout_ms,
                                           char *err, size_t err_cap);
void cluster_bridge_close(struct cluster_bridge *b);
/* New process, right after cluster_new: takes h (copied) and the bridge
 * (owned from now on), and renews the lease at once on a blocking
 * connection: -1 (and why) if it is not this incarnation's any more. The
 * lease is not given up by cluster_free until cluster_handover_done (the
 * old process still serves if this one fails). */
int cluster_handover_import(struct cluster *c, const struct cluster_handover *h,
                            struct cluster_bridge *bridge, const char **why);
/* New process, after GO: the node is this process's. */
void cluster_handover_done(struct cluster *c);
/* The owned matches (after import), for the restore. */
void cluster_each_owned(const struct cluster *c,
                        void (*fn)(void *ctx, uint64_t id, uint64_t epoch),
                        void *ctx);

#endif
