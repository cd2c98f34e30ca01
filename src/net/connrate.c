/*
 * connrate: see connrate.h.
 */
#include "net/connrate.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

void connrate_init(struct connrate *r, uint32_t rate, uint32_t burst)
{
    memset(r, 0, sizeof *r);
    r->rate = rate;
    r->burst = burst;
    if (rate == 0)
        return;
    /* calloc: the pages are touched only as addresses arrive */
    r->entries = mem_calloc((size_t)CONNRATE_SETS * CONNRATE_WAYS,
                            sizeof *r->entries);
    crypto_shorthash_keygen(r->key);
}

void connrate_free(struct connrate *r)
{
    free(r->entries);
    r->entries = NULL;
}

static enum connrate_verdict take(struct connrate *r,
                                  struct connrate_entry *e, uint64_t now_ms)
{
    if (bucket_take(&e->bucket, r->rate, r->burst, now_ms))
        return CONNRATE_OK;
    return bucket_take(&e->refusals, r->rate, r->burst, now_ms)
               ? CONNRATE_BUSY
               : CONNRATE_FLOOD;
}

enum connrate_verdict connrate_take(struct connrate *r,
                                    const struct net_addr *addr,
                                    uint64_t now_ms)
{
    unsigned char h[crypto_shorthash_BYTES];
    uint64_t v;

    if (r->rate == 0)
        return CONNRATE_OK;
    if (now_ms == 0)
        now_ms = 1; /* 0 marks a free entry */
    crypto_shorthash(h, addr->b, sizeof addr->b, r->key);
    memcpy(&v, h, sizeof v);
    struct connrate_entry *set =
        &r->entries[(size_t)(v % CONNRATE_SETS) * CONNRATE_WAYS];
    struct connrate_entry *victim = &set[0];
    for (int i = 0; i < CONNRATE_WAYS; i++) {
        struct connrate_entry *e = &set[i];
        if (e->bucket.last_ms != 0 &&
            memcmp(&e->addr, addr, sizeof *addr) == 0) {
            e->seen = ++r->clock;
            return take(r, e, now_ms);
        }
        if (e->seen < victim->seen)
            victim = e;
    }
    victim->addr = *addr;
    victim->seen = ++r->clock;
    bucket_init(&victim->bucket, r->burst, now_ms);
    bucket_init(&victim->refusals, r->burst, now_ms);
    return take(r, victim, now_ms);
}
