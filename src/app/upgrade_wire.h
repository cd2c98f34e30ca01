/*
 * upgrade_wire: the messages of a zero-downtime upgrade (SIGUSR2,
 * docs/OPERATIONS.md "Upgrading without downtime"), as bytes. Pure: no
 * I/O, no sockets, no server; app/upgrade.c moves the bytes (one
 * SOCK_SEQPACKET message each, file descriptors beside them).
 *
 * Every message starts with the same 12-byte header: the magic "TVUP",
 * the format version (UPGRADE_WIRE_VERSION, 16 bits), the message type (8
 * bits), 8 zero bits, and the payload's length (32 bits, all integers
 * little-endian), which must be exactly what follows. Payloads are
 * sequences of fixed-width integers and length-prefixed byte strings
 * (16-bit prefix for short strings, 32-bit for buffers), in the order
 * the structs below list them; strings are bounded by their field's
 * size, and every enum, count and flag is range-checked. A message of
 * another version, a truncated one, one with bytes left over, or one
 * with any field out of range is refused whole (-1): nothing of it is
 * used. The fuzz target tests/fuzz/fuzz_upgrade.c feeds it arbitrary
 * bytes.
 *
 * The exchange (old: the running server, new: the binary it started):
 *   new -> old  HELLO   its version and pid: it runs and can talk
 *   old -> new  STATE   listeners and counts; then CONNS and MATCHES
 *               batches (fds attached to CONNS), then END
 *   new -> old  READY   everything adopted (counts), or FAIL with why
 *   old -> new  GO      the old one has let go: serve
 *
 * On a cluster node (--redis, docs/CLUSTER.md "Upgrading a node") CLUSTER
 * batches follow MATCHES, before END: the node's lease incarnation and
 * id block, the relay's sequence numbers (sent to each node, last
 * delivered from each), the matches it owns with their epochs, its proxy
 * sessions and its gateway sessions' homes.
 * Between the last MATCHES and END the old process may also send (types
 * appended after GO; a binary that predates them refuses the upgrade
 * whole, and the old one serves on):
 *               QUEUE   the quick-play queue, in its order (if not empty)
 *               TLS_PENDING  the TLS connections relayed mid-handshake
 *                       (if any): their plaintext side starts with
 *                       UPGRADE_TLS_SECURE_MARK when the handshake ends
 */
#ifndef TAVOLO_APP_UPGRADE_WIRE_H
#define TAVOLO_APP_UPGRADE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UPGRADE_WIRE_VERSION 1
#define UPGRADE_HEADER_LEN 12
/* One message's payload at most: fits a SOCK_SEQPACKET datagram under
 * the default socket buffer (212 992 bytes). */
#define UPGRADE_MAX_PAYLOAD (160 * 1024)
/* Descriptors per CONNS message (the kernel's SCM_MAX_FD is 253). */
#define UPGRADE_MAX_FDS 200

enum upgrade_msg {
    UPGRADE_HELLO = 1,
    UPGRADE_STATE,
    UPGRADE_CONNS,
    UPGRADE_MATCHES,
    UPGRADE_END,
    UPGRADE_READY,
    UPGRADE_FAIL,
    UPGRADE_GO,
    UPGRADE_CLUSTER,
    /* appended (records like CONNS/MATCHES: a count, then the records) */
    UPGRADE_QUEUE = 10,
    UPGRADE_TLS_PENDING = 11,
};

#define UPGRADE_NONE_MS UINT32_MAX /* a deadline that is not running */

struct upgrade_hello {
    char version[64];
    uint32_t pid;
};

struct upgrade_state {
    char version[64];       /* the old one's */
    char server_id[40];     /* HELLO's, kept across upgrades */
    bool has_listener, has_admin;
    char admin_bound[128];
    uint64_t next_conn_id;  /* connection ids continue from here */
    uint64_t next_match_id;
    uint32_t n_conns, n_matches; /* the batches that follow hold these */
};

enum upgrade_conn_state {
    UPGRADE_SNIFF = 0,
    UPGRADE_LINE,
    UPGRADE_HTTP,
    UPGRADE_WS,
};

#define UPGRADE_NAME_MAX 16
#define UPGRADE_TOKEN_LEN 32
#define UPGRADE_SEED_MAX 64
#define UPGRADE_KEY_MAX 47
#define UPGRADE_MAX_IN (65536 + 8192) /* what conn keeps: one read behind a held command */
#define UPGRADE_MAX_OUT (256 * 1024) /* unsent output at most */

