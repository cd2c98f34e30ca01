/*
 * queue: quick-play matching (queue.h). Entries stay in joining order;
 * the queue is small (players waiting right now), so forming a table is
 * a scan from each anchor in order: O(n^2) in the worst case, O(n) when
 * the first anchor fits.
 */
#include "game/queue.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

void queue_init(struct queue *q)
{
    memset(q, 0, sizeof *q);
}

void queue_free(struct queue *q)
{
    free(q->entries);
    memset(q, 0, sizeof *q);
}

void queue_add(struct queue *q, void *who, const struct rules *r,
               unsigned n_seats, int rating, uint64_t now_ms)
{
    assert(!queue_has(q, who) && rules_has_seats(r, n_seats));
    if (q->n == q->cap) {
        q->cap = q->cap ? 2 * q->cap : 16;
        q->entries = mem_realloc(q->entries, q->cap * sizeof *q->entries);
    }
    q->entries[q->n++] = (struct queue_entry){who, r, n_seats, rating, now_ms};
}

static size_t find(const struct queue *q, const void *who)
{
    for (size_t i = 0; i < q->n; i++)
        if (q->entries[i].who == who)
            return i;
    return q->n;
}

bool queue_has(const struct queue *q, const void *who)
{
    return find(q, who) < q->n;
}

static void remove_at(struct queue *q, size_t i)
{
    memmove(&q->entries[i], &q->entries[i + 1],
            (q->n - i - 1) * sizeof *q->entries);
    q->n--;
}

bool queue_remove(struct queue *q, void *who)
{
    size_t i = find(q, who);
    if (i == q->n)
        return false;
    remove_at(q, i);
    return true;
}

unsigned queue_window(const struct queue_entry *e, uint64_t now_ms)
{
    uint64_t waited = now_ms > e->since_ms ? now_ms - e->since_ms : 0;
    uint64_t steps = waited / QUEUE_WIDEN_MS;
    if (steps > 1000) /* beyond any rating difference */
        steps = 1000;
    return QUEUE_WINDOW * (unsigned)(steps + 1);
}

static bool fits(const struct queue_entry *a, const struct queue_entry *b,
                 uint64_t now_ms)
{
    if (a->rules != b->rules || a->n_seats != b->n_seats)
        return false;
    unsigned wa = queue_window(a, now_ms), wb = queue_window(b, now_ms);
    long d = labs((long)a->rating - (long)b->rating);
    return d <= (long)(wa < wb ? wa : wb);
}

/* The table anchored at entry `at`: indices in queue order into idx;
 * returns how many (at most the seat count). */
static unsigned gather(const struct queue *q, size_t at, uint64_t now_ms,
                       size_t *idx)
{
    const struct queue_entry *a = &q->entries[at];
    unsigned n = 0;

    idx[n++] = at;
    for (size_t j = at + 1; j < q->n && n < a->n_seats; j++) {
        bool ok = true;
        for (unsigned k = 0; k < n && ok; k++)
            ok = fits(&q->entries[idx[k]], &q->entries[j], now_ms);
        if (ok)
            idx[n++] = j;
    }
    return n;
}

static void take(struct queue *q, const size_t *idx, unsigned n,
                 struct queue_table *t)
{
    t->rules = q->entries[idx[0]].rules;
    t->n_seats = q->entries[idx[0]].n_seats;
    t->n = n;
    t->n_bots = t->n_seats - n;
    for (unsigned k = 0; k < n; k++)
        t->who[k] = q->entries[idx[k]].who;
    /* Highest index first, so the others stay valid. */
    for (unsigned k = n; k-- > 0;)
        remove_at(q, idx[k]);
}

bool queue_form(struct queue *q, uint64_t now_ms, struct queue_table *t)
{
    size_t idx[RULES_MAX_SEATS];

    for (size_t at = 0; at < q->n; at++) {
        unsigned n = gather(q, at, now_ms, idx);
        if (n == q->entries[at].n_seats) {
            take(q, idx, n, t);
            return true;
        }
    }
    return false;
}

bool queue_fill(struct queue *q, uint64_t now_ms, uint64_t bot_ms,
                struct queue_table *t)
{
    size_t idx[RULES_MAX_SEATS];

    if (bot_ms == 0 || q->n == 0 || now_ms < q->entries[0].since_ms + bot_ms)
        return false;
    take(q, idx, gather(q, 0, now_ms, idx), t);
    return true;
}

uint64_t queue_next_ms(const struct queue *q, uint64_t now_ms, uint64_t bot_ms)
{
    uint64_t next = UINT64_MAX;

    for (size_t i = 0; i < q->n; i++) {
        const struct queue_entry *e = &q->entries[i];
        uint64_t waited = now_ms > e->since_ms ? now_ms - e->since_ms : 0;
        uint64_t widen =
            e->since_ms + (waited / QUEUE_WIDEN_MS + 1) * QUEUE_WIDEN_MS;
        if (widen < next)
            next = widen;
        if (bot_ms > 0 && e->since_ms + bot_ms > now_ms &&
            e->since_ms + bot_ms < next)
            next = e->since_ms + bot_ms;
    }
    return next;
}
