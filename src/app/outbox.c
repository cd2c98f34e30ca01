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

/* Lines are packed into one buffer: header, then the bytes. */
struct entry {
    void *client;
    uint32_t len;
    bool is_reply;
};

struct outbox_batch {
    struct outbox_batch *next;
    struct outbox *ob;
    char *buf;
    size_t len, cap;
    size_t n_reply_bytes; /* the reply sits at the front */
    struct store_op *ops, **ops_tail;
    bool is_durable;      /* nothing to wait for any more */
};

void outbox_init(struct outbox *ob, const struct outbox_ops *ops,
                 struct store *store)
{
    memset(ob, 0, sizeof *ob);
    ob->ops = ops;
    ob->store = store;
}

static void append(struct outbox_batch *b, size_t at, void *client,
                   const char *line, size_t len, bool is_reply)
{
    struct entry e = {client, (uint32_t)len, is_reply};
    size_t need = sizeof e + len;

    if (b->len + need > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (cap < b->len + need)
            cap *= 2;
        b->buf = mem_realloc(b->buf, cap);
        b->cap = cap;
    }
    memmove(b->buf + at + need, b->buf + at, b->len - at);
    memcpy(b->buf + at, &e, sizeof e);
    memcpy(b->buf + at + sizeof e, line, len);
    b->len += need;
    b->ob->ops->ref(client);
}

void outbox_begin(struct outbox *ob)
{
    if (ob->depth++ > 0)
        return;
    struct outbox_batch *b = mem_calloc(1, sizeof *b);
    b->ob = ob;
    b->ops_tail = &b->ops;
    ob->open = b;
}

void outbox_send(struct outbox *ob, void *client, const char *line, size_t len)
{
    if (ob->open == NULL) {
        ob->ops->deliver(client, line, len, false);
        return;
    }
    append(ob->open, ob->open->len, client, line, len, false);
}

void outbox_reply(struct outbox *ob, void *client, const char *line, size_t len)
{
    struct outbox_batch *b = ob->open;

    if (b == NULL) {
        ob->ops->deliver(client, line, len, true);
        return;
    }
    append(b, b->n_reply_bytes, client, line, len, true);
    b->n_reply_bytes += sizeof(struct entry) + len;
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
    size_t pos = 0;

    while (pos < b->len) {
        struct entry e;
        memcpy(&e, b->buf + pos, sizeof e);
        pos += sizeof e;
        ops->deliver(e.client, b->buf + pos, e.len, e.is_reply);
        pos += e.len;
    }
    pos = 0;
    while (pos < b->len) {
        struct entry e;
        memcpy(&e, b->buf + pos, sizeof e);
        ops->unref(e.client);
        pos += sizeof e + e.len;
    }
    free(b->buf);
    free(b);
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
    /* A failed commit was logged by the store; play goes on regardless. */
    store_ops_free(job->ops);
    free(job);
    b->is_durable = true;
    drain(b->ob);
}

bool outbox_end(struct outbox *ob)
{
    if (--ob->depth > 0)
        return false;
    struct outbox_batch *b = ob->open;
    ob->open = NULL;
    if (b->ops == NULL && ob->head == NULL) {
        deliver(b); /* the common case: nothing to wait for */
        return true;
    }
    if (b->ops == NULL && b->len == 0) {
        free(b->buf);
        free(b);
        return true;
    }
    if (ob->tail)
        ob->tail->next = b;
    else
        ob->head = b;
    ob->tail = b;
    ob->n_waiting_batches++;
    if (b->ops == NULL) {
        b->is_durable = true; /* waits only for the batches before it */
        return false;
    }
    struct store_job *job = mem_calloc(1, sizeof *job);
    job->kind = STORE_JOB_JOURNAL;
    job->ops = b->ops;
    b->ops = NULL;
    job->done = on_committed;
    job->ctx = b;
    store_submit(ob->store, job);
    return false;
}
