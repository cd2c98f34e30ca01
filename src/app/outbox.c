/*
 * outbox: see outbox.h.
 */
#include "app/outbox.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "store/store.h"

/* A batch's lines: the bytes once each in one buffer, and an entry per
 * recipient naming them (PERFORMANCE.md, "Cost of a move"). The same
 * event to every seat and spectator is one run of bytes, not one copy
 * per recipient: fan-out to N costs N 16-byte entries. Replies are kept
 * apart, delivered first (PROTOCOL §2: a reply before the events its
 * command caused). */
struct entry {
    void *client;
    uint32_t off, len;
};

struct entries {
    struct entry *v;
    size_t n, cap;
};

struct outbox_batch {
    struct outbox_batch *next;
    struct outbox *ob;
    char *buf;            /* the lines' bytes */
    size_t len, cap;
    size_t last_off;      /* where the last line's bytes start */
    struct entries replies, sends;
    struct store_op *ops, **ops_tail;
    bool is_durable;      /* nothing to wait for any more */
    bool is_committed;    /* the journal entries (if any) are durable */
    unsigned n_holds;     /* outbox_hold()s not released yet */
};

/* Journal jobs kept for reuse (a move's commit allocates nothing once
 * warm). Not inside every batch: a store_job is ~0.8 KB, and in a burst
 * of commands (every table seating at once) most waiting batches have no
 * journal entry of their own (PERFORMANCE.md, "Third round"). */
#define SPARE_JOBS_MAX 256

/* Batches kept for reuse with their buffers: a command's capture costs
 * no allocation once the server is warm. More than this are freed. As
 * many batches wait for a commit as there are moves in flight (one per
 * table playing at full speed): with 16 kept, most were made and freed
 * again with their buffers (a realloc per line, PERFORMANCE.md "Cost of
 * a move"). 256 of ~3 KiB each at most (a busy one's buffers; they start at 256
 * bytes and 4 entries). */
#define SPARE_MAX 256

void outbox_init(struct outbox *ob, const struct outbox_ops *ops,
                 struct store *store)
{
    struct outbox_batch *spare = ob->spare;
    unsigned n_spare = ob->n_spare;
    struct store_job *spare_jobs = ob->spare_jobs;
    unsigned n_spare_jobs = ob->n_spare_jobs;

    memset(ob, 0, sizeof *ob);
    ob->ops = ops;
    ob->store = store;
    ob->spare = spare;
    ob->n_spare = n_spare;
    ob->spare_jobs = spare_jobs;
    ob->n_spare_jobs = n_spare_jobs;
}

static void batch_free(struct outbox_batch *b)
{
    free(b->buf);
    free(b->replies.v);
    free(b->sends.v);
    free(b);
}

void outbox_close(struct outbox *ob)
{
    while (ob->spare_jobs != NULL) {
        struct store_job *job = ob->spare_jobs;
        ob->spare_jobs = job->next;
        free(job);
    }
    ob->n_spare_jobs = 0;
    while (ob->spare != NULL) {
        struct outbox_batch *b = ob->spare;
        ob->spare = b->next;
        batch_free(b);
    }
    ob->n_spare = 0;
}

static void recycle(struct outbox_batch *b)
{
    struct outbox *ob = b->ob;

    if (ob->n_spare >= SPARE_MAX || b->cap > 64 * 1024) {
        batch_free(b);
        return;
    }
    b->len = 0;
    b->replies.n = b->sends.n = 0;
    b->next = ob->spare;
    ob->spare = b;
    ob->n_spare++;
}

static void append(struct outbox_batch *b, struct entries *to, void *client,
                   const char *line, size_t len)
{
    /* The same line as the last one (an event fanned out): its bytes */
    bool is_same = b->len > 0 && b->len - b->last_off == len &&
                   memcmp(b->buf + b->last_off, line, len) == 0;

    if (!is_same) {
        if (b->len + len > b->cap) {
            /* Small first: a burst of commands (every table seating at
             * once) has one batch waiting per command, most of them a
             * reply of a few dozen bytes (PERFORMANCE.md, "Third round");
             * a kept batch keeps what it grew to. */
            size_t cap = b->cap ? b->cap * 2 : 256;
            while (cap < b->len + len)
                cap *= 2;
            b->buf = mem_realloc(b->buf, cap);
            b->cap = cap;
        }
        memcpy(b->buf + b->len, line, len);
        b->last_off = b->len;
        b->len += len;
    }
    if (to->n == to->cap) {
        to->cap = to->cap ? to->cap * 2 : 4;
        to->v = mem_realloc(to->v, to->cap * sizeof *to->v);
    }
    to->v[to->n++] = (struct entry){client, (uint32_t)b->last_off, (uint32_t)len};
    b->ob->ops->ref(client);
}

