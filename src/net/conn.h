/*
 * conn: one TCP connection on the libuv loop — bytes in, bytes out, and
 * nothing about lines or games.
 *
 * Input: every read lands in one buffer shared by all connections of a
 * set; the handler consumes what it can and only the unconsumed tail (a
 * partial line) is copied into the connection, so an idle connection holds
 * no buffers at all.
 *
 * Output: conn_write() appends to the connection's queue and marks it
 * dirty; all dirty connections are written once per loop iteration, after
 * the poll phase, with uv_try_write and, for whatever the kernel did not
 * take, one uv_write in flight at a time. So the replies a connection
 * earns in one iteration leave in one write.
 *
 * Flow control: when a connection's unsent output passes the high-water
 * mark it stops being read until the output drains below the low-water
 * mark; if it has unsent output for stall_ms without the peer reading
 * anything, or its output ever passes max_out, it is closed. Memory per
 * connection is therefore bounded by max_out plus one partial line.
 *
 * "Unsent" includes what the kernel holds and has not sent yet (ioctl
 * SIOCOUTQNSD), so a peer with a tiny receive window cannot hide behind a
 * send buffer that the kernel grows to megabytes: the send buffer is also
 * capped (limits.sndbuf), and the kernel's queue is sampled every
 * KQ_SAMPLE_BYTES of output, then on every write while it is not empty.
 *
 * TLS (net/tls.h) is a transport inside a connection: once the handler
 * calls conn_start_tls, bytes from the socket are ciphertext fed to the
 * TLS session, on_data sees plaintext, and conn_write encrypts into the
 * output queue, which therefore holds ciphertext: the caps, the
 * high-water mark and the stall clock all count what the kernel carries.
 * Plaintext written during one iteration is encrypted at its flush, in
 * as few records as fit, so many short lines do not cost a record each.
 *
 * Lifetime: the set owns its connections. A connection is never freed
 * inside a callback chain: conn_close() marks it, and the handler's
 * on_close and the free happen later, from the loop, outside any on_data.
 */
#ifndef TAVOLO_NET_CONN_H
#define TAVOLO_NET_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/dqueue.h"
#include "net/addr.h"

struct conn;
struct tls_conn;
struct tls_server;

struct conn_ops {
    /* Bytes arrived: data holds the unconsumed bytes from before followed
     * by the new ones. Returns how many bytes were consumed, from the
     * front; the rest is offered again, with more, next time. The handler
     * may call conn_write and conn_close on any connection. */
    size_t (*on_data)(struct conn *c, const char *data, size_t len);
    /* The peer shut down its sending side (all its bytes were offered). */
    void (*on_eof)(struct conn *c);
    /* Called once, from the loop, when the connection is closing; after
     * it returns the connection is gone and no pointer to it may remain. */
    void (*on_close)(struct conn *c, const char *reason);
    /* The TLS handshake completed (conn_start_tls); plaintext follows.
     * Optional. */
    void (*on_secure)(struct conn *c);
};

struct conn_limits {
    size_t hwm;       /* stop reading above this many unsent bytes */
    size_t lwm;       /* resume reading at or below this */
    size_t max_out;   /* close above this (PROTOCOL §6: 64 KiB) */
    size_t max_in;    /* close if more unconsumed input than this */
    uint64_t stall_ms; /* close if output waits this long with no progress */
    size_t sndbuf;    /* SO_SNDBUF for accepted sockets; 0: the kernel's */
};

struct conn_stats {
    uint64_t bytes_in, bytes_out;
    uint64_t n_closed_overflow, n_closed_stalled;
    uint64_t n_kq_samples; /* SIOCOUTQNSD calls */
};

