/*
 * ban: an immutable set of banned addresses and CIDR blocks.
 *
 * The text format is one IPv4 or IPv6 address or CIDR block a line; `#`
 * starts a comment, blank lines are ignored. IPv4 entries are stored as
 * their IPv4-mapped IPv6 ranges, so a mapped peer matches them (PROTOCOL
 * §9). Host bits below the prefix are ignored (10.1.2.3/8 means 10/8).
 *
 * Entries become sorted, merged, disjoint ranges: a lookup is a binary
 * search, O(log n) in the number of entries. A set is never modified after
 * it is built, so a reload builds a new one and swaps the pointer.
 */
#ifndef TAVOLO_NET_BAN_H
#define TAVOLO_NET_BAN_H

#include <stdbool.h>
#include <stddef.h>

#include "net/addr.h"

struct ban_set;

/* Parses text[0..len). On success returns a new set (the caller owns it)
 * and sets *n_entries to the number of entries read. On a malformed line
 * returns NULL and sets *bad_line to its 1-based number. */
struct ban_set *ban_parse(const char *text, size_t len, size_t *n_entries,
                          size_t *bad_line);

/* Reads and parses a file. On failure returns NULL and writes a one-line
 * reason (with the line number for a malformed line) into err. */
struct ban_set *ban_load_file(const char *path, size_t *n_entries, char *err,
                              size_t err_cap);

/* True if addr is inside any entry. NULL is the empty set. */
bool ban_match(const struct ban_set *set, const struct net_addr *addr);

/* Number of disjoint ranges after merging. */
size_t ban_n_ranges(const struct ban_set *set);

void ban_free(struct ban_set *set);

#endif
