/*
 * strmap: see strmap.h.
 */
#include "base/strmap.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

struct strmap_slot {
    const char *key; /* NULL = empty */
    size_t hash;
    void *val;
};

static size_t hash(const struct strmap *m, const char *key, size_t len)
{
    unsigned char h[crypto_shorthash_BYTES];
    uint64_t v;

    crypto_shorthash(h, (const unsigned char *)key, len, m->key);
    memcpy(&v, h, sizeof v);
    return (size_t)v;
}

void strmap_init(struct strmap *m)
{
    m->n_slots = 16;
    m->n_used = 0;
    m->slots = mem_calloc(m->n_slots, sizeof *m->slots);
    crypto_shorthash_keygen(m->key);
}

void strmap_free(struct strmap *m)
{
    free(m->slots);
    m->slots = NULL;
}

static size_t find(const struct strmap *m, const char *key, size_t len,
                   size_t h)
{
    size_t mask = m->n_slots - 1, i = h & mask;

    while (m->slots[i].key != NULL &&
           !(m->slots[i].hash == h && strlen(m->slots[i].key) == len &&
             memcmp(m->slots[i].key, key, len) == 0))
        i = (i + 1) & mask;
    return i;
}

void *strmap_get(const struct strmap *m, const char *key, size_t len)
{
    size_t i = find(m, key, len, hash(m, key, len));
    return m->slots[i].key ? m->slots[i].val : NULL;
}

void strmap_put(struct strmap *m, const char *key, void *val)
{
    size_t len = strlen(key), h = hash(m, key, len);

    if ((m->n_used + 1) * 4 > m->n_slots * 3) {
        struct strmap_slot *old = m->slots;
        size_t n_old = m->n_slots;
        m->n_slots *= 2;
        m->slots = mem_calloc(m->n_slots, sizeof *m->slots);
        for (size_t i = 0; i < n_old; i++) {
            if (old[i].key == NULL)
                continue;
            size_t j = old[i].hash & (m->n_slots - 1);
            while (m->slots[j].key != NULL)
                j = (j + 1) & (m->n_slots - 1);
            m->slots[j] = old[i];
        }
        free(old);
    }
    size_t i = find(m, key, len, h);
    if (m->slots[i].key == NULL)
        m->n_used++;
    m->slots[i].key = key;
    m->slots[i].hash = h;
    m->slots[i].val = val;
}

void strmap_del(struct strmap *m, const char *key, size_t len)
{
    size_t mask = m->n_slots - 1;
    size_t i = find(m, key, len, hash(m, key, len));

    if (m->slots[i].key == NULL)
        return;
    m->n_used--;
    size_t hole = i, j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (m->slots[j].key == NULL)
            break;
        size_t home = m->slots[j].hash & mask;
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            m->slots[hole] = m->slots[j];
            hole = j;
        }
    }
    m->slots[hole].key = NULL;
}

void *strmap_slot_value(const struct strmap *m, size_t i)
{
    return m->slots[i].key ? m->slots[i].val : NULL;
}
