/*
 * pool: see pool.h.
 */
#include "base/pool.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

void pool_init(struct pool *p, size_t size, unsigned max)
{
    memset(p, 0, sizeof *p);
    p->size = size < sizeof(void *) ? sizeof(void *) : size;
    p->max = max;
}

void *pool_get(struct pool *p)
{
    void *obj = p->free_list;

    if (obj == NULL) {
        p->n_made++;
        return mem_calloc(1, p->size);
    }
    memcpy(&p->free_list, obj, sizeof p->free_list);
    p->n--;
    p->n_reused++;
    memset(obj, 0, p->size);
    return obj;
}

void pool_put(struct pool *p, void *obj)
{
    if (obj == NULL)
        return;
    if (p->n >= p->max) {
        free(obj);
        return;
    }
    memcpy(obj, &p->free_list, sizeof p->free_list);
    p->free_list = obj;
    p->n++;
}

void pool_drain(struct pool *p)
{
    while (p->free_list != NULL) {
        void *obj = p->free_list;
        memcpy(&p->free_list, obj, sizeof p->free_list);
        free(obj);
    }
    p->n = 0;
}