struct conn_set {
    uv_loop_t *loop;
    const struct conn_ops *ops;
    struct conn_limits limits;
    struct conn_stats stats;
    struct conn *all;      /* every open connection (doubly linked) */
    size_t n_open;
    struct conn *dirty;    /* output waiting for this iteration's flush */
    struct conn *closing;  /* waiting for on_close and uv_close */
    struct conn *kicks;    /* released from a hold: input to offer again */
    uv_check_t flush_check;
    uv_idle_t wake_idle;   /* keeps poll from blocking while work is queued */
    uv_timer_t stall_timer;
    struct dqueue stall_q;
    uint64_t next_id;
    /* Emptied output queues of CONN_POOL_BUF bytes, for the next
     * connection that has output: a line to a quiet connection costs no
     * malloc/free pair (PERFORMANCE.md, "Cost of a move"). */
    void *pool;
    unsigned n_pool;
    bool is_closed;
    bool is_input_frozen;  /* conn_set_freeze_input */
    unsigned n_handing;    /* conn_hand_over closes not yet called back */
    char read_buf[65536];
    char plain_buf[16384];  /* one TLS record's plaintext (conn_start_tls) */
};

struct conn {
    uv_tcp_t tcp;              /* first: a uv handle pointer is a conn */
    struct conn_set *set;
    struct conn *prev, *next;  /* in set->all */
    struct conn *work_next;    /* in set->dirty or set->closing */
    struct conn *kick_next;    /* in set->kicks */
    struct dq_node stall;
    void *user;                /* the handler's per-connection state */
    uint64_t id;
    struct net_addr addr;
    uint16_t port;
    uint32_t in_len, in_cap;
    char *in;                  /* unconsumed input, NULL when empty */
    uint32_t out_len, out_cap;
    char *out;                 /* not yet handed to the kernel */
    struct conn_wreq *inflight; /* handed to uv_write, not yet complete */
    struct tls_conn *tls;      /* owned; NULL for a plaintext connection */
    uint32_t seal_len, seal_cap;
    char *seal;                /* TLS: plaintext to encrypt at the flush */
    int fd;                    /* the socket; -1 for a detached connection */
    uint32_t kq;               /* kernel's unsent bytes at the last sample */
    uint32_t since_kq;         /* bytes handed to the kernel since then */
    uint64_t n_queued;         /* bytes ever queued for output */
    uint64_t stall_mark;       /* bytes delivered when the stall clock started */
    uint64_t stall_unsent;     /* ... and bytes unsent then */
    const char *close_reason;
    bool is_dirty, is_paused, is_closing, is_flush_closing, is_reading;
    bool is_held, is_kick_queued;
    bool is_eof_pending;       /* EOF read while held: handled at release */
    bool is_admitted;          /* the owner counted it at admission */
    bool is_handed;            /* conn_hand_over: no handle, fd kept */
};

/* Prepares a set on loop (handles are initialised, not yet referenced). */
int conn_set_init(struct conn_set *set, uv_loop_t *loop,
                  const struct conn_ops *ops, const struct conn_limits *lim);

/* Closes the set's own handles; call after every connection is gone. */
void conn_set_close(struct conn_set *set);

/* Accepts a pending connection from server: returns it (owned by the set,
 * not yet reading) or NULL if the accept failed (logged). */
struct conn *conn_accept(struct conn_set *set, uv_stream_t *server);

/* Takes over an accepted, non-blocking socket fd whose peer is addr:port:
 * returns the connection (owned by the set, not yet reading), or NULL if
 * libuv cannot open it (logged; fd is closed then). */
struct conn *conn_adopt(struct conn_set *set, int fd,
                        const struct net_addr *addr, uint16_t port);

/* Copies up to cap bytes that the kernel has received for c but nobody
 * has read yet, without consuming them. Returns the count (0: none), or
 * -1 if c has no socket or the peek failed. */
ssize_t conn_peek(const struct conn *c, char *buf, size_t cap);

/* From inside on_data only: the bytes that this call does not consume,
 * and every byte after them, are TLS from now on (ts's current context;
 * a handshake in progress until on_secure). Returns 0, or -1 if ts has
 * no context (nothing changes then). */
