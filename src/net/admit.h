/*
 * admit: connection caps, in all and per address (PROTOCOL §6).
 *
 * Keeps a count of open connections per peer address in an open-addressing
 * hash table keyed with SipHash (libsodium's crypto_shorthash) under a
 * random key, so that a client choosing many IPv6 addresses cannot force
 * collisions. Memory is proportional to the number of distinct addresses
 * currently connected.
 */
#ifndef TAVOLO_NET_ADMIT_H
#define TAVOLO_NET_ADMIT_H

#include <stddef.h>
#include <stdint.h>

#include "net/addr.h"

enum admit_verdict {
    ADMIT_OK = 0,
    ADMIT_BUSY_TOTAL = 1,
    ADMIT_BUSY_ADDR = 2,
};

struct admit_slot;

struct admit {
    size_t max_total, max_per_addr;
    size_t n_total;
    struct admit_slot *slots;
    size_t n_slots, n_used; /* n_slots is a power of two */
    unsigned char key[16];
};

void admit_init(struct admit *a, size_t max_total, size_t max_per_addr);
void admit_free(struct admit *a);

/* Counts a new connection from addr if both caps allow it. */
enum admit_verdict admit_take(struct admit *a, const struct net_addr *addr);

/* Uncounts a connection that admit_take accepted. */
void admit_release(struct admit *a, const struct net_addr *addr);

/* Open connections from addr. */
uint32_t admit_count(const struct admit *a, const struct net_addr *addr);

#endif
