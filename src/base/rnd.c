/*
 * rnd: see rnd.h. A thin layer over libsodium so that nothing else
 * includes sodium.h for randomness.
 */
#include "base/rnd.h"

#include <sodium.h>

int rnd_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

uint32_t rnd_uniform(uint32_t upper)
{
    return randombytes_uniform(upper);
}

void rnd_hex(char *out, size_t n_bytes)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char raw[64];

    while (n_bytes > 0) {
        size_t n = n_bytes < sizeof raw ? n_bytes : sizeof raw;
        randombytes_buf(raw, n);
        for (size_t i = 0; i < n; i++) {
            *out++ = digits[raw[i] >> 4];
            *out++ = digits[raw[i] & 15];
        }
        n_bytes -= n;
    }
    *out = '\0';
    sodium_memzero(raw, sizeof raw);
}