int conn_start_tls(struct conn *c, struct tls_server *ts);

static inline bool conn_is_tls(const struct conn *c)
{
    return c->tls != NULL;
}

/* "TLSv1.3 TLS_AES_256_GCM_SHA384" once established, else "". */
void conn_tls_describe(const struct conn *c, char *out, size_t cap);

/* Starts delivering input to ops->on_data. */
void conn_start(struct conn *c);

/* Queues bytes for the peer. Ignored on a closing connection. Closes the
 * connection if its queue would pass max_out. */
void conn_write(struct conn *c, const char *data, size_t len);

/* conn_write of text followed by one LF, in one append. */
void conn_write_line(struct conn *c, const char *text, size_t len);

/* Offers the buffered unconsumed input (possibly none) to on_data now. */
void conn_kick(struct conn *c);

/* Hold: the handler is busy with this connection's last command (its
 * answer waits for the disk or the thread pool); offer it nothing until
 * conn_release. Reading goes on into the input buffer up to max_in, and
 * stops there (the rest waits in the kernel; TLS stops at once); an EOF
 * read meanwhile is handled after the release's offer. Release: from the loop's next check
 * phase, offer the buffered input again and read on. Neither is ever
 * re-entrant. */
void conn_hold(struct conn *c);
void conn_release(struct conn *c);

/* Closes now, dropping unsent output; reason is a static string. */
void conn_close(struct conn *c, const char *reason);

/* Stops reading and closes once the queued output is written (or after
 * stall_ms without progress). */
void conn_close_after_flush(struct conn *c, const char *reason);

/* Unsent bytes: queued, in flight, and in the kernel's send queue not yet
 * sent (at the last sample). */
size_t conn_pending_out(const struct conn *c);

/* For in-process drivers (fuzzing, tests) only: a connection with no
 * socket behind it. Its output accumulates in c->out (up to max_out) and
 * is never written; the loop must not run while it exists. Release it
 * with conn_free_detached, which calls on_close first. */
struct conn *conn_new_detached(struct conn_set *set);
void conn_free_detached(struct conn *c);
/* Bytes "arrive" on a detached connection: kept and offered to on_data
 * exactly as from a socket; its output so far is discarded, as if read. */
void conn_feed_detached(struct conn *c, const char *data, size_t len);

/* ---------- zero-downtime upgrade (app/upgrade.c) ---------- */

/* Input freeze: while on, no connection reads from its socket (what is
 * buffered is still offered, so a released connection finishes the lines
 * it already has); output flows as usual. Off: reading resumes where it
 * is allowed. */
void conn_set_freeze_input(struct conn_set *set, bool is_frozen);

/* Takes c's socket away from libuv without closing it, for handing to
 * another process: c's unsent output (what a uv_write in flight has not
 * written, then the queue) is moved into c->out, its handle is closed
 * (set->n_handing counts the closes until their callback) and c->fd
 * becomes a duplicate that c owns. Nothing is read or written on c any
 * more. Returns 0, or -1 (dup failed; c is unchanged). Not for TLS
 * connections. */
int conn_hand_over(struct conn *c);

/* The hand-over failed: c gets a new handle on its fd (after every
 * n_handing close was called back) and flushes and reads again. Returns
 * 0, or -1 (logged; c is then closed). */
int conn_take_back(struct conn *c);

/* After a hand-over: c's fd is closed (the other process has its own),
 * c leaves the set without on_close and is freed. */
void conn_forget(struct conn *c);

/* A connection adopted from another process: its id, the partial input it
 * had and its unsent output (queued, flushed by the next loop iteration). */
void conn_restore(struct conn *c, uint64_t id, const char *in, size_t in_len,
                  const char *out, size_t out_len);

/* Writes every dirty connection's output now (used at shutdown). */
void conn_set_flush(struct conn_set *set);

#endif
