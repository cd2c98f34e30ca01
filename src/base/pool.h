/*
 * pool: a bounded free list of fixed-size objects, for things made and
 * freed once per move (a journal entry): the next one comes from the
 * list, not from malloc, and at most `max` are kept.
 *
 * Not thread-safe: one pool per thread (a pool may be _Thread_local).
 * pool_get returns zeroed memory, as calloc does; pool_put keeps the
 * object (NULL does nothing) or frees it once `max` are kept. An object
 * may come from pool_get or from malloc/calloc of the pool's size, and
 * what pool_get returns may be given to free() instead of pool_put.
 */
#ifndef TAVOLO_BASE_POOL_H
#define TAVOLO_BASE_POOL_H

#include <stddef.h>

struct pool {
    void *free_list;  /* kept objects, linked through their first bytes */
    size_t size;      /* of an object; at least sizeof(void *) */
    unsigned n, max;  /* kept, and the most it keeps */
    unsigned long long n_made, n_reused;
};

/* A pool of objects of `size` bytes that keeps at most `max` of them. */
void pool_init(struct pool *p, size_t size, unsigned max);

void *pool_get(struct pool *p);
void pool_put(struct pool *p, void *obj);

/* Frees what is kept (the pool stays usable). */
void pool_drain(struct pool *p);

#endif