/* One connection: its socket travels as the message's fds[fd_index]. */
struct upgrade_conn {
    uint32_t fd_index;
    uint64_t id;
    uint8_t addr[16];
    uint16_t port;
    bool is_admitted, is_admin;
    bool is_relayed; /* a TLS connection the old process keeps: the fd is
                        its plaintext side (docs/OPERATIONS.md) */
    bool is_closing; /* closing once its output is out (QUIT, an error) */
    uint8_t state;   /* enum upgrade_conn_state */
    uint32_t sniff_ms, nick_ms, line_ms; /* left, or UPGRADE_NONE_MS */
    uint64_t bucket_milli;   /* the rate bucket's tokens, thousandths */
    uint32_t bucket_age_ms;  /* since its last refill */
    uint32_t n_limited_in_row;
    /* the member */
    bool has_name, is_registered;
    char name[UPGRADE_NAME_MAX + 1];
    char token[UPGRADE_TOKEN_LEN + 1];
    char seed[UPGRADE_SEED_MAX + 1];
    char key[UPGRADE_KEY_MAX + 1];
    uint64_t match_id;   /* seated here (0: nowhere) */
    uint8_t seat;
    uint64_t watch_id;   /* watching this (0: nothing) */
    /* borrowed views into the message (upgrade_parse) or the caller's
     * buffers (upgrade_put_conn) */
    const char *in, *out;
    uint32_t in_len, out_len;
};

#define UPGRADE_MAX_SEATS 4
#define UPGRADE_BOT_NONE 0xff

/* One match: its clocks if in play (the journal has the rest); its whole
 * state if still waiting (a waiting match is not journaled). */
struct upgrade_match {
    uint64_t id;
    bool is_playing;
    uint8_t n_seats;
    uint32_t turn_ms;                     /* playing: left on the turn */
    uint32_t grace_ms[UPGRADE_MAX_SEATS]; /* playing: left if away */
    char game[16];                        /* waiting: */
    uint8_t secret[32];
    uint32_t wait_ms;                     /* left before it expires */
    char owner_key[UPGRADE_KEY_MAX + 1];
    uint8_t bot[UPGRADE_MAX_SEATS];       /* a bot's level+1, or 0 */
};

/* ---- CLUSTER records: one kind byte, then the kind's fields ---- */
enum upgrade_cluster_kind {
    UPGRADE_C_NODE = 1, /* incarnation, id block (first, once) */
    UPGRADE_C_OUTSEQ,   /* node, seq: the last message sent to node */
    UPGRADE_C_INSEQ,    /* node, incarnation, seq: the last delivered */
    UPGRADE_C_OWNED,    /* match id, epoch, is_owned */
    UPGRADE_C_PROXY,    /* a member here whose socket is on node gw */
    UPGRADE_C_REMOTE,   /* conn id (a CONNS record), the node it lives on */
};

#define UPGRADE_NODE_MAX 40 /* a node id with its NUL (CLUSTER_NODE_MAX) */
#define UPGRADE_INC_MAX 33  /* an incarnation with its NUL */

struct upgrade_cluster_rec {
    uint8_t kind;
    char node[UPGRADE_NODE_MAX];    /* OUTSEQ, INSEQ, PROXY (gw), REMOTE (home) */
    char incarnation[UPGRADE_INC_MAX]; /* NODE, INSEQ */
    uint64_t seq;                   /* OUTSEQ, INSEQ */
    uint64_t next_id, last_id, spare_next, spare_last; /* NODE */
    uint64_t id, epoch;             /* OWNED: match; PROXY, REMOTE: conn */
    bool is_owned;                  /* OWNED */
    bool is_queued;                 /* REMOTE: queued for quick play there */
    /* PROXY: the member, as a CONNS record has it */
    bool has_name, is_registered;
    char name[UPGRADE_NAME_MAX + 1];
    char token[UPGRADE_TOKEN_LEN + 1];
    char seed[UPGRADE_SEED_MAX + 1];
    char key[UPGRADE_KEY_MAX + 1];
    uint64_t match_id;
    uint8_t seat;
    uint64_t watch_id;
};
/* One player in the quick-play queue (QUEUE records are in queue order):
 * the connection it is on (a CONNS record of this upgrade), what it
 * asked for, its rating, and how long it has waited (so that the window
 * and --quick-bot-ms keep counting from its QUICK). */
