/*
 * dqueue: an intrusive FIFO of deadlines that all share one duration.
 *
 * When every entry of a queue waits the same length of time (the NICK
 * timeout, the partial-line timeout, the sniff window), appending at the
 * tail keeps the queue sorted by deadline, so insert, remove and "what
 * expires next" are all O(1) and one timer per queue kind is enough for
 * any number of connections. A node is either linked (in exactly one queue)
 * or has next == NULL.
 */
#ifndef TAVOLO_BASE_DQUEUE_H
#define TAVOLO_BASE_DQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dq_node {
    struct dq_node *prev, *next;
    uint64_t deadline_ms;
};

struct dqueue {
    struct dq_node head; /* sentinel: head.next is the earliest deadline */
    uint64_t duration_ms;
};

static inline void dq_init(struct dqueue *q, uint64_t duration_ms)
{
    q->head.prev = q->head.next = &q->head;
    q->duration_ms = duration_ms;
}

static inline bool dq_linked(const struct dq_node *n)
{
    return n->next != NULL;
}

static inline void dq_remove(struct dq_node *n)
{
    if (!dq_linked(n))
        return;
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = NULL;
}

/* Links n at the tail with deadline now + the queue's duration; a node
 * that was already linked anywhere is moved. */
static inline void dq_push(struct dqueue *q, struct dq_node *n, uint64_t now_ms)
{
    dq_remove(n);
    n->deadline_ms = now_ms + q->duration_ms;
    n->prev = q->head.prev;
    n->next = &q->head;
    q->head.prev->next = n;
    q->head.prev = n;
}

/* Links n with deadline at_ms, in order: for a deadline carried over
 * from elsewhere (a zero-downtime upgrade), at most the queue's duration
 * from now, so the walk from the tail is short. */
static inline void dq_insert_at(struct dqueue *q, struct dq_node *n,
                                uint64_t at_ms)
{
    dq_remove(n);
    n->deadline_ms = at_ms;
    struct dq_node *after = q->head.prev;
    while (after != &q->head && after->deadline_ms > at_ms)
        after = after->prev;
    n->prev = after;
    n->next = after->next;
    after->next->prev = n;
    after->next = n;
}

/* The earliest node, or NULL if the queue is empty. */
static inline struct dq_node *dq_first(struct dqueue *q)
{
    return q->head.next == &q->head ? NULL : q->head.next;
}

#define DQ_ENTRY(node, type, member)                                          \
    ((type *)((char *)(node) - offsetof(type, member)))

#endif
