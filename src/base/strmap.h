/*
 * strmap: a hash map from NUL-terminated strings to pointers.
 *
 * Keys are borrowed: the caller keeps each key's storage alive and
 * unchanged while it is in the map (typically the key lives inside the
 * value). Hashing is SipHash under a random per-map key (libsodium), so
 * clients who choose names cannot force collisions. Open addressing with
 * backward-shift deletion; load kept at or below 3/4.
 */
#ifndef TAVOLO_BASE_STRMAP_H
#define TAVOLO_BASE_STRMAP_H

#include <stddef.h>

struct strmap_slot;

struct strmap {
    struct strmap_slot *slots;
    size_t n_slots, n_used;
    unsigned char key[16];
};

void strmap_init(struct strmap *m);
void strmap_free(struct strmap *m);

/* The value for key, or NULL. */
void *strmap_get(const struct strmap *m, const char *key, size_t len);

/* Inserts key -> val; key must not be present. */
void strmap_put(struct strmap *m, const char *key, void *val);

/* The value in slot i (0 <= i < n_slots), or NULL: for walking the map
 * to free its values. */
void *strmap_slot_value(const struct strmap *m, size_t i);

/* Removes key if present. */
void strmap_del(struct strmap *m, const char *key, size_t len);

#endif
