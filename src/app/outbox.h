/*
 * outbox: the order in which lobby events reach clients, and the rule
 * that nothing reaches a client before the store has made it durable.
 *
 * Every call into the lobby is bracketed by outbox_begin/outbox_end. The
 * lines it sends, and the journal entries it writes, are captured in one
 * batch. A batch with journal entries is handed to the store and its lines
 * are released when the commit is done; a batch without them is released
 * at once, unless an earlier batch is still waiting, in which case it
 * waits behind it: batches are delivered strictly in order, so no client
 * ever sees events out of order.
 *
 * Recipients are opaque clients; the outbox holds a reference to each
 * (ops->ref/unref), so a client that disconnects while a batch waits is
 * simply skipped at delivery.
 */
#ifndef TAVOLO_APP_OUTBOX_H
#define TAVOLO_APP_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct store_op;

struct outbox_ops {
    /* Delivers one line (no terminator); is_reply marks a command's reply. */
    void (*deliver)(void *client, const char *line, size_t len, bool is_reply);
    void (*ref)(void *client);
    void (*unref)(void *client);
    /* Optional: the store refused a batch's journal entries because the
     * match's epoch is stale (another node owns it now, docs/CLUSTER.md):
     * its lines must never be delivered. match_id: the first op's. */
    void (*fenced)(uint64_t match_id);
};

struct outbox_batch;

struct outbox {
    const struct outbox_ops *ops;
    struct store *store;        /* NULL: nothing is journaled */
    struct outbox_batch *open;  /* capturing */
    struct outbox_batch *head, *tail; /* waiting, oldest first */
    unsigned depth;             /* nesting of begin/end */
    unsigned long long n_waiting_batches;
    struct outbox_batch *spare; /* for reuse (outbox.c) */
    unsigned n_spare;
    struct store_job *spare_jobs; /* journal jobs for reuse (outbox.c) */
    unsigned n_spare_jobs;
};

void outbox_init(struct outbox *ob, const struct outbox_ops *ops,
                 struct store *store);

/* Starts (or nests into) a capture. */
/* Frees the batches kept for reuse; the outbox must be idle. */
void outbox_close(struct outbox *ob);

void outbox_begin(struct outbox *ob);

/* Captures a line for client; outside a capture it is delivered now. */
void outbox_send(struct outbox *ob, void *client, const char *line, size_t len);

/* Puts a command's reply in front of everything the command caused. */
void outbox_reply(struct outbox *ob, void *client, const char *line, size_t len);

/* Adds a journal entry (ownership passes to the outbox). */
void outbox_journal(struct outbox *ob, struct store_op *op);

/* Inside a capture: the batch also waits until outbox_release(b) (a
 * write elsewhere that clients must be able to rely on once they see the
 * batch: a cluster's directory, docs/CLUSTER.md). NULL outside one. */
struct outbox_batch *outbox_hold(struct outbox *ob);
void outbox_release(struct outbox_batch *b);

/* Ends the capture. Returns true if its lines were delivered now, false if
 * they wait for the store or for earlier batches. */
bool outbox_end(struct outbox *ob);

#endif
