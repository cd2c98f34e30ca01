/*
 * addr: one representation for every peer address.
 *
 * Addresses are 16 bytes in network order; IPv4 is stored IPv4-mapped
 * (::ffff:a.b.c.d), so that a v4 client on the dual-stack socket and the
 * same client on a v4-only socket compare equal, and v4 blacklist entries
 * match mapped peers without a special case.
 */
#ifndef TAVOLO_NET_ADDR_H
#define TAVOLO_NET_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;

struct net_addr {
    uint8_t b[16];
};

/* Longest text net_addr_format writes, NUL included. */
#define NET_ADDR_STRLEN 46

/* From an AF_INET or AF_INET6 sockaddr; anything else becomes ::. */
void net_addr_from_sockaddr(struct net_addr *a, const struct sockaddr *sa);

/* Parses a textual IPv4 or IPv6 address (no brackets, no prefix).
 * Returns 0 and sets *is_v4, or -1. */
int net_addr_parse(const char *s, struct net_addr *a, bool *is_v4);

/* IPv4-mapped addresses are written as dotted quads. */
void net_addr_format(const struct net_addr *a, char out[NET_ADDR_STRLEN]);

bool net_addr_is_v4(const struct net_addr *a);

#endif
