/*
 * admit: see admit.h. Linear probing with backward-shift deletion, so
 * there are no tombstones and a lookup stops at the first empty slot.
 */
#include "net/admit.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

struct admit_slot {
    struct net_addr addr;
    uint32_t count; /* 0 = empty */
};

static size_t hash(const struct admit *a, const struct net_addr *addr)
{
    unsigned char h[crypto_shorthash_BYTES];
    uint64_t v;

    crypto_shorthash(h, addr->b, sizeof addr->b, a->key);
    memcpy(&v, h, sizeof v);
    return (size_t)v;
}

void admit_init(struct admit *a, size_t max_total, size_t max_per_addr)
{
    memset(a, 0, sizeof *a);
    a->max_total = max_total;
    a->max_per_addr = max_per_addr;
    a->n_slots = 64;
    a->slots = mem_calloc(a->n_slots, sizeof *a->slots);
    crypto_shorthash_keygen(a->key);
}

void admit_free(struct admit *a)
{
    free(a->slots);
    a->slots = NULL;
}

static size_t find(const struct admit *a, const struct net_addr *addr)
{
    size_t mask = a->n_slots - 1, i = hash(a, addr) & mask;
    while (a->slots[i].count != 0 &&
           memcmp(&a->slots[i].addr, addr, sizeof *addr) != 0)
        i = (i + 1) & mask;
    return i;
}

static void grow(struct admit *a)
{
    struct admit_slot *old = a->slots;
    size_t n_old = a->n_slots;

    a->n_slots *= 2;
    a->slots = mem_calloc(a->n_slots, sizeof *a->slots);
    for (size_t i = 0; i < n_old; i++)
        if (old[i].count != 0)
            a->slots[find(a, &old[i].addr)] = old[i];
    free(old);
}

uint32_t admit_count(const struct admit *a, const struct net_addr *addr)
{
    return a->slots[find(a, addr)].count;
}

enum admit_verdict admit_take(struct admit *a, const struct net_addr *addr)
{
    if (a->n_total >= a->max_total)
        return ADMIT_BUSY_TOTAL;
    size_t i = find(a, addr);
    if (a->slots[i].count >= a->max_per_addr)
        return ADMIT_BUSY_ADDR;
    if (a->slots[i].count == 0) {
        if ((a->n_used + 1) * 4 > a->n_slots * 3) { /* keep load <= 3/4 */
            grow(a);
            i = find(a, addr);
        }
        a->slots[i].addr = *addr;
        a->n_used++;
    }
    a->slots[i].count++;
    a->n_total++;
    return ADMIT_OK;
}

void admit_release(struct admit *a, const struct net_addr *addr)
{
    size_t mask = a->n_slots - 1, i = find(a, addr);

    if (a->slots[i].count == 0)
        return; /* not counted: a bug upstream, but harmless here */
    a->n_total--;
    if (--a->slots[i].count > 0)
        return;
    a->n_used--;
    /* Backward-shift: pull later entries of the probe run into the hole
     * unless they already sit at or after their home slot. */
    size_t hole = i, j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (a->slots[j].count == 0)
            break;
        size_t home = hash(a, &a->slots[j].addr) & mask;
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            a->slots[hole] = a->slots[j];
            hole = j;
        }
    }
    a->slots[hole].count = 0;
}