void outbox_begin(struct outbox *ob)
{
    if (ob->depth++ > 0)
        return;
    struct outbox_batch *b = ob->spare;
    if (b != NULL) {
        ob->spare = b->next;
        ob->n_spare--;
    } else {
        b = mem_calloc(1, sizeof *b);
        b->ob = ob;
    }
    b->next = NULL;
    b->ops = NULL;
    b->ops_tail = &b->ops;
    b->is_durable = false;
    b->is_committed = false;
    b->n_holds = 0;
    ob->open = b;
}

void outbox_send(struct outbox *ob, void *client, const char *line, size_t len)
{
    if (ob->open == NULL) {
        ob->ops->deliver(client, line, len, false);
        return;
    }
    append(ob->open, &ob->open->sends, client, line, len);
}

void outbox_reply(struct outbox *ob, void *client, const char *line, size_t len)
{
    struct outbox_batch *b = ob->open;

    if (b == NULL) {
        ob->ops->deliver(client, line, len, true);
        return;
    }
    append(b, &b->replies, client, line, len);
}

void outbox_journal(struct outbox *ob, struct store_op *op)
{
    if (ob->open == NULL || ob->store == NULL) {
        store_ops_free(op);
        return;
    }
    op->next = NULL;
    *ob->open->ops_tail = op;
    ob->open->ops_tail = &op->next;
}

static void deliver(struct outbox_batch *b)
{
    const struct outbox_ops *ops = b->ob->ops;

    for (size_t i = 0; i < b->replies.n; i++) {
        const struct entry *e = &b->replies.v[i];
        ops->deliver(e->client, b->buf + e->off, e->len, true);
    }
    for (size_t i = 0; i < b->sends.n; i++) {
        const struct entry *e = &b->sends.v[i];
        ops->deliver(e->client, b->buf + e->off, e->len, false);
    }
    for (size_t i = 0; i < b->replies.n; i++)
        ops->unref(b->replies.v[i].client);
    for (size_t i = 0; i < b->sends.n; i++)
        ops->unref(b->sends.v[i].client);
    recycle(b);
}

/* Delivers every batch at the head that has nothing left to wait for. */
static void drain(struct outbox *ob)
{
    while (ob->head != NULL && ob->head->is_durable) {
        struct outbox_batch *b = ob->head;
        ob->head = b->next;
        if (ob->head == NULL)
            ob->tail = NULL;
        deliver(b);
    }
}

static void on_committed(struct store_job *job)
{
    struct outbox_batch *b = job->ctx;
    if (job->rc == STORE_FENCED && b->ob->ops->fenced != NULL)
        b->ob->ops->fenced(job->ops ? job->ops->match_id : 0); /* no return */
    /* A failed commit was logged by the store; play goes on regardless. */
    store_ops_free(job->ops);
    job->ops = NULL;
    struct outbox *ob = b->ob;
    if (ob->n_spare_jobs < SPARE_JOBS_MAX) {
        job->next = ob->spare_jobs;
        ob->spare_jobs = job;
        ob->n_spare_jobs++;
    } else {
        free(job);
    }
    b->is_committed = true;
    b->is_durable = b->n_holds == 0;
    drain(b->ob);
}

struct outbox_batch *outbox_hold(struct outbox *ob)
{
    if (ob->open == NULL)
        return NULL;
    ob->open->n_holds++;
    return ob->open;
}

void outbox_release(struct outbox_batch *b)
{
    if (b == NULL)
        return;
    if (--b->n_holds == 0 && b->is_committed) {
        b->is_durable = true;
        drain(b->ob);
    }
}

bool outbox_end(struct outbox *ob)
{
    if (--ob->depth > 0)
        return false;
    struct outbox_batch *b = ob->open;
    ob->open = NULL;
    if (b->ops == NULL && ob->head == NULL && b->n_holds == 0) {
        deliver(b); /* the common case: nothing to wait for */
        return true;
    }
    if (b->ops == NULL && b->replies.n == 0 && b->sends.n == 0 &&
        b->n_holds == 0) {
        recycle(b);
        return true;
    }
    if (ob->tail)
        ob->tail->next = b;
    else
        ob->head = b;
    ob->tail = b;
    ob->n_waiting_batches++;
    if (b->ops == NULL) {
        b->is_committed = true;
        b->is_durable = b->n_holds == 0; /* else it waits for its holds */
        return false;
    }
    /* Only what a journal job uses is set: the rest (query results) is
     * zero from the calloc and no journal job writes it. */
    struct store_job *job = ob->spare_jobs;
    if (job != NULL) {
        ob->spare_jobs = job->next;
        ob->n_spare_jobs--;
    } else {
        job = mem_calloc(1, sizeof *job);
    }
    job->next = NULL;
    job->kind = STORE_JOB_JOURNAL;
    job->ops = b->ops;
    job->rc = 0;
    b->ops = NULL;
    job->done = on_committed;
    job->ctx = b;
    store_submit(ob->store, job);
    return false;
}
