/*
 * connrate: how fast one address may open connections (a token bucket per
 * address, checked at accept time, before anything is allocated for the
 * connection).
 *
 * The table has a fixed size, so a flood from many addresses costs no
 * memory: RATE_SETS sets of RATE_WAYS entries, the set chosen by SipHash
 * of the address under a random key (no one can aim at a set). An address
 * not in its set takes the entry looked up least recently; that entry's
 * bucket had the longest time to refill, so forgetting it is the cheapest loss
 * (its address starts again with a full burst). A reconnect loop keeps its
 * own entry hot, so it stays limited.
 *
 * Refusals are counted too, in a second bucket of the same rate and
 * burst: an address that keeps connecting after that many refusals
 * ignores them (a reconnect loop, a flood), and is told CONNRATE_FLOOD so
 * that the caller can drop it in the cheapest way. Addresses are the 128-bit peer
 * addresses of net/addr (one IPv6 host with many addresses is many
 * addresses, as for the per-address connection cap).
 */
#ifndef TAVOLO_NET_CONNRATE_H
#define TAVOLO_NET_CONNRATE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/bucket.h"
#include "net/addr.h"

#define CONNRATE_SETS 2048 /* x 4 ways x 56 B = 448 KiB, touched lazily */
#define CONNRATE_WAYS 4

struct connrate_entry {
    struct net_addr addr;
    struct bucket bucket;  /* bucket.last_ms == 0: the entry is free */
    struct bucket refusals; /* polite refusals left */
    uint64_t seen;          /* the table's clock when last looked up */
};

enum connrate_verdict {
    CONNRATE_OK = 0,    /* within the limit */
    CONNRATE_BUSY = 1,  /* over it: refuse with a reason */
    CONNRATE_FLOOD = 2, /* over it, and refusals are being ignored */
};

struct connrate {
    uint32_t rate, burst; /* rate 0: no limit */
    uint64_t clock;       /* counts lookups: recency, whatever the time */
    struct connrate_entry *entries;
    unsigned char key[16];
};

/* rate connections per second per address, at most burst at once. */
void connrate_init(struct connrate *r, uint32_t rate, uint32_t burst);
void connrate_free(struct connrate *r);

/* Counts one connection attempt from addr at now_ms (a monotonic clock
 * that starts above 0). */
enum connrate_verdict connrate_take(struct connrate *r,
                                    const struct net_addr *addr,
                                    uint64_t now_ms);

#endif