struct upgrade_queued {
    uint64_t conn_id;
    char game[16];
    uint8_t n_seats;
    int32_t rating;
    uint32_t waited_ms;
};

/* The byte the old process writes first on a TLS_PENDING connection's
 * plaintext side once the client's handshake has completed: the new
 * process starts that connection's sniff window then (as the end of a
 * handshake does on its own TLS connections) and drops the byte. */
#define UPGRADE_TLS_SECURE_MARK 0x06

struct upgrade_ready {
    uint32_t n_conns, n_matches;
};

struct upgrade_fail {
    char why[200];
};

/* ---------- writing ---------- */

/* A message being built: header first, payload appended. */
struct upgrade_buf {
    char *data;
    size_t len, cap;
    size_t n_items;  /* records in a CONNS/MATCHES batch */
};

/* Starts a message of type (the buffer is reused; its memory grows). */
void upgrade_begin(struct upgrade_buf *b, enum upgrade_msg type);
/* Ends it: writes the payload length into the header. */
void upgrade_finish(struct upgrade_buf *b);
void upgrade_buf_free(struct upgrade_buf *b);

void upgrade_put_hello(struct upgrade_buf *b, const struct upgrade_hello *h);
void upgrade_put_state(struct upgrade_buf *b, const struct upgrade_state *s);
/* CONNS, MATCHES and CLUSTER: a 32-bit record count, then the records; add them
 * one by one after upgrade_begin (the count is fixed by upgrade_finish). */
void upgrade_put_conn(struct upgrade_buf *b, const struct upgrade_conn *c);
void upgrade_put_match(struct upgrade_buf *b, const struct upgrade_match *m);
void upgrade_put_cluster(struct upgrade_buf *b,
                         const struct upgrade_cluster_rec *r);
/* QUEUE: one record; TLS_PENDING: one connection id (added one by one
 * after upgrade_begin, as CONNS). */
void upgrade_put_queued(struct upgrade_buf *b, const struct upgrade_queued *q);
void upgrade_put_tls_pending(struct upgrade_buf *b, uint64_t conn_id);
void upgrade_put_ready(struct upgrade_buf *b, const struct upgrade_ready *r);
void upgrade_put_fail(struct upgrade_buf *b, const char *why);

/* ---------- reading ---------- */

/* A parsed message. CONNS records point into the bytes parsed (in, out). */
struct upgrade_msg_view {
    enum upgrade_msg type;
    union {
        struct upgrade_hello hello;
        struct upgrade_state state;
        struct upgrade_ready ready;
        struct upgrade_fail fail;
    } u;
    const char *items;   /* CONNS, MATCHES, QUEUE, TLS_PENDING: the records,
                            for upgrade_next_* */
    size_t items_len;
    uint32_t n_items;
};

/* Checks and parses one whole message: 0, or -1 if anything about it is
 * wrong (why gets a static reason). For CONNS and MATCHES every record is
 * checked here too, so the upgrade_next_* calls that follow cannot fail
 * on a message this accepted. n_fds: descriptors that came with it
 * (every CONNS record's fd_index must be below it, each used once; a
 * STATE carries the game port's listener then the admin port's, those
 * it has). */
int upgrade_parse(const char *data, size_t len, size_t n_fds,
                  struct upgrade_msg_view *v, const char **why);

/* The records of a parsed CONNS or MATCHES message, in order: *pos starts
 * at 0. Returns 1 with the next record, or 0 after the last. */
int upgrade_next_conn(const struct upgrade_msg_view *v, size_t *pos,
                      struct upgrade_conn *c);
int upgrade_next_match(const struct upgrade_msg_view *v, size_t *pos,
                       struct upgrade_match *m);
int upgrade_next_cluster(const struct upgrade_msg_view *v, size_t *pos,
                         struct upgrade_cluster_rec *r);
int upgrade_next_queued(const struct upgrade_msg_view *v, size_t *pos,
                        struct upgrade_queued *q);
int upgrade_next_tls_pending(const struct upgrade_msg_view *v, size_t *pos,
                             uint64_t *conn_id);

#endif
