/*
 * rnd: the system's cryptographic random source (libsodium's
 * randombytes), the only randomness tavolo uses outside of tests.
 */
#ifndef TAVOLO_BASE_RND_H
#define TAVOLO_BASE_RND_H

#include <stddef.h>
#include <stdint.h>

/* Must be called once before any other rnd_ function; returns 0 or -1. */
int rnd_init(void);

/* Uniform in [0, upper), without modulo bias. upper must be > 0. */
uint32_t rnd_uniform(uint32_t upper);

/* Writes 2*n_bytes lowercase hex digits and a NUL to out. */
void rnd_hex(char *out, size_t n_bytes);

#endif
